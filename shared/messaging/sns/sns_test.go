package sns_test

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/messaging/internal/awstest"
	"github.com/wardhq/ward/shared/messaging/messagingtest"
	"github.com/wardhq/ward/shared/messaging/outbox"
	"github.com/wardhq/ward/shared/messaging/sns"
)

const published = `<PublishResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/">` +
	`<PublishResult><MessageId>ward-test-message</MessageId></PublishResult>` +
	`<ResponseMetadata><RequestId>ward-test-request-id</RequestId></ResponseMetadata>` +
	`</PublishResponse>`

func accept(awstest.Request) awstest.Response {
	return awstest.Response{ContentType: "text/xml", Body: published}
}

func open(t *testing.T, cfg sns.Config, respond func(awstest.Request) awstest.Response) (
	*sns.Sender, *awstest.Server) {
	t.Helper()
	srv := awstest.NewServer(t, "sns", respond)
	client := awssns.NewFromConfig(awstest.Config(), func(o *awssns.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
	})
	s, err := sns.New(client, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, srv
}

// publishParams checks that r is a Publish action and returns its
// parameters, with the message attributes as name -> "DataType:StringValue".
func publishParams(t *testing.T, r awstest.Request) (url.Values, map[string]string) {
	t.Helper()
	if r.Method != http.MethodPost || r.Path != "/" || r.Service != "sns" {
		t.Fatalf("request = %s %s for %s", r.Method, r.Path, r.Service)
	}
	form, err := url.ParseQuery(string(r.Body))
	if err != nil {
		t.Fatalf("body: %v", err)
	}
	if form.Get("Action") != "Publish" || form.Get("Version") != "2010-03-31" {
		t.Fatalf("Action=%q Version=%q, want Publish 2010-03-31", form.Get("Action"),
			form.Get("Version"))
	}
	attrs := map[string]string{}
	for i := 1; ; i++ {
		p := "MessageAttributes.entry." + strconv.Itoa(i)
		name := form.Get(p + ".Name")
		if name == "" {
			break
		}
		attrs[name] = form.Get(p+".Value.DataType") + ":" + form.Get(p+".Value.StringValue")
	}
	return form, attrs
}

func TestContract(t *testing.T) {
	messagingtest.RunSMS(t, func(t *testing.T) messagingtest.PhoneEnv {
		s, srv := open(t, sns.Config{}, accept)
		accepted := func(*testing.T) int { return len(srv.Requests()) }
		return messagingtest.PhoneEnv{SMS: s, Accepted: accepted}
	})
}

func TestPublishParameters(t *testing.T) {
	tests := []struct {
		name  string
		cfg   sns.Config
		attrs map[string]string
	}{
		{"defaults", sns.Config{}, map[string]string{sns.AttrSMSType: "String:Transactional"}},
		{"everything", sns.Config{SMSType: sns.Promotional, SenderID: "Ward2FA",
			OriginationNumber: "+18005550199"}, map[string]string{
			sns.AttrSMSType:           "String:Promotional",
			sns.AttrSenderID:          "String:Ward2FA",
			sns.AttrOriginationNumber: "String:+18005550199",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, srv := open(t, tt.cfg, accept)
			m := messagingtest.ValidSMS()
			m.Body = "Ihr Code: 493021 ✓"
			if err := s.SendSMS(t.Context(), m); err != nil {
				t.Fatalf("SendSMS: %v", err)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			form, attrs := publishParams(t, reqs[0])
			if form.Get("PhoneNumber") != m.To || form.Get("Message") != m.Body {
				t.Errorf("PhoneNumber=%q Message=%q", form.Get("PhoneNumber"), form.Get("Message"))
			}
			if form.Has("TopicArn") || form.Has("TargetArn") {
				t.Errorf("Publish names a topic or target: %v", form)
			}
			if diff := cmp.Diff(tt.attrs, attrs); diff != "" {
				t.Errorf("message attributes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRejectionIsUnavailableWithoutTheMessage(t *testing.T) {
	m := messagingtest.ValidSMS()
	s, _ := open(t, sns.Config{}, func(awstest.Request) awstest.Response {
		return awstest.Response{
			Status:      http.StatusBadRequest,
			ContentType: "text/xml",
			Body: `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code>` +
				`<Message>Invalid parameter: Message ` + m.Body + `</Message></Error>` +
				`<RequestId>ward-test-request-id</RequestId></ErrorResponse>`,
		}
	})

	err := s.SendSMS(t.Context(), m)

	messagingtest.WantUnavailable(t, err)
	var pe *messaging.ProviderError
	if !errors.As(err, &pe) || pe.Provider != "sns" || pe.Step != "Publish" {
		t.Fatalf("err = %v, want an SNS ProviderError", err)
	}
	if !strings.Contains(pe.Detail, "InvalidParameter") || !strings.Contains(pe.Detail, "HTTP 400") {
		t.Errorf("detail = %q, want the error code and status", pe.Detail)
	}
	if strings.Contains(err.Error(), "493021") || strings.Contains(pe.Detail, "Invalid parameter:") {
		t.Errorf("the error holds what SNS sent back: %v", err)
	}
}

func TestCallIsUnsupported(t *testing.T) {
	s, srv := open(t, sns.Config{}, accept)

	err := s.Call(t.Context(), messagingtest.ValidVoice())

	if !errors.Is(err, messaging.ErrVoiceUnsupported) || !errors.Is(err, errs.ErrUnavailable) {
		t.Errorf("Call = %v, want unavailable and ErrVoiceUnsupported", err)
	}
	bad := messagingtest.ValidVoice()
	bad.To = "+1"
	messagingtest.WantInvalid(t, s.Call(t.Context(), bad), "To")
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("Call sent %d requests to SNS", n)
	}
}

// SMS from SNS and voice from another provider, joined into one
// PhoneSender.
func TestJoinedWithAVoiceProvider(t *testing.T) {
	s, srv := open(t, sns.Config{}, accept)
	voice, err := outbox.New(outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var phone messaging.PhoneSender = messaging.Phone{SMS: s, Voice: voice}

	if err := phone.SendSMS(t.Context(), messagingtest.ValidSMS()); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	if err := phone.Call(t.Context(), messagingtest.ValidVoice()); err != nil {
		t.Fatalf("Call: %v", err)
	}
	if len(srv.Requests()) != 1 || voice.Len() != 1 {
		t.Errorf("SNS got %d requests and the voice provider %d calls, want 1 each",
			len(srv.Requests()), voice.Len())
	}
}

func TestConfigIsValidated(t *testing.T) {
	client := awssns.NewFromConfig(awstest.Config())
	tests := []struct {
		field string
		cfg   sns.Config
	}{
		{"SMSType", sns.Config{SMSType: "transactional"}},
		{"SenderID", sns.Config{SenderID: "123456"}},
		{"SenderID", sns.Config{SenderID: "WardWardWard"}},
		{"SenderID", sns.Config{SenderID: "Ward 2FA"}},
		{"OriginationNumber", sns.Config{OriginationNumber: "18005550199"}},
	}
	for _, tt := range tests {
		_, err := sns.New(client, tt.cfg)
		messagingtest.WantInvalid(t, err, tt.field)
	}
	_, err := sns.New(nil, sns.Config{})
	messagingtest.WantInvalid(t, err, "api")
}
