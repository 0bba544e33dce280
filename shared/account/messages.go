package account

import (
	"context"
	"net/url"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/messaging/templates"
	"github.com/wardhq/ward/shared/store"
)

// KindAccountExists is the notice sent to an address that someone tried
// to register again.
const KindAccountExists = messaging.KindAccountExists

// appName is how messages name the tenant.
func appName(tn store.Tenant) string {
	if tn.DisplayName != "" {
		return tn.DisplayName
	}
	return tn.Name
}

// link builds a link to path carrying the tenant's name and a token.
func (s *service) link(path string, tn store.Tenant, param, token string) string {
	q := url.Values{"tenant": {tn.Name}, param: {token}}
	return s.publicURL + path + "?" + q.Encode()
}

func minutes(d time.Duration) int { return int(d / time.Minute) }

// sendEmail renders kind for the tenant in locale and sends it to to.
func (s *service) sendEmail(ctx context.Context, tn store.Tenant, kind messaging.Kind,
	locale, to string, data map[string]any) error {
	if s.email == nil {
		return errs.New(errs.Unavailable, "email is not configured")
	}
	data["AppName"] = appName(tn)
	m, err := s.render(ctx, tn, kind, locale, data)
	if err != nil {
		return err
	}
	return s.email.Send(ctx, m.Email(s.from, to))
}

// render renders a template, falling back to English when the locale is
// one the renderer refuses (a user's stored locale is never a reason not
// to send).
func (s *service) render(ctx context.Context, tn store.Tenant, kind messaging.Kind,
	locale string, data map[string]any) (templates.Message, error) {
	m, err := s.tpl.Render(ctx, tn.ID, kind, locale, data)
	if err != nil && locale != "" && errs.CodeOf(err) == errs.InvalidArgument {
		m, err = s.tpl.Render(ctx, tn.ID, kind, "", data)
	}
	if err != nil {
		return m, errs.Wrap(errs.Internal, err, "the message could not be written")
	}
	return m, nil
}

// sendVerification sends the verify-email message of an issued proof.
func (s *service) sendVerification(ctx context.Context, tn store.Tenant, locale, to string,
	p issued) error {
	if s.email == nil {
		return errs.New(errs.Unavailable, "email is not configured")
	}
	data := map[string]any{
		"AppName":      appName(tn),
		"Link":         s.link(PathVerifyEmail, tn, "token", p.token),
		"Code":         p.code,
		"ValidMinutes": minutes(EmailProofTTL),
	}
	m, err := s.render(ctx, tn, messaging.KindVerifyEmail, locale, data)
	if err != nil {
		return err
	}
	return s.email.Send(ctx, m.Email(s.from, to))
}
