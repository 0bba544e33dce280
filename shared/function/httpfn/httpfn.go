// Package httpfn serves a Function over plain HTTP: its routes on every
// path, and its operations at POST /_ward/invoke for callers that hold the
// shared invoke key. Cloud Functions, Cloud Run and a function run as its
// own local server all use it; invoke/httpinvoke is its client.
//
// An invocation is the JSON of a function.Request, answered by the JSON of
// a function.Response with status 200, whether the operation succeeded or
// returned a coded error. Any other status means the request never reached
// the operation: its body is a function.Response holding the reason.
package httpfn

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
)

// InvokePath is where the operations of a function are served.
const InvokePath = "/_ward/invoke"

// MaxBodyBytes bounds an invocation body: the largest operation input and
// room for the rest of the request envelope.
const MaxBodyBytes = function.MaxInputBytes + 64<<10

// Option adjusts a Handler.
type Option func(*handler)

// WithLogger sets where refused signatures and operation faults are
// logged. The default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(h *handler) { h.log = l }
}

// WithClock sets the clock that signatures are checked against.
func WithClock(now func() time.Time) Option {
	return func(h *handler) { h.now = now }
}

type handler struct {
	fn  *function.Function
	key []byte
	log *slog.Logger
	now func() time.Time
}

// Handler serves f: POST InvokePath runs an operation when the request
// carries a valid signature made with key (see Sign), and every other path
// goes to f.Routes, or answers 404 when f has no routes.
//
// An empty key disables the invoke endpoint: it answers 404 and nothing
// reaches the operations. A key shorter than MinKeyBytes is a
// configuration error and panics, so that it is found at start-up; check it
// first with CheckKey to report it as an error instead.
//
// Signatures bind the function name, the time and the body. There is no
// replay cache, because instances of a function share no memory: a request
// captured in transit can be replayed for up to MaxSkew. Serve the endpoint
// over TLS only, where nobody in between can capture it.
func Handler(f *function.Function, key []byte, opts ...Option) http.Handler {
	if err := CheckKey(key); err != nil {
		panic(err.Error())
	}
	h := &handler{fn: f, key: bytes.Clone(key), log: slog.Default(), now: time.Now}
	for _, o := range opts {
		o(h)
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == InvokePath {
		h.serveInvoke(w, r)
		return
	}
	if h.fn.Routes == nil {
		http.NotFound(w, r)
		return
	}
	h.fn.Routes.ServeHTTP(w, r)
}

func (h *handler) serveInvoke(w http.ResponseWriter, r *http.Request) {
	if len(h.key) == 0 {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		refuse(w, http.StatusMethodNotAllowed, errs.InvalidArgument, "method not allowed")
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil ||
		mt != "application/json" {
		refuse(w, http.StatusUnsupportedMediaType, errs.InvalidArgument,
			"content type must be application/json")
		return
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			refuse(w, http.StatusRequestEntityTooLarge, errs.TooLarge, "request body too large")
			return
		}
		refuse(w, http.StatusBadRequest, errs.InvalidArgument, "request body unreadable")
		return
	}

	if err := verify(h.key, h.fn.Name, r.Header, body, h.now()); err != nil {
		h.log.WarnContext(r.Context(), "invoke signature refused",
			"function", h.fn.Name, "reason", err.Error())
		refuse(w, http.StatusUnauthorized, errs.Unauthenticated,
			"request signature missing or invalid")
		return
	}

	var req function.Request
	if err := decodeStrict(body, &req); err != nil {
		refuse(w, http.StatusBadRequest, errs.InvalidArgument, "malformed invocation")
		return
	}

	start := time.Now()
	resp, fault := h.fn.Invoke(r.Context(), req)
	if fault != nil {
		h.log.ErrorContext(r.Context(), "operation fault", "function", h.fn.Name,
			"op", req.Op, "request_id", req.RequestID, "error", fault.Error())
	}
	h.log.DebugContext(r.Context(), "invoke", "function", h.fn.Name, "op", req.Op,
		"request_id", req.RequestID, "ok", resp.Error == nil,
		"duration_ms", time.Since(start).Milliseconds())
	writeJSON(w, http.StatusOK, resp)
}

// decodeStrict decodes exactly one JSON value with no unknown fields.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after JSON value")
	}
	return nil
}

func refuse(w http.ResponseWriter, status int, code errs.Code, msg string) {
	writeJSON(w, status, function.Response{Error: &function.WireError{Code: code, Message: msg}})
}

func writeJSON(w http.ResponseWriter, status int, resp function.Response) {
	b, err := json.Marshal(resp)
	if err != nil {
		// A Response holds raw JSON that Invoke itself produced; failing to
		// encode it is a fault of Ward.
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"INTERNAL","message":"internal error"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
}
