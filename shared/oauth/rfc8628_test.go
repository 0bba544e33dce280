package oauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/oauth"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// deviceClient registers a public client holding the device code grant
// and the refresh_token grant.
func (e *env) deviceClient(t testing.TB, tn store.Tenant) registered {
	t.Helper()
	return e.client(t, tn, clients.CreateInput{Type: store.ClientPublic,
		AuthMethod: clients.MethodNone, Name: "Living room TV",
		GrantTypes: []string{clients.GrantDeviceCode, clients.GrantRefreshToken},
		Scopes:     []string{"openid", "profile", "tv"}})
}

func (e *env) deviceAuthorize(t testing.TB, tn string, c registered, kv ...string) answer {
	t.Helper()
	return e.do(t, request{path: "/t/" + tn + "/oauth2/device_authorization",
		form: form(append([]string{"client_id", c.id}, kv...)...)})
}

func (e *env) poll(t testing.TB, tn string, c registered, device string) answer {
	t.Helper()
	return e.do(t, request{path: "/t/" + tn + "/oauth2/token", form: form("grant_type",
		clients.GrantDeviceCode, "device_code", device, "client_id", c.id)})
}

// sessionID signs u in and answers the session's ID, as sessions.validate
// gives it to the hosted pages.
func (e *env) sessionID(t testing.TB, u store.User) string {
	t.Helper()
	out, err := invoke.Call[sessions.ValidateOutput](context.Background(), e.inv,
		sessions.FunctionName, sessions.OpValidate, service, sessions.ValidateInput{
			Token: sessions.Token(e.session(t, u, "1", e.clk.Now())), Tenant: u.TenantID})
	if err != nil {
		t.Fatal(err)
	}
	return out.SessionID
}

// decide is the hosted page's call: the person u, signed in with
// session, approves or denies code.
func (e *env) decide(tn store.Tenant, u store.User, session, code string, approve bool) error {
	_, err := invoke.Call[oauth.DeviceDecideOutput](context.Background(), e.inv,
		oauth.FunctionName, oauth.OpDeviceDecide, service, oauth.DeviceDecideInput{
			DeviceLookupInput: oauth.DeviceLookupInput{TenantID: tn.ID, UserCode: code,
				User: oauth.DeviceUser{UserID: u.ID, SessionID: session,
					AuthTime: e.clk.Now().Unix(), ACR: "1", AMR: []string{"pwd"}}},
			Approve: approve})
	return err
}

func (e *env) lookup(tn store.Tenant, u store.User, code string) (oauth.DeviceLookupOutput,
	error) {
	return invoke.Call[oauth.DeviceLookupOutput](context.Background(), e.inv,
		oauth.FunctionName, oauth.OpDeviceLookup, service, oauth.DeviceLookupInput{
			TenantID: tn.ID, UserCode: code, User: oauth.DeviceUser{UserID: u.ID}})
}

func wantError(t *testing.T, what string, a answer, code string) {
	t.Helper()
	if a.status != http.StatusBadRequest || a.body["error"] != code {
		t.Fatalf("%s: %d %s, want 400 %s", what, a.status, a.raw, code)
	}
	if _, ok := a.body["access_token"]; ok {
		t.Fatalf("%s: an access token was issued", what)
	}
}

func TestDeviceFlowIssuesTokensOnce(t *testing.T) {
	e := newEnv(t)
	c := e.deviceClient(t, e.a)
	u := e.user(t, e.a)

	a := e.deviceAuthorize(t, "acme", c, "scope", "openid tv")
	if a.status != http.StatusOK || a.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("device authorization: %d %s", a.status, a.raw)
	}
	device, _ := a.body["device_code"].(string)
	code, _ := a.body["user_code"].(string)
	iss := e.srv.URL + "/t/acme"
	if !strings.HasPrefix(device, oauth.DeviceCodePrefix) || len(device) < 40 ||
		len(code) != 9 || code[4] != '-' || strings.ContainsAny(code, "AEIOUY01") ||
		a.body["verification_uri"] != iss+"/device" ||
		a.body["verification_uri_complete"] != iss+"/device?user_code="+code ||
		a.body["expires_in"] != 600.0 || a.body["interval"] != 5.0 {
		t.Fatalf("device authorization answer: %s", a.raw)
	}
	sum := sha256.Sum256([]byte(device))
	if _, err := e.cache.Get(context.Background(), "oauth:dc:"+hex.EncodeToString(sum[:])); err != nil {
		t.Fatalf("the device code is not kept under its SHA-256: %v", err)
	}
	if _, err := e.cache.Get(context.Background(), "oauth:dc:"+device); err == nil {
		t.Fatal("the cache keeps the device code in the clear")
	}

	wantError(t, "first poll", e.poll(t, "acme", c, device), "authorization_pending")
	wantError(t, "a poll at once", e.poll(t, "acme", c, device), "slow_down")
	e.clk.Add(6 * time.Second) // the interval is 10 seconds now
	wantError(t, "a poll after 6 s", e.poll(t, "acme", c, device), "slow_down")
	e.clk.Add(16 * time.Second)
	wantError(t, "a poll after 16 s", e.poll(t, "acme", c, device), "authorization_pending")

	got, err := e.lookup(e.a, u, strings.ToLower(code))
	if err != nil || got.ClientID != c.id || got.ClientName != "Living room TV" ||
		strings.Join(got.Scopes, " ") != "openid tv" || got.UserCode != code ||
		len(got.Described) != 2 || got.Described[0].Description == "openid" ||
		got.Described[1].Description != "tv" {
		t.Fatalf("lookup = %+v, %v", got, err)
	}
	session := e.sessionID(t, u)
	if err := e.decide(e.a, u, session, code, true); err != nil {
		t.Fatal(err)
	}
	if err := e.decide(e.a, u, session, code, false); errs.CodeOf(err) != errs.InvalidArgument {
		t.Fatalf("a second decision: %v, want INVALID_ARGUMENT", err)
	}

	e.clk.Add(16 * time.Second)
	tok := e.poll(t, "acme", c, device)
	if tok.status != http.StatusOK || tok.body["access_token"] == nil ||
		tok.body["id_token"] == nil || tok.body["refresh_token"] == nil ||
		tok.body["scope"] != "openid tv" {
		t.Fatalf("approved poll: %d %s", tok.status, tok.raw)
	}
	e.clk.Add(16 * time.Second)
	wantError(t, "a second redemption", e.poll(t, "acme", c, device), "invalid_grant")
}

func TestDeviceFlowRefusals(t *testing.T) {
	e := newEnv(t)
	c := e.deviceClient(t, e.a)
	u := e.user(t, e.a)
	session := e.sessionID(t, u)
	start := func() (string, string) {
		a := e.deviceAuthorize(t, "acme", c)
		if a.status != http.StatusOK {
			t.Fatalf("device authorization: %d %s", a.status, a.raw)
		}
		return a.body["device_code"].(string), a.body["user_code"].(string)
	}

	t.Run("a denial is access_denied", func(t *testing.T) {
		device, code := start()
		if err := e.decide(e.a, u, session, code, false); err != nil {
			t.Fatal(err)
		}
		wantError(t, "denied", e.poll(t, "acme", c, device), "access_denied")
	})
	t.Run("an expired code is expired_token and cannot be approved", func(t *testing.T) {
		device, code := start()
		e.clk.Add(601 * time.Second)
		if err := e.decide(e.a, u, session, code, true); errs.CodeOf(err) != errs.InvalidArgument {
			t.Fatalf("decide after expiry: %v", err)
		}
		wantError(t, "expired", e.poll(t, "acme", c, device), "expired_token")
	})
	t.Run("another client's device code is invalid_grant", func(t *testing.T) {
		device, code := start()
		if err := e.decide(e.a, u, session, code, true); err != nil {
			t.Fatal(err)
		}
		other := e.deviceClient(t, e.a)
		wantError(t, "another client", e.poll(t, "acme", other, device), "invalid_grant")
		e.clk.Add(6 * time.Second)
		if a := e.poll(t, "acme", c, device); a.status != http.StatusOK {
			t.Fatalf("the rightful client after another's try: %d %s", a.status, a.raw)
		}
	})
	t.Run("another tenant's device code is invalid_client or invalid_grant", func(t *testing.T) {
		device, _ := start()
		a := e.poll(t, "beta", c, device)
		if a.status == http.StatusOK {
			t.Fatalf("beta redeemed acme's device code: %s", a.raw)
		}
	})
	t.Run("an unknown device code is invalid_grant", func(t *testing.T) {
		wantError(t, "unknown", e.poll(t, "acme", c, oauth.DeviceCodePrefix+"nope"), "invalid_grant")
		wantError(t, "missing", e.poll(t, "acme", c, ""), "invalid_request")
	})
	t.Run("a client without the grant is unauthorized_client", func(t *testing.T) {
		plain := e.codeClient(t, e.a, clients.CreateInput{})
		a := e.do(t, request{path: "/t/acme/oauth2/device_authorization", basic: &plain,
			form: form("scope", "openid")})
		wantError(t, "no grant", a, "unauthorized_client")
	})
	t.Run("a scope beyond the client's is invalid_scope", func(t *testing.T) {
		wantError(t, "scope", e.deviceAuthorize(t, "acme", c, "scope", "openid admin"),
			"invalid_scope")
	})
	t.Run("an unknown client is invalid_client", func(t *testing.T) {
		a := e.do(t, request{path: "/t/acme/oauth2/device_authorization",
			form: form("client_id", "0190b0b0-0000-7000-8000-000000000000")})
		if a.status != http.StatusUnauthorized || a.body["error"] != "invalid_client" {
			t.Fatalf("unknown client: %d %s", a.status, a.raw)
		}
	})
}

func TestWrongUserCodesAreLimited(t *testing.T) {
	e := newEnv(t)
	c := e.deviceClient(t, e.a)
	u := e.user(t, e.a)
	a := e.deviceAuthorize(t, "acme", c)
	code := a.body["user_code"].(string)

	if _, err := e.lookup(e.b, u, code); errs.CodeOf(err) != errs.InvalidArgument {
		t.Fatalf("another tenant's lookup: %v", err)
	}
	for i := 0; i < 9; i++ {
		if _, err := e.lookup(e.a, u, "BCDF-GHJK"); errs.CodeOf(err) != errs.InvalidArgument {
			t.Fatalf("wrong code %d: %v", i, err)
		}
	}
	if _, err := e.lookup(e.a, u, code); err != nil {
		t.Fatalf("the right code after 9 wrong ones: %v", err)
	}
	if _, err := e.lookup(e.a, u, "BCDF-GHJL"); errs.CodeOf(err) != errs.InvalidArgument {
		t.Fatalf("the tenth wrong code: %v", err)
	}
	if _, err := e.lookup(e.a, u, code); errs.CodeOf(err) != errs.RateLimited {
		t.Fatalf("the right code after 10 wrong ones: %v, want RATE_LIMITED", err)
	}
	other, err := e.st.Users().Create(context.Background(), store.User{ID: validate.NewID(),
		TenantID: e.a.ID, Username: "grace", Email: "grace@example.com",
		Status: store.UserActive, Attributes: map[string]any{},
		CreatedAt: e.clk.Now(), UpdatedAt: e.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.lookup(e.a, other, code); err != nil {
		t.Fatalf("another person is not held back: %v", err)
	}
	e.clk.Add(16 * time.Minute)
	if _, err := e.lookup(e.a, u, code); errs.CodeOf(err) != errs.InvalidArgument {
		t.Fatalf("after the window the code itself has expired: %v", err)
	}

	user := function.Caller{Subject: u.ID, Tenant: e.a.ID, Roles: []string{function.RoleUser}}
	_, err = invoke.Call[oauth.DeviceLookupOutput](context.Background(), e.inv,
		oauth.FunctionName, oauth.OpDeviceLookup, user, oauth.DeviceLookupInput{
			TenantID: e.a.ID, UserCode: code, User: oauth.DeviceUser{UserID: u.ID}})
	if errs.CodeOf(err) != errs.PermissionDenied {
		t.Fatalf("a user calling the operation: %v, want PERMISSION_DENIED", err)
	}
}

// TestDeviceFlowInterop has golang.org/x/oauth2 play the device: it asks
// for codes (Config.DeviceAuth) and polls (DeviceAccessToken), honouring
// interval and slow_down, while the person approves.
func TestDeviceFlowInterop(t *testing.T) {
	e := newEnv(t)
	c := e.deviceClient(t, e.a)
	u := e.user(t, e.a)
	session := e.sessionID(t, u)
	iss := e.srv.URL + "/t/acme"
	cfg := &oauth2.Config{ClientID: c.id, Scopes: []string{"openid", "tv"},
		Endpoint: oauth2.Endpoint{DeviceAuthURL: iss + "/oauth2/device_authorization",
			TokenURL: iss + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if da.VerificationURI != iss+"/device" || da.Interval != 5 || da.UserCode == "" {
		t.Fatalf("device auth: %+v", da)
	}
	if err := e.decide(e.a, u, session, da.UserCode, true); err != nil {
		t.Fatal(err)
	}
	// x/oauth2 waits the interval with the real clock before its first
	// poll; the server's clock need not move.
	da.Interval = 1
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.Extra("id_token") == nil {
		t.Fatalf("token: %+v", tok)
	}
	if _, err := cfg.DeviceAccessToken(ctx, da); err == nil ||
		!strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("a second redemption: %v, want invalid_grant", err)
	}
}
