package graphql

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/httpx"
	"github.com/wardhq/ward/shared/invoke"
)

// opsRun lists the operations other than verification that ran.
func (hs *harness) opsRun() []string {
	var ops []string
	for _, c := range hs.env.recorded() {
		if c.op != "apitokens.verify" {
			ops = append(ops, c.op)
		}
	}
	return ops
}

func TestAuthentication(t *testing.T) {
	tests := []struct {
		name          string
		header        string // the Authorization header; "-" for none
		failVerify    error
		wantStatus    int
		wantCode      string
		wantChallenge string
		wantVerify    bool // whether the admin function was asked
	}{
		{name: "no header", header: "-", wantStatus: 401, wantCode: "UNAUTHENTICATED",
			wantChallenge: `Bearer realm="ward"`},
		{name: "an empty header", header: "", wantStatus: 401, wantCode: "UNAUTHENTICATED",
			wantChallenge: `Bearer realm="ward"`},
		{name: "the Basic scheme", header: "Basic YWRtaW46YWRtaW4=", wantStatus: 401,
			wantCode: "UNAUTHENTICATED", wantChallenge: `Bearer realm="ward"`},
		{name: "a scheme without a token", header: "Bearer", wantStatus: 401,
			wantCode: "UNAUTHENTICATED", wantChallenge: `Bearer realm="ward"`},
		{name: "an empty token", header: "Bearer ", wantStatus: 401, wantCode: "UNAUTHENTICATED",
			wantChallenge: `Bearer realm="ward", error="invalid_token"`},
		{name: "a token with characters outside b64token", header: "Bearer abc def",
			wantStatus: 401, wantCode: "UNAUTHENTICATED",
			wantChallenge: `Bearer realm="ward", error="invalid_token"`},
		{name: "an overlong token", header: "Bearer " + strings.Repeat("a", maxTokenBytes+1),
			wantStatus: 401, wantCode: "UNAUTHENTICATED",
			wantChallenge: `Bearer realm="ward", error="invalid_token"`},
		{name: "an unknown token", header: "Bearer not-a-token", wantStatus: 401,
			wantCode: "UNAUTHENTICATED", wantVerify: true,
			wantChallenge: `Bearer realm="ward", error="invalid_token"`},
		{name: "verification unavailable", header: "Bearer " + tokAdmin,
			failVerify: errs.Wrap(errs.Unavailable, errors.New("db down"), "store unavailable"),
			wantStatus: 503, wantCode: "UNAVAILABLE", wantVerify: true},
		{name: "verification refused to the facade", header: "Bearer " + tokAdmin,
			failVerify: errs.New(errs.PermissionDenied, "service role required"),
			wantStatus: 500, wantCode: "INTERNAL", wantVerify: true},
		{name: "a valid token", header: "Bearer " + tokAdmin, wantStatus: 200, wantVerify: true},
		{name: "a valid token with a lower-case scheme", header: "bearer " + tokAdmin,
			wantStatus: 200, wantVerify: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, Options{})
			hs.env.setFail("apitokens.verify", tt.failVerify)
			req := httptest.NewRequest(http.MethodPost, "/graphql",
				strings.NewReader(`{"query":"{ viewer { subject } }"}`))
			req.Header.Set("Content-Type", "application/json")
			if tt.header != "-" {
				req.Header.Set("Authorization", tt.header)
			}
			got := hs.serve(t, req)

			if got.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", got.status, tt.wantStatus, got.raw)
			}
			if g := got.header.Get("WWW-Authenticate"); g != tt.wantChallenge {
				t.Errorf("WWW-Authenticate = %q, want %q", g, tt.wantChallenge)
			}
			verified := len(hs.env.recorded()) > 0 && hs.env.recorded()[0].op == "apitokens.verify"
			if verified != tt.wantVerify {
				t.Errorf("verify called = %v, want %v", verified, tt.wantVerify)
			}
			if tt.wantCode == "" {
				if string(got.Data) != `{"viewer":{"subject":"admin"}}` {
					t.Errorf("data = %s", got.Data)
				}
				return
			}
			if g := got.codes(); !slices.Equal(g, []string{tt.wantCode}) {
				t.Errorf("codes = %v, want [%s]; body %s", g, tt.wantCode, got.raw)
			}
			if got.Data != nil {
				t.Errorf("a refused request has data: %s", got.raw)
			}
			if strings.Contains(got.raw, "db down") {
				t.Errorf("the cause reached the client: %s", got.raw)
			}
		})
	}
}

// TestVerifiedCallerChecks covers answers of verification that the facade
// refuses although the admin function accepted the token.
func TestVerifiedCallerChecks(t *testing.T) {
	tests := []struct {
		name   string
		caller function.Caller
	}{
		{"an anonymous caller", function.Caller{Roles: []string{function.RoleSystemAdmin}}},
		{"a caller with the service role",
			function.Caller{Subject: "x", Roles: []string{function.RoleService}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, Options{})
			hs.env.mu.Lock()
			hs.env.tokens["odd-token"] = tt.caller
			hs.env.mu.Unlock()
			got := hs.query(t, "odd-token", `{ viewer { subject } }`, nil)
			if got.status != http.StatusUnauthorized || !slices.Equal(got.codes(),
				[]string{"UNAUTHENTICATED"}) {
				t.Errorf("status %d codes %v, want 401 UNAUTHENTICATED", got.status, got.codes())
			}
		})
	}
}

// TestOperationErrorCodes checks that each code an operation returns
// reaches extensions.code, with the field when set, and that faults say
// nothing but "internal error" and are logged.
func TestOperationErrorCodes(t *testing.T) {
	cause := errors.New("secret cause 42")
	tests := []struct {
		err         error
		wantCode    string
		wantMessage string
		wantField   string
	}{
		{errs.Invalid("tenantId", "must be a UUID"), "INVALID_ARGUMENT", "must be a UUID",
			"tenantId"},
		{errs.New(errs.NotFound, "no such user"), "NOT_FOUND", "no such user", ""},
		{errs.New(errs.Conflict, "username taken"), "CONFLICT", "username taken", ""},
		{errs.New(errs.Unauthenticated, "authentication required"), "UNAUTHENTICATED",
			"authentication required", ""},
		{errs.New(errs.PermissionDenied, "not an administrator"), "PERMISSION_DENIED",
			"not an administrator", ""},
		{errs.New(errs.TooLarge, "too big"), "PAYLOAD_TOO_LARGE", "too big", ""},
		{errs.Wrap(errs.Unavailable, cause, "store unavailable"), "UNAVAILABLE",
			"store unavailable", ""},
		{errs.Wrap(errs.Internal, cause, "boom"), "INTERNAL", "internal error", ""},
		{cause, "INTERNAL", "internal error", ""},
	}
	for _, tt := range tests {
		t.Run(tt.wantCode+" "+tt.err.Error(), func(t *testing.T) {
			hs := newHarness(t, Options{})
			hs.env.setFail("users.get", tt.err)
			q := expand(`{ user(tenantId: "{A}", id: "{A1}") { id } }`)
			got := hs.query(t, tokAdmin, q, nil)

			if got.status != http.StatusOK || string(got.Data) != `{"user":null}` ||
				len(got.Errors) != 1 {
				t.Fatalf("status %d, body %s", got.status, got.raw)
			}
			e := got.Errors[0]
			if e.code() != tt.wantCode || e.Message != tt.wantMessage {
				t.Errorf("code %q message %q, want %q %q", e.code(), e.Message, tt.wantCode,
					tt.wantMessage)
			}
			if g, _ := e.Extensions["field"].(string); g != tt.wantField {
				t.Errorf("field = %q, want %q", g, tt.wantField)
			}
			if !slices.Equal(e.Path, []any{"user"}) {
				t.Errorf("path = %v, want [user]", e.Path)
			}
			if strings.Contains(got.raw, "secret cause") {
				t.Errorf("the cause reached the client: %s", got.raw)
			}
			// The cause stays with the function (the invoker's OnFault logs
			// it there); the facade logs that a fault happened, where and
			// in which request.
			fault := tt.wantCode == "INTERNAL" || tt.wantCode == "UNAVAILABLE"
			logs := hs.logs.String()
			logged := strings.Contains(logs, `"level":"ERROR","msg":"graphql: fault"`)
			if logged != fault {
				t.Errorf("fault logged = %v, want %v; logs:\n%s", logged, fault, logs)
			}
			id := got.header.Get("X-Request-Id")
			if fault && !strings.Contains(logs, `"request_id":"`+id+`","at":"users.get"`) {
				t.Errorf("the fault's log line lacks the request ID or op; logs:\n%s", logs)
			}
		})
	}
}

// TestResolverPanicIsInternal checks that a panic inside an operation is an
// internal error, not a crash nor a leaked message.
func TestResolverPanicIsInternal(t *testing.T) {
	f := function.New("tenants")
	function.Op(f, "tenants.get", func(context.Context, function.Caller, struct {
		ID string `json:"id"`
	}) (struct{}, error) {
		var m map[string]int
		m["boom"]++ // panics: assignment to a nil map
		return struct{}{}, nil
	})
	env := newFakeEnv()
	fns := env.functions()
	fns[0] = f
	logs := &syncBuffer{}
	h := New(invoke.NewLocal(fns...), Options{Logger: newTestLogger(logs)})
	hs := &harness{env: env, h: h, logs: logs}

	got := hs.query(t, tokAdmin, expand(`{ tenant(id: "{A}") { id } }`), nil)
	if !slices.Equal(got.codes(), []string{"INTERNAL"}) ||
		got.Errors[0].Message != "internal error" {
		t.Fatalf("body %s", got.raw)
	}
	if strings.Contains(got.raw, "nil map") {
		t.Errorf("the panic reached the client: %s", got.raw)
	}
	if !strings.Contains(logs.String(), "nil map") {
		t.Errorf("the panic was not logged:\n%s", logs)
	}
}

func TestMalformedRequests(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		wantStatus  int
		wantCode    string
		wantField   string
	}{
		{"not JSON", "application/json", `{"query": `, 400, "INVALID_ARGUMENT", ""},
		{"a JSON array", "application/json", `[{"query":"{ viewer { subject } }"}]`, 400,
			"INVALID_ARGUMENT", ""},
		{"trailing data", "application/json", `{"query":"{ viewer { subject } }"} {}`, 400,
			"INVALID_ARGUMENT", ""},
		{"an unknown member", "application/json", `{"query":"{ viewer { subject } }","x":1}`,
			400, "INVALID_ARGUMENT", ""},
		{"variables that are no object", "application/json",
			`{"query":"{ viewer { subject } }","variables":[1]}`, 400, "INVALID_ARGUMENT", ""},
		{"no query", "application/json", `{"variables":{}}`, 400, "INVALID_ARGUMENT", "query"},
		{"a blank query", "application/json", `{"query":"  "}`, 400, "INVALID_ARGUMENT", "query"},
		{"a form body", "application/x-www-form-urlencoded", `query=%7Bviewer%7D`, 415,
			"INVALID_ARGUMENT", ""},
		{"no content type", "", `{"query":"{ viewer { subject } }"}`, 415, "INVALID_ARGUMENT", ""},
		{"a charset other than UTF-8", "application/json; charset=latin1",
			`{"query":"{ viewer { subject } }"}`, 415, "INVALID_ARGUMENT", ""},
		{"a parse error", "application/json", `{"query":"{ viewer { "}`, 200,
			"GRAPHQL_PARSE_FAILED", ""},
		{"an unknown field", "application/json", `{"query":"{ viewer { password } }"}`, 200,
			"GRAPHQL_VALIDATION_FAILED", ""},
		{"a type definition", "application/json", `{"query":"type T { a: Int }"}`, 200,
			"GRAPHQL_VALIDATION_FAILED", ""},
		{"a subscription", "application/json", `{"query":"subscription { viewer { subject } }"}`,
			200, "GRAPHQL_VALIDATION_FAILED", ""},
		{"two operations without a name", "application/json",
			`{"query":"query A { viewer { subject } } query B { viewer { roles } }"}`, 200,
			"INVALID_ARGUMENT", "operationName"},
		{"an operation name that is not there", "application/json",
			`{"query":"query A { viewer { subject } }","operationName":"B"}`, 200,
			"INVALID_ARGUMENT", "operationName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, Options{})
			req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			req.Header.Set("Authorization", "Bearer "+tokAdmin)
			got := hs.serve(t, req)

			if got.status != tt.wantStatus {
				t.Errorf("status = %d, want %d; body %s", got.status, tt.wantStatus, got.raw)
			}
			if !slices.Equal(got.codes(), []string{tt.wantCode}) {
				t.Fatalf("codes = %v, want [%s]; body %s", got.codes(), tt.wantCode, got.raw)
			}
			if g, _ := got.Errors[0].Extensions["field"].(string); g != tt.wantField {
				t.Errorf("field = %q, want %q", g, tt.wantField)
			}
			if got.Data != nil {
				t.Errorf("a request that did not run has data: %s", got.raw)
			}
			if ops := hs.opsRun(); len(ops) > 0 {
				t.Errorf("operations ran: %v", ops)
			}
		})
	}
}

func TestSelectsTheNamedOperation(t *testing.T) {
	hs := newHarness(t, Options{})
	body := `{"query":"query A { viewer { subject } } query B { viewer { roles } }",
		"operationName":"B"}`
	got := hs.post(t, tokAdmin, body)
	if g, w := string(got.Data), `{"viewer":{"roles":["system_admin"]}}`; g != w {
		t.Errorf("data = %s, want %s", g, w)
	}
}

func TestVariables(t *testing.T) {
	tests := []struct {
		name      string
		query     string
		vars      string
		wantCode  string
		wantField string
	}{
		{"a variable the operation does not declare",
			`query($t: ID!) { tenant(id: $t) { id } }`, `{"t":"{A}","extra":1}`,
			"INVALID_ARGUMENT", "variables.extra"},
		{"variables where the operation declares none",
			`{ viewer { subject } }`, `{"x":"y"}`, "INVALID_ARGUMENT", "variables.x"},
		{"a variable used but not declared",
			`{ tenant(id: $t) { id } }`, `{}`, "GRAPHQL_VALIDATION_FAILED", ""},
		{"a string for an Int", `query($n: Int) { tenants(first: $n) { nodes { id } } }`,
			`{"n":"3"}`, "INVALID_ARGUMENT", "variables.n"},
		{"a boolean for an Int", `query($n: Int) { tenants(first: $n) { nodes { id } } }`,
			`{"n":true}`, "INVALID_ARGUMENT", "variables.n"},
		{"a fraction for an Int", `query($n: Int) { tenants(first: $n) { nodes { id } } }`,
			`{"n":1.5}`, "INVALID_ARGUMENT", "variables.n"},
		{"an Int beyond 32 bits", `query($n: Int) { tenants(first: $n) { nodes { id } } }`,
			`{"n":2147483648}`, "INVALID_ARGUMENT", "variables.n"},
		{"a number for a String inside an input object",
			`mutation($in: CreateTenantInput!) { createTenant(input: $in) { id } }`,
			`{"in":{"name":"acme2","displayName":7}}`, "INVALID_ARGUMENT",
			"variables.in.displayName"},
		{"a number in a list of strings",
			`mutation($in: CreateApiTokenInput!) { createApiToken(input: $in) { token } }`,
			`{"in":{"name":"x","roles":["user",3]}}`, "INVALID_ARGUMENT", "variables.in.roles.1"},
		{"a list for an input object",
			`mutation($in: CreateTenantInput!) { createTenant(input: $in) { id } }`,
			`{"in":[1]}`, "INVALID_ARGUMENT", "variables.in"},
		{"a number for an enum",
			`mutation($s: UserStatus) { createUser(input: {tenantId: "{A}", username: "x", status: $s}) { id } }`,
			`{"s":1}`, "INVALID_ARGUMENT", "variables.s"},
		{"an unknown field of an input object",
			`mutation($in: CreateTenantInput!) { createTenant(input: $in) { id } }`,
			`{"in":{"name":"acme2","owner":"me"}}`, "INVALID_ARGUMENT", "variables"},
		{"a required variable missing",
			`query($t: ID!) { tenant(id: $t) { id } }`, `{}`, "INVALID_ARGUMENT", "variables"},
		{"an enum variable with an unknown value",
			`mutation($s: UserStatus) { createUser(input: {tenantId: "{A}", username: "x", status: $s}) { id } }`,
			`{"s":"ZOMBIE"}`, "INVALID_ARGUMENT", "variables"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, Options{})
			body := `{"query":` + quoteJSON(expand(tt.query)) + `,"variables":` +
				expand(tt.vars) + `}`
			got := hs.post(t, tokAdmin, body)

			if got.status != http.StatusOK {
				t.Errorf("status = %d, want 200", got.status)
			}
			if !slices.Equal(got.codes(), []string{tt.wantCode}) {
				t.Fatalf("codes = %v, want [%s]; body %s", got.codes(), tt.wantCode, got.raw)
			}
			if g, _ := got.Errors[0].Extensions["field"].(string); g != tt.wantField {
				t.Errorf("field = %q, want %q", g, tt.wantField)
			}
			if got.Data != nil {
				t.Errorf("a request that did not run has data: %s", got.raw)
			}
			if ops := hs.opsRun(); len(ops) > 0 {
				t.Errorf("operations ran: %v", ops)
			}
		})
	}
}

func TestBodyAndQuerySize(t *testing.T) {
	const maxBody = 1024
	const maxQuery = 200
	pad := func(n int) string {
		// A query of exactly n bytes: a comment fills what the query lacks.
		q := "{ viewer { subject } }\n#"
		return q + strings.Repeat("x", n-len(q))
	}
	tests := []struct {
		name       string
		body       string
		chunked    bool
		wantStatus int
		wantCode   string
	}{
		{"a query at the limit", `{"query":` + quoteJSON(pad(maxQuery)) + `}`, false, 200, ""},
		{"a query over the limit", `{"query":` + quoteJSON(pad(maxQuery+1)) + `}`, false, 413,
			"PAYLOAD_TOO_LARGE"},
		{"a body at the limit", bodyOf(maxBody), false, 200, ""},
		{"a body over the limit", bodyOf(maxBody + 1), false, 413, "PAYLOAD_TOO_LARGE"},
		{"a body over the limit without a length", bodyOf(maxBody + 1), true, 413,
			"PAYLOAD_TOO_LARGE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, Options{MaxBodyBytes: maxBody, MaxQueryBytes: maxQuery})
			req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(tt.body))
			if tt.chunked {
				req.ContentLength = -1
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tokAdmin)
			got := hs.serve(t, req)

			if got.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", got.status, tt.wantStatus, got.raw)
			}
			var want []string
			if tt.wantCode != "" {
				want = []string{tt.wantCode}
			}
			if !slices.Equal(got.codes(), want) {
				t.Errorf("codes = %v, want %v", got.codes(), want)
			}
		})
	}
}

// bodyOf returns a valid request body of exactly n bytes, padded inside
// the extensions member.
func bodyOf(n int) string {
	head := `{"query":"{ viewer { subject } }","extensions":{"p":"`
	tail := `"}}`
	return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
}

func TestResponseMediaType(t *testing.T) {
	tests := []struct {
		name       string
		accept     string
		query      string
		wantStatus int
		wantType   string
	}{
		{"JSON, a validation error", "application/json", `{ nope }`, 200, "application/json"},
		{"no Accept, a parse error", "", `{`, 200, "application/json"},
		{"GraphQL response type, a validation error",
			"application/graphql-response+json, application/json;q=0.9", `{ nope }`, 400,
			"application/graphql-response+json"},
		{"GraphQL response type, a limit", "application/graphql-response+json",
			`{ tenants(first: 500) { nodes { users(first: 500) { nodes { id } } } } }`, 400,
			"application/graphql-response+json"},
		{"GraphQL response type, a field error", "application/graphql-response+json",
			`{ tenant(id: "nope") { id } }`, 200, "application/graphql-response+json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, Options{})
			got := hs.post(t, tokAdmin, `{"query":`+quoteJSON(tt.query)+`}`, "Accept", tt.accept)
			if got.status != tt.wantStatus {
				t.Errorf("status = %d, want %d", got.status, tt.wantStatus)
			}
			if g := got.header.Get("Content-Type"); g != tt.wantType+"; charset=utf-8" {
				t.Errorf("Content-Type = %q, want %s", g, tt.wantType)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	tests := []struct {
		name       string
		graphiql   bool
		method     string
		path       string
		wantStatus int
		wantType   string
		wantBody   string
	}{
		{"GraphiQL when enabled", true, "GET", "/graphql", 200, "text/html; charset=utf-8",
			"GraphiQL.createFetcher"},
		{"no GraphiQL when disabled", false, "GET", "/graphql", 405, "", ""},
		{"health", false, "GET", "/healthz", 200, "application/json", `{"status":"ok"}`},
		{"health with GraphiQL", true, "GET", "/healthz", 200, "application/json",
			`{"status":"ok"}`},
		{"an unknown path", false, "GET", "/nope", 404, "", ""},
		{"PUT on /graphql", true, "PUT", "/graphql", 405, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, Options{GraphiQL: tt.graphiql})
			rec := httptest.NewRecorder()
			hs.h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if tt.wantType != "" && rec.Header().Get("Content-Type") != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", rec.Header().Get("Content-Type"),
					tt.wantType)
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("body lacks %q", tt.wantBody)
			}
			if rec.Header().Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
			if len(hs.env.recorded()) > 0 {
				t.Errorf("operations ran: %v", hs.env.recorded())
			}
		})
	}
}

func TestFunctionHasRoutesAndNoOps(t *testing.T) {
	f := Function(invoke.NewLocal(newFakeEnv().functions()...), Options{})
	if f.Name != "graphql" || len(f.Ops()) != 0 || f.Routes == nil {
		t.Fatalf("name %q, ops %v, routes %v", f.Name, f.Ops(), f.Routes != nil)
	}
	rec := httptest.NewRecorder()
	f.Routes.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 {
		t.Errorf("healthz status = %d", rec.Code)
	}
}

func TestRequestID(t *testing.T) {
	tests := []struct {
		name   string
		given  string
		wantAs bool // whether the given ID is kept
	}{
		{"a sane ID is kept", "req-1_A.b", true},
		{"an ID of 64 characters is kept", strings.Repeat("a", 64), true},
		{"an ID of 65 characters is replaced", strings.Repeat("a", 65), false},
		{"an ID with a space is replaced", "req 1", false},
		{"an ID with a percent sign is replaced", "req%0A1", false},
		{"an ID with non-ASCII is replaced", "réq", false},
		{"a missing ID is generated", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, Options{})
			q := quoteJSON(expand(`{ tenant(id: "{A}") { id } }`))
			got := hs.post(t, tokAdmin, `{"query":`+q+`}`,
				"X-Request-Id", tt.given)
			id := got.header.Get("X-Request-Id")
			if tt.wantAs && id != tt.given {
				t.Errorf("X-Request-Id = %q, want %q", id, tt.given)
			}
			if !tt.wantAs && (id == tt.given || id == "" || httpx.RequestID(id) != id) {
				t.Errorf("X-Request-Id = %q, want a fresh sane ID", id)
			}
			calls := hs.env.recorded()
			if len(calls) != 2 {
				t.Fatalf("calls = %v, want verify and tenants.get", calls)
			}
			for _, c := range calls {
				if c.requestID != id {
					t.Errorf("%s saw request ID %q, want %q", c.op, c.requestID, id)
				}
			}
		})
	}
}

func TestGeneratedRequestIDsDiffer(t *testing.T) {
	hs := newHarness(t, Options{})
	a := hs.post(t, tokAdmin, `{"query":"{ viewer { subject } }"}`).header.Get("X-Request-Id")
	b := hs.post(t, tokAdmin, `{"query":"{ viewer { subject } }"}`).header.Get("X-Request-Id")
	if a == b {
		t.Errorf("two requests got the same ID %q", a)
	}
}

// TestConcurrentRequests runs requests of several callers at once; under
// -race it checks the facade and graphql-go share nothing unsafely, and
// that no caller's identity leaks into another's request.
func TestConcurrentRequests(t *testing.T) {
	hs := newHarness(t, Options{})
	tokens := map[string]string{tokAdmin: "admin", tokTenantA: "alice", tokUser: "bob"}
	var wg sync.WaitGroup
	errc := make(chan string, 64)
	for i := 0; i < 60; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for tok, sub := range tokens {
				q := `{ viewer { subject } __type(name: "UserStatus") { kind enumValues { name } } }`
				got := hs.query(t, tok, q, nil)
				var data struct {
					Viewer struct{ Subject string }
				}
				err := json.Unmarshal(got.Data, &data)
				if err != nil || data.Viewer.Subject != sub {
					errc <- string(got.Data)
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for e := range errc {
		t.Errorf("wrong viewer: %s", e)
	}
}

// FuzzHandler sends arbitrary queries, variables and operation names
// through the whole handler: it must answer JSON with a code on every
// error and never panic.
func FuzzHandler(f *testing.F) {
	for _, seed := range []struct{ q, vars, op string }{
		{`{ viewer { subject } }`, `{}`, ``},
		{`query($t: ID!) { tenant(id: $t) { id name users { nodes { id } } } }`, `{"t":"` + tenantA + `"}`, ``},
		{`query A { viewer { subject } } query B { viewer { roles } }`, `{}`, `B`},
		{`mutation($in: CreateUserInput!) { createUser(input: $in) { id status } }`,
			`{"in":{"tenantId":"` + tenantA + `","username":"z","status":"LOCKED"}}`, ``},
		{`{ viewer { ...A } } fragment A on Viewer { ...B } fragment B on Viewer { roles }`, `null`, ``},
		{`{ __schema { types { name fields { name type { ofType { name } } } } } }`, `{}`, ``},
		{introspectionQuery, `{}`, `IntrospectionQuery`},
	} {
		f.Add(seed.q, seed.vars, seed.op)
	}
	hs := newHarness(f, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	hs.env.quiet = true
	f.Fuzz(func(t *testing.T, q, vars, op string) {
		var v any
		if json.Unmarshal([]byte(vars), &v) != nil {
			vars = "null"
		}
		body := `{"query":` + quoteJSON(q) + `,"variables":` + vars + `,"operationName":` +
			quoteJSON(op) + `}`
		got := hs.post(t, tokAdmin, body)
		switch got.status {
		case 200, 400, 413:
		default:
			t.Fatalf("status %d for %s: %s", got.status, body, got.raw)
		}
		for _, e := range got.Errors {
			if e.code() == "" {
				t.Fatalf("an error without a code for %s: %s", body, got.raw)
			}
		}
	})
}

// TestVariablesThatFit checks values the spec's input coercion accepts.
func TestVariablesThatFit(t *testing.T) {
	hs := newHarness(t, Options{})
	got := hs.query(t, tokAdmin,
		`mutation($in: CreateApiTokenInput!) { createApiToken(input: $in) { apiToken { roles } } }`,
		map[string]any{"in": map[string]any{"tenantId": tenantA, "name": "x",
			"roles": "tenant_admin", "ttlSeconds": 60.0}})
	want := `{"createApiToken":{"apiToken":{"roles":["tenant_admin"]}}}`
	if string(got.Data) != want || len(got.Errors) > 0 {
		t.Errorf("a single value for a list: %s, want data %s", got.raw, want)
	}

	got = hs.query(t, tokAdmin, `query($t: ID!) { tenant(id: $t) { id } }`,
		map[string]any{"t": 12})
	if !slices.Equal(got.codes(), []string{"INVALID_ARGUMENT"}) ||
		got.Errors[0].Extensions["field"] != "id" {
		t.Errorf("an integer ID should reach the operation, which refuses it: %s", got.raw)
	}
}
