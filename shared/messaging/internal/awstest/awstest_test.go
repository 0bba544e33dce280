package awstest_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/wardhq/ward/shared/messaging/internal/awstest"
)

// recorder keeps the errors the server reports instead of failing the test.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func publish(t *testing.T, srv *awstest.Server, cfg aws.Config) error {
	client := sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	_, err := client.Publish(t.Context(), &sns.PublishInput{
		PhoneNumber: aws.String("+14155550123"),
		Message:     aws.String("hello"),
	})
	return err
}

const published = `<PublishResponse><PublishResult><MessageId>m</MessageId></PublishResult>` +
	`</PublishResponse>`

func TestAcceptsACorrectSignature(t *testing.T) {
	srv := awstest.NewServer(t, "sns", func(awstest.Request) awstest.Response {
		return awstest.Response{ContentType: "text/xml", Body: published}
	})
	if err := publish(t, srv, awstest.Config()); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests recorded, want 1", n)
	}
}

func TestRefusesWrongSignatures(t *testing.T) {
	tests := map[string]func(*aws.Config){
		"wrong secret key": func(c *aws.Config) {
			c.Credentials = credentials.NewStaticCredentialsProvider(awstest.AccessKeyID, "wrong", "")
		},
		"wrong access key": func(c *aws.Config) {
			c.Credentials = credentials.NewStaticCredentialsProvider("AKIAOTHER",
				awstest.SecretAccessKey, "")
		},
		"wrong region": func(c *aws.Config) { c.Region = "us-west-2" },
	}
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			rec := &recorder{TB: t}
			srv := awstest.NewServer(rec, "sns", func(awstest.Request) awstest.Response {
				t.Error("a badly signed request was answered")
				return awstest.Response{}
			})
			cfg := awstest.Config()
			edit(&cfg)
			if err := publish(t, srv, cfg); err == nil {
				t.Errorf("Publish succeeded")
			}
			if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "sign") {
				t.Errorf("server reported %q, want one signature error", rec.errors)
			}
			if len(srv.Requests()) != 0 {
				t.Errorf("a badly signed request was recorded")
			}
		})
	}
}

func TestRefusesAnotherService(t *testing.T) {
	rec := &recorder{TB: t}
	srv := awstest.NewServer(rec, "ses", func(awstest.Request) awstest.Response {
		return awstest.Response{}
	})
	if err := publish(t, srv, awstest.Config()); err == nil {
		t.Errorf("an SNS request passed as SES")
	}
	if len(rec.errors) != 1 {
		t.Errorf("server reported %q, want one error", rec.errors)
	}
}
