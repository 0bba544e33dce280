package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/function/lambdafn/lambdatest"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/invoke/lambdainvoke"
	"github.com/wardhq/ward/shared/tenants"
)

// The Lambda tests build the real deployables (functions/<name>) as Lambda
// bootstraps for this machine and run them under the AWS Lambda Runtime
// Interface Emulator, which serves the Lambda runtime API to the function
// and the Invoke API's path to the test.

// lambdaToken is the bootstrap token of the functions under test.
const lambdaToken = "e2e-lambda-bootstrap-token-0123456789abcdef"

var lambdaSystemAdmin = function.Caller{Subject: "admin", Roles: []string{function.RoleSystemAdmin}}

var (
	lambdaBuildMu    sync.Mutex
	lambdaBootstraps = map[string]string{}
)

// lambdaBootstrap builds functions/<name> once per test binary run, into
// ${WARD_TEST_CACHE_DIR:-$HOME/.cache/ward}/e2e/lambda/<name>, where the next run
// overwrites it.
func lambdaBootstrap(tb testing.TB, name string) string {
	tb.Helper()
	lambdaBuildMu.Lock()
	defer lambdaBuildMu.Unlock()
	if p, ok := lambdaBootstraps[name]; ok {
		return p
	}
	cache := os.Getenv("WARD_TEST_CACHE_DIR")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			tb.Fatal(err)
		}
		cache = filepath.Join(home, ".cache", "ward")
	}
	dir := filepath.Join(cache, "e2e", "lambda", name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	p, err := lambdatest.BuildTo("github.com/wardhq/ward/functions/"+name, dir)
	if err != nil {
		tb.Fatal(err)
	}
	lambdaBootstraps[name] = p
	return p
}

// startLambda runs functions/<name> under the emulator on a fresh embedded
// store.
func startLambda(t *testing.T, name string) *lambdatest.Emulator {
	t.Helper()
	return lambdatest.Start(t, lambdaBootstrap(t, name), lambdatest.Options{Env: lambdaEnv(t.TempDir())})
}

func lambdaEnv(dataDir string) []string {
	return []string{
		"WARD_STORE=bolt",
		"WARD_DATA_DIR=" + dataDir,
		"WARD_BOOTSTRAP_TOKEN=" + lambdaToken,
		"WARD_LOG_LEVEL=warn",
	}
}

// invokeOK posts payload to the emulator and requires a 200 answer that is
// neither empty (a failed start-up answers 502 with nothing) nor the
// emulator's timeout text.
func invokeOK(t *testing.T, emu *lambdatest.Emulator, payload []byte) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	status, body, err := emu.Invoke(ctx, payload)
	if err != nil {
		t.Fatalf("invoke: %v\n%s", err, emu.Output())
	}
	if status != http.StatusOK || len(body) == 0 || strings.HasPrefix(string(body), "Task timed out") {
		t.Fatalf("invoke: status %d, body %q\n%s", status, body, emu.Output())
	}
	return body
}

// apiEvent is an HTTP API (payload format 2.0) event as API Gateway sends it.
func apiEvent(method, path string, headers map[string]string, body string) []byte {
	ev := events.APIGatewayV2HTTPRequest{
		Version:  "2.0",
		RouteKey: "$default",
		RawPath:  path,
		Headers:  headers,
		Body:     body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:   "$default",
			AccountID:  "123456789012",
			Stage:      "$default",
			RequestID:  "e2e-" + strings.ReplaceAll(strings.Trim(path, "/"), "/", "-"),
			APIID:      "e2eapi",
			DomainName: "e2eapi.execute-api.eu-west-1.amazonaws.com",
			TimeEpoch:  time.Now().UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: method, Path: path, Protocol: "HTTP/1.1",
				SourceIP: "203.0.113.9", UserAgent: "ward-e2e",
			},
		},
	}
	b, _ := json.Marshal(ev)
	return b
}

func apiResponse(t *testing.T, raw []byte) events.APIGatewayV2HTTPResponse {
	t.Helper()
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(raw, &resp); err != nil || resp.StatusCode == 0 {
		t.Fatalf("not an HTTP API answer: %s", raw)
	}
	return resp
}

func TestGraphQLFunctionOnLambda(t *testing.T) {
	emu := startLambda(t, "graphql")

	t.Run("GET /healthz through API Gateway", func(t *testing.T) {
		resp := apiResponse(t, invokeOK(t, emu, apiEvent("GET", "/healthz", nil, "")))
		if resp.StatusCode != http.StatusOK || resp.Body != `{"status":"ok"}` {
			t.Errorf("GET /healthz = %d %q", resp.StatusCode, resp.Body)
		}
	})

	type document = map[string]json.RawMessage
	gql := func(t *testing.T, token, query string) (events.APIGatewayV2HTTPResponse, document) {
		t.Helper()
		headers := map[string]string{"content-type": "application/json", "host": "id.example"}
		if token != "" {
			headers["authorization"] = "Bearer " + token
		}
		body, _ := json.Marshal(map[string]string{"query": query})
		resp := apiResponse(t, invokeOK(t, emu, apiEvent("POST", "/graphql", headers, string(body))))
		var doc document
		if err := json.Unmarshal([]byte(resp.Body), &doc); err != nil {
			t.Fatalf("GraphQL answer %q: %v", resp.Body, err)
		}
		return resp, doc
	}

	t.Run("POST /graphql creates and lists a tenant", func(t *testing.T) {
		resp, doc := gql(t, lambdaToken,
			`mutation { createTenant(input: {name: "lambda-acme", displayName: "Acme"}) { id name } }`)
		if resp.StatusCode != http.StatusOK || doc["errors"] != nil {
			t.Fatalf("createTenant = %d %s", resp.StatusCode, resp.Body)
		}
		var created struct {
			CreateTenant struct{ ID, Name string } `json:"createTenant"`
		}
		json.Unmarshal(doc["data"], &created)
		if created.CreateTenant.Name != "lambda-acme" || created.CreateTenant.ID == "" {
			t.Fatalf("createTenant = %s", doc["data"])
		}

		_, doc = gql(t, lambdaToken, `{ tenants { nodes { id name } } }`)
		var listed struct {
			Tenants struct {
				Nodes []struct{ ID, Name string } `json:"nodes"`
			} `json:"tenants"`
		}
		json.Unmarshal(doc["data"], &listed)
		found := false
		for _, n := range listed.Tenants.Nodes {
			found = found || n.ID == created.CreateTenant.ID
		}
		if !found {
			t.Errorf("tenants = %s, want %s among them", doc["data"], created.CreateTenant.ID)
		}
	})

	t.Run("POST /graphql without a token is refused", func(t *testing.T) {
		resp, doc := gql(t, "", `{ tenants { nodes { id } } }`)
		if resp.StatusCode != http.StatusUnauthorized || doc["data"] != nil && string(doc["data"]) != "null" {
			t.Errorf("anonymous query = %d %s", resp.StatusCode, resp.Body)
		}
	})
}

func TestTenantsFunctionOnLambda(t *testing.T) {
	emu := startLambda(t, "tenants")

	direct := func(t *testing.T, req function.Request) function.Response {
		t.Helper()
		payload, _ := json.Marshal(req)
		raw := invokeOK(t, emu, payload)
		var resp function.Response
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&resp); err != nil {
			t.Fatalf("not a function response: %s", raw)
		}
		return resp
	}

	t.Run("a direct invocation of tenants.list", func(t *testing.T) {
		resp := direct(t, function.Request{Op: tenants.OpList, Caller: lambdaSystemAdmin})
		if resp.Error != nil {
			t.Fatalf("error = %+v", resp.Error)
		}
		var out tenants.ListOutput
		if err := json.Unmarshal(resp.Output, &out); err != nil || out.Items == nil {
			t.Fatalf("output = %s (%v), want an items list", resp.Output, err)
		}
	})

	t.Run("a direct invocation by an anonymous caller is refused", func(t *testing.T) {
		resp := direct(t, function.Request{Op: tenants.OpList})
		if resp.Error == nil || resp.Error.Code != "UNAUTHENTICATED" {
			t.Errorf("anonymous tenants.list = %+v, want UNAUTHENTICATED", resp.Error)
		}
	})

	t.Run("lambdainvoke creates and lists tenants", func(t *testing.T) {
		client := lambda.New(lambda.Options{
			Region:       "us-east-1",
			BaseEndpoint: aws.String(emu.URL),
			Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: "AKIDE2E", SecretAccessKey: "e2e"}, nil
			}),
			RetryMaxAttempts: 1,
		})
		inv, err := lambdainvoke.New(client, lambdainvoke.Config{
			Functions: map[string]string{tenants.FunctionName: "function"},
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()

		for i := range 3 {
			in := tenants.CreateInput{Name: fmt.Sprintf("via-lambda-%d", i), DisplayName: "L"}
			_, err := invoke.Call[json.RawMessage](ctx, inv, tenants.FunctionName, tenants.OpCreate,
				lambdaSystemAdmin, in)
			if err != nil {
				t.Fatalf("tenants.create: %v\n%s", err, emu.Output())
			}
		}
		out, err := invoke.Call[tenants.ListOutput](ctx, inv, tenants.FunctionName, tenants.OpList,
			lambdaSystemAdmin, tenants.ListInput{})
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, ten := range out.Items {
			names[ten.Name] = true
		}
		for i := range 3 {
			if !names[fmt.Sprintf("via-lambda-%d", i)] {
				t.Errorf("tenant via-lambda-%d not listed: %+v", i, out.Items)
			}
		}

		_, err = invoke.Call[json.RawMessage](ctx, inv, tenants.FunctionName, tenants.OpCreate,
			lambdaSystemAdmin, tenants.CreateInput{Name: "via-lambda-0", DisplayName: "again"})
		if !errors.Is(err, errs.ErrConflict) {
			t.Errorf("a duplicate tenant: err = %v, want CONFLICT", err)
		}
	})
}

// TestLambdaColdStartOnce logs one cold start of the facade: from starting
// the emulator process to the first answer of GET /healthz. It is a single
// sample for the log; BenchmarkColdStart is the measurement.
func TestLambdaColdStartOnce(t *testing.T) {
	bin := lambdaBootstrap(t, "graphql")
	emu, err := lambdatest.Launch(lambdatest.RIEPath(t), bin, lambdatest.Options{Env: lambdaEnv(t.TempDir())})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emu.Stop)

	resp := apiResponse(t, invokeOK(t, emu, apiEvent("GET", "/healthz", nil, "")))
	elapsed := time.Since(emu.Started)

	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz = %d %q", resp.StatusCode, resp.Body)
	}
	t.Logf("cold start of graphql (emulator start to first answer): %v", elapsed)
}

// BenchmarkColdStart starts the emulator and a deployable afresh in every
// iteration and measures until the first successful answer: the emulator's
// own start-up, the function's init (configuration, store, bootstrap) and
// the first request.
func BenchmarkColdStart(b *testing.B) {
	cases := []struct {
		name    string
		payload []byte
		ok      func([]byte) bool
	}{
		{"graphql_healthz", apiEvent("GET", "/healthz", nil, ""), func(raw []byte) bool {
			return strings.Contains(string(raw), `"statusCode":200`) && strings.Contains(string(raw), `status`)
		}},
		{"tenants_list", mustJSON(function.Request{Op: tenants.OpList, Caller: lambdaSystemAdmin}),
			func(raw []byte) bool { return strings.HasPrefix(string(raw), `{"output":{"items":`) }},
	}
	for _, c := range cases {
		fn, _, _ := strings.Cut(c.name, "_")
		b.Run(c.name, func(b *testing.B) {
			bin := lambdaBootstrap(b, fn)
			rie := lambdatest.RIEPath(b)
			var total time.Duration
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				dataDir := b.TempDir()
				b.StartTimer()

				emu, err := lambdatest.Launch(rie, bin, lambdatest.Options{Env: lambdaEnv(dataDir)})
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				status, raw, err := emu.Invoke(ctx, c.payload)
				elapsed := time.Since(emu.Started)
				cancel()

				b.StopTimer()
				emu.Stop()
				if err != nil || status != http.StatusOK || !c.ok(raw) {
					b.Fatalf("first answer: %d %v %q\n%s", status, err, raw, emu.Output())
				}
				total += elapsed
				b.StartTimer()
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/cold-start")
		})
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
