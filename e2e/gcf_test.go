package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/config"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/function/gcf"
	"github.com/wardhq/ward/shared/function/httpfn"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/invoke/httpinvoke"
	"github.com/wardhq/ward/shared/platform"
	"github.com/wardhq/ward/shared/platform/facade"
	"github.com/wardhq/ward/shared/tenants"
)

// TestGraphQLFunctionOnCloudFunctions runs the facade on the Functions
// Framework, as Cloud Functions runs it (FUNCTION_TARGET set), with the
// tenants function deployed apart and reached over the signed HTTP
// transport: the split deployment of Ward on Google Cloud.
//
// Both run in this process, assembled by the platform package as the
// deployables assemble them, and listen on loopback only. (The deployables
// themselves listen on all interfaces in this mode, as Cloud Run requires,
// so the test does not start them as they are.) The framework serves one
// set of functions per process: this is the only test here that starts it.
func TestGraphQLFunctionOnCloudFunctions(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	keyBytes := make([]byte, 32)
	rand.Read(keyBytes)
	key := hex.EncodeToString(keyBytes)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	// The tenants function, on its own store, behind the invoke endpoint.
	tenantsCfg := gcfConfig(t, "WARD_DATA_DIR="+t.TempDir(), "WARD_INVOKE_KEY="+key)
	tp, err := platform.Open(ctx, tenantsCfg, quiet, []string{tenants.FunctionName}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tp.Close() })
	tenantsSrv := httptest.NewServer(httpfn.Handler(tp.Local.Function(tenants.FunctionName), keyBytes,
		httpfn.WithLogger(quiet)))
	t.Cleanup(tenantsSrv.Close)

	// The facade, sending tenants operations to that server.
	facadeCfg := gcfConfig(t, "WARD_DATA_DIR="+t.TempDir(), "WARD_INVOKE_KEY="+key,
		"WARD_BOOTSTRAP_TOKEN="+lambdaToken, "WARD_INVOKE_TENANTS="+tenantsSrv.URL)
	fp, err := platform.Open(ctx, facadeCfg, quiet, platform.DomainNames(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fp.Close() })

	t.Setenv("FUNCTION_TARGET", platform.Facade)
	port := gcfFreePort(t)
	served := make(chan error, 1)
	front, err := facade.Build(ctx, fp)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		served <- gcf.Start(ctx, front, keyBytes, "127.0.0.1", port, httpfn.WithLogger(quiet))
	}()
	base := "http://127.0.0.1:" + port
	gcfWaitListening(t, "127.0.0.1:"+port, served)

	t.Run("GET /healthz", func(t *testing.T) {
		status, body := gcfDo(t, http.MethodGet, base+"/healthz", "", nil)
		if status != http.StatusOK || string(body) != `{"status":"ok"}` {
			t.Errorf("GET /healthz = %d %q", status, body)
		}
	})

	t.Run("POST /graphql creates a tenant in the tenants function", func(t *testing.T) {
		query, _ := json.Marshal(map[string]string{"query": `mutation {
			createTenant(input: {name: "gcf-acme", displayName: "Acme"}) { id name } }`})
		status, body := gcfDo(t, http.MethodPost, base+"/graphql", lambdaToken, query)
		var doc struct {
			Data struct {
				CreateTenant struct{ ID, Name string } `json:"createTenant"`
			} `json:"data"`
			Errors []json.RawMessage `json:"errors"`
		}
		if err := json.Unmarshal(body, &doc); err != nil || status != http.StatusOK || len(doc.Errors) > 0 {
			t.Fatalf("createTenant = %d %s", status, body)
		}
		created := doc.Data.CreateTenant

		// Asked directly, the tenants function has it: the facade reached
		// it over the signed transport, not in process.
		inv, err := httpinvoke.New(httpinvoke.Config{
			URLs: map[string]string{tenants.FunctionName: tenantsSrv.URL}, Key: keyBytes})
		if err != nil {
			t.Fatal(err)
		}
		admin := function.Caller{Subject: "admin", Roles: []string{function.RoleSystemAdmin}}
		list, err := invoke.Call[tenants.ListOutput](ctx, inv, tenants.FunctionName, tenants.OpList,
			admin, tenants.ListInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != 1 || list.Items[0].ID != created.ID || list.Items[0].Name != "gcf-acme" {
			t.Errorf("tenants.list = %+v, want just %+v", list.Items, created)
		}
	})

	t.Run("POST /graphql without a token is refused", func(t *testing.T) {
		status, body := gcfDo(t, http.MethodPost, base+"/graphql", "",
			[]byte(`{"query":"{ tenants { nodes { id } } }"}`))
		if status != http.StatusUnauthorized || !strings.Contains(string(body), "UNAUTHENTICATED") {
			t.Errorf("anonymous query = %d %s", status, body)
		}
	})

	t.Run("a signed invocation reaches the facade's operations", func(t *testing.T) {
		inv, err := httpinvoke.New(httpinvoke.Config{
			URLs: map[string]string{platform.Facade: base}, Key: keyBytes})
		if err != nil {
			t.Fatal(err)
		}
		// The facade has no operations of its own: a signed call is
		// answered, with the operation's NOT_FOUND.
		resp, err := inv.Invoke(ctx, platform.Facade, function.Request{Op: tenants.OpList})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Error == nil || resp.Error.Code != errs.NotFound {
			t.Errorf("signed call = %+v, want NOT_FOUND", resp)
		}
	})

	t.Run("an unsigned invocation is refused", func(t *testing.T) {
		status, _ := gcfDo(t, http.MethodPost, base+httpfn.InvokePath, "",
			[]byte(`{"op":"tenants.list","caller":{"sub":"x","roles":["system_admin"]}}`))
		if status != http.StatusUnauthorized {
			t.Errorf("unsigned call = %d, want 401", status)
		}
	})

	t.Run("a call signed with another key is refused", func(t *testing.T) {
		other := bytes.Repeat([]byte{1}, 32)
		inv, err := httpinvoke.New(httpinvoke.Config{
			URLs: map[string]string{platform.Facade: base}, Key: other})
		if err != nil {
			t.Fatal(err)
		}
		_, err = inv.Invoke(ctx, platform.Facade, function.Request{Op: tenants.OpList})
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("err = %v, want a 401 refusal", err)
		}
	})
}

func gcfConfig(t *testing.T, env ...string) config.Config {
	t.Helper()
	cfg, err := config.FromEnv(config.Defaults(), append(env, "WARD_LOG_LEVEL=warn"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func gcfDo(t *testing.T, method, url, token string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, b
}

func gcfFreePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

func gcfWaitListening(t *testing.T, addr string, served <-chan error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case err := <-served:
			t.Fatalf("gcf.Start returned: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not listening: %v", addr, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
