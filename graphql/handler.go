package graphql

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	gql "github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/parser"
	"github.com/graphql-go/graphql/language/source"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/httpx"
	"github.com/wardhq/ward/shared/invoke"
)

// FunctionName is the name of the facade's function.
const FunctionName = "graphql"

// Media types of GraphQL-over-HTTP.
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// Handler serves the facade over HTTP: POST /graphql, GET /graphql (the
// GraphiQL page, when enabled) and GET /healthz.
type Handler struct {
	opts   Options
	log    *slog.Logger
	schema gql.Schema
	auth   *authenticator
	docs   *docCache
	mux    *http.ServeMux
}

var _ http.Handler = (*Handler)(nil)

// New returns the facade's handler, which resolves every field through inv.
func New(inv invoke.Invoker, opts Options) *Handler {
	opts = opts.withDefaults()
	warmIntrospection()
	r := &resolvers{inv: inv, log: opts.Logger}
	h := &Handler{
		opts:   opts,
		log:    opts.Logger,
		schema: r.schema(),
		auth:   &authenticator{inv: inv, log: opts.Logger, cache: newTokenCache(opts)},
		docs:   newDocCache(opts.DocCacheBytes),
		mux:    http.NewServeMux(),
	}
	// Only POST executes. GraphQL-over-HTTP also allows queries by GET;
	// Ward leaves that out (a known shortcoming, on purpose for now: GET
	// requests land in logs and caches with their query text).
	h.mux.HandleFunc("POST /graphql", h.serveGraphQL)
	if opts.GraphiQL {
		h.mux.HandleFunc("GET /graphql", serveGraphiQL)
	}
	h.mux.HandleFunc("GET /healthz", serveHealth)
	return h
}

// Function returns the facade as a Function named "graphql": it has no
// operations, only the HTTP routes of New.
func Function(inv invoke.Invoker, opts Options) *function.Function {
	f := function.New(FunctionName)
	f.Routes = New(inv, opts)
	return f
}

// ServeHTTP implements http.Handler. Every response carries X-Request-Id.
// The access log line is the server's (shared/httpx); the facade adds a
// debug line per GraphQL request and an error line per fault.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := httpx.RequestID(r.Header.Get(httpx.RequestIDHeader))
	w.Header().Set(httpx.RequestIDHeader, id)
	h.mux.ServeHTTP(w, r.WithContext(function.WithRequestID(r.Context(), id)))
}

func serveHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", mediaJSON)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, `{"status":"ok"}`)
}

// params is the body of a GraphQL-over-HTTP POST request.
type params struct {
	Query         *string         `json:"query"`
	Variables     map[string]any  `json:"variables"`
	OperationName *string         `json:"operationName"`
	Extensions    json.RawMessage `json:"extensions"` // accepted and ignored
}

// response is the body of every answer. Data is left out entirely when
// the request failed before execution, and is null when execution failed
// at the root.
type response struct {
	Errors []gqlError      `json:"errors,omitempty"`
	Data   json.RawMessage `json:"data,omitempty"`
}

func (h *Handler) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	ctx := withClient(r.Context(), r)
	media := responseMedia(r.Header.Get("Accept"))

	// A request without credentials runs as an anonymous caller only when
	// it calls public fields alone (publicOperation); otherwise it gets
	// the 401 it always got, whatever its body.
	var p params
	var herr *httpError
	anonymous := len(r.Header.Values("Authorization")) == 0
	if anonymous {
		p, herr = h.readParams(w, r)
		anonymous = herr == nil && h.publicOperation(p)
	}
	var caller function.Caller
	if !anonymous {
		var aerr *authError
		caller, aerr = h.auth.authenticate(ctx, r.Header.Get("Authorization"))
		if aerr != nil {
			if aerr.challenge != "" {
				w.Header().Set("WWW-Authenticate", aerr.challenge)
			}
			h.write(w, media, aerr.status, response{Errors: []gqlError{newError(aerr.code, "",
				aerr.message)}})
			return
		}
		p, herr = h.readParams(w, r)
	}
	if herr != nil {
		h.write(w, media, herr.status, response{Errors: []gqlError{herr.err}})
		return
	}

	start := time.Now()
	resp, requestErr := h.execute(ctx, caller, p)
	status := http.StatusOK
	if requestErr && media == mediaGraphQLResponse {
		status = http.StatusBadRequest
	}
	h.write(w, media, status, resp)
	if !h.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	h.log.LogAttrs(ctx, slog.LevelDebug, "graphql: executed",
		slog.String("request_id", function.RequestID(ctx)),
		slog.String("tenant", caller.Tenant),
		slog.Int("errors", len(resp.Errors)),
		slog.Bool("executed", !requestErr),
		slog.Duration("duration", time.Since(start)))
}

// httpError is a request refused before GraphQL sees it.
type httpError struct {
	status int
	err    gqlError
}

func badRequest(field, message string) *httpError {
	return &httpError{http.StatusBadRequest, newError(errs.InvalidArgument, field, message)}
}

func (h *Handler) readParams(w http.ResponseWriter, r *http.Request) (params, *httpError) {
	var p params
	mt, mparams, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != mediaJSON {
		return p, &httpError{http.StatusUnsupportedMediaType,
			newError(errs.InvalidArgument, "", "content type must be application/json")}
	}
	if cs, ok := mparams["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return p, &httpError{http.StatusUnsupportedMediaType,
			newError(errs.InvalidArgument, "", "charset must be utf-8")}
	}

	tooLarge := &httpError{http.StatusRequestEntityTooLarge,
		newError(errs.TooLarge, "", "request body too large")}
	if r.ContentLength > h.opts.MaxBodyBytes {
		return p, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return p, tooLarge
		}
		return p, badRequest("", "could not read request body")
	}

	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, badRequest("", "malformed request body: "+describeJSON(err))
	}
	if dec.More() {
		return p, badRequest("", "malformed request body: trailing data")
	}
	if p.Query == nil || strings.TrimSpace(*p.Query) == "" {
		return p, badRequest("query", "query is required")
	}
	if len(*p.Query) > h.opts.MaxQueryBytes {
		return p, &httpError{http.StatusRequestEntityTooLarge,
			newError(errs.TooLarge, "query", "query too large")}
	}
	return p, nil
}

// describeJSON keeps decoder messages short and free of Go type names.
func describeJSON(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "syntax error"
	case errors.As(err, &typ):
		return "wrong type for " + typ.Field
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "invalid JSON"
}

// execute runs a decoded request. requestErr reports a failure before
// execution (parse, limits, validation, variables).
func (h *Handler) execute(ctx context.Context, caller function.Caller, p params) (
	resp response, requestErr bool) {
	key := sha256.Sum256([]byte(*p.Query))
	doc := h.docs.get(key)
	validated := doc != nil
	if doc == nil {
		src := source.NewSource(&source.Source{Body: []byte(*p.Query), Name: "GraphQL request"})
		var err error
		if doc, err = parser.Parse(parser.ParseParams{Source: src}); err != nil {
			return response{Errors: validationErrors(CodeParseFailed,
				[]gqlerrors.FormattedError{gqlerrors.FormatError(err)})}, true
		}
	}

	name := ""
	if p.OperationName != nil {
		name = *p.OperationName
	}
	op, gerr := selectOperation(doc, name)
	if gerr != nil {
		return response{Errors: []gqlError{*gerr}}, true
	}
	if gerr := checkVariables(&h.schema, op, p.Variables); gerr != nil {
		return response{Errors: []gqlError{*gerr}}, true
	}

	c, problem := measure(&h.schema, doc, p.Variables)
	if problem != "" {
		return response{Errors: []gqlError{newError(CodeValidationFailed, "", problem)}}, true
	}
	if c.depth > h.opts.MaxDepth {
		return response{Errors: []gqlError{newError(CodeTooDeep, "",
			"query depth exceeds the limit")}}, true
	}
	if c.complexity > h.opts.MaxComplexity {
		return response{Errors: []gqlError{newError(CodeTooComplex, "",
			"query complexity exceeds the limit")}}, true
	}

	if !validated {
		if verrs := h.validate(ctx, doc); len(verrs) > 0 {
			return response{Errors: verrs}, true
		}
		h.docs.put(key, *p.Query, doc)
	}

	st := &reqState{caller: caller}
	res := gql.Execute(gql.ExecuteParams{
		Schema:        h.schema,
		AST:           doc,
		OperationName: name,
		Args:          p.Variables,
		Context:       withState(ctx, st),
	})
	if ctx.Err() != nil {
		return response{Errors: []gqlError{newError(errs.Unavailable, "",
			"request cancelled")}}, false
	}

	for _, fe := range res.Errors {
		resp.Errors = append(resp.Errors, fromFormatted(ctx, h.log, fe))
	}
	if res.Data == nil && len(res.Errors) > 0 && len(res.Errors[0].Path) == 0 {
		// Variable coercion failed; nothing ran.
		return resp, true
	}
	data, err := encodeData(doc, op, res.Data)
	if err != nil {
		logFault(ctx, h.log, "encode", err)
		return response{Errors: []gqlError{newError(errs.Internal, "", internalMessage)}}, false
	}
	resp.Data = data
	return resp, false
}

// validate runs graphql-go's validation. The checks in measure keep the
// documents known to crash it away; should another one panic, it is
// refused as invalid and logged, not left to take the request down.
func (h *Handler) validate(ctx context.Context, doc *ast.Document) (out []gqlError) {
	defer func() {
		if p := recover(); p != nil {
			h.log.LogAttrs(ctx, slog.LevelWarn, "graphql: validator panicked",
				slog.String("request_id", function.RequestID(ctx)),
				slog.Any("panic", p))
			out = []gqlError{newError(CodeValidationFailed, "", "document could not be validated")}
		}
	}()
	if v := gql.ValidateDocument(&h.schema, doc, nil); !v.IsValid {
		return validationErrors(CodeValidationFailed, v.Errors)
	}
	return nil
}

// selectOperation picks the operation to run (GraphQL spec, section 6.1,
// GetOperation) and refuses documents with definitions that cannot run.
func selectOperation(doc *ast.Document, name string) (*ast.OperationDefinition, *gqlError) {
	var found *ast.OperationDefinition
	count := 0
	for _, def := range doc.Definitions {
		switch d := def.(type) {
		case *ast.OperationDefinition:
			count++
			if name == "" || d.Name != nil && d.Name.Value == name {
				found = d
			}
		case *ast.FragmentDefinition:
		default:
			e := newError(CodeValidationFailed, "",
				"document holds a definition that cannot be executed")
			return nil, &e
		}
	}
	switch {
	case count == 0:
		e := newError(CodeValidationFailed, "", "document holds no operation")
		return nil, &e
	case name == "" && count > 1:
		e := newError(errs.InvalidArgument, "operationName",
			"operationName is required for a document with several operations")
		return nil, &e
	case found == nil:
		e := newError(errs.InvalidArgument, "operationName", "no operation named "+quote(name))
		return nil, &e
	case found.Operation == ast.OperationTypeSubscription:
		e := newError(CodeValidationFailed, "", "subscriptions are not supported")
		return nil, &e
	}
	return found, nil
}

// quote shortens and quotes a client-supplied name for a message.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// responseMedia picks the response type: the GraphQL-over-HTTP media type
// when the client lists it, else application/json.
func responseMedia(accept string) string {
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && mt == mediaGraphQLResponse {
			return mediaGraphQLResponse
		}
	}
	return mediaJSON
}

func (h *Handler) write(w http.ResponseWriter, media string, status int, resp response) {
	body, err := json.Marshal(resp)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}`)
	}
	w.Header().Set("Content-Type", media+"; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
