package ses_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/messaging/internal/awstest"
	"github.com/wardhq/ward/shared/messaging/messagingtest"
	"github.com/wardhq/ward/shared/messaging/ses"
)

// sendEmailRequest is the part of SendEmail's JSON the tests read.
type sendEmailRequest struct {
	FromEmailAddress     string
	ConfigurationSetName string
	Destination          struct{ ToAddresses []string }
	EmailTags            []struct{ Name, Value string }
	Content              struct {
		Simple *struct {
			Subject struct{ Data, Charset string }
			Body    struct {
				Text *struct{ Data, Charset string }
				Html *struct{ Data, Charset string }
			}
			Headers []struct{ Name, Value string }
		}
		Raw *struct{ Data []byte }
	}
}

func accept(awstest.Request) awstest.Response {
	return awstest.Response{ContentType: "application/json", Body: `{"MessageId":"0100-ward-test"}`}
}

func open(t *testing.T, cfg ses.Config, respond func(awstest.Request) awstest.Response) (
	*ses.Sender, *awstest.Server) {
	t.Helper()
	srv := awstest.NewServer(t, "ses", respond)
	client := sesv2.NewFromConfig(awstest.Config(), func(o *sesv2.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
	})
	s, err := ses.New(client, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, srv
}

func decode(t *testing.T, r awstest.Request) sendEmailRequest {
	t.Helper()
	if r.Method != http.MethodPost || r.Path != "/v2/email/outbound-emails" {
		t.Fatalf("request = %s %s, want SendEmail (POST /v2/email/outbound-emails)", r.Method, r.Path)
	}
	if r.Service != "ses" || r.Region != awstest.Region {
		t.Errorf("signed for %s in %s", r.Service, r.Region)
	}
	var in sendEmailRequest
	if err := json.Unmarshal(r.Body, &in); err != nil {
		t.Fatalf("body: %v\n%s", err, r.Body)
	}
	return in
}

func TestContract(t *testing.T) {
	for _, raw := range []bool{false, true} {
		name := "simple"
		if raw {
			name = "raw"
		}
		t.Run(name, func(t *testing.T) {
			messagingtest.RunEmail(t, func(t *testing.T) messagingtest.EmailEnv {
				s, srv := open(t, ses.Config{Raw: raw}, accept)
				return messagingtest.EmailEnv{
					Sender:   s,
					Accepted: func(*testing.T) int { return len(srv.Requests()) },
				}
			})
		})
	}
}

func TestSimpleContent(t *testing.T) {
	s, srv := open(t, ses.Config{ConfigurationSetName: "ward-transactional"}, accept)
	m := messagingtest.ValidEmail()
	m.From = "Zoë <no-reply@ward.example>"
	m.To = []string{"ada@example.com", "Bob <bob@example.org>"}
	m.Subject = "Bestätigen Sie Ihre Adresse"
	m.Headers = map[string]string{"list-unsubscribe": "<mailto:u@ward.example>"}

	if err := s.Send(t.Context(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}

	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	in := decode(t, reqs[0])
	from, err := mail.ParseAddress(in.FromEmailAddress)
	if err != nil || from.Name != "Zoë" || from.Address != "no-reply@ward.example" {
		t.Errorf("FromEmailAddress = %q (%v)", in.FromEmailAddress, err)
	}
	if !strings.HasPrefix(in.FromEmailAddress, `"=?utf-8?q?Zo=C3=AB?="`) &&
		!strings.HasPrefix(in.FromEmailAddress, "=?utf-8?q?Zo=C3=AB?=") {
		t.Errorf("FromEmailAddress %q is not encoded for the wire", in.FromEmailAddress)
	}
	if diff := cmp.Diff([]string{`<ada@example.com>`, `"Bob" <bob@example.org>`},
		in.Destination.ToAddresses); diff != "" {
		t.Errorf("ToAddresses (-want +got):\n%s", diff)
	}
	if in.ConfigurationSetName != "ward-transactional" {
		t.Errorf("ConfigurationSetName = %q", in.ConfigurationSetName)
	}
	wantTags := []struct{ Name, Value string }{
		{ses.TagTenant, messagingtest.TenantID}, {ses.TagKind, "verify-email"},
	}
	if diff := cmp.Diff(wantTags, in.EmailTags); diff != "" {
		t.Errorf("EmailTags (-want +got):\n%s", diff)
	}
	simple := in.Content.Simple
	if simple == nil || in.Content.Raw != nil {
		t.Fatalf("Content = %+v, want Simple only", in.Content)
	}
	if simple.Subject.Data != m.Subject || simple.Subject.Charset != "UTF-8" {
		t.Errorf("Subject = %+v", simple.Subject)
	}
	if text := simple.Body.Text; text == nil || text.Data != m.Text || text.Charset != "UTF-8" {
		t.Errorf("Text = %+v", simple.Body.Text)
	}
	if simple.Body.Html == nil || simple.Body.Html.Data != m.HTML {
		t.Errorf("Html = %+v", simple.Body.Html)
	}
	wantHeaders := []struct{ Name, Value string }{{"List-Unsubscribe", "<mailto:u@ward.example>"}}
	if diff := cmp.Diff(wantHeaders, simple.Headers); diff != "" {
		t.Errorf("Headers (-want +got):\n%s", diff)
	}
}

func TestSimpleTextOnlyHasNoHTML(t *testing.T) {
	s, srv := open(t, ses.Config{}, accept)
	m := messagingtest.ValidEmail()
	m.HTML = ""
	if err := s.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	in := decode(t, srv.Requests()[0])
	if in.Content.Simple.Body.Html != nil || in.ConfigurationSetName != "" {
		t.Errorf("Html = %+v, configuration set %q; want neither", in.Content.Simple.Body.Html,
			in.ConfigurationSetName)
	}
}

func TestRawContentIsTheComposedMessage(t *testing.T) {
	fixed := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	s, srv := open(t, ses.Config{
		Raw:  true,
		Now:  func() time.Time { return fixed },
		Rand: bytes.NewReader(make([]byte, 30)),
	}, accept)
	m := messagingtest.ValidEmail()
	m.Subject = "Grüße"

	if err := s.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}

	in := decode(t, srv.Requests()[0])
	if in.Content.Raw == nil || in.Content.Simple != nil {
		t.Fatalf("Content = %+v, want Raw only", in.Content)
	}
	want, err := messaging.Compose(m, messaging.ComposeOptions{
		Date: fixed, Rand: bytes.NewReader(make([]byte, 30)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(in.Content.Raw.Data, want.Raw) {
		t.Errorf("Raw.Data differs from the composed message:\n%s", in.Content.Raw.Data)
	}
	if diff := cmp.Diff([]string{"<ada@example.com>"}, in.Destination.ToAddresses); diff != "" {
		t.Errorf("ToAddresses (-want +got):\n%s", diff)
	}
}

func TestRejectionIsUnavailableWithoutTheMessage(t *testing.T) {
	m := messagingtest.ValidEmail()
	s, _ := open(t, ses.Config{}, func(awstest.Request) awstest.Response {
		return awstest.Response{
			Status:      http.StatusBadRequest,
			ContentType: "application/json",
			Header:      map[string]string{"X-Amzn-ErrorType": "MessageRejected"},
			Body:        jsonMessage("Rejected: " + m.Text + " / " + m.Subject),
		}
	})

	err := s.Send(t.Context(), m)

	messagingtest.WantUnavailable(t, err)
	var pe *messaging.ProviderError
	if !errors.As(err, &pe) || pe.Provider != "ses" || pe.Step != "SendEmail" {
		t.Fatalf("err = %v, want an SES ProviderError", err)
	}
	if !strings.Contains(pe.Detail, "MessageRejected") || !strings.Contains(pe.Detail, "HTTP 400") ||
		!strings.Contains(pe.Detail, "ward-test-request-id") {
		t.Errorf("detail = %q, want the error code, status and request ID", pe.Detail)
	}
	if strings.Contains(pe.Detail, "Rejected:") {
		t.Errorf("detail = %q holds the text SES sent back", pe.Detail)
	}
	for _, secret := range []string{"ward.example/v/abc", m.Subject, awstest.SecretAccessKey} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error holds %q: %v", secret, err)
		}
	}
}

func jsonMessage(msg string) string {
	b, _ := json.Marshal(map[string]string{"message": msg})
	return string(b)
}

func TestNewNeedsAClient(t *testing.T) {
	_, err := ses.New(nil, ses.Config{})
	messagingtest.WantInvalid(t, err, "api")
}
