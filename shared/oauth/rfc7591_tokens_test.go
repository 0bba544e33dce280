package oauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/oauth"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// registrationMode sets tenant tn's auth.clientRegistration.
func (e *env) registrationMode(t *testing.T, tn store.Tenant, m store.ClientRegistrationMode) {
	t.Helper()
	_, err := e.st.Tenants().Update(context.Background(), tn.ID, func(x store.Tenant) (
		store.Tenant, error) {
		x.Auth.ClientRegistration = m
		return x, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) newRegistrationToken(t *testing.T, c function.Caller, tenantID string,
	expiresIn, maxUses int) (oauth.CreatedRegistrationToken, error) {
	t.Helper()
	return invoke.Call[oauth.CreatedRegistrationToken](context.Background(), e.inv,
		oauth.FunctionName, oauth.OpCreateRegistrationToken, c,
		oauth.CreateRegistrationTokenInput{TenantID: tenantID, ExpiresIn: expiresIn,
			MaxUses: maxUses})
}

func (e *env) registrationTokens(c function.Caller, tenantID string) (
	oauth.RegistrationTokensOutput, error) {
	return invoke.Call[oauth.RegistrationTokensOutput](context.Background(), e.inv,
		oauth.FunctionName, oauth.OpListRegistrationTokens, c,
		oauth.RegistrationTokensInput{TenantID: tenantID})
}

func (e *env) deleteRegistrationToken(c function.Caller, tenantID, id string) error {
	_, err := invoke.Call[oauth.DeleteRegistrationTokenOutput](context.Background(), e.inv,
		oauth.FunctionName, oauth.OpDeleteRegistrationToken, c,
		oauth.DeleteRegistrationTokenInput{TenantID: tenantID, ID: id})
	return err
}

// refused checks an answer of 401 invalid_token with a Bearer challenge.
func tokenRefused(t *testing.T, what string, a answer) {
	t.Helper()
	if a.status != http.StatusUnauthorized || a.body["error"] != "invalid_token" ||
		!strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("%s: %d %s, want 401 invalid_token", what, a.status, a.raw)
	}
}

func TestTokenModeNeedsAnInitialAccessToken(t *testing.T) {
	e := newEnv(t)
	e.registrationMode(t, e.a, store.ClientRegistrationToken)
	if got := e.discovery(t, "acme")["registration_endpoint"]; got == nil {
		t.Error("a TOKEN tenant's discovery names no registration_endpoint")
	}
	admin := tenantAdmin(e.a.ID)
	once, err := e.newRegistrationToken(t, admin, e.a.ID, 3600, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(once.Token, oauth.RegistrationTokenPrefix) || len(once.Token) < 40 {
		t.Fatalf("token %q: want wit_ and 32 random bytes", once.Token)
	}
	const path = "/t/acme/oauth2/register"

	tokenRefused(t, "no token", e.json(t, "POST", path, "", webApp))
	tokenRefused(t, "a wrong token", e.json(t, "POST", path, once.Token+"x", webApp))
	other, err := e.newRegistrationToken(t, tenantAdmin(e.b.ID), e.b.ID, 3600, 0)
	if err != nil {
		t.Fatal(err)
	}
	tokenRefused(t, "another tenant's token", e.json(t, "POST", path, other.Token, webApp))

	// Refused metadata gives the use back: a typo costs no token.
	if a := e.json(t, "POST", path, once.Token, `{"redirect_uris": ["http://x.example/cb"]}`); a.status != 400 {
		t.Fatalf("bad metadata with the token: %d %s", a.status, a.raw)
	}
	if a := e.json(t, "POST", path, once.Token, webApp); a.status != http.StatusCreated {
		t.Fatalf("register with the token: %d %s", a.status, a.raw)
	}
	tokenRefused(t, "a used-up token", e.json(t, "POST", path, once.Token, webApp))
	list, err := e.registrationTokens(admin, e.a.ID)
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if got := list.Items[0]; got.ID != once.Info.ID || got.Uses != 1 || got.UsesLeft == nil ||
		*got.UsesLeft != 0 || got.Usable {
		t.Errorf("the used-up token lists as %+v", got)
	}
	stored, _ := e.st.Tenants().Get(context.Background(), e.a.ID)
	if stored.RegistrationTokens[0].Hash != clients.HashSecret(clients.Secret(once.Token)) {
		t.Error("the token is not stored as its SHA-256")
	}
	raw, _ := json.Marshal(list)
	tenant, _ := json.Marshal(stored)
	for what, b := range map[string][]byte{"the list": raw, "a tenant's JSON": tenant} {
		if strings.Contains(string(b), stored.RegistrationTokens[0].Hash) ||
			strings.Contains(string(b), "wit_") {
			t.Errorf("%s shows a token or its hash: %s", what, b)
		}
	}

	many, err := e.newRegistrationToken(t, admin, e.a.ID, 600, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if a := e.json(t, "POST", path, many.Token, webApp); a.status != http.StatusCreated {
			t.Fatalf("registration %d with a token of any uses: %d %s", i, a.status, a.raw)
		}
	}
	e.clk.Add(600 * time.Second)
	tokenRefused(t, "an expired token", e.json(t, "POST", path, many.Token, webApp))

	// Making a token dropped the used-up one; the expired one is listed.
	list, err = e.registrationTokens(admin, e.a.ID)
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if got := list.Items[0]; got.ID != many.Info.ID || got.Uses != 3 || got.UsesLeft != nil ||
		got.Usable {
		t.Errorf("the expired token lists as %+v", got)
	}

	// At an OPEN tenant no token is needed, and a TOKEN tenant's token is
	// not looked at.
	e.registrationMode(t, e.a, store.ClientRegistrationOpen)
	e.clk.Add(time.Hour)
	if a := e.json(t, "POST", path, "", webApp); a.status != http.StatusCreated {
		t.Errorf("OPEN tenant without a token: %d %s", a.status, a.raw)
	}
}

func TestRegistrationTokenOperations(t *testing.T) {
	e := newEnv(t)
	e.registrationMode(t, e.a, store.ClientRegistrationToken)
	admin := tenantAdmin(e.a.ID)
	made, err := e.newRegistrationToken(t, admin, e.a.ID, 3600, 5)
	if err != nil {
		t.Fatal(err)
	}
	if !made.Info.ExpiresAt.Equal(e.clk.Now().Add(time.Hour)) || made.Info.MaxUses != 5 ||
		!made.Info.Usable || made.Info.UsesLeft == nil || *made.Info.UsesLeft != 5 {
		t.Errorf("created = %+v", made.Info)
	}
	if err := e.deleteRegistrationToken(admin, e.a.ID, made.Info.ID); err != nil {
		t.Fatal(err)
	}
	tokenRefused(t, "a deleted token",
		e.json(t, "POST", "/t/acme/oauth2/register", made.Token, webApp))
	if err := e.deleteRegistrationToken(admin, e.a.ID, made.Info.ID); errs.CodeOf(err) != errs.NotFound ||
		!strings.Contains(err.Error(), "registration token not found") {
		t.Errorf("deleting it again = %v, want NOT_FOUND of the token", err)
	}

	events, _, err := e.st.Audit().List(context.Background(), e.a.ID,
		store.AuditFilter{}, store.Page{})
	if err != nil || len(events) != 2 {
		t.Fatalf("audit = %+v, %v; want a creation and a deletion", events, err)
	}
	if events[0].Action != "registrationToken.delete" || events[1].Action !=
		"registrationToken.create" || events[1].TargetID != made.Info.ID ||
		events[1].Actor != admin.Subject || events[1].Changes["maxUses"].New != "5" {
		t.Errorf("audit = %+v", events)
	}

	for name, in := range map[string]oauth.CreateRegistrationTokenInput{
		"no expiry":         {TenantID: e.a.ID},
		"a minute too long": {TenantID: e.a.ID, ExpiresIn: oauth.MaxRegistrationTokenSeconds + 60},
		"negative uses":     {TenantID: e.a.ID, ExpiresIn: 60, MaxUses: -1},
	} {
		_, err := invoke.Call[oauth.CreatedRegistrationToken](context.Background(), e.inv,
			oauth.FunctionName, oauth.OpCreateRegistrationToken, admin, in)
		if errs.CodeOf(err) != errs.InvalidArgument {
			t.Errorf("%s: %v, want INVALID_ARGUMENT", name, err)
		}
	}

	// At most store.MaxRegistrationTokens; spent ones make room.
	for i := range store.MaxRegistrationTokens {
		if _, err := e.newRegistrationToken(t, admin, e.a.ID, 60+i, 0); err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
	}
	if _, err := e.newRegistrationToken(t, admin, e.a.ID, 60, 0); errs.CodeOf(err) != errs.Conflict {
		t.Errorf("one token too many = %v, want CONFLICT", err)
	}
	e.clk.Add(61 * time.Second) // the first two expire
	if _, err := e.newRegistrationToken(t, admin, e.a.ID, 60, 0); err != nil {
		t.Errorf("after some expired: %v", err)
	}
	if list, _ := e.registrationTokens(admin, e.a.ID); len(list.Items) != store.MaxRegistrationTokens-1 {
		t.Errorf("%d tokens listed, want the expired ones gone", len(list.Items))
	}
}

func TestRegistrationTokensStayWithinTheirTenant(t *testing.T) {
	e := newEnv(t)
	mine, err := e.newRegistrationToken(t, tenantAdmin(e.a.ID), e.a.ID, 3600, 0)
	if err != nil {
		t.Fatal(err)
	}
	user := function.Caller{Subject: "u", Tenant: e.a.ID, Roles: []string{function.RoleUser}}
	for name, tc := range map[string]struct {
		c        function.Caller
		tenantID string
		want     errs.Code
	}{
		"another tenant's admin":    {tenantAdmin(e.b.ID), e.a.ID, errs.NotFound},
		"anonymous":                 {function.Caller{}, e.a.ID, errs.Unauthenticated},
		"a plain user":              {user, e.a.ID, errs.PermissionDenied},
		"a system admin, no tenant": {sysRoot, validate.NewID(), errs.NotFound},
	} {
		if _, err := e.newRegistrationToken(t, tc.c, tc.tenantID, 60, 0); errs.CodeOf(err) != tc.want {
			t.Errorf("create by %s = %v, want %s", name, err, tc.want)
		}
		if _, err := e.registrationTokens(tc.c, tc.tenantID); errs.CodeOf(err) != tc.want {
			t.Errorf("list by %s = %v, want %s", name, err, tc.want)
		}
		if err := e.deleteRegistrationToken(tc.c, tc.tenantID, mine.Info.ID); errs.CodeOf(err) != tc.want {
			t.Errorf("delete by %s = %v, want %s", name, err, tc.want)
		}
	}
	// Another tenant's admin naming its own tenant finds no such token.
	if err := e.deleteRegistrationToken(tenantAdmin(e.b.ID), e.b.ID, mine.Info.ID); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("delete through the other tenant = %v, want NOT_FOUND", err)
	}
	if list, err := e.registrationTokens(sysRoot, e.a.ID); err != nil || len(list.Items) != 1 {
		t.Errorf("the token is gone or unlisted: %+v, %v", list, err)
	}
}

// post sends a registration request from ip straight to the routes.
func (e *env) post(t *testing.T, h http.Handler, tn, ip, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", "/t/"+tn+"/oauth2/register", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = ip + ":40000"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func tooMany(t *testing.T, what string, w *httptest.ResponseRecorder, now time.Time) {
	t.Helper()
	var body map[string]string
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	wait := now.Truncate(time.Hour).Add(time.Hour).Sub(now)
	if w.Code != http.StatusTooManyRequests || body["error"] != "temporarily_unavailable" ||
		w.Header().Get("Retry-After") != strconv.Itoa(int(wait.Seconds())) {
		t.Errorf("%s: %d %s Retry-After %q, want 429 temporarily_unavailable after %v",
			what, w.Code, w.Body, w.Header().Get("Retry-After"), wait)
	}
}

func TestRegistrationsAreRateLimited(t *testing.T) {
	e := newEnv(t)
	e.openRegistration(t, e.a)
	e.openRegistration(t, e.b)
	h := oauth.Function(e.deps).Routes
	// Metadata the registry refuses after both counts: no client is made.
	const refusedByRegistry = `{"redirect_uris": ["http://app.example.com/cb"]}`
	now := e.clk.Now()
	e.clk.Add(now.Truncate(time.Hour).Add(90 * time.Minute).Sub(now)) // half past

	t.Run("ten a network in an hour", func(t *testing.T) {
		for i := range 10 {
			if w := e.post(t, h, "acme", "192.0.2.1", `not json`); w.Code != 400 {
				t.Fatalf("request %d: %d %s", i, w.Code, w.Body)
			}
		}
		tooMany(t, "the eleventh", e.post(t, h, "acme", "192.0.2.1", webApp), e.clk.Now())
		if w := e.post(t, h, "acme", "192.0.2.2", webApp); w.Code != http.StatusCreated {
			t.Errorf("another address: %d %s", w.Code, w.Body)
		}
		if w := e.post(t, h, "beta", "192.0.2.1", webApp); w.Code != http.StatusCreated {
			t.Errorf("the same address at another tenant: %d %s", w.Code, w.Body)
		}
		for i := range 10 {
			e.post(t, h, "acme", "2001:db8:1:1::"+strconv.Itoa(i+1), `not json`)
		}
		tooMany(t, "the same IPv6 /64", e.post(t, h, "acme", "2001:db8:1:1::ff", webApp),
			e.clk.Now())
	})

	t.Run("a hundred a tenant in an hour", func(t *testing.T) {
		e.clk.Add(time.Hour)
		for i := range 100 {
			ip := "198.51.100." + strconv.Itoa(i/10+1)
			if w := e.post(t, h, "acme", ip, refusedByRegistry); w.Code != 400 {
				t.Fatalf("request %d: %d %s", i, w.Code, w.Body)
			}
		}
		tooMany(t, "the hundred and first", e.post(t, h, "acme", "203.0.113.1", webApp),
			e.clk.Now())
		if w := e.post(t, h, "beta", "203.0.113.1", webApp); w.Code != http.StatusCreated {
			t.Errorf("another tenant: %d %s", w.Code, w.Body)
		}
		e.clk.Add(30 * time.Minute) // the next window
		if w := e.post(t, h, "acme", "203.0.113.1", webApp); w.Code != http.StatusCreated {
			t.Errorf("in the next window: %d %s", w.Code, w.Body)
		}
	})

	t.Run("strangers without a token do not use up a TOKEN tenant's count", func(t *testing.T) {
		e.clk.Add(time.Hour)
		e.registrationMode(t, e.a, store.ClientRegistrationToken)
		for i := range 150 {
			ip := "198.51.100." + strconv.Itoa(i/10+1)
			if w := e.post(t, h, "acme", ip, webApp); w.Code != http.StatusUnauthorized {
				t.Fatalf("request %d without a token: %d %s", i, w.Code, w.Body)
			}
		}
		tok, err := e.newRegistrationToken(t, tenantAdmin(e.a.ID), e.a.ID, 3600, 1)
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("POST", "/t/acme/oauth2/register", strings.NewReader(webApp))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		req.RemoteAddr = "203.0.113.9:1"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusCreated {
			t.Errorf("with a token: %d %s", w.Code, w.Body)
		}
	})
}

func TestDynamicClientsAreBoundedPerTenant(t *testing.T) {
	e := newEnvWith(t, clients.Deps{MaxDynamicClients: 2})
	e.openRegistration(t, e.a)
	e.openRegistration(t, e.b)
	ctx := context.Background()
	// A client the administrators made does not count.
	if _, err := invoke.Call[clients.SecretOutput](ctx, e.inv, clients.FunctionName,
		clients.OpCreate, tenantAdmin(e.a.ID), clients.CreateInput{TenantID: e.a.ID,
			Name: "admin's", Type: store.ClientPublic, AuthMethod: clients.MethodNone,
			RedirectURIs: []string{"https://admin.example.com/cb"}}); err != nil {
		t.Fatal(err)
	}
	var token, id string
	for i := range 2 {
		a := e.json(t, "POST", "/t/acme/oauth2/register", "", webApp)
		if a.status != http.StatusCreated {
			t.Fatalf("registration %d: %d %s", i, a.status, a.raw)
		}
		token, _ = a.body["registration_access_token"].(string)
		id, _ = a.body["client_id"].(string)
	}
	a := e.json(t, "POST", "/t/acme/oauth2/register", "", webApp)
	if a.status != http.StatusForbidden || a.body["error"] != "access_denied" {
		t.Errorf("one over the bound: %d %s, want 403 access_denied", a.status, a.raw)
	}
	if a := e.json(t, "POST", "/t/beta/oauth2/register", "", webApp); a.status != http.StatusCreated {
		t.Errorf("another tenant: %d %s", a.status, a.raw)
	}
	if a := e.json(t, "DELETE", "/t/acme/oauth2/register/"+id, token, ""); a.status != 204 {
		t.Fatalf("delete: %d %s", a.status, a.raw)
	}
	if a := e.json(t, "POST", "/t/acme/oauth2/register", "", webApp); a.status != http.StatusCreated {
		t.Errorf("after a deletion: %d %s", a.status, a.raw)
	}
}
