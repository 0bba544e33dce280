package sessions_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

func TestValidateAnswersTheSession(t *testing.T) {
	e := newEnv(t)
	ann := e.user(e.a, "ann", "")
	e.roles[ann.ID] = []string{function.RoleTenantAdmin}
	out := e.signIn(ann)
	start := e.clk.Now()

	e.clk.Advance(5 * time.Second)
	got := e.mustValidate(out.Token)
	want := sessions.ValidateOutput{
		Active: true, Kind: sessions.KindSession, Subject: ann.ID, TenantID: e.a.ID,
		SessionID: out.Session.ID, ACR: store.ACRPassword, AMR: []string{"pwd"},
		AuthTime: start.Unix(), ExpiresAt: start.Add(store.DefaultSessionIdle).Unix(),
		AbsoluteExpiresAt: start.Add(store.DefaultSessionMax).Unix(),
		Roles:             []string{function.RoleUser, function.RoleTenantAdmin},
		Orgs:              []string{"org-of-" + ann.ID},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("validate (-want +got):\n%s", diff)
	}
	// The JSON names are the contract.
	b, _ := json.Marshal(got)
	var fields map[string]any
	_ = json.Unmarshal(b, &fields)
	for _, k := range []string{"active", "kind", "subject", "tenantId", "sessionId", "acr", "amr",
		"authTime", "expiresAt", "absoluteExpiresAt", "roles", "orgs", "issuer"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("the output has no %q: %s", k, b)
		}
	}
	if len(fields) != 13 {
		t.Errorf("the output has %d fields, want 13: %s", len(fields), b)
	}

	c := got.Caller()
	if c.Subject != ann.ID || c.Tenant != e.a.ID || c.Session != out.Session.ID ||
		c.SessionExpires != want.AbsoluteExpiresAt || !c.Has(function.RoleTenantAdmin) {
		t.Errorf("caller = %+v", c)
	}

	// By tenant ID or name, the session's own tenant is accepted.
	for _, tn := range []string{e.a.ID, e.a.Name} {
		if _, err := e.validate(out.Token, tn); err != nil {
			t.Errorf("validate with tenant %q: %v", tn, err)
		}
	}
}

func TestValidateIsForWardsOwnComponents(t *testing.T) {
	e := newEnv(t)
	ann := e.user(e.a, "ann", "")
	out := e.signIn(ann)
	for name, c := range map[string]function.Caller{
		"the user": userCaller(ann), "a system administrator": sysRoot, "anonymous": nobody,
	} {
		_, err := call[sessions.ValidateOutput](e, c, sessions.OpValidate,
			sessions.ValidateInput{Token: out.Token})
		wantCode(t, name, err, errs.PermissionDenied)
	}
}

func TestMalformedAndUnknownTokensAreInvalid(t *testing.T) {
	e := newEnv(t)
	out := e.signIn(e.user(e.a, "ann", ""))
	tok := string(out.Token)
	body := tok[4:]
	bad := map[string]string{
		"an empty token":          "",
		"a wrong prefix":          "wsx_" + body,
		"an API token's prefix":   "ward_" + body,
		"no prefix":               body,
		"a short token":           tok[:46],
		"a long token":            tok + "A",
		"padding":                 tok[:46] + "=",
		"standard base64":         "wss_" + strings.Repeat("+", 43),
		"a character not base64":  tok[:46] + "!",
		"non-canonical last char": tok[:46] + string(lastSibling(tok[46])),
		"an oversized token":      "wss_" + strings.Repeat("A", 9000),
		"an unknown token":        "wss_" + strings.Repeat("A", 43),
		"a token of another kind": "opaque-token",
		"two dots but empty part": "a..b",
		"four JWT parts":          "a.b.c.d",
	}
	for name, tok := range bad {
		_, err := e.validate(sessions.Token(tok), "")
		wantInvalid(t, name, err)
	}
	_, err := e.validate(out.Token, "not a tenant!")
	wantCode(t, "a malformed tenant", err, errs.InvalidArgument)
	if _, err := e.validate(out.Token, ""); err != nil {
		t.Errorf("the real token after the bad ones: %v", err)
	}
}

// lastSibling returns a base64url character with the same top bits as c
// but other low bits, which a strict decoder refuses at the end of a
// 32-byte body (its last character carries 4 bits only).
func lastSibling(c byte) byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, c)
	return alphabet[i^1]
}

func TestIdleTimeout(t *testing.T) {
	e := newEnv(t)
	tn := e.tenant("brief", store.AuthSettings{SessionIdleSeconds: 600, SessionMaxSeconds: 7200})
	ann := e.user(tn, "ann", "")
	out := e.signIn(ann)

	// Used every nine minutes, the session outlives its idle timeout many
	// times over, and each use extends the expiry it reports.
	for i := range 6 {
		e.clk.Advance(9 * time.Minute)
		got, err := e.validate(out.Token, "")
		if err != nil {
			t.Fatalf("use %d after 9 minutes: %v", i, err)
		}
		if want := e.clk.Now().Add(10 * time.Minute).Unix(); got.ExpiresAt != want {
			t.Errorf("use %d: expiresAt %d, want %d", i, got.ExpiresAt, want)
		}
	}

	// Then left alone for its idle timeout, it ends, in the cache and in
	// the store alike.
	e.clk.Advance(10 * time.Minute)
	_, err := e.validate(out.Token, "")
	wantInvalid(t, "after 10 idle minutes", err)
	e.dropCache(out.Token)
	_, err = e.validate(out.Token, "")
	wantInvalid(t, "after 10 idle minutes, from the store", err)
}

func TestIdleTimeoutIsKeptWhenTheCacheIsLost(t *testing.T) {
	e := newEnv(t)
	tn := e.tenant("brief", store.AuthSettings{SessionIdleSeconds: 600, SessionMaxSeconds: 7200})
	out := e.signIn(e.user(tn, "ann", ""))

	// Uses a minute apart reach the store; after the cache is lost, the
	// session counts as idle from the store's last use.
	for range 5 {
		e.clk.Advance(time.Minute)
		e.mustValidate(out.Token)
	}
	e.dropCache(out.Token)
	e.clk.Advance(9 * time.Minute)
	e.mustValidate(out.Token)
	e.dropCache(out.Token)
	e.clk.Advance(10 * time.Minute)
	_, err := e.validate(out.Token, "")
	wantInvalid(t, "idle for 10 minutes with the cache lost", err)
}

func TestAbsoluteTimeout(t *testing.T) {
	e := newEnv(t)
	tn := e.tenant("brief", store.AuthSettings{SessionIdleSeconds: 600, SessionMaxSeconds: 3600})
	out := e.signIn(e.user(tn, "ann", ""))
	end := e.clk.Now().Add(time.Hour)

	for e.clk.Now().Add(5 * time.Minute).Before(end) {
		e.clk.Advance(5 * time.Minute)
		got := e.mustValidate(out.Token)
		if got.AbsoluteExpiresAt != end.Unix() || got.ExpiresAt > end.Unix() {
			t.Fatalf("expiresAt %d, absolute %d; the end is %d", got.ExpiresAt,
				got.AbsoluteExpiresAt, end.Unix())
		}
	}
	e.clk.Advance(end.Sub(e.clk.Now()) - time.Millisecond)
	e.mustValidate(out.Token)
	e.clk.Advance(time.Millisecond)
	_, err := e.validate(out.Token, "")
	wantInvalid(t, "at the absolute expiry, however used", err)
	e.dropCache(out.Token)
	_, err = e.validate(out.Token, "")
	wantInvalid(t, "at the absolute expiry, from the store", err)
}

func TestLosingTheCacheSignsNobodyOut(t *testing.T) {
	e := newEnv(t)
	ann := e.user(e.a, "ann", "")
	out := e.signIn(ann)
	before := e.mustValidate(out.Token)

	e.dropCache(out.Token)
	after := e.mustValidate(out.Token)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("after losing the cache (-before +after):\n%s", diff)
	}
	if e.cached(out.Token) == nil {
		t.Error("a validation from the store did not fill the cache again")
	}

	// A service built on an empty cache (another process, a flushed Redis)
	// answers the same.
	other := invokeFunction(t, e.function(nil, e.inv), sessions.ValidateInput{Token: out.Token})
	if diff := cmp.Diff(before, other); diff != "" {
		t.Errorf("without a cache (-cached +uncached):\n%s", diff)
	}
}

func invokeFunction(t *testing.T, f *function.Function, in sessions.ValidateInput) sessions.
	ValidateOutput {
	t.Helper()
	raw, _ := json.Marshal(in)
	resp, _ := f.Invoke(context.Background(), function.Request{Op: sessions.OpValidate,
		Caller: svc, Input: raw})
	if resp.Error != nil {
		t.Fatalf("validate: %v", resp.Error.Err())
	}
	var out sessions.ValidateOutput
	if err := json.Unmarshal(resp.Output, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Validation stays a cache read: the store is written once a minute (and
// the cache with it), the cache alone once per twentieth of the idle
// timeout.
func TestValidationWritesAreThrottled(t *testing.T) {
	e := newEnv(t)
	tn := e.tenant("brief", store.AuthSettings{SessionIdleSeconds: 600}) // the cache every 30 s
	out := e.signIn(e.user(tn, "ann", ""))
	created := e.clk.Now()
	version := func() int64 {
		rec, err := e.record(tn.ID, out.Session.ID)
		if err != nil {
			t.Fatal(err)
		}
		return rec.Version
	}

	writes := e.cache.writes.Load()
	for range 29 {
		e.clk.Advance(time.Second)
		e.mustValidate(out.Token)
	}
	if n := e.cache.writes.Load() - writes; n != 0 {
		t.Errorf("29 validations in 29 s wrote the cache %d times, want 0", n)
	}
	e.clk.Advance(time.Second)
	e.mustValidate(out.Token)
	if n := e.cache.writes.Load() - writes; n != 1 {
		t.Errorf("after 30 s the cache was written %d times, want 1", n)
	}
	for range 29 {
		e.clk.Advance(time.Second)
		e.mustValidate(out.Token)
	}
	if v := version(); v != 1 {
		t.Errorf("the store was written within the first minute (version %d)", v)
	}

	e.clk.Advance(time.Second) // a minute after sign-in
	e.mustValidate(out.Token)
	rec, _ := e.record(tn.ID, out.Session.ID)
	if !rec.LastSeenAt.Equal(created.Add(time.Minute)) || rec.Version != 2 {
		t.Errorf("store's last use %v (version %d) after a minute, want %v", rec.LastSeenAt,
			rec.Version, created.Add(time.Minute))
	}
	if n := e.cache.writes.Load() - writes; n != 2 {
		t.Errorf("the store write came with %d cache writes in all, want 2", n)
	}
	for range 59 {
		e.clk.Advance(time.Second)
		e.mustValidate(out.Token)
	}
	if v := version(); v != 2 {
		t.Errorf("the store was written again within a minute of its last write (version %d)", v)
	}
}

func TestRevokedTokensFailAtOnce(t *testing.T) {
	e := newEnv(t)
	ann := e.user(e.a, "ann", "")
	out := e.signIn(ann)
	e.mustValidate(out.Token)

	must[sessions.RevokeOutput](e, userCaller(ann), sessions.OpRevoke,
		sessions.RevokeInput{TenantID: e.a.ID, ID: out.Session.ID})
	_, err := e.validate(out.Token, "")
	wantInvalid(t, "a revoked token", err)
	// A stolen token replayed later, with the tombstone gone, is refused
	// by the store.
	e.clk.Advance(10 * time.Minute)
	_, err = e.validate(out.Token, "")
	wantInvalid(t, "a revoked token after the tombstone", err)
	if _, err := e.record(e.a.ID, out.Session.ID); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("the revoked session's record: %v", err)
	}
}

// A process whose cache was not told of a revocation (its own in-process
// cache) finds out at its next store write, within a minute.
func TestAStaleCacheLearnsOfARevocationWithinAMinute(t *testing.T) {
	e := newEnv(t)
	ann := e.user(e.a, "ann", "")
	out := e.signIn(ann)
	e.mustValidate(out.Token)

	if err := e.st.Sessions().Delete(t.Context(), e.a.ID, out.Session.ID); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Minute)
	_, err := e.validate(out.Token, "")
	wantInvalid(t, "a session deleted behind the cache, a minute on", err)
	if m := e.cached(out.Token); m == nil || m["x"] != true {
		t.Errorf("cache entry after the store said no: %v, want a tombstone", m)
	}
}

func TestTheUserMustBeActive(t *testing.T) {
	for _, status := range []store.UserStatus{store.UserDisabled, store.UserLocked,
		store.UserPending} {
		t.Run(string(status), func(t *testing.T) {
			e := newEnv(t)
			ann := e.user(e.a, "ann", "")
			out := e.signIn(ann)
			e.mustValidate(out.Token)

			// Behind the users service's back: the next store check ends it.
			e.setStatus(ann, status)
			e.clk.Advance(time.Minute)
			_, err := e.validate(out.Token, "")
			wantInvalid(t, "a session of a "+string(status)+" user", err)
			if _, err := e.record(e.a.ID, out.Session.ID); errs.CodeOf(err) != errs.NotFound {
				t.Errorf("the session of a %s user was kept: %v", status, err)
			}

			// Active again, the old token stays dead.
			e.setStatus(ann, store.UserActive)
			_, err = e.validate(out.Token, "")
			wantInvalid(t, "the old token of a user made ACTIVE again", err)
		})
	}

	t.Run("deleted, from the store", func(t *testing.T) {
		e := newEnv(t)
		ann := e.user(e.a, "ann", "")
		out := e.signIn(ann)
		if err := e.st.Users().Delete(t.Context(), e.a.ID, ann.ID); err != nil {
			t.Fatal(err)
		}
		e.dropCache(out.Token)
		_, err := e.validate(out.Token, "")
		wantInvalid(t, "a session of a deleted user", err)
	})
}

func TestASessionOfAnotherTenantIsInvalidThere(t *testing.T) {
	e := newEnv(t)
	out := e.signIn(e.user(e.a, "ann", ""))
	for _, tn := range []string{e.b.ID, e.b.Name, validate.NewID(), "nowhere"} {
		_, err := e.validate(out.Token, tn)
		wantInvalid(t, "validate in tenant "+tn, err)
	}
	e.dropCache(out.Token)
	_, err := e.validate(out.Token, e.b.Name)
	wantInvalid(t, "validate in another tenant, from the store", err)
}

func TestElevate(t *testing.T) {
	e := newEnv(t)
	ann := e.user(e.a, "ann", "")
	out := e.signIn(ann)
	e.mustValidate(out.Token)

	e.clk.Advance(2 * time.Minute)
	in := sessions.ElevateInput{TenantID: e.a.ID, SessionID: out.Session.ID,
		ACR: store.ACRMultiFactor, AMR: []string{"otp", "mfa"}}
	got := must[sessions.Session](e, svc, sessions.OpElevate, in)
	if got.ACR != "2" || !slices.Equal(got.AMR, []string{"pwd", "otp", "mfa"}) ||
		!got.AuthTime.Equal(e.clk.Now()) {
		t.Errorf("elevated session: acr %q amr %v auth time %v", got.ACR, got.AMR, got.AuthTime)
	}
	v := e.mustValidate(out.Token)
	if v.ACR != "2" || !slices.Equal(v.AMR, []string{"pwd", "otp", "mfa"}) ||
		v.AuthTime != e.clk.Now().Unix() {
		t.Errorf("validation after elevate: %+v", v)
	}

	for name, c := range map[string]function.Caller{
		"the user": userCaller(ann), "a tenant administrator": adminOf(e.a),
	} {
		_, err := call[sessions.Session](e, c, sessions.OpElevate, in)
		wantCode(t, name, err, errs.PermissionDenied)
	}
	bad := in
	bad.SessionID = validate.NewID()
	_, err := call[sessions.Session](e, svc, sessions.OpElevate, bad)
	wantCode(t, "an unknown session", err, errs.NotFound)
	bad = in
	bad.TenantID = e.b.ID
	_, err = call[sessions.Session](e, svc, sessions.OpElevate, bad)
	wantCode(t, "a session of another tenant", err, errs.NotFound)
	bad = in
	bad.ACR = ""
	_, err = call[sessions.Session](e, svc, sessions.OpElevate, bad)
	wantCode(t, "no acr", err, errs.InvalidArgument)

	// A session of a user no longer ACTIVE is not raised but ended.
	e.setStatus(ann, store.UserDisabled)
	_, err = call[sessions.Session](e, svc, sessions.OpElevate, in)
	wantCode(t, "elevate a disabled user's session", err, errs.NotFound)
	e.setStatus(ann, store.UserActive)
	_, err = e.validate(out.Token, "")
	wantInvalid(t, "the session elevate found disabled", err)
}

func TestSessionsNeverCarryTheServiceRole(t *testing.T) {
	e := newEnv(t)
	ann := e.user(e.a, "ann", "")
	e.roles[ann.ID] = []string{function.RoleService, function.RoleOrgAdmin}
	got := e.mustValidate(e.signIn(ann).Token)
	if !slices.Equal(got.Roles, []string{function.RoleUser, function.RoleOrgAdmin}) {
		t.Errorf("roles = %v, want user and org_admin only", got.Roles)
	}
}

func TestAccessTokens(t *testing.T) {
	e := newEnv(t)
	const jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
	exp := e.clk.Now().Add(time.Hour).Unix()
	var asked []sessions.IssuersVerifyInput
	answer := func(in sessions.IssuersVerifyInput) (sessions.IssuersVerifyOutput, error) {
		asked = append(asked, in)
		return sessions.IssuersVerifyOutput{TenantID: in.TenantID, IssuerID: validate.NewID(),
			Issuer: "https://idp.example.com", Subject: "ext-123", Audience: []string{"app"},
			ExpiresAt: exp, IssuedAt: e.clk.Now().Unix(), ACR: "urn:mace:incommon:iap:silver",
			AMR: []string{"pwd"}, AuthTime: e.clk.Now().Unix() - 60}, nil
	}
	e.issuers = answer

	got, err := e.validate(jwt, e.a.Name)
	if err != nil {
		t.Fatal(err)
	}
	want := sessions.ValidateOutput{
		Active: true, Kind: sessions.KindAccessToken, Subject: "ext-123", TenantID: e.a.ID,
		ACR: "urn:mace:incommon:iap:silver", AMR: []string{"pwd"},
		AuthTime: e.clk.Now().Unix() - 60, ExpiresAt: exp, AbsoluteExpiresAt: exp,
		Roles: []string{}, Orgs: []string{}, Issuer: "https://idp.example.com",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("validate an access token (-want +got):\n%s", diff)
	}
	if len(asked) != 1 || string(asked[0].Token) != jwt || asked[0].TenantID != e.a.ID {
		t.Errorf("issuers.verify was asked %+v", asked)
	}

	_, err = e.validate(jwt, "")
	wantInvalid(t, "an access token without a tenant", err)
	_, err = e.validate(jwt, "nowhere")
	wantInvalid(t, "an access token for an unknown tenant", err)

	e.issuers = func(in sessions.IssuersVerifyInput) (sessions.IssuersVerifyOutput, error) {
		return sessions.IssuersVerifyOutput{}, errs.New(errs.Unauthenticated, "bad signature")
	}
	_, err = e.validate(jwt, e.a.ID)
	wantInvalid(t, "an access token the issuers service refuses", err)

	for name, change := range map[string]func(*sessions.IssuersVerifyOutput){
		"of another tenant": func(o *sessions.IssuersVerifyOutput) { o.TenantID = e.b.ID },
		"without a subject": func(o *sessions.IssuersVerifyOutput) { o.Subject = "" },
		"that has expired":  func(o *sessions.IssuersVerifyOutput) { o.ExpiresAt = e.clk.Now().Unix() },
		"without an expiry": func(o *sessions.IssuersVerifyOutput) { o.ExpiresAt = 0 },
	} {
		e.issuers = func(in sessions.IssuersVerifyInput) (sessions.IssuersVerifyOutput, error) {
			out, _ := answer(in)
			change(&out)
			return out, nil
		}
		_, err = e.validate(jwt, e.a.ID)
		wantInvalid(t, "an access token "+name, err)
	}

	// Without an issuers function to ask, access tokens cannot be checked:
	// that is a fault, not a verdict on the token.
	lone := invokeErr(t, e.function(e.cache, invoke.NewLocal()),
		sessions.ValidateInput{Token: jwt, Tenant: e.a.ID})
	wantCode(t, "no issuers function", lone, errs.Unavailable)
}

func invokeErr(t *testing.T, f *function.Function, in sessions.ValidateInput) error {
	t.Helper()
	raw, _ := json.Marshal(in)
	resp, _ := f.Invoke(context.Background(), function.Request{Op: sessions.OpValidate,
		Caller: svc, Input: raw})
	if resp.Error == nil {
		return nil
	}
	return resp.Error.Err()
}
