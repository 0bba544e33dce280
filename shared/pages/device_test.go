package pages_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/oauth"
)

// fakeDevice is the oauth function's device operations: one pending code,
// deviceCode, of the client "Living <TV>".
type fakeDevice struct {
	mu      sync.Mutex
	lookups []oauth.DeviceLookupInput
	decided []oauth.DeviceDecideInput
	callers []function.Caller
}

const deviceCode = "BCDF-GHJK"

func (d *fakeDevice) function() *function.Function {
	f := function.New(oauth.FunctionName)
	find := func(c function.Caller, in oauth.DeviceLookupInput) (oauth.DeviceLookupOutput, error) {
		d.callers = append(d.callers, c)
		if !c.Has(function.RoleService) {
			return oauth.DeviceLookupOutput{}, errs.New(errs.PermissionDenied, "service only")
		}
		if in.UserCode != deviceCode || len(d.decided) > 0 {
			return oauth.DeviceLookupOutput{}, errs.Invalid("userCode", "is wrong or has expired")
		}
		return oauth.DeviceLookupOutput{UserCode: deviceCode, ClientID: "c1",
			ClientName: "Living <TV>", Scopes: []string{"openid", "tv"},
			Described: []oauth.ScopeInfo{{Scope: "openid", Description: "Sign you <in>"},
				{Scope: "tv", Description: "tv"}}}, nil
	}
	function.Op(f, oauth.OpDeviceLookup, func(_ context.Context, c function.Caller,
		in oauth.DeviceLookupInput) (oauth.DeviceLookupOutput, error) {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.lookups = append(d.lookups, in)
		return find(c, in)
	})
	function.Op(f, oauth.OpDeviceDecide, func(_ context.Context, c function.Caller,
		in oauth.DeviceDecideInput) (oauth.DeviceDecideOutput, error) {
		d.mu.Lock()
		defer d.mu.Unlock()
		if _, err := find(c, in.DeviceLookupInput); err != nil {
			return oauth.DeviceDecideOutput{}, err
		}
		d.decided = append(d.decided, in)
		return oauth.DeviceDecideOutput{Approved: in.Approve}, nil
	})
	return f
}

func (d *fakeDevice) calls() (lookups, decided int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.lookups), len(d.decided)
}

func TestTheDevicePageAsksToSignInFirst(t *testing.T) {
	e := newEnv(t)
	r := e.get("/t/acme/device?user_code=" + deviceCode)
	r.wantStatus(t, http.StatusSeeOther)
	want := "/t/acme/login?" + url.Values{"return_to": {"/t/acme/device?user_code=" +
		deviceCode}}.Encode()
	if got := r.Header.Get("Location"); got != want {
		t.Fatalf("Location = %q, want %q", got, want)
	}
}

func TestTheDevicePageApprovesThroughTheOperation(t *testing.T) {
	e := newEnv(t)
	e.signedIn()
	page := e.get("/t/acme/device?user_code=" + deviceCode)
	page.wantStatus(t, http.StatusOK)
	if !strings.Contains(page.body, `value="`+deviceCode+`"`) {
		t.Fatalf("the code is not prefilled:\n%s", page.body)
	}
	if l, d := e.device.calls(); l != 0 || d != 0 {
		t.Fatal("a GET reached the oauth function")
	}

	confirm := e.post("/t/acme/device", with(page.hidden(), "userCode", deviceCode))
	confirm.wantStatus(t, http.StatusOK)
	if !strings.Contains(confirm.body, "Living &lt;TV&gt;") ||
		!strings.Contains(confirm.body, "<li>tv</li>") ||
		!strings.Contains(confirm.body, "<li>Sign you &lt;in&gt;</li>") ||
		!strings.Contains(confirm.body, `value="approve"`) {
		t.Fatalf("the confirmation page:\n%s", confirm.body)
	}
	if _, d := e.device.calls(); d != 0 {
		t.Fatal("looking a code up decided it")
	}

	done := e.post("/t/acme/device", with(confirm.hidden(), "decision", "approve"))
	done.wantStatus(t, http.StatusSeeOther)
	if loc := done.Header.Get("Location"); loc != "/t/acme/device?done=approved" {
		t.Fatalf("Location = %q", loc)
	}
	in := e.device.decided[0]
	if !in.Approve || in.User.UserID != userID || in.User.SessionID != sessionID ||
		in.User.ACR != "1" || in.TenantID != tenantID || in.UserCode != deviceCode {
		t.Fatalf("decided %+v", in)
	}
	for _, c := range e.device.callers {
		if !c.Has(function.RoleService) {
			t.Fatalf("called as %+v", c)
		}
	}
	e.get("/t/acme/device?done=approved").wantStatus(t, http.StatusOK)
}

func TestTheDevicePageShowsAWrongCodeOnItsField(t *testing.T) {
	e := newEnv(t)
	e.signedIn()
	page := e.get("/t/acme/device")
	r := e.post("/t/acme/device", with(page.hidden(), "userCode", "ZZZZ-ZZZZ"))
	r.wantStatus(t, http.StatusBadRequest)
	if !strings.Contains(r.body, `id="userCode-error"`) ||
		!strings.Contains(r.body, "Code is wrong or has expired.") {
		t.Fatalf("no error on the field:\n%s", r.body)
	}
}

func TestTheDevicePageRefusesFormsWithoutTheToken(t *testing.T) {
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
			e.signedIn()
			page := e.get("/t/acme/device")
			form := with(page.hidden(), "userCode", deviceCode, "decision", "approve")
			r := e.post("/t/acme/device", c.form(form), c.header...)
			r.wantStatus(t, http.StatusForbidden)
			if l, d := e.device.calls(); l != 0 || d != 0 {
				t.Errorf("a refused form reached the oauth function: %d lookups, %d decisions", l, d)
			}
		})
	}
}
