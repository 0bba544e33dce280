package oauth

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/httpx"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/users"
)

// serveUserInfo is the UserInfo endpoint (OpenID Connect Core section
// 5.3), GET and POST, for an access token (JWT or opaque) of the tenant
// that carries the openid scope. The claims are the user's, by scope
// (section 5.4), read from the users function. Browsers' scripts of any
// origin may call it: the bearer token is the only credential, never a
// cookie.
func (s *service) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
		w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		w.Header().Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	t, err := s.tenantOf(r.Context(), r.PathValue("tenant"))
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	claims, err := s.userInfo(w, r, t)
	if err != nil {
		s.bearerError(w, r, t, err)
		return
	}
	b, err := json.Marshal(claims)
	if err != nil {
		s.bearerError(w, r, t, errs.Wrap(errs.Internal, err, "internal error"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func invalidToken(description string) *protocolError {
	return &protocolError{code: errInvalidToken, description: description,
		status: http.StatusUnauthorized}
}

// bearerToken reads the access token: the Authorization header (RFC
// 6750 section 2.1) or, in a POST, the form body (section 2.2); never
// both (section 2), never the query (Ward does not take section 2.3's
// method: URIs end up in logs).
func bearerToken(w http.ResponseWriter, r *http.Request) (string, error) {
	var fromForm string
	if r.Method == http.MethodPost && r.Header.Get("Content-Type") != "" {
		form, err := readForm(w, r)
		if err != nil {
			return "", err
		}
		fromForm = form.Get("access_token")
	}
	auth := r.Header.Values("Authorization")
	switch {
	case len(auth) > 1 || (len(auth) == 1 && fromForm != ""):
		return "", badRequest(errInvalidRequest, "more than one access token")
	case len(auth) == 1:
		scheme, tok, ok := strings.Cut(auth[0], " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return "", invalidToken("the Authorization header is not a bearer token")
		}
		return strings.TrimSpace(tok), nil
	case fromForm != "":
		return fromForm, nil
	}
	// Section 3.1: a request without any token learns only the scheme.
	return "", &protocolError{status: http.StatusUnauthorized}
}

// userInfo answers the claims of the token's user.
func (s *service) userInfo(w http.ResponseWriter, r *http.Request, t store.Tenant) (
	map[string]any, error) {
	tok, err := bearerToken(w, r)
	if err != nil {
		return nil, err
	}
	c, ok, err := s.lookup(r.Context(), t, s.issuer(r, t), tok)
	if err != nil {
		return nil, err
	}
	// A client's own token (client_credentials) has the client as its
	// subject and no user: it carries no openid scope either.
	if !ok {
		return nil, invalidToken("the access token is not active")
	}
	scopes := strings.Fields(c.Scope)
	if !slices.Contains(scopes, "openid") || c.Subject == c.ClientID {
		return nil, &protocolError{code: errInsufficientScope, status: http.StatusForbidden,
			description: "the access token lacks the openid scope"}
	}
	if s.inv == nil {
		return nil, errs.New(errs.Unavailable, "the users service is not reachable")
	}
	u, err := invoke.Call[store.User](r.Context(), s.inv, users.FunctionName, users.OpGet,
		serviceCaller, users.GetInput{TenantID: t.ID, ID: c.Subject})
	if errs.CodeOf(err) == errs.NotFound {
		return nil, invalidToken("the access token's user no longer exists")
	}
	if err != nil {
		return nil, err
	}
	if u.Status != store.UserActive || u.TenantID != t.ID {
		return nil, invalidToken("the access token's user is not active")
	}
	return userClaims(u, scopes), nil
}

// userClaims are the standard claims of u that the scopes ask for
// (OpenID Connect Core section 5.4), as far as Ward keeps them: sub
// always; profile: name (the display name), preferred_username,
// given_name and family_name (from the profile attributes givenName and
// familyName when the tenant's schema has them), locale, updated_at;
// email: email, email_verified; phone: phone_number,
// phone_number_verified. A claim Ward has no value for is left out.
func userClaims(u store.User, scopes []string) map[string]any {
	out := map[string]any{"sub": u.ID}
	set := func(k, v string) {
		if v != "" {
			out[k] = v
		}
	}
	if slices.Contains(scopes, "profile") {
		set("name", u.DisplayName)
		set("preferred_username", u.Username)
		for claim, attr := range map[string]string{"given_name": "givenName",
			"family_name": "familyName"} {
			if v, ok := u.Attributes[attr].(string); ok {
				set(claim, v)
			}
		}
		set("locale", u.Locale)
		if !u.UpdatedAt.IsZero() {
			out["updated_at"] = u.UpdatedAt.Unix()
		}
	}
	if slices.Contains(scopes, "email") && u.Email != "" {
		out["email"] = u.Email
		out["email_verified"] = u.EmailVerified
	}
	if slices.Contains(scopes, "phone") && u.Phone != "" {
		out["phone_number"] = u.Phone
		out["phone_number_verified"] = u.PhoneVerified
	}
	return out
}
