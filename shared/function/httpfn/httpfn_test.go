package httpfn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/function/httpfn"
)

var testKey = bytes.Repeat([]byte{0x5a}, 32)

// fixedNow is the server's clock in every test.
var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type echoIn struct {
	Text string `json:"text"`
}

func newFunction(routes http.Handler) *function.Function {
	f := function.New("notes")
	f.Routes = routes
	function.Op(f, "notes.echo",
		func(_ context.Context, c function.Caller, in echoIn) (map[string]string, error) {
			return map[string]string{"text": in.Text, "sub": c.Subject}, nil
		})
	function.Op(f, "notes.conflict", func(context.Context, function.Caller, echoIn) (any, error) {
		return nil, errs.New(errs.Conflict, "already there")
	})
	function.Op(f, "notes.fault", func(context.Context, function.Caller, echoIn) (any, error) {
		return nil, errors.New("disk on fire")
	})
	return f
}

func newHandler(t *testing.T, f *function.Function, key []byte, logs *bytes.Buffer) http.Handler {
	t.Helper()
	l := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return httpfn.Handler(f, key, httpfn.WithLogger(l),
		httpfn.WithClock(func() time.Time { return fixedNow }))
}

func body(t *testing.T, req function.Request) []byte {
	t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func signedRequest(key []byte, fn string, at time.Time, b []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, httpfn.InvokePath, bytes.NewReader(b))
	r.Header.Set("Content-Type", "application/json")
	httpfn.SignRequest(r, key, fn, at, b)
	return r
}

func serve(h http.Handler, r *http.Request) (*httptest.ResponseRecorder, function.Response) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var resp function.Response
	json.Unmarshal(w.Body.Bytes(), &resp)
	return w, resp
}

func TestInvokeRunsTheOperation(t *testing.T) {
	var logs bytes.Buffer
	h := newHandler(t, newFunction(nil), testKey, &logs)
	req := function.Request{
		Op:     "notes.echo",
		Caller: function.Caller{Subject: "alice"},
		Input:  json.RawMessage(`{"text":"hi"}`),
	}

	w, resp := serve(h, signedRequest(testKey, "notes", fixedNow, body(t, req)))

	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", w.Code, w.Body)
	}
	if resp.Error != nil {
		t.Fatalf("error = %+v, want none", resp.Error)
	}
	var got map[string]string
	if err := json.Unmarshal(resp.Output, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"text": "hi", "sub": "alice"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
}

func TestInvokeReturnsOperationErrorsWithTheirCode(t *testing.T) {
	tests := []struct {
		name     string
		op       string
		input    string
		wantCode errs.Code
		wantLog  string
	}{
		{"a coded error keeps its code", "notes.conflict", `{}`, errs.Conflict, ""},
		{"an unknown operation is not found", "notes.nope", `{}`, errs.NotFound, ""},
		{"bad input is invalid", "notes.echo", `{"color":"red"}`, errs.InvalidArgument, ""},
		{"a fault is internal and logged", "notes.fault", `{}`, errs.Internal, "disk on fire"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := newHandler(t, newFunction(nil), testKey, &logs)
			req := function.Request{Op: tt.op, Input: json.RawMessage(tt.input)}

			w, resp := serve(h, signedRequest(testKey, "notes", fixedNow, body(t, req)))

			if w.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200", w.Code)
			}
			if resp.Error == nil || resp.Error.Code != tt.wantCode {
				t.Fatalf("error = %+v, want code %s", resp.Error, tt.wantCode)
			}
			if strings.Contains(w.Body.String(), "disk on fire") {
				t.Error("the cause of a fault reached the client")
			}
			if tt.wantLog != "" && !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log %q does not mention %q", logs.String(), tt.wantLog)
			}
		})
	}
}

func TestInvokeRefusesBadSignatures(t *testing.T) {
	otherKey := bytes.Repeat([]byte{0x33}, 32)
	good := body(t, function.Request{Op: "notes.echo", Input: json.RawMessage(`{"text":"x"}`)})

	tests := []struct {
		name   string
		modify func(r *http.Request)
	}{
		{"no headers at all", func(r *http.Request) {
			r.Header.Del(httpfn.TimestampHeader)
			r.Header.Del(httpfn.SignatureHeader)
		}},
		{"no signature", func(r *http.Request) { r.Header.Del(httpfn.SignatureHeader) }},
		{"no timestamp", func(r *http.Request) { r.Header.Del(httpfn.TimestampHeader) }},
		{"signed with another key", func(r *http.Request) {
			httpfn.SignRequest(r, otherKey, "notes", fixedNow, good)
		}},
		{"signed for another function", func(r *http.Request) {
			httpfn.SignRequest(r, testKey, "users", fixedNow, good)
		}},
		{"signed over another body", func(r *http.Request) {
			httpfn.SignRequest(r, testKey, "notes", fixedNow, []byte(`{"op":"notes.echo"}`))
		}},
		{"signed six minutes ago", func(r *http.Request) {
			httpfn.SignRequest(r, testKey, "notes", fixedNow.Add(-6*time.Minute), good)
		}},
		{"signed six minutes ahead", func(r *http.Request) {
			httpfn.SignRequest(r, testKey, "notes", fixedNow.Add(6*time.Minute), good)
		}},
		{"timestamp changed after signing", func(r *http.Request) {
			r.Header.Set(httpfn.TimestampHeader, strconv.FormatInt(fixedNow.Unix()-1, 10))
		}},
		{"timestamp not a number", func(r *http.Request) {
			r.Header.Set(httpfn.TimestampHeader, "+"+strconv.FormatInt(fixedNow.Unix(), 10))
		}},
		{"signature of an unknown version", func(r *http.Request) {
			sig := r.Header.Get(httpfn.SignatureHeader)
			r.Header.Set(httpfn.SignatureHeader, "v2="+strings.TrimPrefix(sig, "v1="))
		}},
		{"signature not hex", func(r *http.Request) {
			r.Header.Set(httpfn.SignatureHeader, "v1="+strings.Repeat("zz", 32))
		}},
		{"signature truncated", func(r *http.Request) {
			sig := r.Header.Get(httpfn.SignatureHeader)
			r.Header.Set(httpfn.SignatureHeader, sig[:len(sig)-2])
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := newHandler(t, newFunction(nil), testKey, &logs)
			r := signedRequest(testKey, "notes", fixedNow, good)
			tt.modify(r)

			w, resp := serve(h, r)

			if w.Code != http.StatusUnauthorized {
				t.Fatalf("status = %d, want 401", w.Code)
			}
			if resp.Error == nil || resp.Error.Code != errs.Unauthenticated {
				t.Errorf("error = %+v, want UNAUTHENTICATED", resp.Error)
			}
			if !strings.Contains(logs.String(), "invoke signature refused") {
				t.Errorf("refusal not logged: %s", logs.String())
			}
			if strings.Contains(logs.String(), `"op"`) {
				t.Errorf("an unverified request reached the operation: %s", logs.String())
			}
		})
	}
}

func TestInvokeAcceptsSkewJustInsideTheLimit(t *testing.T) {
	for _, skew := range []time.Duration{-httpfn.MaxSkew + time.Second, httpfn.MaxSkew - time.Second} {
		var logs bytes.Buffer
		h := newHandler(t, newFunction(nil), testKey, &logs)
		b := body(t, function.Request{Op: "notes.echo"})

		w, _ := serve(h, signedRequest(testKey, "notes", fixedNow.Add(skew), b))

		if w.Code != http.StatusOK {
			t.Errorf("skew %v: status = %d, want 200", skew, w.Code)
		}
	}
}

func TestInvokeRefusesMalformedRequests(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		ctype      string
		body       []byte
		wantStatus int
		wantCode   errs.Code
	}{
		{"GET", http.MethodGet, "application/json", nil, http.StatusMethodNotAllowed, errs.InvalidArgument},
		{"a form body", http.MethodPost, "application/x-www-form-urlencoded", []byte("op=x"),
			http.StatusUnsupportedMediaType, errs.InvalidArgument},
		{"signed JSON that is not a request", http.MethodPost, "application/json", []byte(`[1,2]`),
			http.StatusBadRequest, errs.InvalidArgument},
		{"an unknown envelope field", http.MethodPost, "application/json",
			[]byte(`{"op":"notes.echo","admin":true}`), http.StatusBadRequest, errs.InvalidArgument},
		{"trailing data", http.MethodPost, "application/json",
			[]byte(`{"op":"notes.echo"} {"op":"notes.echo"}`), http.StatusBadRequest, errs.InvalidArgument},
		{"a body over the limit", http.MethodPost, "application/json",
			append([]byte(`{"op":"notes.echo","input":"`), bytes.Repeat([]byte("a"), httpfn.MaxBodyBytes)...),
			http.StatusRequestEntityTooLarge, errs.TooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := newHandler(t, newFunction(nil), testKey, &logs)
			r := httptest.NewRequest(tt.method, httpfn.InvokePath, bytes.NewReader(tt.body))
			r.Header.Set("Content-Type", tt.ctype)
			httpfn.SignRequest(r, testKey, "notes", fixedNow, tt.body)

			w, resp := serve(h, r)

			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", w.Code, tt.wantStatus)
			}
			if resp.Error == nil || resp.Error.Code != tt.wantCode {
				t.Errorf("error = %+v, want %s", resp.Error, tt.wantCode)
			}
		})
	}
}

func TestEmptyKeyDisablesInvoke(t *testing.T) {
	var logs bytes.Buffer
	routes := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the invoke path reached the routes")
	})
	h := newHandler(t, newFunction(routes), nil, &logs)
	// HMAC accepts an empty key, so this is the best forgery there is.
	r := signedRequest(nil, "notes", fixedNow, body(t, function.Request{Op: "notes.echo"}))

	w, _ := serve(h, r)

	if w.Code != http.StatusNotFound {
		t.Errorf("status = %d, want 404", w.Code)
	}
}

func TestShortKeyPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Handler accepted a 16-byte key")
		}
	}()
	httpfn.Handler(newFunction(nil), make([]byte, 16))
}

func TestCheckKey(t *testing.T) {
	if err := httpfn.CheckKey(nil); err != nil {
		t.Errorf("empty key: %v", err)
	}
	if err := httpfn.CheckKey(make([]byte, 31)); err == nil {
		t.Error("31-byte key accepted")
	}
	if err := httpfn.CheckKey(make([]byte, 32)); err != nil {
		t.Errorf("32-byte key: %v", err)
	}
}

func TestOtherPathsGoToRoutes(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("hello " + r.URL.Query().Get("name")))
	})
	var logs bytes.Buffer
	h := newHandler(t, newFunction(mux), testKey, &logs)

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/hello?name=bob", nil))

	if got, want := w.Body.String(), "hello bob"; w.Code != 200 || got != want {
		t.Errorf("GET /hello = %d %q, want 200 %q", w.Code, got, want)
	}
}

func TestNoRoutesAnswersNotFound(t *testing.T) {
	var logs bytes.Buffer
	h := newHandler(t, newFunction(nil), testKey, &logs)

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/hello", nil))

	if w.Code != http.StatusNotFound {
		t.Errorf("status = %d, want 404", w.Code)
	}
}

func TestSignMatchesKnownAnswer(t *testing.T) {
	// Computed apart from Ward, with Python's hmac module, over
	// "ward-invoke-v1\ntenants\n1772366400\n" and the body. Every deployed
	// client and server must agree on this message, so a change to it has
	// to be deliberate.
	key := []byte("0123456789abcdef0123456789abcdef")
	got := httpfn.Sign(key, "tenants", 1772366400, []byte(`{"op":"tenants.list"}`))
	want := "v1=39c22cefdf47e7a32e8a5a56e35d21e5ebc8825d967a87d74ba905b200ad0ed2"
	if got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}
