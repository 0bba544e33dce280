package pages

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/oauth"
	"github.com/wardhq/ward/shared/sessions"
)

// # The device page (RFC 8628 section 3.3)
//
// GET /t/{tenant}/device[?user_code=] asks the signed-in person for the
// code their device shows (prefilled from verification_uri_complete,
// but still to be confirmed: section 5.4, a code someone else sent them
// is a phishing attempt). POST with userCode shows what the device asks
// for, the client's name and the scopes, and asks Approve or Deny; POST
// with decision records it and redirects to GET ?done=. Both POSTs are
// self-service forms (double-submit CSRF token and the origin checks).
//
// The person must be signed in: without a working session cookie the
// browser goes to the login page, and back here by return_to. The pages
// decide nothing: oauth.deviceLookup and oauth.deviceDecide do, called
// as the service role with the person the sessions function validated;
// the oauth function counts wrong codes and holds back a person who
// enters too many (section 5.1).

// devicePath is the device page, with query.
func devicePath(tenant string, q url.Values) string {
	p := "/t/" + tenant + "/device"
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return p
}

// deviceView is what the confirmation step shows.
type deviceView struct {
	UserCode   string
	ClientName string
	Scopes     []string
	Described  []oauth.ScopeInfo
}

// signedInUser is the person of the browser's session cookie, validated
// by the sessions function within the tenant; ok is false without one.
func (s *service) signedInUser(ctx context.Context, req *request) (oauth.DeviceUser, bool,
	error) {
	token := s.cookie(req.r, cookieSession)
	if !strings.HasPrefix(token, sessions.TokenPrefix) {
		return oauth.DeviceUser{}, false, nil
	}
	v, err := invoke.Call[sessions.ValidateOutput](ctx, s.inv, sessions.FunctionName,
		sessions.OpValidate, serviceCaller,
		sessions.ValidateInput{Token: sessions.Token(token), Tenant: req.tenant.ID})
	switch {
	case errs.CodeOf(err) == errs.Unauthenticated || errs.CodeOf(err) == errs.InvalidArgument:
		return oauth.DeviceUser{}, false, nil
	case err != nil:
		return oauth.DeviceUser{}, false, err
	case !v.Active || v.Kind != sessions.KindSession || v.Subject == "" ||
		v.TenantID != req.tenant.ID:
		return oauth.DeviceUser{}, false, nil
	}
	return oauth.DeviceUser{UserID: v.Subject, SessionID: v.SessionID, AuthTime: v.AuthTime,
		ACR: v.ACR, AMR: v.AMR}, true, nil
}

// toLogin sends the browser to sign in and back to the device page with
// the code it had.
func (s *service) toLogin(req *request, code string) {
	var q url.Values
	if code != "" {
		q = url.Values{"user_code": {code}}
	}
	http.Redirect(req.w, req.r, loginURL(req.tenant.Name, devicePath(req.tenant.Name, q), nil),
		http.StatusSeeOther)
}

func (s *service) deviceGet(ctx context.Context, req *request) {
	q := req.r.URL.Query()
	code := bounded(q.Get("user_code"))
	_, ok, err := s.signedInUser(ctx, req)
	if err != nil {
		s.fault(req.w, req.r, err)
		return
	}
	if !ok {
		s.toLogin(req, code)
		return
	}
	p := req.page("Connect a device")
	switch q.Get("done") {
	case "approved":
		p.Notice = "The device is connected. You can go back to it."
		req.render(http.StatusOK, "message", p)
		return
	case "denied":
		p.Notice = "The device was refused. It gets no access."
		req.render(http.StatusOK, "message", p)
		return
	}
	p.Values["userCode"] = code
	p.CSRF = s.formCSRF(req.w, req.r)
	req.render(http.StatusOK, "device", p)
}

func (s *service) devicePost(ctx context.Context, req *request) {
	if !s.formPost(req) {
		return
	}
	f := req.r.PostForm
	code := bounded(strings.TrimSpace(f.Get("userCode")))
	user, ok, err := s.signedInUser(ctx, req)
	if err != nil {
		s.fault(req.w, req.r, err)
		return
	}
	if !ok {
		s.toLogin(req, code)
		return
	}
	p := req.page("Connect a device")
	p.Values["userCode"] = code
	in := oauth.DeviceLookupInput{TenantID: req.tenant.ID, UserCode: code, User: user}

	switch decision := f.Get("decision"); decision {
	case "":
		out, err := invoke.Call[oauth.DeviceLookupOutput](ctx, s.inv, oauth.FunctionName,
			oauth.OpDeviceLookup, serviceCaller, in)
		if err != nil {
			s.refused(req, "device", p, err, "userCode")
			return
		}
		p.Device = &deviceView{UserCode: out.UserCode, ClientName: out.ClientName,
			Scopes: out.Scopes, Described: out.Described}
		p.CSRF = s.formCSRF(req.w, req.r)
		req.render(http.StatusOK, "device-confirm", p)
	case "approve", "deny":
		out, err := invoke.Call[oauth.DeviceDecideOutput](ctx, s.inv, oauth.FunctionName,
			oauth.OpDeviceDecide, serviceCaller,
			oauth.DeviceDecideInput{DeviceLookupInput: in, Approve: decision == "approve"})
		if err != nil {
			s.refused(req, "device", p, err, "userCode")
			return
		}
		done := "denied"
		if out.Approved {
			done = "approved"
		}
		http.Redirect(req.w, req.r, devicePath(req.tenant.Name, url.Values{"done": {done}}),
			http.StatusSeeOther)
	default:
		s.refuseForm(req, http.StatusBadRequest)
	}
}

func deviceEntryView(p *page, b *w) {
	b.para("", "Enter the code your device shows.")
	b.formStart(p.path("device", nil), p.CSRF)
	f := fieldOf(p, "userCode", "text", "off", true)
	f.Hint = "Eight letters, such as BCDF-GHJK."
	b.field(f)
	b.button("Continue")
	b.tag("</form>\n")
}

func deviceConfirmView(p *page, b *w) {
	d := p.Device
	b.tag("<p><strong>")
	b.text(d.ClientName)
	b.tag("</strong> asks to connect as you, with the code <code>")
	b.text(d.UserCode)
	b.tag("</code>. Check that your device shows this code.</p>\n")
	described := d.Described
	if len(described) == 0 { // an older oauth function: the names alone
		for _, sc := range d.Scopes {
			described = append(described, oauth.ScopeInfo{Scope: sc, Description: sc})
		}
	}
	if len(described) > 0 {
		b.tag("<p>It asks to:</p>\n<ul>\n")
		for _, sc := range described {
			b.tag("<li>")
			b.text(sc.Description)
			b.tag("</li>\n")
		}
		b.tag("</ul>\n")
	}
	b.formStart(p.path("device", nil), p.CSRF)
	b.hidden("userCode", d.UserCode)
	b.tag(`<button type="submit" name="decision" value="approve">Approve</button>` + "\n")
	b.tag(`<button type="submit" class="secondary" name="decision" value="deny">Deny` +
		"</button>\n")
	b.tag("</form>\n")
}
