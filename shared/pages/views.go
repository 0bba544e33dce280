package pages

import (
	"net/url"
	"strconv"
)

// The content of each page, inside document's layout.

// views are the pages by name.
var views = map[string]func(p *page, b *w){
	"message":   messageView,
	"continue":  continueView,
	"signed-in": signedInView,
	"logout":    logoutView,
	"login":     loginView,
	"register":  registerView,
	"verify":    verifyView,
	"recover":   recoverView,
	"reset":     resetView,
	"consent":   consentPageView,
	// device.go
	"device":         deviceEntryView,
	"device-confirm": deviceConfirmView,
}

func messageView(p *page, b *w) { b.para("", p.Notice) }

// continueView follows a sign-in bound for the authorization endpoint;
// p.ReturnTo was checked by returnTo and authorizeReturn (a path of the
// tenant's authorization endpoint).
func continueView(p *page, b *w) {
	b.tag("<p>")
	b.text("You are signed in to " + p.Brand.Name + ". ")
	b.link(safeURL(p.ReturnTo), "Continue")
	b.tag("</p>\n")
}

func signedInView(p *page, b *w) {
	b.para("notice", "You are signed in to "+p.Brand.Name+".")
	b.formStart(p.path("logout", nil), p.CSRF)
	b.button("Sign out")
	b.tag("</form>\n")
}

func logoutView(p *page, b *w) {
	b.para("", "Sign out of "+p.Brand.Name+" in this browser?")
	b.formStart(p.path("logout", nil), p.CSRF)
	b.button("Sign out")
	b.tag("</form>\n")
}

func (p *page) path(page string, q url.Values) safeURL { return pagePath(p.Tenant, page, q) }

// loginQuery keeps return_to in links of the login page.
func (p *page) loginQuery(kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	if p.ReturnTo != "" {
		q.Set("return_to", p.ReturnTo)
	}
	return q
}

// loginForm opens a form answering the flow's step.
func loginForm(p *page, b *w) {
	b.formStart(p.path("login", nil), p.CSRF)
	b.hidden("step", p.Flow.Step)
	if p.ReturnTo != "" {
		b.hidden("return_to", p.ReturnTo)
	}
}

func loginView(p *page, b *w) {
	if p.Notice != "" {
		b.para("notice", p.Notice)
	}
	f := p.Flow
	switch f.Step {
	case "identify":
		loginForm(p, b)
		b.field(fieldOf(p, "username", "text", "username", true))
		b.field(fieldOf(p, "password", "password", "current-password", true))
		b.button("Sign in")
		b.tag("</form>\n<p>")
		b.link(p.path("recover", nil), "I forgot my password")
		b.tag("</p>\n<p>")
		b.link(p.path("register", nil), "Create an account")
		b.tag("</p>\n")
	case "password":
		b.tag("<p>Signing in as <strong>")
		b.text(f.Username)
		b.tag("</strong>. ")
		b.link(p.path("login", p.loginQuery("restart", "1")), "Not you?")
		b.tag("</p>\n")
		loginForm(p, b)
		b.field(fieldOf(p, "password", "password", "current-password", true))
		b.button("Continue")
		b.tag("</form>\n<p>")
		b.link(p.path("recover", nil), "I forgot my password")
		b.tag("</p>\n")
	case "select_factor":
		var choices []choice
		for i, fa := range f.Factors {
			if !fa.NeedsScript {
				choices = append(choices, choice{ID: "factor-" + strconv.Itoa(i), Value: fa.ID,
					Label: fa.Label})
			}
		}
		loginForm(p, b)
		b.radios(p, "factorId", "Choose how to confirm it is you", choices)
		b.button("Continue")
		b.tag("</form>\n")
	case "verify_factor":
		verifyFactorView(p, b)
	case "enroll":
		enrollView(p, b)
	case "confirm_enroll":
		confirmEnrollView(p, b)
	}
	b.tag("<p>")
	b.link(p.path("login", p.loginQuery("restart", "1")), "Start again")
	b.tag("</p>\n")
}

func verifyFactorView(p *page, b *w) {
	f := p.Flow
	if c := f.Challenge; c != nil && c.NeedsScript {
		b.para("", "This security key or passkey needs JavaScript, which this page does "+
			"not use. Choose another way below.")
	} else if c != nil {
		b.para("", c.Prompt)
		loginForm(p, b)
		b.field(fieldOf(p, "code", "text", "one-time-code", true))
		b.button("Verify")
		if c.CanResend {
			b.tag(`<button type="submit" class="secondary" name="resend" value="1" ` +
				"formnovalidate>Send a new code</button>\n")
		}
		b.tag("</form>\n")
	}
	if len(f.Others) > 0 {
		loginForm(p, b)
		b.tag("<p>Or use another way:</p>\n")
		for _, o := range f.Others {
			b.tag(`<button type="submit" class="secondary" name="factorId"`)
			b.attr("value", o.ID)
			b.tag(">")
			b.text(o.Label)
			b.tag("</button>\n")
		}
		b.tag("</form>\n")
	}
}

func enrollView(p *page, b *w) {
	f := p.Flow
	if len(f.EnrollTypes) == 0 {
		b.para("", "None of the methods your organisation allows can be set up on this page.")
		return
	}
	b.para("", "Your account needs a second way to confirm it is you. Choose one to set up.")
	choices := make([]choice, len(f.EnrollTypes))
	for i, o := range f.EnrollTypes {
		choices[i] = choice{ID: "type-" + strconv.Itoa(i), Value: o.Value, Label: o.Label}
	}
	loginForm(p, b)
	b.radios(p, "factorType", "Method", choices)
	if f.NeedsPhone {
		b.field(fieldOf(p, "phone", "tel", "tel", false))
	}
	b.button("Set it up")
	b.tag("</form>\n")
}

func confirmEnrollView(p *page, b *w) {
	e := p.Flow.Enrollment
	if e == nil {
		return
	}
	if e.NeedsScript {
		b.para("", "A security key or passkey needs JavaScript, which this page does not use.")
		return
	}
	if e.QR != "" {
		b.para("", "Scan this code with your authenticator app.")
		b.tag(`<img class="qr"`)
		b.url("src", e.QR)
		b.attr("alt", "QR code to add "+p.Brand.Name+" to an authenticator app")
		b.tag(` width="192" height="192">` + "\n")
	}
	if e.Secret != "" {
		b.tag("<p>Or enter this key in the app: <code>")
		b.text(e.Secret)
		b.tag("</code></p>\n")
	}
	if e.SentTo != "" {
		b.para("", "We sent a code to "+e.SentTo+".")
	}
	loginForm(p, b)
	b.field(fieldOf(p, "code", "text", "one-time-code", true))
	b.button("Confirm")
	b.tag("</form>\n")
}

func registerView(p *page, b *w) {
	b.formStart(p.path("register", nil), p.CSRF)
	if p.Invitation != "" {
		b.hidden("invitation", p.Invitation)
	}
	b.field(fieldOf(p, "email", "email", "email", p.Invitation == ""))
	b.field(fieldOf(p, "displayName", "text", "name", false))
	b.field(fieldOf(p, "password", "password", "new-password", true))
	b.button("Create account")
	b.tag("</form>\n<p>")
	b.link(p.path("login", nil), "I already have an account")
	b.tag("</p>\n")
}

func verifyView(p *page, b *w) {
	switch {
	case p.Done:
		b.para("notice", "Your email address is verified.")
		b.tag("<p>")
		b.link(p.path("login", nil), "Sign in")
		b.tag("</p>\n")
	case p.Token != "":
		b.para("", "Confirm that this email address is yours.")
		b.formStart(p.path("verify-email", nil), p.CSRF)
		b.hidden("token", p.Token)
		b.button("Verify my email address")
		b.tag("</form>\n")
	default:
		if p.Notice != "" {
			b.para("notice", p.Notice)
		}
		b.formStart(p.path("verify-email", nil), p.CSRF)
		b.hidden("verificationId", p.VerificationID)
		b.field(fieldOf(p, "code", "text", "one-time-code", true))
		b.button("Verify")
		b.tag("</form>\n")
	}
}

func recoverView(p *page, b *w) {
	if p.Done {
		b.para("notice", "If an account uses that address, we have sent it a link to choose "+
			"a new password. The link works for a limited time.")
		b.tag("<p>")
		b.link(p.path("login", nil), "Back to sign in")
		b.tag("</p>\n")
		return
	}
	b.para("", "Enter the email address of your account. We will send it a link to choose "+
		"a new password.")
	b.formStart(p.path("recover", nil), p.CSRF)
	b.field(fieldOf(p, "email", "email", "email", true))
	b.button("Send the link")
	b.tag("</form>\n")
}

func resetView(p *page, b *w) {
	switch {
	case p.Done:
		b.para("notice", "Your password is changed. You were signed out everywhere.")
		b.tag("<p>")
		b.link(p.path("login", nil), "Sign in")
		b.tag("</p>\n")
	case p.Token != "":
		b.formStart(p.path("reset", nil), p.CSRF)
		b.hidden("token", p.Token)
		b.field(fieldOf(p, "newPassword", "password", "new-password", true))
		b.button("Change my password")
		b.tag("</form>\n")
	default:
		b.para("", "This link is incomplete or has expired.")
		b.tag("<p>")
		b.link(p.path("recover", nil), "Ask for a new link")
		b.tag("</p>\n")
	}
}
