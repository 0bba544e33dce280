// Package function is Ward's function runtime: a Function is a set of named
// operations (typed JSON in and out, what the GraphQL facade calls through an
// invoker) plus, where a standard needs it, plain HTTP routes.
//
// The same Function runs on AWS Lambda (function/lambdafn), on Google Cloud
// Functions or Cloud Run (function/gcf), and in the local process, where the
// in-process invoker calls it directly.
package function

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"

	"github.com/wardhq/ward/shared/errs"
)

// MaxInputBytes bounds the JSON input of one operation.
const MaxInputBytes = 1 << 20

// Request is one invocation of an operation. It is the wire format of every
// transport: the caller's identity travels with the input.
type Request struct {
	Op        string          `json:"op"`
	Caller    Caller          `json:"caller"`
	Input     json.RawMessage `json:"input,omitempty"`
	RequestID string          `json:"requestId,omitempty"`
}

// Response is the result of an invocation: an output or a coded error.
type Response struct {
	Output json.RawMessage `json:"output,omitempty"`
	Error  *WireError      `json:"error,omitempty"`
}

// WireError is the client-safe part of an errs.Error.
type WireError struct {
	Code    errs.Code `json:"code"`
	Message string    `json:"message"`
	Field   string    `json:"field,omitempty"`
}

// Err turns a wire error back into an *errs.Error.
func (w *WireError) Err() error {
	if w == nil {
		return nil
	}
	return &errs.Error{Code: w.Code, Message: w.Message, Field: w.Field}
}

// Handler serves one operation. input is the raw JSON input.
type Handler func(ctx context.Context, caller Caller, input json.RawMessage) (any, error)

// Function is a deployable unit: named operations and optional HTTP routes.
type Function struct {
	Name string
	// Routes serves the function's plain HTTP endpoints (protocol endpoints
	// that standards require to be HTTP, hosted pages). Nil when it has
	// none.
	Routes http.Handler
	// Patterns are the URL patterns, in net/http.ServeMux syntax and
	// without a method, under which a host that serves several functions
	// from one listener sends requests to Routes (see Mount). Empty means
	// "/<Name>/". A function deployed on its own gets every path.
	Patterns []string

	ops map[string]Handler
}

// Mount registers f's Routes on mux under f's Patterns; a function without
// Routes registers nothing. Two functions claiming one pattern panic in
// mux.Handle, at start-up.
func Mount(mux *http.ServeMux, f *Function) {
	if f.Routes == nil {
		return
	}
	patterns := f.Patterns
	if len(patterns) == 0 {
		patterns = []string{"/" + f.Name + "/"}
	}
	for _, p := range patterns {
		mux.Handle(p, f.Routes)
	}
}

// New returns an empty function.
func New(name string) *Function {
	return &Function{Name: name, ops: map[string]Handler{}}
}

// Handle registers an operation. Registering a name twice panics: it is a
// programming error found at start-up.
func (f *Function) Handle(op string, h Handler) {
	if _, dup := f.ops[op]; dup {
		panic(fmt.Sprintf("function %s: operation %q registered twice", f.Name, op))
	}
	f.ops[op] = h
}

// Ops lists the operation names, sorted.
func (f *Function) Ops() []string {
	names := make([]string, 0, len(f.ops))
	for n := range f.ops {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Validator is implemented by inputs that check themselves after decoding.
type Validator interface {
	Validate() error
}

// Op registers a typed operation on f: the input is decoded strictly
// (unknown fields are an error) and validated when it implements Validator.
func Op[In, Out any](f *Function, name string, fn func(ctx context.Context, caller Caller, in In) (Out, error)) {
	f.Handle(name, func(ctx context.Context, caller Caller, raw json.RawMessage) (any, error) {
		var in In
		if err := decodeStrict(raw, &in); err != nil {
			return nil, err
		}
		if v, ok := any(&in).(Validator); ok {
			if err := v.Validate(); err != nil {
				return nil, err
			}
		}
		return fn(ctx, caller, in)
	})
}

func decodeStrict(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		raw = json.RawMessage("{}")
	}
	if len(raw) > MaxInputBytes {
		return errs.New(errs.TooLarge, "input exceeds %d bytes", MaxInputBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errs.New(errs.InvalidArgument, "malformed input: %s", describeJSONError(err))
	}
	if dec.More() {
		return errs.New(errs.InvalidArgument, "malformed input: trailing data")
	}
	return nil
}

// describeJSONError keeps decoder messages short and free of Go type names.
func describeJSONError(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Sprintf("syntax error at offset %d", e.Offset)
	case *json.UnmarshalTypeError:
		return fmt.Sprintf("wrong type for field %q", e.Field)
	default:
		return err.Error()
	}
}

// Invoke runs one request against f and never fails: every outcome,
// including an unknown operation or a panic-free handler error, becomes a
// Response. Errors without a code become INTERNAL, their cause dropped; the
// caller of Invoke logs it through the returned error.
func (f *Function) Invoke(ctx context.Context, req Request) (Response, error) {
	h, ok := f.ops[req.Op]
	if !ok {
		e := errs.New(errs.NotFound, "unknown operation %q", req.Op)
		return Response{Error: wire(e)}, nil
	}
	if req.RequestID != "" {
		ctx = WithRequestID(ctx, req.RequestID)
	}
	out, err := h(ctx, req.Caller, req.Input)
	if err != nil {
		var fault error
		if errs.CodeOf(err) == errs.Internal || errs.CodeOf(err) == errs.Unavailable {
			fault = err
		}
		return Response{Error: wire(err)}, fault
	}
	b, err := json.Marshal(out)
	if err != nil {
		return Response{Error: wire(errs.Wrap(errs.Internal, err, "internal error"))}, err
	}
	return Response{Output: b}, nil
}

func wire(err error) *WireError {
	p := errs.Public(err)
	return &WireError{Code: p.Code, Message: p.Message, Field: p.Field}
}

// DecodeResponse decodes an answer that must be exactly one Response: no
// unknown fields, no trailing data, and an output or a coded error. Remote
// transports use it so that a platform's own error document (a timeout
// report, a gateway's error page) is never mistaken for an empty success.
func DecodeResponse(raw []byte) (Response, error) {
	var resp Response
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&resp); err != nil {
		return Response{}, fmt.Errorf("answer is not a function response: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Response{}, errors.New("answer has trailing data")
	}
	if resp.Output == nil && resp.Error == nil {
		return Response{}, errors.New("answer has neither output nor error")
	}
	if resp.Error != nil && resp.Error.Code == "" {
		return Response{}, errors.New("answer has an error without a code")
	}
	return resp, nil
}
