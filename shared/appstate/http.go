package appstate

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/sessions"
)

// The HTTP API, for applications that hold a session token:
//
//	GET    /appstate/{app}        the application's keys: {"keys":[{"key","size"}],"bytes"}
//	GET    /appstate/{app}/{key}  the value, as JSON
//	PUT    /appstate/{app}/{key}  sets the value: a JSON body (application/json), or
//	                              text (text/plain, kept as a JSON string)
//	DELETE /appstate/{app}/{key}  deletes the key (204)
//
// Every request carries "Authorization: Bearer wss_..." (a session
// token, validated by the sessions service, which counts it as a use);
// other tokens are refused. Errors are {"error": CODE, "message": ...}
// with the code's status: 401 (with a Bearer challenge), 404, 413 for a
// value or quota over its bound, 503 when the cache or the sessions
// service is unavailable. Answers are never cached.

// maxBody bounds a PUT body; the value's own bound is checked after.
const maxBody = 4 * MaxValueBytes

func (s *service) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /appstate/{app}", s.serveList)
	mux.HandleFunc("GET /appstate/{app}/{key}", s.serveGet)
	mux.HandleFunc("PUT /appstate/{app}/{key}", s.servePut)
	mux.HandleFunc("DELETE /appstate/{app}/{key}", s.serveDelete)
	return mux
}

// serviceCaller is who this function is when it asks the sessions
// function to validate a token.
var serviceCaller = function.Caller{Subject: FunctionName, Roles: []string{function.RoleService}}

// authenticate turns the request's session token into its caller.
func (s *service) authenticate(r *http.Request) (function.Caller, error) {
	h := r.Header.Values("Authorization")
	if len(h) != 1 {
		return function.Caller{}, errs.New(errs.Unauthenticated, "a session token is required")
	}
	scheme, token, ok := strings.Cut(h[0], " ")
	token = strings.TrimLeft(token, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") ||
		!strings.HasPrefix(token, sessions.TokenPrefix) || len(token) > 256 {
		return function.Caller{}, errs.New(errs.Unauthenticated, "a session token is required")
	}
	if s.inv == nil {
		return function.Caller{}, errs.New(errs.Unavailable, "token validation unavailable")
	}
	out, err := invoke.Call[sessions.ValidateOutput](r.Context(), s.inv, sessions.FunctionName,
		sessions.OpValidate, serviceCaller, sessions.ValidateInput{Token: sessions.Token(token)})
	switch errs.CodeOf(err) {
	case errs.Unauthenticated, errs.NotFound, errs.InvalidArgument:
		return function.Caller{}, errs.New(errs.Unauthenticated, "invalid token")
	}
	if err != nil {
		return function.Caller{}, errs.Wrap(errs.Unavailable, err, "token validation unavailable")
	}
	c := out.Caller()
	if !out.Active || out.Kind != sessions.KindSession || c.Session == "" || c.Tenant == "" ||
		c.Has(function.RoleService) {
		return function.Caller{}, errs.New(errs.Unauthenticated, "invalid token")
	}
	return c, nil
}

// serve authenticates the request and runs op with its caller.
func (s *service) serve(w http.ResponseWriter, r *http.Request,
	op func(ctx context.Context, c function.Caller) (status int, body []byte, err error)) {
	w.Header().Set("Cache-Control", "no-store")
	ctx := r.Context()
	c, err := s.authenticate(r)
	if err == nil {
		var status int
		var body []byte
		if status, body, err = op(ctx, c); err == nil {
			if body == nil {
				w.WriteHeader(status)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write(body)
			return
		}
	}
	s.writeError(ctx, w, err)
}

func (s *service) writeError(ctx context.Context, w http.ResponseWriter, err error) {
	p := errs.Public(err)
	if p.Code == errs.Internal || p.Code == errs.Unavailable {
		s.log.LogAttrs(ctx, slog.LevelError, "appstate: request failed",
			slog.String("request_id", function.RequestID(ctx)), slog.String("error", err.Error()))
	}
	if p.Code == errs.Unauthenticated {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ward", error="invalid_token"`)
	}
	body, _ := json.Marshal(map[string]string{"error": string(p.Code), "message": p.Message})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(p.Code.HTTPStatus())
	_, _ = w.Write(append(body, '\n'))
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil { // plain structs of strings, numbers and raw JSON
		panic(err)
	}
	return append(b, '\n')
}

func (s *service) serveList(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r, func(ctx context.Context, c function.Caller) (int, []byte, error) {
		in := ListInput{App: r.PathValue("app")}
		if err := in.Validate(); err != nil {
			return 0, nil, err
		}
		out, err := s.list(ctx, c, in)
		return http.StatusOK, marshal(out), err
	})
}

func (s *service) serveGet(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r, func(ctx context.Context, c function.Caller) (int, []byte, error) {
		in := GetInput{App: r.PathValue("app"), Key: r.PathValue("key")}
		if err := in.Validate(); err != nil {
			return 0, nil, err
		}
		out, err := s.get(ctx, c, in)
		return http.StatusOK, append([]byte(out.Value), '\n'), err
	})
}

func (s *service) servePut(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r, func(ctx context.Context, c function.Caller) (int, []byte, error) {
		value, err := readValue(w, r)
		if err != nil {
			return 0, nil, err
		}
		in := SetInput{App: r.PathValue("app"), Key: r.PathValue("key"), Value: value}
		if err := in.Validate(); err != nil {
			return 0, nil, err
		}
		out, err := s.set(ctx, c, in)
		return http.StatusOK, marshal(out), err
	})
}

func (s *service) serveDelete(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r, func(ctx context.Context, c function.Caller) (int, []byte, error) {
		in := DeleteInput{App: r.PathValue("app"), Key: r.PathValue("key")}
		if err := in.Validate(); err != nil {
			return 0, nil, err
		}
		_, err := s.delete(ctx, c, in)
		return http.StatusNoContent, nil, err
	})
}

// readValue reads a PUT body as a JSON value: JSON as it is, text as a
// JSON string.
func readValue(w http.ResponseWriter, r *http.Request) (json.RawMessage, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return nil, &errs.Error{Code: errs.TooLarge, Field: "value",
			Message: "a value is at most 16384 bytes of compact JSON"}
	}
	media, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch media {
	case "application/json":
		return bytes.TrimSpace(body), nil
	case "text/plain":
		if !utf8.Valid(body) {
			return nil, errs.Invalid("value", "text must be UTF-8")
		}
		b, _ := json.Marshal(string(body))
		return b, nil
	}
	return nil, errs.Invalid("value", "the body must be application/json or text/plain")
}
