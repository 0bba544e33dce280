package sessions_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

func TestCreateKeepsOnlyTheTokensHash(t *testing.T) {
	e := newEnv(t)
	ann := e.user(e.a, "ann", "")
	out := e.signIn(ann)

	tok := string(out.Token)
	if !strings.HasPrefix(tok, sessions.TokenPrefix) || len(tok) != 47 {
		t.Fatalf("token %q: want wss_ and 43 characters", tok)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(tok[4:])
	if err != nil || len(raw) != 32 {
		t.Errorf("token body decodes to %d bytes (%v), want 32", len(raw), err)
	}
	if other := e.signIn(ann); other.Token == out.Token {
		t.Error("two sign-ins got the same token")
	}

	rec, err := e.record(e.a.ID, out.Session.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.TokenHash != hashOf(out.Token) {
		t.Errorf("stored hash %q, want the SHA-256 of the token", rec.TokenHash)
	}
	entry := e.cached(out.Token)
	if entry == nil {
		t.Fatal("create left no cache entry under the token's hash")
	}
	b, _ := json.Marshal(entry)
	for _, s := range []string{tok, tok[4:]} {
		if strings.Contains(string(b), s) || strings.Contains(rec.UserAgent+rec.DeviceID, s) {
			t.Error("the token is kept in the clear")
		}
	}
	public, _ := json.Marshal(out.Session)
	if strings.Contains(string(public), rec.TokenHash) || strings.Contains(string(public), "hash") {
		t.Errorf("the returned session shows the hash: %s", public)
	}
	if out.Token.String() != "[redacted]" {
		t.Errorf("a token prints as %q", out.Token.String())
	}

	want := sessions.Session{
		ID: rec.ID, TenantID: e.a.ID, UserID: ann.ID, ACR: store.ACRPassword,
		AMR: []string{"pwd"}, AuthTime: e.clk.Now(), CreatedAt: e.clk.Now(),
		LastSeenAt: e.clk.Now(), IdleExpiresAt: e.clk.Now().Add(store.DefaultSessionIdle),
		ExpiresAt: e.clk.Now().Add(store.DefaultSessionMax), IP: "192.0.2.7",
		UserAgent: "Mozilla/5.0", DeviceID: "device-1",
	}
	got, _ := json.Marshal(out.Session)
	wantJSON, _ := json.Marshal(want)
	if string(got) != string(wantJSON) {
		t.Errorf("session\n got %s\nwant %s", got, wantJSON)
	}
	if validate.ID("id", rec.ID) != nil {
		t.Errorf("session ID %q is not a version-7 UUID", rec.ID)
	}
}

func TestCreateTakesTheTenantsTimeouts(t *testing.T) {
	e := newEnv(t)
	short := e.tenant("short", store.AuthSettings{SessionIdleSeconds: 600, SessionMaxSeconds: 3600})
	// An idle timeout above the lifetime is cut to it.
	odd := e.tenant("odd", store.AuthSettings{SessionIdleSeconds: 13 * 3600})
	for _, c := range []struct {
		tn         store.Tenant
		idle, life time.Duration
	}{
		{short, 10 * time.Minute, time.Hour},
		{odd, store.DefaultSessionMax, store.DefaultSessionMax},
	} {
		out := e.signIn(e.user(c.tn, "ann", ""))
		now := e.clk.Now()
		if !out.Session.IdleExpiresAt.Equal(now.Add(c.idle)) ||
			!out.Session.ExpiresAt.Equal(now.Add(c.life)) {
			t.Errorf("tenant %s: idle expiry %v, expiry %v; want +%v, +%v", c.tn.Name,
				out.Session.IdleExpiresAt, out.Session.ExpiresAt, c.idle, c.life)
		}
	}
}

func TestCreateIsForWardsOwnComponents(t *testing.T) {
	e := newEnv(t)
	ann := e.user(e.a, "ann", "")
	in := sessions.CreateInput{TenantID: e.a.ID, UserID: ann.ID, ACR: "1"}
	for name, c := range map[string]function.Caller{
		"the user": userCaller(ann), "a tenant administrator": adminOf(e.a),
		"a system administrator": sysRoot, "anonymous": nobody,
	} {
		_, err := call[sessions.CreateOutput](e, c, sessions.OpCreate, in)
		wantCode(t, name, err, errs.PermissionDenied)
	}
	items, _, err := e.st.Sessions().ListByUser(t.Context(), e.a.ID, ann.ID, store.Page{})
	if err != nil || len(items) != 0 {
		t.Errorf("refused creates left %d sessions (%v)", len(items), err)
	}
}

func TestCreateRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	ann := e.user(e.a, "ann", "")
	locked := e.user(e.a, "lee", "")
	e.setStatus(locked, store.UserLocked)
	good := func() sessions.CreateInput {
		return sessions.CreateInput{TenantID: e.a.ID, UserID: ann.ID, ACR: "2",
			AMR: []string{"pwd", "otp"}}
	}
	cases := []struct {
		name string
		set  func(*sessions.CreateInput)
		code errs.Code
	}{
		{"a malformed tenant ID", func(in *sessions.CreateInput) { in.TenantID = "acme" },
			errs.InvalidArgument},
		{"a malformed user ID", func(in *sessions.CreateInput) { in.UserID = "ann" },
			errs.InvalidArgument},
		{"an unknown tenant", func(in *sessions.CreateInput) { in.TenantID = validate.NewID() },
			errs.NotFound},
		{"an unknown user", func(in *sessions.CreateInput) { in.UserID = validate.NewID() },
			errs.NotFound},
		{"a user of another tenant", func(in *sessions.CreateInput) { in.TenantID = e.b.ID },
			errs.NotFound},
		{"a user who is not ACTIVE", func(in *sessions.CreateInput) { in.UserID = locked.ID },
			errs.InvalidArgument},
		{"no acr", func(in *sessions.CreateInput) { in.ACR = "" }, errs.InvalidArgument},
		{"an acr with spaces", func(in *sessions.CreateInput) { in.ACR = "a b" },
			errs.InvalidArgument},
		{"an upper-case method", func(in *sessions.CreateInput) { in.AMR = []string{"PWD"} },
			errs.InvalidArgument},
		{"too many methods", func(in *sessions.CreateInput) {
			in.AMR = strings.Fields("a b c d e f g h i j k l m n o p q")
		}, errs.InvalidArgument},
		{"an auth time in the future", func(in *sessions.CreateInput) {
			in.AuthTime = e.clk.Now().Add(time.Hour).Unix()
		}, errs.InvalidArgument},
		{"a negative auth time", func(in *sessions.CreateInput) { in.AuthTime = -1 },
			errs.InvalidArgument},
		{"an IP that is no address", func(in *sessions.CreateInput) { in.IP = "localhost" },
			errs.InvalidArgument},
		{"a device ID with spaces", func(in *sessions.CreateInput) { in.DeviceID = "a b" },
			errs.InvalidArgument},
		{"a device ID over 128 bytes", func(in *sessions.CreateInput) {
			in.DeviceID = strings.Repeat("d", 129)
		}, errs.InvalidArgument},
	}
	for _, c := range cases {
		in := good()
		c.set(&in)
		_, err := call[sessions.CreateOutput](e, svc, sessions.OpCreate, in)
		wantCode(t, c.name, err, c.code)
	}
	items, _, _ := e.st.Sessions().ListByUser(t.Context(), e.a.ID, ann.ID, store.Page{})
	if len(items) != 0 {
		t.Errorf("refused creates left %d sessions", len(items))
	}

	// Repeated methods are kept once; an IPv6 address is canonical.
	in := good()
	in.AMR, in.IP = []string{"pwd", "otp", "pwd"}, "2001:DB8:0:0::1"
	out := must[sessions.CreateOutput](e, svc, sessions.OpCreate, in)
	if strings.Join(out.Session.AMR, ",") != "pwd,otp" || out.Session.IP != "2001:db8::1" {
		t.Errorf("amr %v, ip %q", out.Session.AMR, out.Session.IP)
	}
}

// An oversized user agent is cut, not refused: a client does not choose
// its own, and signing in must not fail for it.
func TestCreateCutsAnOversizedUserAgent(t *testing.T) {
	e := newEnv(t)
	ann := e.user(e.a, "ann", "")
	ua := "Agent\x00/1.0\n " + strings.Repeat("é", 600) + "\xff"
	out := must[sessions.CreateOutput](e, svc, sessions.OpCreate, sessions.CreateInput{
		TenantID: e.a.ID, UserID: ann.ID, ACR: "1", UserAgent: ua})
	got := out.Session.UserAgent
	if len(got) > store.MaxUserAgentBytes || len(got) < store.MaxUserAgentBytes-1 {
		t.Errorf("user agent of %d bytes, want %d at most (and close to it)", len(got),
			store.MaxUserAgentBytes)
	}
	if !utf8.ValidString(got) || !strings.HasPrefix(got, "Agent/1.0 é") {
		t.Errorf("user agent %q: want valid UTF-8 without control characters", got[:20])
	}
	rec, _ := e.record(e.a.ID, out.Session.ID)
	if rec.UserAgent != got {
		t.Error("the store keeps another user agent than the one returned")
	}
}
