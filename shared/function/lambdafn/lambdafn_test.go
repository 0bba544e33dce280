package lambdafn_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/function/lambdafn"
)

// binaryBody is not UTF-8, so it must travel base64-encoded.
var binaryBody = []byte{0x89, 'P', 'N', 'G', 0x00, 0xff, 0xfe, 0x10}

// seen is what the echo route saw of its request.
type seen struct {
	Method     string              `json:"method"`
	Path       string              `json:"path"`
	Query      map[string][]string `json:"query"`
	Host       string              `json:"host"`
	Accept     string              `json:"accept"`
	Custom     []string            `json:"custom"`
	Cookies    map[string]string   `json:"cookies"`
	Body       []byte              `json:"body"`
	RemoteAddr string              `json:"remoteAddr"`
	RequestID  string              `json:"requestId"`
}

func routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s := seen{
			Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Host: r.Host,
			Accept: r.Header.Get("Accept"), Custom: r.Header.Values("X-Custom"),
			Cookies: map[string]string{}, Body: b, RemoteAddr: r.RemoteAddr,
			RequestID: function.RequestID(r.Context()),
		}
		for _, c := range r.Cookies() {
			s.Cookies[c.Name] = c.Value
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(s)
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s1", Path: "/", HttpOnly: true})
		http.SetCookie(w, &http.Cookie{Name: "csrf", Value: "c1", Path: "/"})
		http.SetCookie(w, &http.Cookie{Name: "theme", Value: "dark", MaxAge: 3600})
		w.Header().Add("Vary", "Cookie")
		w.Header().Add("Vary", "Accept-Language")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusFound)
		w.Write([]byte("welcome"))
		w.Header().Set("X-Too-Late", "1")
	})
	mux.HandleFunc("GET /logo.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(binaryBody)
	})
	mux.HandleFunc("GET /sniffed", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<!DOCTYPE html><p>hi</p>"))
	})
	mux.HandleFunc("DELETE /thing", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
		w.Write([]byte("ignored"))
	})
	return mux
}

type addIn struct {
	A int `json:"a"`
	B int `json:"b"`
}

func newFunction() *function.Function {
	f := function.New("calc")
	f.Routes = routes()
	function.Op(f, "calc.add", func(_ context.Context, _ function.Caller, in addIn) (map[string]int, error) {
		return map[string]int{"sum": in.A + in.B}, nil
	})
	function.Op(f, "calc.whoami",
		func(ctx context.Context, c function.Caller, _ struct{}) (map[string]any, error) {
			id := function.RequestID(ctx)
			return map[string]any{"sub": c.Subject, "roles": c.Roles, "requestId": id}, nil
		})
	function.Op(f, "calc.fault", func(context.Context, function.Caller, struct{}) (any, error) {
		return nil, errors.New("coprocessor missing")
	})
	return f
}

func newHandler(logs io.Writer) func(context.Context, json.RawMessage) (json.RawMessage, error) {
	return lambdafn.Handler(newFunction(), slog.New(slog.NewJSONHandler(logs, nil)))
}

// httpEvent is an HTTP API payload 2.0 event as API Gateway sends it.
func httpEvent(method, rawPath, rawQuery string, headers map[string]string, cookies []string,
	body string, b64 bool) json.RawMessage {
	ev := map[string]any{
		"version":        "2.0",
		"routeKey":       "$default",
		"rawPath":        rawPath,
		"rawQueryString": rawQuery,
		"headers":        headers,
		"requestContext": map[string]any{
			"accountId":    "123456789012",
			"apiId":        "api1",
			"domainName":   "api1.execute-api.eu-west-1.amazonaws.com",
			"domainPrefix": "api1",
			"http": map[string]any{
				"method": method, "path": rawPath, "protocol": "HTTP/1.1",
				"sourceIp": "203.0.113.7", "userAgent": "test",
			},
			"requestId": "req-abc",
			"routeKey":  "$default",
			"stage":     "$default",
			"time":      "01/Mar/2026:12:00:00 +0000",
			"timeEpoch": 1772366400000,
		},
		"isBase64Encoded": b64,
	}
	if len(cookies) > 0 {
		ev["cookies"] = cookies
	}
	if body != "" {
		ev["body"] = body
	}
	b, _ := json.Marshal(ev)
	return b
}

func serveEvent(t *testing.T, ev json.RawMessage) events.APIGatewayV2HTTPResponse {
	t.Helper()
	var logs bytes.Buffer
	out, err := newHandler(&logs)(context.Background(), ev)
	if err != nil {
		t.Fatalf("handler: %v", err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("answer %s: %v", out, err)
	}
	return resp
}

func echo(t *testing.T, resp events.APIGatewayV2HTTPResponse) seen {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %q", resp.StatusCode, resp.Body)
	}
	if resp.IsBase64Encoded {
		t.Fatalf("a JSON answer was base64-encoded")
	}
	var s seen
	if err := json.Unmarshal([]byte(resp.Body), &s); err != nil {
		t.Fatalf("echo body %q: %v", resp.Body, err)
	}
	return s
}

func TestEveryCookieOfOneResponseSurvives(t *testing.T) {
	host := map[string]string{"host": "id.example"}
	resp := serveEvent(t, httpEvent("GET", "/login", "", host, nil, "", false))

	if resp.StatusCode != http.StatusFound {
		t.Errorf("status = %d, want 302", resp.StatusCode)
	}
	want := []string{"csrf=c1; Path=/", "session=s1; Path=/; HttpOnly", "theme=dark; Max-Age=3600"}
	got := append([]string(nil), resp.Cookies...)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cookies (-want +got):\n%s", diff)
	}
	for k := range resp.Headers {
		if strings.EqualFold(k, "Set-Cookie") {
			t.Errorf("Set-Cookie left in headers: %q", resp.Headers[k])
		}
	}
	if got, want := resp.Headers["Vary"], "Cookie, Accept-Language"; got != want {
		t.Errorf("Vary = %q, want %q", got, want)
	}
	if _, ok := resp.Headers["X-Too-Late"]; ok {
		t.Error("a header set after the body was sent")
	}
	if resp.Body != "welcome" || resp.IsBase64Encoded {
		t.Errorf("body = %q (base64 %v), want plain welcome", resp.Body, resp.IsBase64Encoded)
	}
}

func TestRequestSurvivesTheEvent(t *testing.T) {
	headers := map[string]string{
		"host":         "id.example",
		"accept":       "text/html, application/json;q=0.9",
		"x-custom":     "one, two",
		"content-type": "text/plain",
	}
	ev := httpEvent("POST", "/echo", "a=1&a=2&b=x%20y&empty=", headers,
		[]string{"sid=abc", "lang=en"}, "plain body ✓", false)

	got := echo(t, serveEvent(t, ev))

	want := seen{
		Method: "POST", Path: "/echo",
		Query: map[string][]string{"a": {"1", "2"}, "b": {"x y"}, "empty": {""}},
		Host:  "id.example", Accept: "text/html, application/json;q=0.9",
		Custom:  []string{"one, two"},
		Cookies: map[string]string{"sid": "abc", "lang": "en"},
		Body:    []byte("plain body ✓"), RemoteAddr: "203.0.113.7", RequestID: "req-abc",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
}

func TestBase64RequestBodySurvives(t *testing.T) {
	ev := httpEvent("PUT", "/echo", "", map[string]string{"content-type": "application/octet-stream"},
		nil, base64.StdEncoding.EncodeToString(binaryBody), true)

	got := echo(t, serveEvent(t, ev))

	if !bytes.Equal(got.Body, binaryBody) {
		t.Errorf("body = %x, want %x", got.Body, binaryBody)
	}
}

func TestBinaryResponseIsBase64Encoded(t *testing.T) {
	resp := serveEvent(t, httpEvent("GET", "/logo.png", "", nil, nil, "", false))

	if !resp.IsBase64Encoded {
		t.Fatal("binary body sent as a string")
	}
	b, err := base64.StdEncoding.DecodeString(resp.Body)
	if err != nil || !bytes.Equal(b, binaryBody) {
		t.Errorf("body decodes to %x (%v), want %x", b, err, binaryBody)
	}
	if got := resp.Headers["Content-Type"]; got != "image/png" {
		t.Errorf("Content-Type = %q", got)
	}
}

func TestResponseDetails(t *testing.T) {
	t.Run("an unset content type is sniffed", func(t *testing.T) {
		resp := serveEvent(t, httpEvent("GET", "/sniffed", "", nil, nil, "", false))
		if got := resp.Headers["Content-Type"]; got != "text/html; charset=utf-8" {
			t.Errorf("Content-Type = %q", got)
		}
		if resp.IsBase64Encoded || !strings.Contains(resp.Body, "<p>hi</p>") {
			t.Errorf("body = %q (base64 %v)", resp.Body, resp.IsBase64Encoded)
		}
	})
	t.Run("204 has no body", func(t *testing.T) {
		resp := serveEvent(t, httpEvent("DELETE", "/thing", "", nil, nil, "", false))
		if resp.StatusCode != http.StatusNoContent || resp.Body != "" {
			t.Errorf("got %d %q, want 204 and no body", resp.StatusCode, resp.Body)
		}
	})
	t.Run("HEAD has no body", func(t *testing.T) {
		resp := serveEvent(t, httpEvent("HEAD", "/sniffed", "", nil, nil, "", false))
		if resp.StatusCode != http.StatusOK || resp.Body != "" {
			t.Errorf("got %d %q, want 200 and no body", resp.StatusCode, resp.Body)
		}
	})
	t.Run("an unknown path is 404", func(t *testing.T) {
		resp := serveEvent(t, httpEvent("GET", "/nowhere", "", nil, nil, "", false))
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("status = %d, want 404", resp.StatusCode)
		}
	})
}

func TestFunctionWithoutRoutesAnswers404(t *testing.T) {
	h := lambdafn.Handler(function.New("bare"), slog.New(slog.NewTextHandler(io.Discard, nil)))

	out, err := h(context.Background(), httpEvent("GET", "/", "", nil, nil, "", false))

	if err != nil {
		t.Fatal(err)
	}
	var resp events.APIGatewayV2HTTPResponse
	json.Unmarshal(out, &resp)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status = %d, want 404", resp.StatusCode)
	}
}

func invokeDirect(t *testing.T, ctx context.Context, payload string) (function.Response, string) {
	t.Helper()
	var logs bytes.Buffer
	out, err := newHandler(&logs)(ctx, json.RawMessage(payload))
	if err != nil {
		t.Fatalf("handler: %v", err)
	}
	var resp function.Response
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("answer %s: %v", out, err)
	}
	return resp, logs.String()
}

func TestDirectInvocationRunsTheOperation(t *testing.T) {
	resp, _ := invokeDirect(t, context.Background(),
		`{"op":"calc.add","caller":{"sub":"svc"},"input":{"a":2,"b":40}}`)

	if resp.Error != nil {
		t.Fatalf("error = %+v", resp.Error)
	}
	if got, want := string(resp.Output), `{"sum":42}`; got != want {
		t.Errorf("output = %s, want %s", got, want)
	}
}

func TestDirectInvocationCarriesCallerAndRequestID(t *testing.T) {
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "aws-1"})

	t.Run("the Lambda request ID fills a missing one", func(t *testing.T) {
		resp, _ := invokeDirect(t, ctx,
			`{"op":"calc.whoami","caller":{"sub":"admin","roles":["system_admin"]}}`)
		want := `{"requestId":"aws-1","roles":["system_admin"],"sub":"admin"}`
		if string(resp.Output) != want {
			t.Errorf("output = %s, want %s", resp.Output, want)
		}
	})
	t.Run("the caller's request ID wins", func(t *testing.T) {
		resp, _ := invokeDirect(t, ctx, `{"op":"calc.whoami","caller":{"sub":"u"},"requestId":"facade-9"}`)
		if !strings.Contains(string(resp.Output), `"requestId":"facade-9"`) {
			t.Errorf("output = %s", resp.Output)
		}
	})
}

func TestDirectInvocationErrorsAreCoded(t *testing.T) {
	tests := []struct {
		name     string
		payload  string
		wantCode errs.Code
		wantLog  string
	}{
		{"an unknown operation", `{"op":"calc.divide","caller":{"sub":"u"}}`, errs.NotFound, ""},
		{"an empty operation name", `{"op":""}`, errs.NotFound, ""},
		{"bad input", `{"op":"calc.add","input":{"a":"two"}}`, errs.InvalidArgument, ""},
		{"a fault", `{"op":"calc.fault"}`, errs.Internal, "coprocessor missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, logs := invokeDirect(t, context.Background(), tt.payload)

			if resp.Error == nil || resp.Error.Code != tt.wantCode {
				t.Fatalf("error = %+v, want %s", resp.Error, tt.wantCode)
			}
			if strings.Contains(resp.Error.Message, "coprocessor") {
				t.Error("the cause of a fault reached the caller")
			}
			if tt.wantLog != "" && !strings.Contains(logs, tt.wantLog) {
				t.Errorf("log %q lacks %q", logs, tt.wantLog)
			}
		})
	}
}

func TestMalformedEventsAreErrors(t *testing.T) {
	restV1 := `{"version":"1.0","resource":"/x","path":"/x","httpMethod":"GET",` +
		`"requestContext":{"httpMethod":"GET"}}`
	tests := []struct{ name, payload string }{
		{"not JSON", `not json`},
		{"a JSON array", `[1,2,3]`},
		{"a JSON string", `"calc.add"`},
		{"an empty object", `{}`},
		{"a REST API payload 1.0 event", restV1},
		{"an HTTP event without a version", `{"requestContext":{"http":{"method":"GET"}},"rawPath":"/"}`},
		{"version 2.0 without requestContext.http", `{"version":"2.0","rawPath":"/"}`},
		{"an HTTP event without a method", `{"version":"2.0","requestContext":{"http":{"path":"/"}}}`},
		{"an HTTP event with a bad base64 body",
			`{"version":"2.0","rawPath":"/echo","requestContext":{"http":{"method":"POST"}},` +
				`"body":"@@@","isBase64Encoded":true}`},
		{"an HTTP event that is also an invocation",
			`{"version":"2.0","op":"calc.add","requestContext":{"http":{"method":"GET"}}}`},
		{"an invocation with an unknown field", `{"op":"calc.add","caller":{"sub":"u"},"sudo":true}`},
		{"an invocation with a caller of the wrong type", `{"op":"calc.add","caller":"root"}`},
		{"an invocation with trailing data", `{"op":"calc.add"} {"op":"calc.add"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			out, err := newHandler(&logs)(context.Background(), json.RawMessage(tt.payload))

			if !errors.Is(err, lambdafn.ErrMalformedEvent) {
				t.Errorf("err = %v, want ErrMalformedEvent", err)
			}
			if out != nil {
				t.Errorf("answer %s alongside the error", out)
			}
			if !strings.Contains(logs.String(), "event refused") {
				t.Errorf("refusal not logged: %s", logs.String())
			}
		})
	}
}
