package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/httpx"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
)

// The authorization endpoint (RFC 6749 section 3.1 and 4.1; OpenID
// Connect Core 1.0 section 3.1.2) and pushed authorization requests (RFC
// 9126).
const (
	// RequestURIPrefix starts every request_uri Ward hands out.
	RequestURIPrefix = "urn:ietf:params:oauth:request_uri:"
	// parTTL is the life of a pushed request (RFC 9126 section 2.2 asks
	// for a short one).
	parTTL = 60 * time.Second
	// resumeTTL is how long a request waits for the browser to sign in:
	// the life of a sign-in flow.
	resumeTTL = 15 * time.Minute
	// Bounds of the free-text parameters.
	maxStateBytes     = 2048
	maxNonceBytes     = 512
	maxLoginHintBytes = 256
	maxACRValues      = 8

	requestKeyPrefix = "oauth:req:" // + tenant ID + ":" + hex SHA-256 of the request_uri's ID
)

// Response modes (OAuth 2.0 Multiple Response Type Encoding Practices
// and Form Post Response Mode).
const (
	modeQuery    = "query"
	modeFormPost = "form_post"
)

// Values of prompt (OpenID Connect Core section 3.1.2.1).
const (
	promptNone          = "none"
	promptLogin         = "login"
	promptConsent       = "consent"
	promptSelectAccount = "select_account"
)

// authRequest is a checked authorization request, as kept while the
// browser signs in and as pushed (RFC 9126). Since is the Unix time it
// first sent the browser to sign in (0: it has not): on resumption,
// prompt=login and max_age are met by a sign-in at or after it.
type authRequest struct {
	ClientID     string   `json:"cid"`
	RedirectURI  string   `json:"ru"`
	ResponseMode string   `json:"rm"`
	State        string   `json:"st,omitempty"`
	Scope        string   `json:"sc"`
	Nonce        string   `json:"n,omitempty"`
	Challenge    string   `json:"cc,omitempty"`
	Prompt       []string `json:"p,omitempty"`
	MaxAge       int64    `json:"ma"` // -1: none asked
	ACRValues    []string `json:"acr,omitempty"`
	LoginHint    string   `json:"lh,omitempty"`
	Audience     audience `json:"aud"`
	Since        int64    `json:"since,omitempty"`
	// Set while the request waits on the consent page (consent.go): the
	// user and session it was kept for, the Unix time it lapses, and the
	// user's decision once made.
	ConsentUser    string `json:"cu,omitempty"`
	ConsentSession string `json:"cs,omitempty"`
	Until          int64  `json:"until,omitempty"`
	Decision       string `json:"dec,omitempty"`
}

func (a authRequest) prompts(p string) bool { return slices.Contains(a.Prompt, p) }

func (a authRequest) openID() bool { return slices.Contains(strings.Fields(a.Scope), "openid") }

// serveAuthorize is the authorization endpoint, GET and POST (OpenID
// Connect Core section 3.1.2.1: both, with the same parameters).
func (s *service) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	t, err := s.tenantOf(r.Context(), r.PathValue("tenant"))
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	iss := s.issuer(r, t)
	params, err := authorizeParams(w, r)
	if err != nil {
		s.writeErrorPage(w, r, t, err)
		return
	}
	// A client never learns of these refusals: before its redirect URI
	// is checked, nowhere is safe to send them (RFC 6749 section 4.1.2.1).
	cl, ru, err := s.redirectTarget(r.Context(), t, params)
	if err != nil {
		s.writeErrorPage(w, r, t, err)
		return
	}

	var req authRequest
	if params.Has("request_uri") {
		req, err = s.takeRequest(r.Context(), t, params.Get("request_uri"), cl.ID)
		if err == nil && !clients.MatchRedirectURI(cl.RedirectURIs, req.RedirectURI) {
			// The client's registration changed since the request was kept.
			err = badRequest(errInvalidRequest, "redirect_uri is not one registered for the client")
		}
		if err != nil {
			s.writeErrorPage(w, r, t, err)
			return
		}
	} else {
		req, err = checkAuthRequest(params, cl, ru, iss)
		if err != nil {
			s.respond(w, r, t, iss, errorTarget(params, ru), s.authorizationError(r, t, err))
			return
		}
	}
	s.authorize(w, r, t, iss, cl, req)
}

// authorizeParams reads the request's parameters: the query of a GET,
// the form body of a POST (OpenID Connect Core section 3.1.2.1). Each
// may appear once (RFC 6749 section 3.1), resource apart (RFC 8707).
func authorizeParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	params, err := browserParams(w, r)
	if err != nil {
		return nil, err
	}
	return params, singleOnly(params)
}

// browserParams reads the parameters of an endpoint a browser is sent to
// with GET or POST: the query of a GET, the form body of a POST.
func browserParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if r.Method == http.MethodPost {
		return readBody(w, r)
	}
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, badRequest(errInvalidRequest, "the query is not valid")
	}
	return params, nil
}

// redirectTarget finds the client and checks its redirect URI, byte for
// byte against the registered ones (RFC 9700 section 4.1.3). With a
// request_uri, the redirect URI is the pushed request's and is checked
// when the request was pushed and again below.
func (s *service) redirectTarget(ctx context.Context, t store.Tenant, params url.Values) (
	clients.Client, string, error) {
	id := params.Get("client_id")
	if id == "" {
		return clients.Client{}, "", badRequest(errInvalidRequest, "client_id is required")
	}
	cl, err := s.client(ctx, t, id)
	if err != nil {
		return clients.Client{}, "", err
	}
	if params.Has("request_uri") {
		return cl, "", nil
	}
	ru := params.Get("redirect_uri")
	// OpenID Connect Core section 3.1.2.1 requires redirect_uri; Ward asks
	// it of plain OAuth requests too, so that the code is always bound to
	// one (RFC 6749 section 4.1.3).
	if ru == "" {
		return clients.Client{}, "", badRequest(errInvalidRequest, "redirect_uri is required")
	}
	if !clients.MatchRedirectURI(cl.RedirectURIs, ru) {
		return clients.Client{}, "", badRequest(errInvalidRequest,
			"redirect_uri is not one registered for the client")
	}
	return cl, ru, nil
}

// client reads a client of the tenant from the registry. An unknown
// client is invalid_request at the authorization endpoint: it never
// authenticates there.
func (s *service) client(ctx context.Context, t store.Tenant, id string) (clients.Client, error) {
	if s.inv == nil {
		return clients.Client{}, errs.New(errs.Unavailable, "the client registry is not reachable")
	}
	cl, err := invoke.Call[clients.Client](ctx, s.inv, clients.FunctionName, clients.OpGet,
		serviceCaller, clients.GetInput{TenantID: t.ID, ID: id})
	if err != nil {
		switch errs.CodeOf(err) {
		case errs.NotFound, errs.InvalidArgument:
			return clients.Client{}, badRequest(errInvalidRequest, "unknown client")
		}
		return clients.Client{}, err
	}
	if cl.TenantID != t.ID {
		return clients.Client{}, badRequest(errInvalidRequest, "unknown client")
	}
	return cl, nil
}

// target is where an authorization response goes.
type target struct {
	redirectURI, mode, state string
}

// errorTarget is where a refusal of a request whose redirect URI is
// checked goes: its own response mode when that one is valid.
func errorTarget(params url.Values, ru string) target {
	mode := params.Get("response_mode")
	if mode != modeFormPost {
		mode = modeQuery
	}
	return target{redirectURI: ru, mode: mode, state: params.Get("state")}
}

func (a authRequest) target() target {
	return target{redirectURI: a.RedirectURI, mode: a.ResponseMode, state: a.State}
}

// checkAuthRequest checks the parameters of an authorization request
// whose client and redirect URI are known. Its errors go to the redirect
// URI.
func checkAuthRequest(params url.Values, cl clients.Client, ru, iss string) (authRequest,
	error) {
	req := authRequest{ClientID: cl.ID, RedirectURI: ru, ResponseMode: modeQuery, MaxAge: -1}
	switch params.Get("response_mode") {
	case "", modeQuery:
	case modeFormPost:
		req.ResponseMode = modeFormPost
	default:
		return req, badRequest(errInvalidRequest, "response_mode must be query or form_post")
	}
	switch rt := params.Get("response_type"); rt {
	case "code":
	case "":
		return req, badRequest(errInvalidRequest, "response_type is required")
	default:
		return req, badRequest(errUnsupportedResponseType, "only response_type=code is served")
	}
	if params.Has("request") {
		return req, badRequest(errRequestNotSupported, "request objects are not accepted")
	}
	if !slices.Contains(cl.GrantTypes, clients.GrantAuthorizationCode) {
		return req, badRequest(errUnauthorizedClient,
			"the client may not use the authorization code grant")
	}

	req.State = params.Get("state")
	req.Nonce = params.Get("nonce")
	req.LoginHint = params.Get("login_hint")
	if len(req.State) > maxStateBytes || len(req.Nonce) > maxNonceBytes ||
		len(req.LoginHint) > maxLoginHintBytes || !utf8.ValidString(req.LoginHint) {
		return req, badRequest(errInvalidRequest, "state, nonce or login_hint is too long")
	}

	// RFC 6749 section 3.3: a request without scope is refused rather
	// than given a default, so that "openid" is never granted unasked.
	if strings.TrimSpace(params.Get("scope")) == "" {
		return req, badRequest(errInvalidScope, "scope is required")
	}
	scope, err := grantedScope(params, cl.Scopes)
	if err != nil {
		return req, err
	}
	req.Scope = scope

	if req.Challenge, err = checkChallenge(params, cl); err != nil {
		return req, err
	}
	if req.Prompt, err = checkPrompt(params.Get("prompt")); err != nil {
		return req, err
	}
	if v := params.Get("max_age"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return req, badRequest(errInvalidRequest, "max_age must be a number of seconds")
		}
		req.MaxAge = n
	}
	if req.ACRValues = strings.Fields(params.Get("acr_values")); len(req.ACRValues) > maxACRValues {
		return req, badRequest(errInvalidRequest, "too many acr_values")
	}
	if req.Audience, err = audienceOf(params["resource"], iss); err != nil {
		return req, err
	}
	return req, nil
}

// checkChallenge checks PKCE's parameters (RFC 7636 section 4.3). Only
// S256 is taken: "plain", named or implied by a missing method, is
// refused (RFC 9700 section 2.1.1). Public clients and clients that
// require PKCE must send a challenge; every client may.
func checkChallenge(params url.Values, cl clients.Client) (string, error) {
	ch, method := params.Get("code_challenge"), params.Get("code_challenge_method")
	if ch == "" {
		if method != "" {
			return "", badRequest(errInvalidRequest, "code_challenge_method without code_challenge")
		}
		if cl.RequirePKCE || cl.Type == store.ClientPublic {
			return "", badRequest(errInvalidRequest, "PKCE with S256 is required for this client")
		}
		return "", nil
	}
	if method != "S256" {
		return "", badRequest(errInvalidRequest, "code_challenge_method must be S256")
	}
	// A SHA-256 in unpadded base64url is 43 characters of that alphabet.
	if b, err := decodeB64URL(ch); err != nil || len(b) != sha256.Size {
		return "", badRequest(errInvalidRequest, "code_challenge is not an S256 challenge")
	}
	return ch, nil
}

// checkPrompt reads prompt: known values only, and none alone (OpenID
// Connect Core section 3.1.2.1).
func checkPrompt(v string) ([]string, error) {
	var out []string
	for _, p := range strings.Fields(v) {
		switch p {
		case promptNone, promptLogin, promptConsent, promptSelectAccount:
		default:
			return nil, badRequest(errInvalidRequest, "prompt has an unknown value")
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if slices.Contains(out, promptNone) && len(out) > 1 {
		return nil, badRequest(errInvalidRequest, "prompt=none cannot be combined")
	}
	return out, nil
}

// browserSession is the session of the browser's hosted-pages cookie,
// validated by the sessions function within the tenant; ok is false
// without a usable one.
func (s *service) browserSession(r *http.Request, t store.Tenant) (sessions.ValidateOutput, bool,
	error) {
	c, err := r.Cookie(sessions.CookieName(s.https()))
	if err != nil || c.Value == "" {
		return sessions.ValidateOutput{}, false, nil
	}
	if s.inv == nil {
		return sessions.ValidateOutput{}, false, errs.New(errs.Unavailable,
			"the sessions service is not reachable")
	}
	out, err := invoke.Call[sessions.ValidateOutput](r.Context(), s.inv, sessions.FunctionName,
		sessions.OpValidate, serviceCaller,
		sessions.ValidateInput{Token: sessions.Token(c.Value), Tenant: t.ID})
	if err != nil {
		switch errs.CodeOf(err) {
		case errs.Unauthenticated, errs.InvalidArgument, errs.NotFound:
			return sessions.ValidateOutput{}, false, nil
		}
		return sessions.ValidateOutput{}, false, err
	}
	if !out.Active || out.Kind != sessions.KindSession || out.TenantID != t.ID ||
		out.Subject == "" {
		return sessions.ValidateOutput{}, false, nil
	}
	return out, true, nil
}

// https tells whether the hosted pages' cookies carry the __Host- prefix:
// as the pages decide, by the public URL's scheme.
func (s *service) https() bool {
	u, err := url.Parse(s.publicURL)
	return err == nil && u.Scheme == "https"
}

// needsSignIn tells whether the session falls short of the request: none
// at all; prompt=login or select_account; an auth_time older than
// max_age; or an acr below every one asked for. After the browser has
// been sent to sign in for this request (Since), a sign-in at or after
// that time meets prompt=login and max_age, and acr_values, which are
// voluntary (OpenID Connect Core section 3.1.2.1), no longer send it
// back: the ID token's acr then says what was reached.
func needsSignIn(req authRequest, sess sessions.ValidateOutput, ok bool, now time.Time) bool {
	if !ok {
		return true
	}
	fresh := req.Since != 0 && sess.AuthTime >= req.Since
	if fresh {
		return false
	}
	if req.prompts(promptLogin) || req.prompts(promptSelectAccount) {
		return true
	}
	if req.MaxAge >= 0 && now.Unix()-sess.AuthTime > req.MaxAge {
		return true
	}
	return len(req.ACRValues) > 0 && !acrMeets(sess.ACR, req.ACRValues)
}

// acrMeets reports whether have reaches one of the values asked. Ward's
// classes are numbers (store.ACRPassword, store.ACRMultiFactor); a
// higher one meets a lower one. Values Ward does not know are met by
// nothing.
func acrMeets(have string, asked []string) bool {
	h, err := strconv.Atoi(have)
	if err != nil {
		return false
	}
	for _, a := range asked {
		if n, err := strconv.Atoi(a); err == nil && h >= n {
			return true
		}
	}
	return false
}

// authorize answers a checked request: sends the browser to sign in when
// the session falls short, or issues a code to the redirect URI.
func (s *service) authorize(w http.ResponseWriter, r *http.Request, t store.Tenant, iss string,
	cl clients.Client, req authRequest) {
	ctx := r.Context()
	to := req.target()
	sess, ok, err := s.browserSession(r, t)
	if err != nil {
		s.respond(w, r, t, iss, to, s.authorizationError(r, t, err))
		return
	}
	now := s.now()
	if needsSignIn(req, sess, ok, now) {
		if req.prompts(promptNone) {
			// OpenID Connect Core section 3.1.2.6.
			s.respond(w, r, t, iss, to, s.authorizationError(r, t,
				badRequest(errLoginRequired, "the user must sign in")))
			return
		}
		s.toSignIn(w, r, t, iss, req, now)
		return
	}
	if needed, err := s.consentNeeded(ctx, t, cl, req, sess); err != nil || needed {
		if err == nil && !req.prompts(promptNone) {
			s.toConsent(w, r, t, iss, req, sess)
			return
		}
		if err == nil {
			// OpenID Connect Core section 3.1.2.6.
			err = badRequest(errConsentRequired, "the user must consent")
		}
		s.respond(w, r, t, iss, to, s.authorizationError(r, t, err))
		return
	}

	code, err := s.newCode(ctx, t, cl, req, sess)
	if err != nil {
		s.respond(w, r, t, iss, to, s.authorizationError(r, t, err))
		return
	}
	s.respond(w, r, t, iss, to, url.Values{"code": {code}})
}

// toSignIn keeps the request and sends the browser to the hosted login
// page, whose return_to resumes the request with its request_uri.
func (s *service) toSignIn(w http.ResponseWriter, r *http.Request, t store.Tenant, iss string,
	req authRequest, now time.Time) {
	if req.Since == 0 {
		req.Since = now.Unix()
	}
	uri, err := s.keepRequest(r.Context(), t, req, resumeTTL)
	if err != nil {
		s.respond(w, r, t, iss, req.target(), s.authorizationError(r, t, err))
		return
	}
	resume := "/t/" + t.Name + pathAuthorize + "?" + url.Values{"client_id": {req.ClientID},
		"request_uri": {uri}}.Encode()
	q := url.Values{"return_to": {resume}}
	if req.LoginHint != "" {
		q.Set("login_hint", req.LoginHint)
	}
	if req.prompts(promptLogin) || req.prompts(promptSelectAccount) {
		q.Set("restart", "1") // a fresh sign-in, not a flow already under way
	}
	setPageHeaders(w, pageCSP)
	http.Redirect(w, r, iss+"/login?"+q.Encode(), http.StatusSeeOther)
}

// keepRequest stores a checked request in the cache for ttl under a new
// random ID, and answers its request_uri. Only the ID's SHA-256 is the
// key: the cache never holds a usable request_uri.
func (s *service) keepRequest(ctx context.Context, t store.Tenant, req authRequest,
	ttl time.Duration) (string, error) {
	if s.cache == nil {
		return "", errs.New(errs.Unavailable, "no cache for authorization requests")
	}
	b, err := json.Marshal(req)
	if err != nil {
		return "", errs.Wrap(errs.Internal, err, "internal error")
	}
	id := randomString(32)
	if err := s.cache.Set(ctx, requestKey(t.ID, id), b, ttl); err != nil {
		return "", err
	}
	return RequestURIPrefix + id, nil
}

// takeRequest takes a kept request, once (RFC 9126 section 4: a
// request_uri is for one use), for the client that names it. Whatever
// else the authorization request holds is ignored: the pushed request
// is the whole request (RFC 9126 section 4).
func (s *service) takeRequest(ctx context.Context, t store.Tenant, uri, clientID string) (
	authRequest, error) {
	id, ok := strings.CutPrefix(uri, RequestURIPrefix)
	if !ok || id == "" {
		return authRequest{}, badRequest(errInvalidRequestURI, "request_uri is not one of Ward's")
	}
	if s.cache == nil {
		return authRequest{}, errs.New(errs.Unavailable, "no cache for authorization requests")
	}
	b, err := s.cache.GetDel(ctx, requestKey(t.ID, id))
	if errors.Is(err, cache.ErrMiss) {
		return authRequest{}, badRequest(errInvalidRequestURI,
			"request_uri is unknown, expired or used")
	}
	if err != nil {
		return authRequest{}, err
	}
	var req authRequest
	if err := json.Unmarshal(b, &req); err != nil {
		return authRequest{}, errs.Wrap(errs.Internal, err, "a kept request is damaged")
	}
	if req.ClientID != clientID {
		return authRequest{}, badRequest(errInvalidRequestURI,
			"request_uri was not pushed by this client")
	}
	return req, nil
}

func requestKey(tenantID, id string) string {
	sum := sha256.Sum256([]byte(id))
	return requestKeyPrefix + tenantID + ":" + hex.EncodeToString(sum[:])
}

// parResponse is RFC 9126 section 2.2's answer, 201 Created.
type parResponse struct {
	RequestURI string `json:"request_uri"`
	ExpiresIn  int64  `json:"expires_in"`
}

func (parResponse) created() bool { return true }

// servePAR is the pushed authorization request endpoint (RFC 9126): the
// client authenticates as at the token endpoint, the request is checked
// as at the authorization endpoint, and is kept for parTTL.
func (s *service) servePAR(r *http.Request, t store.Tenant, iss string, form url.Values) (
	any, error) {
	cl, err := s.authenticateClient(r, t, form, false)
	if err != nil {
		return nil, err
	}
	// RFC 9126 section 2.1: a pushed request does not itself refer to one.
	if form.Has("request_uri") {
		return nil, badRequest(errInvalidRequest, "request_uri is not taken here")
	}
	ru := form.Get("redirect_uri")
	if ru == "" {
		return nil, badRequest(errInvalidRequest, "redirect_uri is required")
	}
	if !clients.MatchRedirectURI(cl.RedirectURIs, ru) {
		return nil, badRequest(errInvalidRequest,
			"redirect_uri is not one registered for the client")
	}
	req, err := checkAuthRequest(form, cl, ru, iss)
	if err != nil {
		return nil, err
	}
	uri, err := s.keepRequest(r.Context(), t, req, parTTL)
	if err != nil {
		return nil, err
	}
	return parResponse{RequestURI: uri, ExpiresIn: int64(parTTL / time.Second)}, nil
}

// respond sends an authorization response (RFC 6749 section 4.1.2): the
// parameters, state and iss (RFC 9207 section 2) in the redirect URI's
// query, or posted to it by an HTML form (form_post).
func (s *service) respond(w http.ResponseWriter, r *http.Request, t store.Tenant, iss string,
	to target, v url.Values) {
	if to.state != "" {
		v.Set("state", to.state)
	}
	v.Set("iss", iss)
	if to.mode == modeFormPost {
		s.formPost(w, to.redirectURI, v)
		return
	}
	sep := "?"
	if strings.Contains(to.redirectURI, "?") {
		sep = "&" // a registered query is kept as registered
	}
	setPageHeaders(w, pageCSP)
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther // RFC 9700 section 4.12: never 307 after a POST
	}
	http.Redirect(w, r, to.redirectURI+sep+v.Encode(), status)
}

func (s *service) formPost(w http.ResponseWriter, redirectURI string, v url.Values) {
	nonce := randomString(16)
	csp := "default-src 'none'; script-src 'nonce-" + nonce + "'; form-action " +
		formOrigin(redirectURI) + "; frame-ancestors 'none'; base-uri 'none'"
	setPageHeaders(w, csp)
	// The answer is posted at once by a script the policy admits by its
	// nonce, or by the button without scripts.
	var p page
	p.head("Continue")
	p.tag(`<body><form method="post"`)
	p.attr("action", redirectURI)
	p.tag(">\n")
	for _, k := range []string{"code", "error", "error_description", "state", "iss"} {
		if v.Has(k) {
			p.tag(`<input type="hidden"`)
			p.attr("name", k)
			p.attr("value", v.Get(k))
			p.tag(">\n")
		}
	}
	p.tag(`<noscript><p>Continue to the application.</p></noscript>` + "\n" +
		`<button type="submit">Continue</button></form>` + "\n" + `<script`)
	p.attr("nonce", nonce)
	p.tag(">document.forms[0].submit()</script>\n</body></html>\n")
	p.send(w, http.StatusOK)
}

// formOrigin is the CSP source of a redirect URI: its origin, or its
// scheme for a private-use one (RFC 8252 section 7.1). Registered
// redirect URIs hold no space, quote or semicolon (clients checks them).
func formOrigin(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return "'none'"
	}
	if u.Host == "" {
		return u.Scheme + ":"
	}
	return u.Scheme + "://" + u.Host
}

// pageCSP is the policy of the endpoint's pages and redirects: nothing
// loads, nothing frames them.
const pageCSP = "default-src 'none'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

func setPageHeaders(w http.ResponseWriter, csp string) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	// The redirect and the page carry the code: it must not leak in a
	// Referer, nor be kept by a cache.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
}
