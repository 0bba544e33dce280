// Package ses sends Ward's email through Amazon SES, with the SES v2 API's
// SendEmail action (aws-sdk-go-v2 service/sesv2).
//
// By default the email goes as Simple content: SES builds the MIME message
// from the subject, the bodies and the extra headers. With Config.Raw it goes
// as Raw content composed by messaging.Compose, byte for byte what the SMTP
// sender would send. Either way each email is tagged with its tenant and kind
// (message tags ward-tenant and ward-kind), which SES passes on to the event
// destinations of a configuration set, so deliveries and bounces can be
// traced to a tenant without reading the message.
package ses

import (
	"context"
	"io"
	"net/textproto"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/messaging/internal/awsfail"
)

// API is the part of the SES v2 client that the sender uses; *sesv2.Client
// implements it.
type API interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (
		*sesv2.SendEmailOutput, error)
}

var _ API = (*sesv2.Client)(nil)

// Message tag names (SES allows ASCII letters, digits, "_" and "-"; tenant
// IDs and kinds fit).
const (
	TagTenant = "ward-tenant"
	TagKind   = "ward-kind"
)

// Config tunes the sender. The zero value sends Simple content without a
// configuration set.
type Config struct {
	// ConfigurationSetName, if set, names the SES configuration set (event
	// destinations, IP pool, suppression) the email is sent with.
	ConfigurationSetName string
	// Raw sends the message composed by Ward instead of SES's own MIME.
	Raw bool
	// MessageIDDomain, Now and Rand are as in smtp.Config, for Raw only.
	// SES may put a Message-ID of its own in place of Ward's.
	MessageIDDomain string
	Now             func() time.Time
	Rand            io.Reader
}

// Sender is a messaging.EmailSender on SES.
type Sender struct {
	api API
	cfg Config
}

var _ messaging.EmailSender = (*Sender)(nil)

// New returns a Sender that calls api, usually
// sesv2.NewFromConfig(awsConfig).
func New(api API, cfg Config) (*Sender, error) {
	if api == nil {
		return nil, errs.Invalid("api", "an SES client is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Sender{api: api, cfg: cfg}, nil
}

// Send checks m and sends it with one SendEmail call (see
// messaging.EmailSender). SES errors become errs.ErrUnavailable whose cause
// keeps the SES error code and request ID but not the text SES sent back.
func (s *Sender) Send(ctx context.Context, m messaging.Email) error {
	in, err := s.input(m)
	if err != nil {
		return err
	}
	if _, err := s.api.SendEmail(ctx, in); err != nil {
		return messaging.ProviderFailure("ses", "SendEmail", awsfail.Summary(err),
			m.Subject, m.Text, m.HTML)
	}
	return nil
}

func (s *Sender) input(m messaging.Email) (*sesv2.SendEmailInput, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	// Valid, so these parse; the display names come out encoded for the
	// wire as SES asks.
	from, _ := messaging.ParseAddress("From", m.From)
	to := make([]string, len(m.To))
	for i, a := range m.To {
		p, _ := messaging.ParseAddress("To", a)
		to[i] = p.String()
	}

	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(from.String()),
		Destination:      &types.Destination{ToAddresses: to},
		EmailTags: []types.MessageTag{
			{Name: aws.String(TagTenant), Value: aws.String(m.TenantID)},
			{Name: aws.String(TagKind), Value: aws.String(string(m.Kind))},
		},
	}
	if s.cfg.ConfigurationSetName != "" {
		in.ConfigurationSetName = aws.String(s.cfg.ConfigurationSetName)
	}

	if s.cfg.Raw {
		c, err := messaging.Compose(m, messaging.ComposeOptions{
			Date:            s.cfg.Now(),
			Rand:            s.cfg.Rand,
			MessageIDDomain: s.cfg.MessageIDDomain,
		})
		if err != nil {
			return nil, err
		}
		in.Content = &types.EmailContent{Raw: &types.RawMessage{Data: c.Raw}}
		return in, nil
	}

	msg := &types.Message{
		Subject: utf8Content(m.Subject),
		Body:    &types.Body{},
	}
	if m.Text != "" {
		msg.Body.Text = utf8Content(m.Text)
	}
	if m.HTML != "" {
		msg.Body.Html = utf8Content(m.HTML)
	}
	names := make([]string, 0, len(m.Headers))
	for name := range m.Headers {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		msg.Headers = append(msg.Headers, types.MessageHeader{
			Name:  aws.String(textproto.CanonicalMIMEHeaderKey(name)),
			Value: aws.String(m.Headers[name]),
		})
	}
	in.Content = &types.EmailContent{Simple: msg}
	return in, nil
}

func utf8Content(s string) *types.Content {
	return &types.Content{Data: aws.String(s), Charset: aws.String("UTF-8")}
}
