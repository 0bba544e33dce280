package function

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wardhq/ward/shared/errs"
)

type echoIn struct {
	Name string `json:"name"`
}

func (in *echoIn) Validate() error {
	if in.Name == "" {
		return errs.Invalid("name", "is required")
	}
	in.Name = strings.ToLower(in.Name)
	return nil
}

type echoOut struct {
	Greeting string `json:"greeting"`
	Caller   string `json:"caller"`
}

func testFunction() *Function {
	f := New("echo")
	Op(f, "echo.hello", func(ctx context.Context, c Caller, in echoIn) (echoOut, error) {
		return echoOut{Greeting: "hello " + in.Name, Caller: c.Subject}, nil
	})
	Op(f, "echo.fail", func(ctx context.Context, c Caller, in struct{}) (echoOut, error) {
		return echoOut{}, fmt.Errorf("database on fire")
	})
	Op(f, "echo.conflict", func(ctx context.Context, c Caller, in struct{}) (echoOut, error) {
		return echoOut{}, errs.New(errs.Conflict, "taken")
	})
	return f
}

func TestInvokeDecodesValidatesAndEncodes(t *testing.T) {
	f := testFunction()
	resp, fault := f.Invoke(context.Background(), Request{
		Op: "echo.hello", Caller: Caller{Subject: "u1"}, Input: json.RawMessage(`{"name":"ADA"}`),
	})
	if fault != nil || resp.Error != nil {
		t.Fatalf("Invoke = %+v, %v", resp, fault)
	}
	var got echoOut
	if err := json.Unmarshal(resp.Output, &got); err != nil {
		t.Fatal(err)
	}
	if want := (echoOut{Greeting: "hello ada", Caller: "u1"}); got != want {
		t.Errorf("output = %+v, want %+v", got, want)
	}
}

func TestInvokeRefusesBadInput(t *testing.T) {
	f := testFunction()
	cases := []struct {
		name  string
		input string
		code  errs.Code
	}{
		{"an unknown field", `{"name":"a","admin":true}`, errs.InvalidArgument},
		{"a wrong type", `{"name":5}`, errs.InvalidArgument},
		{"trailing data", `{"name":"a"} {}`, errs.InvalidArgument},
		{"not JSON", `{name`, errs.InvalidArgument},
		{"a failed validation", `{}`, errs.InvalidArgument},
		{"an oversized input", `{"name":"` + strings.Repeat("a", MaxInputBytes) + `"}`, errs.TooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := f.Invoke(context.Background(), Request{Op: "echo.hello", Input: json.RawMessage(tc.input)})
			if resp.Error == nil || resp.Error.Code != tc.code {
				t.Errorf("error = %+v, want code %s", resp.Error, tc.code)
			}
			if strings.Contains(fmt.Sprint(resp.Error), "echoIn") {
				t.Errorf("error names a Go type: %+v", resp.Error)
			}
		})
	}
}

func TestInvokeHidesInternalFaults(t *testing.T) {
	f := testFunction()
	resp, fault := f.Invoke(context.Background(), Request{Op: "echo.fail"})
	if resp.Error == nil || resp.Error.Code != errs.Internal {
		t.Fatalf("error = %+v, want INTERNAL", resp.Error)
	}
	if strings.Contains(resp.Error.Message, "fire") {
		t.Errorf("the client sees the cause: %q", resp.Error.Message)
	}
	if fault == nil || !strings.Contains(fault.Error(), "fire") {
		t.Errorf("fault = %v, want the cause for the log", fault)
	}

	resp, fault = f.Invoke(context.Background(), Request{Op: "echo.conflict"})
	if resp.Error == nil || resp.Error.Code != errs.Conflict || fault != nil {
		t.Errorf("coded error: %+v, fault %v; want CONFLICT and no fault", resp.Error, fault)
	}
}

func TestInvokeUnknownOperation(t *testing.T) {
	resp, _ := testFunction().Invoke(context.Background(), Request{Op: "echo.nope"})
	if resp.Error == nil || resp.Error.Code != errs.NotFound {
		t.Errorf("error = %+v, want NOT_FOUND", resp.Error)
	}
}

func TestRegisteringAnOperationTwicePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	f := testFunction()
	f.Handle("echo.hello", nil)
}

func TestCallerChecks(t *testing.T) {
	sys := Caller{Subject: "s", Roles: []string{RoleSystemAdmin}}
	adminA := Caller{Subject: "a", Tenant: "A", Roles: []string{RoleTenantAdmin}}
	userA := Caller{Subject: "u", Tenant: "A", Roles: []string{RoleUser}}
	noTenantAdmin := Caller{Subject: "x", Roles: []string{RoleTenantAdmin}}
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"system admin of any tenant", sys.RequireTenantAdmin("B"), nil},
		{"tenant admin of its tenant", adminA.RequireTenantAdmin("A"), nil},
		{"tenant admin of another tenant", adminA.RequireTenantAdmin("B"), errs.ErrPermissionDenied},
		{"tenant admin without a tenant", noTenantAdmin.RequireTenantAdmin(""), errs.ErrPermissionDenied},
		{"user as tenant admin", userA.RequireTenantAdmin("A"), errs.ErrPermissionDenied},
		{"anonymous as tenant admin", Caller{}.RequireTenantAdmin("A"), errs.ErrUnauthenticated},
		{"tenant admin as system admin", adminA.RequireSystemAdmin(), errs.ErrPermissionDenied},
		{"system admin as a service", sys.RequireService(), errs.ErrPermissionDenied},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == nil && tc.err != nil || tc.want != nil && !errors.Is(tc.err, tc.want) {
				t.Errorf("err = %v, want %v", tc.err, tc.want)
			}
		})
	}
}

func TestDecodeResponse(t *testing.T) {
	good := []string{`{"output":{"a":1}}`, `{"error":{"code":"NOT_FOUND","message":"x"}}`}
	for _, raw := range good {
		if _, err := DecodeResponse([]byte(raw)); err != nil {
			t.Errorf("DecodeResponse(%s) = %v", raw, err)
		}
	}
	bad := []string{
		`Task timed out after 3.00 seconds`,
		`{"errorMessage":"boom","errorType":"Runtime.ExitError"}`,
		`{}`,
		`{"output":1} {}`,
		`{"error":{"message":"no code"}}`,
	}
	for _, raw := range bad {
		if _, err := DecodeResponse([]byte(raw)); err == nil {
			t.Errorf("DecodeResponse(%s) accepted it", raw)
		}
	}
}

func TestMountUsesPatternsOrTheFunctionName(t *testing.T) {
	hello := func(body string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, body) })
	}
	plain := New("plain")
	plain.Routes = hello("plain")
	pages := New("pages")
	pages.Routes = hello("pages")
	pages.Patterns = []string{"/t/{tenant}/login", "/t/{tenant}/login/"}
	none := New("none")

	mux := http.NewServeMux()
	for _, f := range []*Function{plain, pages, none} {
		Mount(mux, f)
	}
	for path, want := range map[string]string{
		"/plain/x":          "plain",
		"/t/acme/login":     "pages",
		"/t/acme/login/mfa": "pages",
		"/none/":            "404 page not found\n",
		"/pages/":           "404 page not found\n",
	} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if got := rec.Body.String(); got != want {
			t.Errorf("GET %s = %q, want %q", path, got, want)
		}
	}
}
