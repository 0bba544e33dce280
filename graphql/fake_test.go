package graphql

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/apitokens"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/users"
)

// The fake functions below keep tenants, users and tokens in memory behind
// the real operation names and types. They authorize like the real ones
// (system administrators everywhere, tenant administrators in their
// tenant), record who called what, and fail on demand.

// Tokens the fake admin function knows.
const (
	tokAdmin   = "admin-token"    // system administrator
	tokTenantA = "tenant-a-token" // administrator of tenant A
	tokUser    = "user-token"     // a plain user of tenant A
	tokAnn     = "ann-token"      // user A1 herself, signed in
)

// IDs are UUIDs, as the operations' input checks require.
const (
	tenantA = "01900000-0000-7000-8000-00000000000a"
	tenantB = "01900000-0000-7000-8000-00000000000b"
	userA1  = "01900000-0000-7000-8000-0000000000a1"
	userA2  = "01900000-0000-7000-8000-0000000000a2"
)

// newID is the n-th ID the fakes hand out.
func newID(n int) string { return fmt.Sprintf("01900000-0000-7000-8000-%012d", n) }

// expand replaces {A}, {B}, {A1}, {A2}, {N1} and {N2} in s with those IDs.
func expand(s string) string {
	return strings.NewReplacer("{A}", tenantA, "{B}", tenantB, "{A1}", userA1, "{A2}", userA2,
		"{N1}", newID(1), "{N2}", newID(2)).Replace(s)
}

var fixedTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// call is one operation a fake function served.
type call struct {
	fn, op    string
	caller    function.Caller
	requestID string
}

type fakeEnv struct {
	mu      sync.Mutex
	tenants map[string]store.Tenant
	users   map[string]store.User // by ID
	pwds    map[string]string     // password by user ID
	tokens  map[string]function.Caller
	apiToks map[string]store.APIToken
	seq     int
	calls   []call
	quiet   bool             // record no calls (benchmarks)
	fail    map[string]error // op name -> error to return
}

func newFakeEnv() *fakeEnv {
	e := &fakeEnv{
		tenants: map[string]store.Tenant{},
		users:   map[string]store.User{},
		pwds:    map[string]string{},
		apiToks: map[string]store.APIToken{},
		fail:    map[string]error{},
		tokens: map[string]function.Caller{
			tokAdmin: {Subject: "admin", Roles: []string{function.RoleSystemAdmin}},
			tokTenantA: {Subject: "alice", Tenant: tenantA,
				Roles: []string{function.RoleTenantAdmin}},
			tokUser: {Subject: "bob", Tenant: tenantA, Roles: []string{function.RoleUser}},
			tokAnn:  {Subject: userA1, Tenant: tenantA, Roles: []string{function.RoleUser}},
		},
	}
	for _, t := range []store.Tenant{
		{ID: tenantA, Name: "acme", DisplayName: "Acme"},
		{ID: tenantB, Name: "globex", DisplayName: "Globex"},
	} {
		t.CreatedAt, t.UpdatedAt, t.Version = fixedTime, fixedTime, 1
		e.tenants[t.ID] = t
	}
	for _, u := range []store.User{
		{ID: userA1, TenantID: tenantA, Username: "ann", Email: "ann@acme.test",
			EmailVerified: true, Phone: "+14155550100", DisplayName: "Ann",
			Status: store.UserActive},
		{ID: userA2, TenantID: tenantA, Username: "art", DisplayName: "Art",
			Status: store.UserLocked},
	} {
		u.CreatedAt, u.UpdatedAt, u.Version = fixedTime, fixedTime, 1
		e.users[u.ID] = u
	}
	return e
}

// password returns the password the fakes hold for a user, "" for none.
func (e *fakeEnv) password(userID string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pwds[userID]
}

// setFail makes op fail with err until cleared with a nil err.
func (e *fakeEnv) setFail(op string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err == nil {
		delete(e.fail, op)
		return
	}
	e.fail[op] = err
}

func (e *fakeEnv) recorded() []call {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.calls)
}

// enter records a call and returns the injected failure, if any.
func (e *fakeEnv) enter(ctx context.Context, fn, op string, c function.Caller) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.quiet {
		id := function.RequestID(ctx)
		e.calls = append(e.calls, call{fn: fn, op: op, caller: c, requestID: id})
	}
	return e.fail[op]
}

func (e *fakeEnv) nextID() string {
	e.seq++
	return newID(e.seq)
}

// page cuts one page out of items sorted by ID.
func page[T any](items []T, id func(T) string, after string, first int) ([]T, string, error) {
	if first < 0 || first > store.MaxPageSize {
		return nil, "", errs.Invalid("first", "must be between 1 and %d", store.MaxPageSize)
	}
	if first == 0 {
		first = store.DefaultPageSize
	}
	sort.Slice(items, func(i, j int) bool { return id(items[i]) < id(items[j]) })
	start := 0
	if after != "" {
		start = sort.Search(len(items), func(i int) bool { return id(items[i]) > after })
	}
	items = items[start:]
	if len(items) <= first {
		return items, "", nil
	}
	return items[:first], id(items[first-1]), nil
}

func (e *fakeEnv) functions() []*function.Function {
	tf := function.New(tenants.FunctionName)
	function.Op(tf, tenants.OpGet, func(ctx context.Context, c function.Caller,
		in tenants.GetInput) (store.Tenant, error) {
		if err := e.enter(ctx, tenants.FunctionName, tenants.OpGet, c); err != nil {
			return store.Tenant{}, err
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if err := c.RequireTenantAdmin(in.ID); err != nil {
			return store.Tenant{}, err
		}
		t, ok := e.tenants[in.ID]
		if !ok {
			return store.Tenant{}, errs.New(errs.NotFound, "no such tenant")
		}
		return t, nil
	})
	function.Op(tf, tenants.OpList, func(ctx context.Context, c function.Caller,
		in tenants.ListInput) (tenants.ListOutput, error) {
		if err := e.enter(ctx, tenants.FunctionName, tenants.OpList, c); err != nil {
			return tenants.ListOutput{}, err
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if err := c.RequireSystemAdmin(); err != nil {
			return tenants.ListOutput{}, err
		}
		var all []store.Tenant
		for _, t := range e.tenants {
			all = append(all, t)
		}
		id := func(t store.Tenant) string { return t.ID }
		items, next, err := page(all, id, in.After, in.First)
		return tenants.ListOutput{Items: items, Next: next}, err
	})
	function.Op(tf, tenants.OpCreate, func(ctx context.Context, c function.Caller,
		in tenants.CreateInput) (store.Tenant, error) {
		if err := e.enter(ctx, tenants.FunctionName, tenants.OpCreate, c); err != nil {
			return store.Tenant{}, err
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if err := c.RequireSystemAdmin(); err != nil {
			return store.Tenant{}, err
		}
		if len(in.Name) < 3 {
			return store.Tenant{}, errs.Invalid("name", "too short")
		}
		for _, t := range e.tenants {
			if t.Name == in.Name {
				return store.Tenant{}, errs.New(errs.Conflict, "name taken")
			}
		}
		t := store.Tenant{ID: e.nextID(), Name: in.Name, DisplayName: in.DisplayName,
			CreatedAt: fixedTime, UpdatedAt: fixedTime, Version: 1}
		e.tenants[t.ID] = t
		return t, nil
	})
	function.Op(tf, tenants.OpUpdate, func(ctx context.Context, c function.Caller,
		in tenants.UpdateInput) (store.Tenant, error) {
		if err := e.enter(ctx, tenants.FunctionName, tenants.OpUpdate, c); err != nil {
			return store.Tenant{}, err
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if err := c.RequireTenantAdmin(in.ID); err != nil {
			return store.Tenant{}, err
		}
		t, ok := e.tenants[in.ID]
		if !ok {
			return store.Tenant{}, errs.New(errs.NotFound, "no such tenant")
		}
		if in.DisplayName != nil {
			t.DisplayName = *in.DisplayName
		}
		t.Version++
		e.tenants[t.ID] = t
		return t, nil
	})
	function.Op(tf, tenants.OpDelete, func(ctx context.Context, c function.Caller,
		in tenants.DeleteInput) (tenants.DeleteOutput, error) {
		if err := e.enter(ctx, tenants.FunctionName, tenants.OpDelete, c); err != nil {
			return tenants.DeleteOutput{}, err
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if err := c.RequireSystemAdmin(); err != nil {
			return tenants.DeleteOutput{}, err
		}
		if _, ok := e.tenants[in.ID]; !ok {
			return tenants.DeleteOutput{}, errs.New(errs.NotFound, "no such tenant")
		}
		for _, u := range e.users {
			if u.TenantID == in.ID {
				return tenants.DeleteOutput{}, errs.New(errs.Conflict, "tenant has users")
			}
		}
		delete(e.tenants, in.ID)
		return tenants.DeleteOutput{ID: in.ID}, nil
	})

	return []*function.Function{tf, e.usersFunction(), e.adminFunction()}
}

func (e *fakeEnv) usersFunction() *function.Function {
	uf := function.New(users.FunctionName)
	function.Op(uf, users.OpGet, func(ctx context.Context, c function.Caller,
		in users.GetInput) (store.User, error) {
		if err := e.enter(ctx, users.FunctionName, users.OpGet, c); err != nil {
			return store.User{}, err
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if err := c.RequireTenantAdmin(in.TenantID); err != nil {
			return store.User{}, err
		}
		u, ok := e.users[in.ID]
		if !ok || u.TenantID != in.TenantID {
			return store.User{}, errs.New(errs.NotFound, "no such user")
		}
		return u, nil
	})
	function.Op(uf, users.OpList, func(ctx context.Context, c function.Caller,
		in users.ListInput) (users.ListOutput, error) {
		if err := e.enter(ctx, users.FunctionName, users.OpList, c); err != nil {
			return users.ListOutput{}, err
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if err := c.RequireTenantAdmin(in.TenantID); err != nil {
			return users.ListOutput{}, err
		}
		var all []store.User
		for _, u := range e.users {
			if u.TenantID == in.TenantID {
				all = append(all, u)
			}
		}
		items, next, err := page(all, func(u store.User) string { return u.ID }, in.After, in.First)
		return users.ListOutput{Items: items, Next: next}, err
	})
	function.Op(uf, users.OpCreate, func(ctx context.Context, c function.Caller,
		in users.CreateInput) (store.User, error) {
		if err := e.enter(ctx, users.FunctionName, users.OpCreate, c); err != nil {
			return store.User{}, err
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if err := c.RequireTenantAdmin(in.TenantID); err != nil {
			return store.User{}, err
		}
		if in.Status == "" {
			in.Status = store.UserActive
		}
		u := store.User{ID: e.nextID(), TenantID: in.TenantID, Username: in.Username,
			Email: in.Email, Phone: in.Phone, DisplayName: in.DisplayName, Status: in.Status,
			CreatedAt: fixedTime, UpdatedAt: fixedTime, Version: 1}
		e.users[u.ID] = u
		if in.Password != "" {
			e.pwds[u.ID] = string(in.Password)
		}
		return u, nil
	})
	function.Op(uf, users.OpSetPassword, func(ctx context.Context, c function.Caller,
		in users.SetPasswordInput) (users.PasswordOutput, error) {
		if err := e.enter(ctx, users.FunctionName, users.OpSetPassword, c); err != nil {
			return users.PasswordOutput{}, err
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if err := c.RequireTenantAdmin(in.TenantID); err != nil {
			return users.PasswordOutput{}, err
		}
		u, ok := e.users[in.ID]
		if !ok || u.TenantID != in.TenantID {
			return users.PasswordOutput{}, errs.New(errs.NotFound, "no such user")
		}
		if len(in.Password) < 15 {
			return users.PasswordOutput{}, errs.Invalid("password", "too short")
		}
		e.pwds[in.ID] = string(in.Password)
		return users.PasswordOutput{ID: in.ID}, nil
	})
	function.Op(uf, users.OpChangePassword, func(ctx context.Context, c function.Caller,
		in users.ChangePasswordInput) (users.PasswordOutput, error) {
		if err := e.enter(ctx, users.FunctionName, users.OpChangePassword, c); err != nil {
			return users.PasswordOutput{}, err
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if c.Tenant != in.TenantID || c.Subject != in.ID {
			return users.PasswordOutput{}, errs.New(errs.NotFound, "no such user")
		}
		if cur, ok := e.pwds[in.ID]; !ok || cur != string(in.CurrentPassword) {
			return users.PasswordOutput{}, &errs.Error{Code: errs.Unauthenticated,
				Field: "currentPassword", Message: "wrong password"}
		}
		e.pwds[in.ID] = string(in.NewPassword)
		return users.PasswordOutput{ID: in.ID}, nil
	})
	function.Op(uf, users.OpUpdate, func(ctx context.Context, c function.Caller,
		in users.UpdateInput) (store.User, error) {
		if err := e.enter(ctx, users.FunctionName, users.OpUpdate, c); err != nil {
			return store.User{}, err
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if err := c.RequireTenantAdmin(in.TenantID); err != nil {
			return store.User{}, err
		}
		u, ok := e.users[in.ID]
		if !ok || u.TenantID != in.TenantID {
			return store.User{}, errs.New(errs.NotFound, "no such user")
		}
		set := func(dst *string, src *string) {
			if src != nil {
				*dst = *src
			}
		}
		set(&u.Username, in.Username)
		set(&u.Email, in.Email)
		set(&u.DisplayName, in.DisplayName)
		if in.Status != nil {
			u.Status = *in.Status
		}
		u.Version++
		e.users[u.ID] = u
		return u, nil
	})
	function.Op(uf, users.OpDelete, func(ctx context.Context, c function.Caller,
		in users.DeleteInput) (users.DeleteOutput, error) {
		if err := e.enter(ctx, users.FunctionName, users.OpDelete, c); err != nil {
			return users.DeleteOutput{}, err
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if err := c.RequireTenantAdmin(in.TenantID); err != nil {
			return users.DeleteOutput{}, err
		}
		u, ok := e.users[in.ID]
		if !ok || u.TenantID != in.TenantID {
			return users.DeleteOutput{}, errs.New(errs.NotFound, "no such user")
		}
		delete(e.users, in.ID)
		return users.DeleteOutput{ID: in.ID}, nil
	})
	return uf
}

func (e *fakeEnv) adminFunction() *function.Function {
	af := function.New(apitokens.FunctionName)
	function.Op(af, apitokens.OpVerify, func(ctx context.Context, c function.Caller,
		in apitokens.VerifyInput) (function.Caller, error) {
		if err := e.enter(ctx, apitokens.FunctionName, apitokens.OpVerify, c); err != nil {
			return function.Caller{}, err
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if err := c.RequireService(); err != nil {
			return function.Caller{}, err
		}
		who, ok := e.tokens[in.Token]
		if !ok {
			return function.Caller{}, errs.New(errs.Unauthenticated, "invalid token")
		}
		return who, nil
	})
	scope := func(c function.Caller, tenantID string) error {
		if tenantID == "" {
			return c.RequireSystemAdmin()
		}
		return c.RequireTenantAdmin(tenantID)
	}
	function.Op(af, apitokens.OpCreate, func(ctx context.Context, c function.Caller,
		in apitokens.CreateInput) (apitokens.CreateOutput, error) {
		if err := e.enter(ctx, apitokens.FunctionName, apitokens.OpCreate, c); err != nil {
			return apitokens.CreateOutput{}, err
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if err := scope(c, in.TenantID); err != nil {
			return apitokens.CreateOutput{}, err
		}
		id := e.nextID()
		t := store.APIToken{ID: id, Name: in.Name, Subject: "apitoken:" + id,
			TenantID: in.TenantID, Roles: in.Roles, CreatedAt: fixedTime}
		if in.TTLSeconds > 0 {
			t.ExpiresAt = fixedTime.Add(time.Duration(in.TTLSeconds) * time.Second)
		}
		e.apiToks[id] = t
		secret := "secret-" + id
		e.tokens[secret] = function.Caller{Subject: t.Subject, Tenant: t.TenantID, Roles: t.Roles}
		return apitokens.CreateOutput{Token: secret, APIToken: t}, nil
	})
	function.Op(af, apitokens.OpList, func(ctx context.Context, c function.Caller,
		in apitokens.ListInput) (apitokens.ListOutput, error) {
		if err := e.enter(ctx, apitokens.FunctionName, apitokens.OpList, c); err != nil {
			return apitokens.ListOutput{}, err
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if err := scope(c, in.TenantID); err != nil {
			return apitokens.ListOutput{}, err
		}
		var all []store.APIToken
		for _, t := range e.apiToks {
			if t.TenantID == in.TenantID {
				all = append(all, t)
			}
		}
		items, next, err := page(all, func(t store.APIToken) string { return t.ID }, in.After,
			in.First)
		return apitokens.ListOutput{Items: items, Next: next}, err
	})
	function.Op(af, apitokens.OpDelete, func(ctx context.Context, c function.Caller,
		in apitokens.DeleteInput) (apitokens.DeleteOutput, error) {
		if err := e.enter(ctx, apitokens.FunctionName, apitokens.OpDelete, c); err != nil {
			return apitokens.DeleteOutput{}, err
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if err := scope(c, in.TenantID); err != nil {
			return apitokens.DeleteOutput{}, err
		}
		t, ok := e.apiToks[in.ID]
		if !ok || t.TenantID != in.TenantID {
			return apitokens.DeleteOutput{}, errs.New(errs.NotFound, "no such token")
		}
		delete(e.apiToks, in.ID)
		return apitokens.DeleteOutput{ID: in.ID}, nil
	})
	return af
}

// harness is a facade over the fake functions.
type harness struct {
	env  *fakeEnv
	h    *Handler
	logs *syncBuffer
}

// syncBuffer is a log sink safe for concurrent requests.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newHarness(t testing.TB, opts Options) *harness {
	t.Helper()
	env := newFakeEnv()
	logs := &syncBuffer{}
	if opts.Logger == nil {
		opts.Logger = newTestLogger(logs)
	}
	return &harness{env: env, h: New(invoke.NewLocal(env.functions()...), opts), logs: logs}
}

func newTestLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// reply is a decoded response.
type reply struct {
	status int
	header http.Header
	raw    string
	Data   json.RawMessage `json:"data"`
	Errors []replyError    `json:"errors"`
}

type replyError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

func (e replyError) code() string { s, _ := e.Extensions["code"].(string); return s }

func (r reply) codes() []string {
	var out []string
	for _, e := range r.Errors {
		out = append(out, e.code())
	}
	return out
}

// post sends a raw body with a token ("" for none) and extra headers
// given as name, value pairs.
func (hs *harness) post(t testing.TB, token, body string, headers ...string) reply {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return hs.serve(t, req)
}

func (hs *harness) serve(t testing.TB, req *http.Request) reply {
	t.Helper()
	rec := httptest.NewRecorder()
	hs.h.ServeHTTP(rec, req)
	raw, _ := io.ReadAll(rec.Body)
	r := reply{status: rec.Code, header: rec.Header(), raw: string(raw)}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/") {
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatalf("response is not JSON: %v\n%s", err, raw)
		}
	}
	return r
}

// query posts a GraphQL request with variables.
func (hs *harness) query(t testing.TB, token, q string, vars map[string]any) reply {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": q, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	return hs.post(t, token, string(body))
}
