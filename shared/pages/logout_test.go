package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
)

// signedIn signs alice in and returns the signed-in page, whose form
// signs out.
func (e *env) signedIn() response {
	e.t.Helper()
	r := e.identify("alice", goodPassword, "")
	r.wantStatus(e.t, http.StatusSeeOther)
	page := e.get("/t/acme/signed-in")
	page.wantStatus(e.t, http.StatusOK)
	return page
}

func TestSigningOutRevokesTheSessionAndClearsTheCookie(t *testing.T) {
	e := newEnv(t)
	page := e.signedIn()
	if !strings.Contains(page.body, `<form method="post" action="/t/acme/logout"`) {
		t.Fatalf("the signed-in page has no sign-out form:\n%s", page.body)
	}

	r := e.post("/t/acme/logout", page.hidden())
	r.wantStatus(t, http.StatusSeeOther)
	if got, want := r.Header.Get("Location"), "/t/acme/login"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	c := r.cookie("ward_session")
	if c == nil || c.MaxAge >= 0 || c.Value != "" || !c.HttpOnly || c.Path != "/" {
		t.Errorf("the session cookie was not cleared: %+v in %v", c, r.Header["Set-Cookie"])
	}
	revoked, calls := e.sessions.state()
	if !revoked || calls != 1 {
		t.Fatalf("revoked = %v after %d calls, want revoked after 1", revoked, calls)
	}
	if by := e.sessions.revokers[0]; by.Has(function.RoleService) || by.Subject != userID {
		t.Errorf("revoked by %+v, want the session's own user without the service role", by)
	}

	// The browser has no session now; the landing page says so.
	after := e.get("/t/acme/signed-in")
	after.wantStatus(t, http.StatusSeeOther)
	if loc := after.Header.Get("Location"); loc != "/t/acme/login" {
		t.Errorf("signed-in page after signing out went to %q", loc)
	}
}

func TestTheSignOutPageAsksFirst(t *testing.T) {
	e := newEnv(t)
	e.signedIn()

	r := e.get("/t/acme/logout")
	r.wantStatus(t, http.StatusOK)
	if !strings.Contains(r.body, `<html lang="en">`) ||
		!strings.Contains(r.body, "<title>Sign out – Acme &lt;Corp&gt;</title>") {
		t.Errorf("no lang or title:\n%s", r.body)
	}
	if !strings.Contains(r.body, `<form method="post" action="/t/acme/logout"`) ||
		!strings.Contains(r.body, `<button type="submit">Sign out</button>`) ||
		r.hidden().Get("csrf") == "" {
		t.Errorf("no confirmation form:\n%s", r.body)
	}
	if r.cookie("ward_session") != nil {
		t.Error("GET touched the session cookie")
	}
	if revoked, calls := e.sessions.state(); revoked || calls != 0 {
		t.Errorf("GET revoked = %v after %d calls", revoked, calls)
	}
}

func TestSignOutRefusesFormsWithoutTheToken(t *testing.T) {
	cases := []struct {
		name   string
		form   func(url.Values) url.Values
		header []string
	}{
		{"a wrong token", func(v url.Values) url.Values { return with(v, "csrf", "forged") }, nil},
		{"no token", func(v url.Values) url.Values { v.Del("csrf"); return v }, nil},
		{"a cross-site post", func(v url.Values) url.Values { return v },
			[]string{"Sec-Fetch-Site", "cross-site"}},
		{"another origin", func(v url.Values) url.Values { return v },
			[]string{"Origin", "https://evil.example"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			page := e.signedIn()
			r := e.post("/t/acme/logout", c.form(page.hidden()), c.header...)
			r.wantStatus(t, http.StatusForbidden)
			if revoked, calls := e.sessions.state(); revoked || calls != 0 {
				t.Errorf("a refused form: revoked = %v after %d calls", revoked, calls)
			}
			if r.cookie("ward_session") != nil {
				t.Error("a refused form touched the session cookie")
			}
			e.get("/t/acme/signed-in").wantStatus(t, http.StatusOK)
		})
	}
}

func TestAFailedRevocationKeepsTheCookie(t *testing.T) {
	e := newEnv(t)
	page := e.signedIn()
	e.sessions.fail = errs.New(errs.Unavailable, "the store is down")

	r := e.post("/t/acme/logout", page.hidden())
	if r.StatusCode < 500 {
		t.Fatalf("status = %d, want a fault; body:\n%s", r.StatusCode, r.body)
	}
	if r.cookie("ward_session") != nil {
		t.Error("the cookie was cleared though the session still works")
	}
	if strings.Contains(r.body, "the store is down") {
		t.Error("the page shows the fault's cause")
	}
	e.get("/t/acme/signed-in").wantStatus(t, http.StatusOK)
}

func TestSigningOutWithoutASessionJustGoesToSignIn(t *testing.T) {
	e := newEnv(t)
	page := e.get("/t/acme/logout")
	page.wantStatus(t, http.StatusOK)

	r := e.post("/t/acme/logout", page.hidden())
	r.wantStatus(t, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/t/acme/login" {
		t.Errorf("Location = %q", loc)
	}
	if _, calls := e.sessions.state(); calls != 0 {
		t.Errorf("revoke was called %d times without a session", calls)
	}
}
