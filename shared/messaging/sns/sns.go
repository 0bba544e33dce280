// Package sns sends Ward's text messages through Amazon SNS, with Publish to
// a phone number (aws-sdk-go-v2 service/sns).
//
// SNS has no voice calls. The Sender still implements messaging.PhoneSender
// so it can stand in where one is expected, and its Call answers
// messaging.VoiceUnsupported; to offer voice, join it with a voice provider
// in a messaging.Phone.
package sns

import (
	"context"
	"maps"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/messaging/internal/awsfail"
)

// API is the part of the SNS client that the sender uses; *sns.Client
// implements it.
type API interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (
		*sns.PublishOutput, error)
}

var _ API = (*sns.Client)(nil)

// SMS types of SNS. Transactional messages (codes, alerts) are routed for
// reliability; promotional ones for cost.
const (
	Transactional = "Transactional"
	Promotional   = "Promotional"
)

// The message attributes SNS reads for SMS.
const (
	AttrSMSType           = "AWS.SNS.SMS.SMSType"
	AttrSenderID          = "AWS.SNS.SMS.SenderID"
	AttrOriginationNumber = "AWS.MM.SMS.OriginationNumber"
)

// Config tunes the sender. The zero value sends transactional messages with
// the account's defaults.
type Config struct {
	// SMSType is Transactional (the default) or Promotional.
	SMSType string
	// SenderID is the alphanumeric sender shown where countries allow one:
	// 1 to 11 letters and digits, at least one a letter.
	SenderID string
	// OriginationNumber, in E.164 form, is the number messages come from,
	// when the account owns one.
	OriginationNumber string
}

var senderIDRE = regexp.MustCompile(`^[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*$`)

// Sender is a messaging.PhoneSender on SNS that sends SMS and cannot call.
type Sender struct {
	api   API
	attrs map[string]types.MessageAttributeValue
}

var _ messaging.PhoneSender = (*Sender)(nil)

// New returns a Sender that calls api, usually sns.NewFromConfig(awsConfig).
func New(api API, cfg Config) (*Sender, error) {
	if api == nil {
		return nil, errs.Invalid("api", "an SNS client is required")
	}
	if cfg.SMSType == "" {
		cfg.SMSType = Transactional
	}
	if cfg.SMSType != Transactional && cfg.SMSType != Promotional {
		return nil, errs.Invalid("SMSType", "must be %s or %s", Transactional, Promotional)
	}
	if cfg.SenderID != "" && (len(cfg.SenderID) > 11 || !senderIDRE.MatchString(cfg.SenderID)) {
		return nil, errs.Invalid("SenderID", "must be 1 to 11 letters and digits, at least one a letter")
	}
	if cfg.OriginationNumber != "" {
		if err := messaging.CheckPhone("OriginationNumber", cfg.OriginationNumber); err != nil {
			return nil, err
		}
	}

	attrs := map[string]types.MessageAttributeValue{AttrSMSType: stringAttr(cfg.SMSType)}
	if cfg.SenderID != "" {
		attrs[AttrSenderID] = stringAttr(cfg.SenderID)
	}
	if cfg.OriginationNumber != "" {
		attrs[AttrOriginationNumber] = stringAttr(cfg.OriginationNumber)
	}
	return &Sender{api: api, attrs: attrs}, nil
}

func stringAttr(v string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

// SendSMS checks m and publishes it to m.To (see messaging.SMSSender). SNS
// errors become errs.ErrUnavailable whose cause keeps the SNS error code and
// request ID but not the text SNS sent back.
func (s *Sender) SendSMS(ctx context.Context, m messaging.SMS) error {
	if err := m.Validate(); err != nil {
		return err
	}
	_, err := s.api.Publish(ctx, &sns.PublishInput{
		PhoneNumber:       aws.String(m.To),
		Message:           aws.String(m.Body),
		MessageAttributes: maps.Clone(s.attrs),
	})
	if err != nil {
		return messaging.ProviderFailure("sns", "Publish", awsfail.Summary(err), m.Body)
	}
	return nil
}

// Call checks m and answers messaging.VoiceUnsupported: SNS cannot place
// calls. A malformed m is still reported as bad input.
func (s *Sender) Call(_ context.Context, m messaging.Voice) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return messaging.VoiceUnsupported()
}
