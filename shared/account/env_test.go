package account_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/account"
	"github.com/wardhq/ward/shared/cache/memory"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/messaging/outbox"
	"github.com/wardhq/ward/shared/passwords"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/validate"
)

const (
	publicURL = "https://id.example.com"
	// goodPassword passes the policy: 15 characters or more, not common,
	// not built from the account's names.
	goodPassword = "violet-harbour-engine-42"
	newPassword  = "quiet-mountain-lantern-17"
)

// clock is a settable clock, shared by the store and the service so that
// expiry is tested without sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t   testing.TB
	st  store.Store
	fn  *function.Function
	box *outbox.Outbox
	clk *clock
	tn  store.Tenant
}

// openBackend opens the store a test runs on, with the given clock: a
// fresh bolt file by default; the integration build runs every test on
// Cassandra instead (integration_test.go).
var openBackend = func(t testing.TB, now func() time.Time) store.Store {
	b, err := bolt.Open(filepath.Join(t.TempDir(), "ward.db"), bolt.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// newEnv opens a store with a tenant named "acme-<random>" registering by
// mode, and the account function sending to an outbox.
func newEnv(t testing.TB, mode store.RegistrationMode) *env {
	t.Helper()
	clk := &clock{t: time.Now().UTC().Truncate(time.Millisecond)}
	st := openBackend(t, clk.Now)

	box, err := outbox.New(outbox.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	mc, err := memory.New(memory.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mc.Close() })
	e := &env{t: t, st: st, box: box, clk: clk}
	e.tn = e.tenant("acme", mode)
	e.fn = account.Function(account.Deps{
		Store: st, Cache: mc, Email: box, Phone: box, From: "Acme <no-reply@example.com>",
		PublicURL: publicURL, Now: clk.Now, Hasher: hasher(t),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	return e
}

var hasherOnce = sync.OnceValues(func() (*passwords.Hasher, error) {
	// The cheapest parameters New accepts: tests hash many passwords.
	return passwords.New(passwords.Params{Memory: 7 * 1024, Time: 5, Threads: 1,
		SaltLen: 16, KeyLen: 32}, nil)
})

func hasher(t testing.TB) *passwords.Hasher {
	h, err := hasherOnce()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (e *env) tenant(name string, mode store.RegistrationMode) store.Tenant {
	e.t.Helper()
	now := e.clk.Now()
	// A random suffix keeps tenants of several tests apart in one store.
	tn, err := e.st.Tenants().Create(context.Background(), store.Tenant{ID: validate.NewID(),
		Name: name + "-" + validate.NewID()[24:], DisplayName: strings.ToUpper(name[:1]) + name[1:], Registration: mode,
		CreatedAt: now, UpdatedAt: now})
	if err != nil {
		e.t.Fatal(err)
	}
	return tn
}

// call invokes op through the function, as a transport would: JSON in,
// strict decoding and validation, JSON out.
func call[Out any](e *env, c function.Caller, op string, in any) (Out, error) {
	var out Out
	raw, err := json.Marshal(in)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, _ := e.fn.Invoke(context.Background(), function.Request{Op: op, Caller: c, Input: raw})
	if resp.Error != nil {
		return out, resp.Error.Err()
	}
	if err := json.Unmarshal(resp.Output, &out); err != nil {
		e.t.Fatal(err)
	}
	return out, nil
}

var anon = function.Caller{}

// user creates an ACTIVE user with a verified email and goodPassword.
func (e *env) user(name string) store.User {
	e.t.Helper()
	ctx := context.Background()
	now := e.clk.Now()
	u, err := e.st.Users().Create(ctx, store.User{ID: validate.NewID(), TenantID: e.tn.ID,
		Username: name, Email: name + "@example.com", EmailVerified: true,
		Status: store.UserActive, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		e.t.Fatal(err)
	}
	h, err := hasher(e.t).Hash(goodPassword)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.Credentials().SetPassword(ctx, e.tn.ID, u.ID, h, now); err != nil {
		e.t.Fatal(err)
	}
	return u
}

func self(u store.User) function.Caller {
	return function.Caller{Subject: u.ID, Tenant: u.TenantID, Roles: []string{function.RoleUser}}
}

// token creates an API token for u and returns it.
func (e *env) token(u store.User) store.APIToken {
	e.t.Helper()
	b := make([]byte, 32)
	rand.Read(b)
	tok, err := e.st.APITokens().Create(context.Background(), store.APIToken{
		ID: validate.NewID(), Hash: hex.EncodeToString(b), Name: "cli", Subject: u.ID,
		TenantID: u.TenantID, Roles: []string{function.RoleUser}, CreatedAt: e.clk.Now()})
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// mail is one email of the outbox.
type mail struct {
	kind, to, subject, text, html string
}

// mails returns the tenant's emails to addr, newest first.
func (e *env) mails(addr string) []mail {
	var out []mail
	for _, r := range e.box.List(e.tn.ID) {
		if r.Email != nil && len(r.Email.To) == 1 && r.Email.To[0] == addr {
			out = append(out, mail{kind: string(r.Kind), to: addr, subject: r.Email.Subject,
				text: r.Email.Text, html: r.Email.HTML})
		}
	}
	return out
}

func (e *env) lastMail(addr string) mail {
	e.t.Helper()
	m := e.mails(addr)
	if len(m) == 0 {
		e.t.Fatalf("no email to %s", addr)
	}
	return m[0]
}

var (
	linkRE = regexp.MustCompile(`https://id\.example\.com(/account/[a-z-]+)\?(\S+)`)
	codeRE = regexp.MustCompile(`(?:asked for it|demandé|gefragt wurden|code is) ?:? (\d{6})\b`)
)

// link returns the path of the link in m and its query parameter param.
func (e *env) link(m mail, param string) (path, value string) {
	e.t.Helper()
	sm := linkRE.FindStringSubmatch(m.text)
	if sm == nil {
		e.t.Fatalf("no link in %q", m.text)
	}
	q, err := url.ParseQuery(sm[2])
	if err != nil {
		e.t.Fatal(err)
	}
	if q.Get("tenant") != e.tn.Name {
		e.t.Errorf("link names tenant %q, want %q", q.Get("tenant"), e.tn.Name)
	}
	return sm[1], q.Get(param)
}

func (e *env) code(text string) string {
	e.t.Helper()
	sm := codeRE.FindStringSubmatch(text)
	if sm == nil {
		e.t.Fatalf("no code in %q", text)
	}
	return sm[1]
}

// wantCode fails unless err carries code (and, when message is not "",
// that message).
func wantCode(t testing.TB, err error, code errs.Code, message string) {
	t.Helper()
	if errs.CodeOf(err) != code {
		t.Fatalf("error = %v, want %s", err, code)
	}
	if message != "" && errs.Public(err).Message != message {
		t.Fatalf("message = %q, want %q", errs.Public(err).Message, message)
	}
}

const (
	msgInvalidProof = "the link or code is invalid or has expired"
	msgUsed         = "this link or code has already been used"
	msgClosed       = "registration is not open"
)

func (e *env) getUser(id string) (store.User, error) {
	return e.st.Users().Get(context.Background(), e.tn.ID, id)
}

func (e *env) auditActions(targetID string) []string {
	e.t.Helper()
	items, _, err := e.st.Audit().List(context.Background(), e.tn.ID,
		store.AuditFilter{TargetID: targetID}, store.Page{Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range items {
		out = append(out, ev.Action)
	}
	return out
}
