package sessions

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
)

// PathValidate is the validation endpoint.
const PathValidate = "/sessions/validate"

// maxIntrospectionBody bounds the body of a validation request.
const maxIntrospectionBody = 16 << 10

func (s *service) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathValidate, s.serveValidate)
	return mux
}

// serveValidate is POST /sessions/validate, token introspection after
// RFC 7662 for the edge and for applications. The token comes as
// "Authorization: Bearer <token>" or as the field token of a form
// (application/x-www-form-urlencoded) or JSON body, never both (RFC 6750
// section 2: one method per request); tenant, a tenant ID or name, is an
// optional field of the body, required for access tokens. The answer is
// always 200 with {"active": false} for a token that does not work,
// whatever the reason, and the token's claims for one that does:
// token_type ("session" or "access_token"), sub, tenant, sid, acr, amr,
// auth_time, exp (the earlier of idle and absolute expiry), session_exp
// (the absolute expiry), iss for access tokens, roles and orgs. A fault
// is 503. Answers are never cached (Cache-Control: no-store).
//
// Possession of the token is the credential: unlike RFC 7662 section
// 2.1, which has the resource server authenticate itself, this endpoint
// asks nothing else, because it answers only about the token presented,
// and whoever holds a token can already use it. Tokens are 256 random
// bits, so asking about tokens one does not hold finds nothing. A session
// token checked here counts as a use: it extends the session's idle
// timeout.
func (s *service) serveValidate(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	in, problem := readValidateRequest(w, r)
	if problem != "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{
			"error": "invalid_request", "error_description": problem})
		return
	}
	if err := in.Validate(); err != nil {
		if errs.CodeOf(err) == errs.Unauthenticated {
			writeJSON(w, http.StatusOK, inactive{})
			return
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{
			"error": "invalid_request", "error_description": errs.Public(err).Message})
		return
	}
	out, err := s.check(r.Context(), in)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, activeOf(out))
		return
	case errs.CodeOf(err) == errs.Unauthenticated:
		writeJSON(w, http.StatusOK, inactive{})
		return
	}
	s.log.LogAttrs(r.Context(), slog.LevelError, "sessions: validation failed",
		slog.String("request_id", function.RequestID(r.Context())),
		slog.String("error", err.Error()))
	writeJSON(w, http.StatusServiceUnavailable, map[string]string{
		"error": "temporarily_unavailable"})
}

// inactive is the answer for every token that does not work.
type inactive struct {
	Active bool `json:"active"`
}

// active is the answer for a token that works; names follow RFC 7662 and
// OpenID Connect (auth_time, acr, amr, sid).
type active struct {
	Active     bool     `json:"active"`
	TokenType  string   `json:"token_type"`
	Sub        string   `json:"sub"`
	Tenant     string   `json:"tenant"`
	SID        string   `json:"sid,omitempty"`
	ACR        string   `json:"acr"`
	AMR        []string `json:"amr"`
	AuthTime   int64    `json:"auth_time"`
	Exp        int64    `json:"exp"`
	SessionExp int64    `json:"session_exp"`
	Iss        string   `json:"iss,omitempty"`
	Roles      []string `json:"roles"`
	Orgs       []string `json:"orgs"`
}

func activeOf(o ValidateOutput) active {
	return active{
		Active: true, TokenType: o.Kind, Sub: o.Subject, Tenant: o.TenantID, SID: o.SessionID,
		ACR: o.ACR, AMR: o.AMR, AuthTime: o.AuthTime, Exp: o.ExpiresAt,
		SessionExp: o.AbsoluteExpiresAt, Iss: o.Issuer, Roles: o.Roles, Orgs: o.Orgs,
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// readValidateRequest takes the token and tenant from a request; problem
// says what is wrong with a malformed one.
func readValidateRequest(w http.ResponseWriter, r *http.Request) (in ValidateInput,
	problem string) {
	var header Token
	if h := r.Header.Values("Authorization"); len(h) > 1 {
		return in, "one Authorization header at most"
	} else if len(h) == 1 {
		scheme, tok, ok := strings.Cut(h[0], " ")
		tok = strings.TrimLeft(tok, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
			return in, "the Authorization header must be Bearer <token>"
		}
		header = Token(tok)
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxIntrospectionBody))
	if err != nil {
		return in, "the body is too large or unreadable"
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if problem := decodeValidateBody(r.Header.Get("Content-Type"), body, &in); problem != "" {
			return in, problem
		}
	}
	switch {
	case header != "" && in.Token != "":
		return in, "the token must come in the header or the body, not both"
	case header != "":
		in.Token = header
	case in.Token == "":
		return in, "token is required"
	}
	return in, ""
}

// decodeValidateBody reads a form or JSON body into in, strictly: unknown
// fields and repeated ones are refused.
func decodeValidateBody(contentType string, body []byte, in *ValidateInput) string {
	media, _, _ := mime.ParseMediaType(contentType)
	switch media {
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return "the form is malformed"
		}
		for k, v := range form {
			if len(v) != 1 {
				return "field " + k + " is repeated"
			}
			switch k {
			case "token":
				in.Token = Token(v[0])
			case "tenant":
				in.Tenant = v[0]
			case "token_type_hint": // RFC 7662 section 2.1; Ward tells tokens apart itself
			default:
				return "unknown field " + k
			}
		}
	case "application/json":
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(in); err != nil || dec.More() {
			return "the JSON body must be {\"token\": ..., \"tenant\": ...}"
		}
	default:
		return "the body must be a form or JSON"
	}
	return ""
}
