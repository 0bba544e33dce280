package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ward is a running local process, started from a freshly built binary.
type ward struct {
	t       *testing.T
	base    string
	token   string
	cmd     *exec.Cmd
	stderr  *syncBuffer
	dataDir string
}

// syncBuffer collects a child's output while tests read it.
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

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// localBinary builds functions/local once per test run.
func localBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ward-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "ward-local")
		cmd := exec.Command("go", "build", "-o", buildPath, "./functions/local")
		cmd.Dir = repoRoot()
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

func repoRoot() string {
	wd, _ := os.Getwd()
	return filepath.Dir(wd)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startWard runs the local process on dataDir with the given extra
// environment and waits until /healthz answers.
func startWard(t *testing.T, dataDir string, env ...string) *ward {
	t.Helper()
	addr := freeAddr(t)
	w := &ward{t: t, base: "http://" + addr, dataDir: dataDir, stderr: &syncBuffer{}}
	cmd := exec.Command(localBinary(t))
	cmd.Env = append(os.Environ(), "WARD_ADDR="+addr, "WARD_DATA_DIR="+dataDir, "WARD_LOG_LEVEL=warn")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout = io.Discard
	cmd.Stderr = w.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.cmd = cmd
	t.Cleanup(w.stop)

	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(w.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return w
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("ward did not become healthy: %v\n%s", err, w.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (w *ward) stop() {
	if w.cmd == nil || w.cmd.ProcessState != nil {
		return
	}
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- w.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			w.t.Errorf("ward exited with %v\n%s", err, w.stderr)
		}
	case <-time.After(30 * time.Second):
		_ = w.cmd.Process.Kill()
		w.t.Errorf("ward did not stop within 30s")
	}
}

type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Status int
	Data   map[string]json.RawMessage `json:"data"`
	Errors []gqlError                 `json:"errors"`
}

func (r gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// gql posts a query with the given bearer token ("" for none).
func (w *ward) gql(token, query string, vars map[string]any) gqlResponse {
	w.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return w.post(token, body)
}

func (w *ward) post(token string, body []byte) gqlResponse {
	w.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, w.base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		w.t.Fatalf("response is not JSON (%d): %s", resp.StatusCode, raw)
	}
	out.Status = resp.StatusCode
	return out
}

// must runs a query that has to succeed and decodes data.<field> into v.
func (w *ward) must(query string, vars map[string]any, field string, v any) {
	w.t.Helper()
	r := w.gql(w.token, query, vars)
	if len(r.Errors) > 0 {
		w.t.Fatalf("query failed: %+v", r.Errors)
	}
	if err := json.Unmarshal(r.Data[field], v); err != nil {
		w.t.Fatalf("decode %s: %v (%s)", field, err, r.Data[field])
	}
}

const bootstrapToken = "e2e-bootstrap-token-0123456789abcdef"

func startWithToken(t *testing.T) *ward {
	w := startWard(t, t.TempDir(), "WARD_BOOTSTRAP_TOKEN="+bootstrapToken)
	w.token = bootstrapToken
	return w
}

type tenant struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
}

type user struct {
	ID       string `json:"id"`
	TenantID string `json:"tenantId"`
	Username string `json:"username"`
	Email    string `json:"email"`
	Status   string `json:"status"`
}

func (w *ward) createTenant(name string) tenant {
	w.t.Helper()
	var t tenant
	w.must(`mutation($n: String!) { createTenant(input: {name: $n, displayName: "T"}) { id name displayName } }`,
		map[string]any{"n": name}, "createTenant", &t)
	return t
}

func (w *ward) createUser(tenantID, username, email string) user {
	w.t.Helper()
	var u user
	w.must(`mutation($t: ID!, $u: String!, $e: String) {
		createUser(input: {tenantId: $t, username: $u, email: $e}) { id tenantId username email status } }`,
		map[string]any{"t": tenantID, "u": username, "e": email}, "createUser", &u)
	return u
}

func TestTenantsAndUsersThroughGraphQL(t *testing.T) {
	w := startWithToken(t)

	ten := w.createTenant("acme")
	if ten.Name != "acme" || ten.ID == "" {
		t.Fatalf("createTenant = %+v", ten)
	}
	u := w.createUser(ten.ID, "Alice", "Alice@Example.com")
	if got, want := u.Username, "alice"; got != want {
		t.Errorf("username = %q, want %q (folded)", got, want)
	}
	if got, want := u.Status, "ACTIVE"; got != want {
		t.Errorf("status = %q, want %q", got, want)
	}

	var got user
	w.must(`query($t: ID!, $id: ID!) { user(tenantId: $t, id: $id) { id tenantId username email status } }`,
		map[string]any{"t": ten.ID, "id": u.ID}, "user", &got)
	if got != u {
		t.Errorf("user = %+v, want %+v", got, u)
	}

	t.Run("a duplicate username is a conflict and creates nothing", func(t *testing.T) {
		r := w.gql(w.token, `mutation($t: ID!) { createUser(input: {tenantId: $t, username: "ALICE"}) { id } }`,
			map[string]any{"t": ten.ID})
		if got, want := r.code(), "CONFLICT"; got != want {
			t.Fatalf("code = %q, want %q (%+v)", got, want, r.Errors)
		}
		if n := len(w.listUsers(ten.ID)); n != 1 {
			t.Errorf("tenant has %d users, want 1", n)
		}
	})

	t.Run("an unknown tenant is not found", func(t *testing.T) {
		r := w.gql(w.token, `mutation { createUser(input: {tenantId: "0190b0b0-0000-7000-8000-000000000000", username: "bob"}) { id } }`, nil)
		if got, want := r.code(), "NOT_FOUND"; got != want {
			t.Errorf("code = %q, want %q (%+v)", got, want, r.Errors)
		}
	})

	t.Run("a malformed ID is invalid", func(t *testing.T) {
		r := w.gql(w.token, `query { user(tenantId: "nope", id: "x") { id } }`, nil)
		if got, want := r.code(), "INVALID_ARGUMENT"; got != want {
			t.Errorf("code = %q, want %q (%+v)", got, want, r.Errors)
		}
	})

	t.Run("a malformed cursor is invalid", func(t *testing.T) {
		r := w.gql(w.token, `query($t: ID!) { users(tenantId: $t, first: 2, after: "!!garbage!!") { nodes { id } } }`,
			map[string]any{"t": ten.ID})
		if got, want := r.code(), "INVALID_ARGUMENT"; got != want {
			t.Errorf("code = %q, want %q (%+v)", got, want, r.Errors)
		}
	})

	t.Run("users of one tenant are invisible from another", func(t *testing.T) {
		other := w.createTenant("globex")
		r := w.gql(w.token, `query($t: ID!, $id: ID!) { user(tenantId: $t, id: $id) { id } }`,
			map[string]any{"t": other.ID, "id": u.ID})
		if got, want := r.code(), "NOT_FOUND"; got != want {
			t.Errorf("code = %q, want %q (%+v)", got, want, r.Errors)
		}
	})

	t.Run("update and delete", func(t *testing.T) {
		var upd user
		w.must(`mutation($t: ID!, $id: ID!) { updateUser(input: {tenantId: $t, id: $id, status: LOCKED}) { id status username } }`,
			map[string]any{"t": ten.ID, "id": u.ID}, "updateUser", &upd)
		if upd.Status != "LOCKED" || upd.Username != "alice" {
			t.Errorf("updateUser = %+v", upd)
		}
		var id string
		w.must(`mutation($t: ID!, $id: ID!) { deleteUser(tenantId: $t, id: $id) }`,
			map[string]any{"t": ten.ID, "id": u.ID}, "deleteUser", &id)
		if id != u.ID {
			t.Errorf("deleteUser = %q, want %q", id, u.ID)
		}
		r := w.gql(w.token, `query($t: ID!, $id: ID!) { user(tenantId: $t, id: $id) { id } }`,
			map[string]any{"t": ten.ID, "id": u.ID})
		if got, want := r.code(), "NOT_FOUND"; got != want {
			t.Errorf("after delete: code = %q, want %q", got, want)
		}
	})
}

func (w *ward) listUsers(tenantID string) []user {
	w.t.Helper()
	var all []user
	after := ""
	for {
		var page struct {
			Nodes    []user `json:"nodes"`
			PageInfo struct {
				EndCursor   string `json:"endCursor"`
				HasNextPage bool   `json:"hasNextPage"`
			} `json:"pageInfo"`
		}
		vars := map[string]any{"t": tenantID}
		if after != "" {
			vars["a"] = after
		}
		w.must(`query($t: ID!, $a: String) { users(tenantId: $t, first: 3, after: $a) {
			nodes { id username email status } pageInfo { endCursor hasNextPage } } }`, vars, "users", &page)
		all = append(all, page.Nodes...)
		if !page.PageInfo.HasNextPage {
			return all
		}
		after = page.PageInfo.EndCursor
	}
}

func TestPaginationVisitsEveryUserOnce(t *testing.T) {
	w := startWithToken(t)
	ten := w.createTenant("paging")
	want := map[string]bool{}
	for i := range 10 {
		u := w.createUser(ten.ID, fmt.Sprintf("user%02d", i), "")
		want[u.ID] = true
	}
	seen := map[string]bool{}
	for _, u := range w.listUsers(ten.ID) {
		if seen[u.ID] {
			t.Errorf("user %s listed twice", u.ID)
		}
		seen[u.ID] = true
	}
	if len(seen) != len(want) {
		t.Errorf("listed %d users, want %d", len(seen), len(want))
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("user %s never listed", id)
		}
	}
}

func TestRequestsNeedAValidToken(t *testing.T) {
	w := startWithToken(t)
	for _, tc := range []struct{ name, token string }{
		{"no token", ""},
		{"a wrong token", "ward_not-a-real-token-at-all-000000000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.gql(tc.token, `{ tenants { nodes { id } } }`, nil)
			if got, want := r.Status, http.StatusUnauthorized; got != want {
				t.Errorf("status = %d, want %d", got, want)
			}
			if got, want := r.code(), "UNAUTHENTICATED"; got != want {
				t.Errorf("code = %q, want %q", got, want)
			}
		})
	}
}

func TestBadRequestsAreRefused(t *testing.T) {
	w := startWithToken(t)
	cases := []struct {
		name  string
		body  []byte
		codes []string
	}{
		{"a syntax error", []byte(`{"query":"{ tenants { "}`), []string{"GRAPHQL_PARSE_FAILED"}},
		{"an unknown field", []byte(`{"query":"{ nosuchfield }"}`), []string{"GRAPHQL_VALIDATION_FAILED"}},
		{"a body that is not JSON", []byte(`not json`), []string{"INVALID_ARGUMENT", "BAD_REQUEST", "GRAPHQL_PARSE_FAILED"}},
		{"a query nested too deep", deepQuery(20), []string{"QUERY_TOO_DEEP"}},
		{"an oversized body", bytes.Repeat([]byte(" "), 2<<20), []string{"PAYLOAD_TOO_LARGE"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := w.post(w.token, tc.body)
			if len(r.Data) > 0 && string(r.Data["tenants"]) != "" {
				t.Errorf("data returned for a refused request: %s", r.Data)
			}
			got := r.code()
			ok := false
			for _, c := range tc.codes {
				ok = ok || got == c
			}
			if !ok {
				t.Errorf("code = %q, want one of %v (%+v)", got, tc.codes, r.Errors)
			}
		})
	}
}

// deepQuery nests tenant → users → tenant … n times: a valid query whose
// depth grows with n.
func deepQuery(n int) []byte {
	q := `{ tenants { nodes { id ` + strings.Repeat(`users { nodes { tenant { `, n) + `id` +
		strings.Repeat(` } } }`, n) + ` } } }`
	b, _ := json.Marshal(map[string]string{"query": q})
	return b
}

func TestDataSurvivesRestartAndBootstrapRunsOnce(t *testing.T) {
	dir := t.TempDir()
	w := startWard(t, dir)
	token := generatedToken(t, w)
	w.token = token
	ten := w.createTenant("durable")
	w.stop()

	w2 := startWard(t, dir)
	w2.token = token
	if strings.Contains(w2.stderr.String(), "ward_") {
		t.Errorf("second start printed a token again:\n%s", w2.stderr)
	}
	var got tenant
	w2.must(`query($id: ID!) { tenant(id: $id) { id name displayName } }`, map[string]any{"id": ten.ID}, "tenant", &got)
	if got != ten {
		t.Errorf("tenant after restart = %+v, want %+v", got, ten)
	}
}

// generatedToken reads the bootstrap token the first start printed.
func generatedToken(t *testing.T, w *ward) string {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(w.stderr.String()))
	for sc.Scan() {
		for _, f := range strings.Fields(sc.Text()) {
			if strings.HasPrefix(f, "ward_") {
				return f
			}
		}
	}
	t.Fatalf("first start printed no bootstrap token:\n%s", w.stderr)
	return ""
}

func TestShutdownFinishesInFlightRequests(t *testing.T) {
	w := startWithToken(t)
	ten := w.createTenant("inflight")

	// Many requests in flight while SIGTERM arrives: each either completes
	// with a full answer or is refused before it starts; none is cut off.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var completed, refused int
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(map[string]any{
				"query":     `mutation($t: ID!, $u: String!) { createUser(input: {tenantId: $t, username: $u}) { id } }`,
				"variables": map[string]any{"t": ten.ID, "u": fmt.Sprintf("u%d", i)},
			})
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, w.base+"/graphql", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+w.token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				refused++
				return
			}
			defer resp.Body.Close()
			var r gqlResponse
			if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || len(r.Errors) > 0 {
				t.Errorf("a request that was answered is broken: %v %+v", err, r.Errors)
				return
			}
			completed++
		}()
	}
	time.Sleep(5 * time.Millisecond)
	w.stop()
	wg.Wait()

	// Whatever was acknowledged must be there after a restart.
	w2 := startWard(t, w.dataDir)
	w2.token = bootstrapToken
	n := len(w2.listUsers(ten.ID))
	if n != completed {
		t.Errorf("after restart %d users exist, %d creations were acknowledged (%d refused)", n, completed, refused)
	}
}
