// Package lambdafn runs a Function on AWS Lambda. One handler takes two
// kinds of event:
//
//   - API Gateway HTTP API events (payload format 2.0, also sent by Lambda
//     function URLs) go to the function's Routes as ordinary HTTP requests;
//   - direct invocations, whose payload is a function.Request, run an
//     operation and answer a function.Response (invoke/lambdainvoke sends
//     them).
//
// Direct invocations trust the caller named in the payload: Lambda's IAM
// check on lambda:InvokeFunction is their authentication. Grant it to Ward's
// own roles only. An HTTP event can never become a direct invocation: the
// client's request is wrapped inside the event, and an event that looks
// like both kinds is refused.
package lambdafn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/wardhq/ward/shared/function"
)

// ErrMalformedEvent matches, with errors.Is, the error returned for an
// event of neither kind. On Lambda it becomes an unhandled function error
// whose errorType is "MalformedEventError".
var ErrMalformedEvent = errors.New("lambdafn: malformed event")

// MalformedEventError is a refused event and the reason, which is safe to
// show the invoker: it never quotes the event.
type MalformedEventError struct {
	Reason string
}

func (e *MalformedEventError) Error() string { return "lambdafn: malformed event: " + e.Reason }

// Is makes errors.Is(err, ErrMalformedEvent) hold.
func (e *MalformedEventError) Is(target error) bool { return target == ErrMalformedEvent }

// HandlerFunc is the shape of handler that lambda.Start takes: the raw
// event in, the raw answer out.
type HandlerFunc = func(ctx context.Context, event json.RawMessage) (json.RawMessage, error)

type handler struct {
	fn  *function.Function
	log *slog.Logger
}

// Start runs f as the Lambda function of this process and does not return.
// log receives operation faults and refused events; nil means
// slog.Default().
func Start(f *function.Function, log *slog.Logger) {
	lambda.Start(Handler(f, log))
}

// Handler returns the Lambda handler of f (see the package comment). log
// receives operation faults and refused events; nil means slog.Default().
func Handler(f *function.Function, log *slog.Logger) HandlerFunc {
	if log == nil {
		log = slog.Default()
	}
	h := &handler{fn: f, log: log}
	return h.handle
}

// probe holds just enough of an event to tell its kind.
type probe struct {
	Version        *string `json:"version"`
	RequestContext *struct {
		HTTP json.RawMessage `json:"http"`
	} `json:"requestContext"`
	Op *string `json:"op"`
}

func (h *handler) handle(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
	var p probe
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, h.refuse(ctx, "event is not a JSON object")
	}
	hasHTTP := p.RequestContext != nil && len(p.RequestContext.HTTP) > 0 &&
		string(p.RequestContext.HTTP) != "null"
	isHTTP := hasHTTP || (p.Version != nil && *p.Version == "2.0")

	switch {
	case isHTTP && p.Op != nil:
		return nil, h.refuse(ctx, "event is both an HTTP event and an invocation")
	case isHTTP:
		if p.Version == nil || *p.Version != "2.0" || !hasHTTP {
			return nil, h.refuse(ctx, "HTTP event is not payload format 2.0")
		}
		return h.serveHTTP(ctx, payload)
	case p.Op != nil:
		return h.invoke(ctx, payload)
	case p.Version != nil:
		return nil, h.refuse(ctx, "HTTP event is not payload format 2.0")
	default:
		return nil, h.refuse(ctx, "event is neither an HTTP event nor an invocation")
	}
}

func (h *handler) refuse(ctx context.Context, reason string) error {
	h.log.WarnContext(ctx, "event refused", "function", h.fn.Name, "reason", reason)
	return &MalformedEventError{Reason: reason}
}

func (h *handler) invoke(ctx context.Context, payload []byte) (json.RawMessage, error) {
	var req function.Request
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, h.refuse(ctx, "invocation is not a function request")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, h.refuse(ctx, "invocation has trailing data")
	}
	if req.RequestID == "" {
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			req.RequestID = lc.AwsRequestID
		}
	}

	start := time.Now()
	resp, fault := h.fn.Invoke(ctx, req)
	if fault != nil {
		h.log.ErrorContext(ctx, "operation fault", "function", h.fn.Name, "op", req.Op,
			"request_id", req.RequestID, "error", fault.Error())
	}
	h.log.DebugContext(ctx, "invoke", "function", h.fn.Name, "op", req.Op,
		"request_id", req.RequestID, "ok", resp.Error == nil,
		"duration_ms", time.Since(start).Milliseconds())
	return json.Marshal(resp)
}

func (h *handler) serveHTTP(ctx context.Context, payload []byte) (json.RawMessage, error) {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, h.refuse(ctx, "HTTP event does not decode")
	}
	if ev.RequestContext.HTTP.Method == "" {
		return nil, h.refuse(ctx, "HTTP event has no method")
	}
	if ev.RequestContext.RequestID != "" {
		ctx = function.WithRequestID(ctx, ev.RequestContext.RequestID)
	}

	r, err := requestFromEvent(ctx, ev)
	if err != nil {
		return nil, h.refuse(ctx, "HTTP event does not make a request")
	}
	w := newResponseWriter()
	if h.fn.Routes == nil {
		http.NotFound(w, r)
	} else {
		h.fn.Routes.ServeHTTP(w, r)
	}
	return json.Marshal(w.result(r.Method))
}

// requestFromEvent builds the http.Request of an HTTP API event with the
// API proxy library (method, URL, query, body, source address, and the
// event in the request's context), then sets the headers again itself.
//
// The library splits every header value it does not know to be single at
// its commas, so that Header.Get("Accept") of "text/html, */*" would see
// only "text/html", and a date or a quoted value with a comma would be cut.
// API Gateway has already joined repeated headers with commas; Ward keeps
// each as the one comma-separated value a plain HTTP server would see.
//
// Known shortcomings, both from the library: an event whose base64 body does
// not decode is refused, but the library first prints the decoder's error
// with the standard logger, outside Ward's structured log; and r.TLS is nil
// although API Gateway serves HTTPS only, so a route that needs the scheme
// must read X-Forwarded-Proto, which API Gateway sets.
func requestFromEvent(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (*http.Request, error) {
	var accessor core.RequestAccessorV2
	r, err := accessor.EventToRequestWithContext(ctx, ev)
	if err != nil {
		return nil, err
	}

	r.Header = make(http.Header, len(ev.Headers)+1)
	for k, v := range ev.Headers {
		r.Header.Add(k, v)
	}
	if len(ev.Cookies) > 0 {
		// Payload 2.0 moves the Cookie header into a list (RFC 6265 §5.4
		// joins cookie pairs with "; ").
		r.Header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	if host := r.Header.Get("Host"); host != "" {
		r.Host = host
	}
	r.Header.Del("Host")
	return r, nil
}
