package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/httpx"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
)

// Error codes of RFC 6749 section 5.2, RFC 7009 section 2.2.1 and RFC
// 8707 section 2.
const (
	errInvalidRequest       = "invalid_request"
	errInvalidClient        = "invalid_client"
	errUnauthorizedClient   = "unauthorized_client"
	errUnsupportedGrantType = "unsupported_grant_type"
	errInvalidScope         = "invalid_scope"
	errInvalidGrant         = "invalid_grant"
	errInvalidTarget        = "invalid_target"
	errServerError          = "server_error"
	errUnavailable          = "temporarily_unavailable"
	// RFC 6749 sections 4.1.2.1 and 5.2 (authorization code).
	errUnsupportedResponseType = "unsupported_response_type"
	errAccessDenied            = "access_denied"
	// OpenID Connect Core 1.0 section 3.1.2.6.
	errLoginRequired       = "login_required"
	errInteractionRequired = "interaction_required"
	errConsentRequired     = "consent_required"
	errRequestNotSupported = "request_not_supported"
	// RFC 9101 section 7 and RFC 9126 section 2.3: a request_uri that is
	// unknown, expired, used or another client's.
	errInvalidRequestURI = "invalid_request_uri"
	// RFC 6750 section 3.1 (UserInfo).
	errInvalidToken      = "invalid_token"
	errInsufficientScope = "insufficient_scope"
)

// maxFormBytes bounds the body of a token, introspection or revocation
// request.
const maxFormBytes = 16 << 10

// protocolError is an answer in the form of RFC 6749 section 5.2. Its
// description goes to the client and is never built from the request's
// own text; cause is for the server's log only.
type protocolError struct {
	code        string
	description string
	status      int
	// basic asks for a Basic challenge (RFC 6749 section 5.2:
	// invalid_client after the client used the Authorization header).
	basic bool
	// retryAfter, when set, is sent as Retry-After, in seconds (RFC 9110
	// section 10.2.3), with a 429 or 503.
	retryAfter int64
	cause      error
}

func (e *protocolError) Error() string {
	if e.cause != nil {
		return e.code + ": " + e.description + ": " + e.cause.Error()
	}
	return e.code + ": " + e.description
}

func (e *protocolError) Unwrap() error { return e.cause }

// faultOf is err as a protocol error: itself, or, for a fault of Ward,
// temporarily_unavailable (503) for an unavailable dependency and
// server_error (500) otherwise, which the caller logs.
func faultOf(err error) (pe *protocolError, fault bool) {
	if errors.As(err, &pe) {
		return pe, false
	}
	pe = &protocolError{code: errServerError, description: "internal error",
		status: http.StatusInternalServerError, cause: err}
	if errs.CodeOf(err) == errs.Unavailable {
		pe.code, pe.description = errUnavailable, "try again later"
		pe.status = http.StatusServiceUnavailable
	}
	return pe, true
}

func (s *service) logFault(ctx context.Context, t store.Tenant, err error) {
	s.log.LogAttrs(ctx, slog.LevelError, "oauth: request failed",
		slog.String("tenant", t.ID), slog.String("request_id", function.RequestID(ctx)),
		slog.String("error", err.Error()))
}

func badRequest(code, description string) *protocolError {
	return &protocolError{code: code, description: description, status: http.StatusBadRequest}
}

// invalidClient answers 401 with a Basic challenge on every path, not
// only after Basic was used: RFC 9110 section 15.5.2 requires a challenge
// with every 401, and Basic is the method a client may always try.
func invalidClient(description string) *protocolError {
	return &protocolError{code: errInvalidClient, description: description,
		status: http.StatusUnauthorized, basic: true}
}

// protocolHandler serves one endpoint of a tenant's issuer: it finds the
// tenant (an unknown one is 404 with Ward's JSON error, as for discovery),
// marks the answer uncacheable (RFC 6749 section 5.1), and writes either
// the handler's JSON answer or its error.
func (s *service) protocolHandler(h func(r *http.Request, t store.Tenant, iss string,
	form url.Values) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, err := s.tenantOf(r.Context(), r.PathValue("tenant"))
		if err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		var out any
		form, err := readForm(w, r)
		if err == nil {
			out, err = h(r, t, s.issuer(r, t), form)
		}
		if err != nil {
			s.writeProtocolError(r.Context(), w, t, err)
			return
		}
		b, err := json.Marshal(out)
		if err != nil {
			s.writeProtocolError(r.Context(), w, t, err)
			return
		}
		status := http.StatusOK
		if c, ok := out.(interface{ created() bool }); ok && c.created() {
			status = http.StatusCreated
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(b)
	}
}

// writeProtocolError writes err as RFC 6749 section 5.2 JSON. Errors that
// are not protocol errors are Ward's faults: temporarily_unavailable (503)
// for an unavailable dependency, server_error (500) otherwise, logged
// without their text reaching the client.
func (s *service) writeProtocolError(ctx context.Context, w http.ResponseWriter, t store.Tenant,
	err error) {
	pe, fault := faultOf(err)
	if fault {
		s.logFault(ctx, t, err)
	}
	if pe.basic {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+t.Name+`", charset="UTF-8"`)
	}
	if pe.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(pe.retryAfter, 10))
	}
	writeErrorJSON(w, pe)
}

// singleParams may appear at most once in a request (RFC 6749 section
// 3.2 and 3.1; RFC 7662 and RFC 7009 inherit the rule). "resource" may
// repeat (RFC 8707 section 2).
var singleParams = []string{"grant_type", "scope", "client_id", "client_secret",
	"client_assertion", "client_assertion_type", "token", "token_type_hint", "code",
	"redirect_uri", "code_verifier", "response_type", "response_mode", "state", "nonce",
	"code_challenge", "code_challenge_method", "prompt", "max_age", "acr_values", "login_hint",
	"request_uri", "request", "access_token", "refresh_token", "device_code"}

// readForm reads the body of a POST as application/x-www-form-urlencoded
// (RFC 6749 section 3.2), the only encoding the endpoints take.
// Parameters in the query are refused: client credentials must not travel
// in a URI (RFC 6749 section 2.3.1).
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if r.URL.RawQuery != "" {
		return nil, badRequest(errInvalidRequest, "parameters belong in the body, not the URI")
	}
	form, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	return form, singleOnly(form)
}

// readBody reads a form body, of at most maxFormBytes.
func readBody(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, badRequest(errInvalidRequest,
			"the body must be application/x-www-form-urlencoded")
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err != nil {
		return nil, badRequest(errInvalidRequest, "the body is too large or unreadable")
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, badRequest(errInvalidRequest, "the body is not a valid form")
	}
	return form, nil
}

// singleOnly refuses a repeated singleParams parameter.
func singleOnly(form url.Values) error { return onlyOnce(form, singleParams) }

// onlyOnce refuses a request in which one of names repeats.
func onlyOnce(form url.Values, names []string) error {
	for _, name := range names {
		if len(form[name]) > 1 {
			return badRequest(errInvalidRequest, "the parameter "+name+" is repeated")
		}
	}
	return nil
}

// credentials are what a client presented to authenticate.
type credentials struct {
	method    string // clients.MethodSecretBasic, MethodSecretPost, MethodNone, ...
	clientID  string
	secret    clients.Secret
	assertion clients.Secret // private_key_jwt (rfc7523.go)
}

// clientCredentials finds the client's credentials in the request. A
// client uses exactly one method (RFC 6749 section 2.3): Basic together
// with client_secret in the body, or with another client_id there, is
// invalid_request.
func clientCredentials(r *http.Request, form url.Values) (credentials, error) {
	auth := r.Header.Values("Authorization")
	if form.Has("client_assertion") || form.Has("client_assertion_type") {
		return assertionCredentials(auth, form)
	}
	switch {
	case len(auth) > 1:
		return credentials{}, badRequest(errInvalidRequest,
			"more than one Authorization header")
	case len(auth) == 1:
		id, secret, err := parseBasic(auth[0])
		if err != nil {
			return credentials{}, err
		}
		if form.Has("client_secret") {
			return credentials{}, badRequest(errInvalidRequest,
				"more than one client authentication method")
		}
		if form.Has("client_id") && form.Get("client_id") != id {
			return credentials{}, badRequest(errInvalidRequest,
				"client_id differs from the authenticated client")
		}
		return credentials{method: clients.MethodSecretBasic, clientID: id,
			secret: clients.Secret(secret)}, nil
	case form.Has("client_secret"):
		if form.Get("client_id") == "" {
			return credentials{}, invalidClient("client_id is required with client_secret")
		}
		return credentials{method: clients.MethodSecretPost, clientID: form.Get("client_id"),
			secret: clients.Secret(form.Get("client_secret"))}, nil
	case form.Get("client_id") != "":
		return credentials{method: clients.MethodNone, clientID: form.Get("client_id")}, nil
	}
	return credentials{}, invalidClient("client authentication is required")
}

// parseBasic reads client_secret_basic: the client ID and secret are each
// form-urlencoded, then joined by a colon and base64-encoded (RFC 6749
// section 2.3.1).
func parseBasic(h string) (id, secret string, err error) {
	scheme, value, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", "", invalidClient("unsupported authentication scheme")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
	if err != nil {
		return "", "", invalidClient("malformed Basic credentials")
	}
	rawID, rawSecret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", invalidClient("malformed Basic credentials")
	}
	if id, err = url.QueryUnescape(rawID); err != nil {
		return "", "", invalidClient("malformed Basic credentials")
	}
	if secret, err = url.QueryUnescape(rawSecret); err != nil {
		return "", "", invalidClient("malformed Basic credentials")
	}
	if id == "" {
		return "", "", invalidClient("malformed Basic credentials")
	}
	return id, secret, nil
}

// serviceCaller is who this function is when it asks the clients
// function to check credentials.
var serviceCaller = function.Caller{Subject: FunctionName, Roles: []string{function.RoleService}}

// authenticateClient checks the request's client credentials with the
// clients function (clients.authenticate, constant-time on the secret),
// within the tenant of the endpoint: a client of another tenant is
// invalid_client like any unknown one. With secretOnly, a public client
// identifying itself by client_id alone ("none") is invalid_client too.
func (s *service) authenticateClient(r *http.Request, t store.Tenant, form url.Values,
	secretOnly bool) (clients.Client, error) {
	cr, err := clientCredentials(r, form)
	if err != nil {
		return clients.Client{}, err
	}
	if secretOnly && cr.method == clients.MethodNone {
		return clients.Client{}, invalidClient("client authentication is required")
	}
	if s.inv == nil {
		return clients.Client{}, errs.New(errs.Unavailable, "the client registry is not reachable")
	}
	key := authMemoKey(t.ID, cr)
	if key != "" {
		if cl, ok := s.authenticated.get(key); ok {
			return cl, nil
		}
	}
	cl, err := invoke.Call[clients.Client](r.Context(), s.inv, clients.FunctionName,
		clients.OpAuthenticate, serviceCaller, clients.AuthenticateInput{TenantID: t.ID,
			ClientID: cr.clientID, Method: cr.method, Secret: cr.secret,
			Assertion: cr.assertion, Audiences: s.assertionAudiences(r, t, cr)})
	if err != nil {
		switch errs.CodeOf(err) {
		case errs.Unauthenticated, errs.NotFound, errs.InvalidArgument:
			return clients.Client{}, invalidClient("client authentication failed")
		}
		return clients.Client{}, err
	}
	if cl.TenantID != t.ID { // the registry's own guarantee, checked again
		return clients.Client{}, invalidClient("client authentication failed")
	}
	if key != "" {
		s.authenticated.put(key, cl, authMemoTTL)
	}
	return cl, nil
}

// authMemoTTL is how long a process remembers a client that
// authenticated with a secret (or, public, by its ID): a client that
// calls the token or introspection endpoint many times a second is
// checked by the registry once in that time, not at every call. The
// price, written in docs/oauth.md: a secret rotated or a client deleted
// or changed elsewhere still works in this process for up to that long.
// Failures are never remembered, so a new secret works at once.
const authMemoTTL = 5 * time.Second

// authMemoKey is the memo key of credentials that may be remembered:
// the tenant, the method, the client ID and the SHA-256 of the secret
// (never the secret itself). Assertions (private_key_jwt) are single use
// and are always checked: "" for them.
func authMemoKey(tenantID string, cr credentials) string {
	switch cr.method {
	case clients.MethodSecretBasic, clients.MethodSecretPost, clients.MethodNone:
	default:
		return ""
	}
	sum := sha256.Sum256([]byte(cr.secret))
	return tenantID + "\x00" + cr.method + "\x00" + cr.clientID + "\x00" + string(sum[:])
}

// The authorization endpoint's error page: before the client and its
// redirect URI are known, an error goes to the person at the browser,
// never to an unchecked URI (RFC 6749 section 4.1.2.1; RFC 9700 section
// 4.11.2 on open redirectors).
// writeErrorPage answers err as an HTML page. Faults of Ward are logged
// and shown without their text.
func (s *service) writeErrorPage(w http.ResponseWriter, r *http.Request, t store.Tenant,
	err error) {
	s.writeRefusal(w, r, t, err, "Sign-in", "sign-in")
}

// writeRefusal is writeErrorPage for the request named title (in a title)
// and what (in a sentence): the sign-in or the sign-out endpoint's.
func (s *service) writeRefusal(w http.ResponseWriter, r *http.Request, t store.Tenant,
	err error, title, what string) {
	pe, fault := faultOf(err)
	if fault {
		s.logFault(r.Context(), t, err)
	}
	setPageHeaders(w, pageCSP)
	var p page
	p.head(title + " request refused")
	p.tag("<body><main><h1>This ")
	p.text(what)
	p.tag(" request cannot be used</h1>\n<p>")
	p.text(pe.description)
	p.tag("</p>\n<p>Go back to the application and try again. Error: <code>")
	p.text(pe.code)
	p.tag("</code></p>\n</main></body></html>\n")
	p.send(w, pe.status)
}

// authorizationError is the error an authorization response carries to
// the client's redirect URI (RFC 6749 section 4.1.2.1), with iss (RFC
// 9207 section 2). A fault of Ward is logged and sent as server_error or
// temporarily_unavailable, without its text.
func (s *service) authorizationError(r *http.Request, t store.Tenant, err error) url.Values {
	pe, fault := faultOf(err)
	if fault {
		s.logFault(r.Context(), t, err)
	}
	v := url.Values{"error": {pe.code}}
	if pe.description != "" {
		v.Set("error_description", pe.description)
	}
	return v
}

// bearerError answers a protected resource's refusal (RFC 6750 section
// 3): the challenge in WWW-Authenticate, and the same as JSON. A request
// without any token gets the challenge without an error code (section
// 3.1).
func (s *service) bearerError(w http.ResponseWriter, r *http.Request, t store.Tenant,
	err error) {
	pe, fault := faultOf(err)
	if fault {
		s.logFault(r.Context(), t, err)
		writeErrorJSON(w, pe)
		return
	}
	challenge := `Bearer realm="` + t.Name + `"`
	if pe.code != "" {
		challenge += `, error="` + pe.code + `", error_description="` + pe.description + `"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	if pe.code == "" {
		w.WriteHeader(pe.status)
		return
	}
	writeErrorJSON(w, pe)
}

// writeErrorJSON writes the body of RFC 6749 section 5.2.
func writeErrorJSON(w http.ResponseWriter, pe *protocolError) {
	body, _ := json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{pe.code, pe.description})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(pe.status)
	_, _ = w.Write(body)
}
