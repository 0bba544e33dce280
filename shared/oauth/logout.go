package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/httpx"
	"github.com/wardhq/ward/shared/oauth/keys"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
)

// OpenID Connect RP-Initiated Logout 1.0: GET and POST
// /t/{tenant}/oauth2/logout (the discovery document's
// end_session_endpoint).
//
// A relying party sends the browser here to end the user's session at
// Ward. The session is the hosted pages' cookie (sessions.CookieName),
// as at the authorization endpoint. When the request proves which
// session it is about (an id_token_hint whose sid is the browser's
// session, or whose sub is its user), the session ends at once;
// otherwise the person at the browser is asked on a page, since any site
// can send a browser here (section 2: the OP SHOULD ask the End-User
// whether to log out). Ending it is sessions.End (the hosted sign-out
// page's own way), the cookie cleared, and the refresh token families
// bound to that session revoked. The browser then goes to the
// post_logout_redirect_uri with state, or sees a signed-out page.
//
// Bad input (a hint this issuer did not sign for this tenant, an
// unregistered post_logout_redirect_uri, a client_id that is not the
// hint's) is an error page: nothing ends and nothing redirects, since an
// unchecked redirect would make the endpoint an open redirector.
const (
	// logoutTTL is how long a confirmation page stays usable.
	logoutTTL = 10 * time.Minute
	// maxUILocalesBytes bounds ui_locales; maxLogoutHintBytes logout_hint.
	maxUILocalesBytes  = 256
	maxLogoutHintBytes = maxLoginHintBytes
	// logoutConfirm is the confirmation form's field: the ID of the kept
	// request. It is Ward's own parameter, not the specification's.
	logoutConfirm = "logout_request"

	logoutKeyPrefix = "oauth:logout:" // + tenant ID + ":" + hex SHA-256 of the ID
)

// logoutParams may each appear once.
var logoutParams = []string{"id_token_hint", "client_id", "post_logout_redirect_uri", "state",
	"ui_locales", "logout_hint", logoutConfirm}

// logoutRequest is a checked logout request, as kept while the user is
// asked. SessionID is the browser's session the question is about: the
// answer must come from the same session, which makes the form immune to
// cross-site request forgery without a token of its own (a forger's kept
// request names the forger's session or none).
type logoutRequest struct {
	ClientID    string `json:"cid,omitempty"`
	ClientName  string `json:"cn,omitempty"`
	RedirectURI string `json:"ru,omitempty"`
	State       string `json:"st,omitempty"`
	SessionID   string `json:"sid,omitempty"`
	// hintSub and hintSID are the id_token_hint's sub and sid, when it
	// had them; they decide whether to ask, and are not kept.
	hintSub, hintSID string
}

// serveLogout is the end-session endpoint, GET and POST (section 2: both,
// POST form-encoded).
func (s *service) serveLogout(w http.ResponseWriter, r *http.Request) {
	t, err := s.tenantOf(r.Context(), r.PathValue("tenant"))
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	params, err := logoutValues(w, r)
	if err != nil {
		s.logoutRefused(w, r, t, err)
		return
	}
	if r.Method == http.MethodPost && params.Has(logoutConfirm) {
		s.confirmLogout(w, r, t, params.Get(logoutConfirm))
		return
	}
	iss := s.issuer(r, t)
	lr, err := s.checkLogout(r.Context(), t, iss, params)
	if err != nil {
		s.logoutRefused(w, r, t, err)
		return
	}
	sess, ok, err := s.browserSession(r, t)
	if err != nil {
		s.logoutRefused(w, r, t, err)
		return
	}
	if !ok {
		// No session here to end: the relying party's own is what the
		// user left. A stale cookie goes too.
		s.clearSessionCookie(w, r)
		s.loggedOut(w, r, lr)
		return
	}
	if lr.hintSID != "" && lr.hintSID == sess.SessionID ||
		lr.hintSub != "" && lr.hintSub == sess.Subject {
		s.endAndLeave(w, r, t, sess, lr)
		return
	}
	s.askLogout(w, r, t, iss, sess, lr)
}

// logoutValues reads the parameters: the query of a GET, the form body of
// a POST; none of the specification's may repeat.
func logoutValues(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	params, err := browserParams(w, r)
	if err != nil {
		return nil, err
	}
	return params, onlyOnce(params, logoutParams)
}

// checkLogout checks a logout request: the hint, the client, and the
// post-logout redirect URI.
func (s *service) checkLogout(ctx context.Context, t store.Tenant, iss string,
	params url.Values) (logoutRequest, error) {
	lr := logoutRequest{State: params.Get("state"), ClientID: params.Get("client_id"),
		RedirectURI: params.Get("post_logout_redirect_uri")}
	hint, locales := params.Get("logout_hint"), params.Get("ui_locales")
	if len(lr.State) > maxStateBytes || len(hint) > maxLogoutHintBytes ||
		!utf8.ValidString(hint) || len(locales) > maxUILocalesBytes {
		return lr, badRequest(errInvalidRequest, "state, logout_hint or ui_locales is too long")
	}
	// ui_locales is taken and not used: the pages are in English.
	// logout_hint is taken and not used: the id_token_hint or the
	// browser's session says who signs out, and the user is asked
	// otherwise.

	if raw := params.Get("id_token_hint"); raw != "" {
		c, err := s.verifyIDTokenHint(ctx, t, iss, raw)
		if err != nil {
			return lr, err
		}
		lr.hintSub, lr.hintSID = c.Subject, c.SID
		// Section 2: the client is the hint's audience; a client_id must
		// agree with it.
		aud := c.AZP
		if aud == "" && len(c.Audience) == 1 {
			aud = c.Audience[0]
		}
		switch {
		case lr.ClientID == "":
			lr.ClientID = aud
		case lr.ClientID != aud:
			return lr, badRequest(errInvalidRequest,
				"client_id is not the client the id_token_hint was issued to")
		}
	}

	if lr.ClientID != "" {
		cl, err := s.client(ctx, t, lr.ClientID)
		if err != nil {
			return lr, err
		}
		lr.ClientName = cl.Name
		// Section 3: the URI must have been registered for the client,
		// and Ward compares exactly, as it does redirect URIs (RFC 9700
		// section 4.1.3).
		if lr.RedirectURI != "" &&
			!clients.MatchRedirectURI(cl.PostLogoutRedirectURIs, lr.RedirectURI) {
			return lr, badRequest(errInvalidRequest,
				"post_logout_redirect_uri is not one registered for the client")
		}
	} else if lr.RedirectURI != "" {
		// Section 3: without the client, nothing says the URI is
		// legitimate; redirecting would make an open redirector.
		return lr, badRequest(errInvalidRequest,
			"post_logout_redirect_uri needs client_id or id_token_hint")
	}
	return lr, nil
}

// verifyIDTokenHint checks that raw is an ID token this tenant's issuer
// signed: a signature by one of the tenant's published keys (alg none,
// another tenant's key and algorithm confusion fail in keys.Verify), typ
// JWT, and iss this issuer. Expiry is not checked: section 2 lets the OP
// take an expired hint, and the one a relying party holds when the user
// signs out usually is.
func (s *service) verifyIDTokenHint(ctx context.Context, t store.Tenant, iss, raw string) (
	idClaims, error) {
	refused := badRequest(errInvalidRequest, "id_token_hint is not an ID token of this issuer")
	v, err := s.keys.Verify(ctx, t.ID, []byte(raw))
	if err != nil {
		if errors.Is(err, keys.ErrNotVerified) {
			return idClaims{}, refused
		}
		return idClaims{}, err
	}
	var c idClaims
	if v.Type != IDTokenType || json.Unmarshal(v.Payload, &c) != nil || c.Issuer != iss ||
		c.Subject == "" || len(c.Audience) == 0 {
		return idClaims{}, refused
	}
	return c, nil
}

// endAndLeave ends the browser's session and sends it on.
func (s *service) endAndLeave(w http.ResponseWriter, r *http.Request, t store.Tenant,
	sess sessions.ValidateOutput, lr logoutRequest) {
	if err := s.endSession(r.Context(), t, sess); err != nil {
		s.logoutRefused(w, r, t, err)
		return
	}
	s.clearSessionCookie(w, r)
	s.loggedOut(w, r, lr)
}

// endSession ends sess as the hosted sign-out page does (sessions.End),
// then revokes the refresh token families bound to it. Those would be
// refused at their next use anyway, since every use reads the session's
// record (sessionEnded); revoking them makes the end durable in the
// families themselves. A failure there is logged and does not undo the
// sign-out.
func (s *service) endSession(ctx context.Context, t store.Tenant,
	sess sessions.ValidateOutput) error {
	if err := sessions.End(ctx, s.inv, sess); err != nil {
		return err
	}
	gone, err := s.st.RefreshTokens().RevokeBySession(ctx, t.ID, sess.Subject, sess.SessionID)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "oauth: the refresh token families of an ended "+
			"session were not revoked; they are refused at their next use",
			slog.String("tenant", t.ID), slog.String("error", err.Error()),
			slog.String("request_id", function.RequestID(ctx)))
		return nil
	}
	s.log.LogAttrs(ctx, slog.LevelDebug, "oauth: logout", slog.String("tenant", t.ID),
		slog.Int("revoked_families", len(gone)))
	return nil
}

// clearSessionCookie clears the hosted pages' session cookie, with the
// attributes the pages set it with (Path=/, Secure and __Host- over
// https), or the browser would keep it.
func (s *service) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	name := sessions.CookieName(s.https())
	if _, err := r.Cookie(name); err != nil {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.https(), SameSite: http.SameSiteLaxMode})
}

// loggedOut sends the browser to the post-logout redirect URI with state
// (section 3), or shows the signed-out page when none was given.
func (s *service) loggedOut(w http.ResponseWriter, r *http.Request, lr logoutRequest) {
	setPageHeaders(w, pageCSP)
	if lr.RedirectURI == "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_ = signedOutPage.Execute(w, nil)
		return
	}
	target := lr.RedirectURI
	if lr.State != "" {
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&" // a registered query is kept as registered
		}
		target += sep + url.Values{"state": {lr.State}}.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// askLogout keeps the request, bound to the browser's session, and shows
// the confirmation form.
func (s *service) askLogout(w http.ResponseWriter, r *http.Request, t store.Tenant, iss string,
	sess sessions.ValidateOutput, lr logoutRequest) {
	if s.cache == nil {
		s.logoutRefused(w, r, t, errs.New(errs.Unavailable, "no cache for logout requests"))
		return
	}
	lr.SessionID = sess.SessionID
	b, err := json.Marshal(lr)
	if err != nil {
		s.logoutRefused(w, r, t, errs.Wrap(errs.Internal, err, "internal error"))
		return
	}
	id := randomString(32)
	if err := s.cache.Set(r.Context(), logoutKey(t.ID, id), b, logoutTTL); err != nil {
		s.logoutRefused(w, r, t, err)
		return
	}
	action := iss + pathEndSession
	setPageHeaders(w, "default-src 'none'; form-action "+formOrigin(action)+
		"; frame-ancestors 'none'; base-uri 'none'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_ = confirmLogoutPage.Execute(w, struct {
		Action        template.URL
		Field, ID     string
		Client, Realm string
	}{template.URL(action), logoutConfirm, id, lr.ClientName, t.DisplayName})
}

// confirmLogout takes the confirmation form's answer: the kept request,
// once, from the session it was kept for.
func (s *service) confirmLogout(w http.ResponseWriter, r *http.Request, t store.Tenant,
	id string) {
	ctx := r.Context()
	// The form is the endpoint's own page: a POST from elsewhere is
	// refused before anything is read (Fetch Metadata, Origin).
	if !s.sameOrigin(r, t) {
		s.logoutRefused(w, r, t, badRequest(errInvalidRequest,
			"the sign-out form was not sent from this site"))
		return
	}
	if s.cache == nil {
		s.logoutRefused(w, r, t, errs.New(errs.Unavailable, "no cache for logout requests"))
		return
	}
	b, err := s.cache.GetDel(ctx, logoutKey(t.ID, id))
	if errors.Is(err, cache.ErrMiss) {
		s.logoutRefused(w, r, t, badRequest(errInvalidRequest,
			"the sign-out form has expired or was used; start again from the application"))
		return
	}
	if err != nil {
		s.logoutRefused(w, r, t, err)
		return
	}
	var lr logoutRequest
	if err := json.Unmarshal(b, &lr); err != nil {
		s.logoutRefused(w, r, t, errs.Wrap(errs.Internal, err, "a kept logout request is damaged"))
		return
	}
	sess, ok, err := s.browserSession(r, t)
	switch {
	case err != nil:
		s.logoutRefused(w, r, t, err)
	case !ok:
		// Ended meanwhile (another tab): what was asked is done.
		s.clearSessionCookie(w, r)
		s.loggedOut(w, r, lr)
	case subtle.ConstantTimeCompare([]byte(sess.SessionID), []byte(lr.SessionID)) != 1:
		s.logoutRefused(w, r, t, badRequest(errInvalidRequest,
			"the sign-out form was not made for this browser's session"))
	default:
		s.endAndLeave(w, r, t, sess, lr)
	}
}

// sameOrigin tells whether a POST came from the issuer's own pages:
// Sec-Fetch-Site, when the browser sends it, must be same-origin, and
// Origin, when sent, the issuer's origin. A browser sends at least one of
// them with every form POST; a request with neither is not a browser's.
func (s *service) sameOrigin(r *http.Request, t store.Tenant) bool {
	site, origin := r.Header.Get("Sec-Fetch-Site"), r.Header.Get("Origin")
	if site == "" && origin == "" {
		return false
	}
	if site != "" && site != "same-origin" {
		return false
	}
	return origin == "" || origin == formOrigin(s.issuer(r, t))
}

func logoutKey(tenantID, id string) string {
	sum := sha256.Sum256([]byte(id))
	return logoutKeyPrefix + tenantID + ":" + hex.EncodeToString(sum[:])
}

// logoutRefused shows a refused logout request: nothing ended, nothing
// redirected.
func (s *service) logoutRefused(w http.ResponseWriter, r *http.Request, t store.Tenant,
	err error) {
	s.writeRefusal(w, r, t, err, "Sign-out", "sign-out")
}

var confirmLogoutPage = template.Must(template.New("logout").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign out</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Sign out{{if .Realm}} of {{.Realm}}{{end}}?</h1>
{{if .Client}}<p>{{.Client}} asks to sign you out.</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="{{.Field}}" value="{{.ID}}">
<button type="submit">Sign out</button></form>
<p>To stay signed in, close this page.</p>
</main></body></html>
`))

var signedOutPage = template.Must(template.New("signed-out").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signed out</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>You are signed out</h1>
<p>You may close this page.</p>
</main></body></html>
`))
