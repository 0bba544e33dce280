package platform

import (
	"context"
	"fmt"

	sesv2 "github.com/aws/aws-sdk-go-v2/service/sesv2"
	snsapi "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/wardhq/ward/shared/awsx"
	"github.com/wardhq/ward/shared/config"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/messaging/outbox"
	"github.com/wardhq/ward/shared/messaging/ses"
	"github.com/wardhq/ward/shared/messaging/smtp"
	"github.com/wardhq/ward/shared/messaging/sns"
	"github.com/wardhq/ward/shared/messaging/templates"
)

// openMessaging builds the senders that cfg.Messaging names. A channel
// set to "none" gets a sender that refuses every message with
// UNAVAILABLE, so that a deployment without mail fails loudly instead of
// dropping verification and reset messages.
func (p *Platform) openMessaging(cfg config.Config) error {
	m := cfg.Messaging
	var err error
	if p.Templates, err = templates.New(nil); err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	if m.Email == "outbox" || m.SMS == "outbox" {
		if p.Outbox, err = outbox.New(outbox.Options{}); err != nil {
			return err
		}
	}
	p.EmailFrom = m.From
	switch m.Email {
	case "outbox":
		p.Email = p.Outbox
		if p.EmailFrom == "" {
			p.EmailFrom = "Ward <no-reply@localhost>"
		}
	case "smtp":
		s, err := smtp.New(smtp.Config{
			Host: m.SMTP.Host, Port: m.SMTP.Port, ImplicitTLS: m.SMTP.ImplicitTLS,
			Username: m.SMTP.Username, Password: m.SMTP.Password,
		})
		if err != nil {
			return fmt.Errorf("smtp: %w", err)
		}
		p.Email = s
	case "ses":
		aws, err := awsx.FromEnv("ses")
		if err != nil {
			return err
		}
		client := sesv2.New(sesv2.Options{Region: aws.Region, Credentials: aws.Credentials})
		s, err := ses.New(client, ses.Config{ConfigurationSetName: m.SESConfigurationSet})
		if err != nil {
			return fmt.Errorf("ses: %w", err)
		}
		p.Email = s
	default:
		p.Email = noEmail{}
	}
	switch m.SMS {
	case "outbox":
		p.Phone = p.Outbox
	case "sns":
		aws, err := awsx.FromEnv("sns")
		if err != nil {
			return err
		}
		client := snsapi.New(snsapi.Options{Region: aws.Region, Credentials: aws.Credentials})
		s, err := sns.New(client, sns.Config{SenderID: m.SNSSenderID})
		if err != nil {
			return fmt.Errorf("sns: %w", err)
		}
		p.Phone = s
	default:
		p.Phone = noPhone{}
	}
	return nil
}

type noEmail struct{}

func (noEmail) Send(ctx context.Context, _ messaging.Email) error {
	return errs.New(errs.Unavailable, "email is not configured (WARD_EMAIL)")
}

type noPhone struct{}

func (noPhone) SendSMS(context.Context, messaging.SMS) error {
	return errs.New(errs.Unavailable, "SMS is not configured (WARD_SMS)")
}

func (noPhone) Call(context.Context, messaging.Voice) error {
	return errs.New(errs.Unavailable, "voice calls are not configured")
}
