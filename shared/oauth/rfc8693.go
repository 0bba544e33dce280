package oauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/issuers"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// Token type identifiers of RFC 8693 section 3, and Ward's own for a
// session.
const (
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeJWT         = "urn:ietf:params:oauth:token-type:jwt"
	TokenTypeIDToken     = "urn:ietf:params:oauth:token-type:id_token"
	// TokenTypeSession asks for a Ward session token ("wss_...") of the
	// user an external subject token maps to.
	TokenTypeSession = "urn:wardhq:params:oauth:token-type:session"
)

const (
	// maxExchangeToken bounds a subject or actor token, as the trusted
	// issuers service bounds what it verifies.
	maxExchangeToken = 8 << 10
	// maxActDepth bounds a chain of delegation (nested "act" claims), so
	// that repeated exchanges cannot grow a token without end.
	maxActDepth = 8
	// Sessions made from another issuer's token get this class and
	// method: below any sign-in of Ward's own ("1" is a password), so
	// that a step-up Ward asks for is never met by another IdP's word.
	exchangeSessionACR = "0"
	exchangeSessionAMR = "ext"
	// externalSubjectPrefix starts the subject of a token exchanged from
	// a trusted issuer's token whose subject maps to no Ward user:
	// "ext:" + the trusted issuer's ID + ":" + its subject.
	externalSubjectPrefix = "ext:"
)

// exchangeParams may appear at most once in a token exchange request
// (RFC 8693 section 2.1 gives each once; only resource and audience
// repeat).
var exchangeParams = []string{"subject_token", "subject_token_type", "actor_token",
	"actor_token_type", "requested_token_type"}

// badToken refuses a subject or actor token. RFC 8693 section 2.2.2: a
// token that is invalid for any reason, or unacceptable by policy, MUST
// be answered invalid_request (not invalid_grant, which RFC 6749 keeps
// for grants such as codes and refresh tokens). Every reason gets the
// same code; the descriptions
// say no more than the client could learn by trying.
func badToken(description string) *protocolError {
	return badRequest(errInvalidRequest, description)
}

// actClaim is the "act" claim (RFC 8693 section 4.1): the party acting
// for the subject, and within it the party that acted before.
type actClaim struct {
	Subject string    `json:"sub"`
	Issuer  string    `json:"iss,omitempty"`
	Act     *actClaim `json:"act,omitempty"`
}

func (a *actClaim) depth() int {
	n := 0
	for ; a != nil; a = a.Act {
		n++
	}
	return n
}

// exchangeResponse is RFC 8693 section 2.2.1's answer.
type exchangeResponse struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
	Scope           string `json:"scope,omitempty"`
}

// party is a verified subject or actor token, as the exchange uses it.
type party struct {
	subject string // the new token's sub
	// actSubject and issuer name the party in an "act" claim: a Ward
	// subject alone, or another issuer's subject with that issuer.
	actSubject string
	issuer     string
	self       bool // an access token of this tenant's own issuer
	expiry     int64
	// scope limits the new token's scope when scoped: a Ward token's, or
	// a trusted issuer's carried "scope" or "scp".
	scope  []string
	scoped bool
	act    *actClaim
	// signIn is how a Ward subject signed in (auth_time, acr, amr, sid),
	// carried over to the new token; never another issuer's word.
	signIn accessClaims
	// Of a trusted issuer's token: the issuer, the mapped user ("" when
	// none) and how the user signed in there.
	ti       store.TrustedIssuer
	userID   string
	authTime int64
}

// serveTokenExchange is the token exchange grant (RFC 8693). The client
// has authenticated; its policy (store.ExchangePolicy) says from which
// issuers it may take tokens, for which audiences it may ask, and whether
// it may delegate, impersonate or ask for sessions. Nothing is issued
// unless every check passes.
func (s *service) serveTokenExchange(r *http.Request, t store.Tenant, iss string,
	form url.Values, cl clients.Client) (any, error) {
	// Like client_credentials, a grant for confidential clients only: the
	// registry allows a policy on no other, and this checks it again.
	pol := cl.Exchange
	if !slices.Contains(cl.GrantTypes, clients.GrantTokenExchange) ||
		cl.Type != store.ClientConfidential || pol == nil {
		return nil, badRequest(errUnauthorizedClient, "the client may not exchange tokens")
	}
	for _, name := range exchangeParams {
		if len(form[name]) > 1 {
			return nil, badRequest(errInvalidRequest, "the parameter "+name+" is repeated")
		}
	}
	subjectTok, subjectType := form.Get("subject_token"), form.Get("subject_token_type")
	actorTok, actorType := form.Get("actor_token"), form.Get("actor_token_type")
	// RFC 8693 section 2.1: subject_token and its type are REQUIRED;
	// actor_token_type is REQUIRED with actor_token and MUST NOT appear
	// without it.
	switch {
	case subjectTok == "" || subjectType == "":
		return nil, badRequest(errInvalidRequest, "subject_token and subject_token_type are required")
	case (actorTok == "") != (actorType == ""):
		return nil, badRequest(errInvalidRequest,
			"actor_token and actor_token_type go together")
	}
	requested := form.Get("requested_token_type")
	switch requested {
	case "", TokenTypeAccessToken:
		requested = TokenTypeAccessToken
	case TokenTypeSession:
		return s.exchangeSession(r.Context(), t, iss, form, pol)
	default:
		return nil, badRequest(errInvalidRequest, "requested_token_type is not supported")
	}
	if actorTok != "" && !pol.Delegation {
		return nil, badRequest(errUnauthorizedClient, "the client may not delegate")
	}
	if actorTok == "" && !pol.Impersonation {
		return nil, badRequest(errUnauthorizedClient, "the client may not impersonate")
	}

	ctx := r.Context()
	sub, err := s.exchangeParty(ctx, t, iss, pol, subjectTok, subjectType)
	if err != nil {
		return nil, err
	}
	expiry := sub.expiry
	act := sub.act
	if actorTok != "" {
		actor, err := s.exchangeParty(ctx, t, iss, pol, actorTok, actorType)
		if err != nil {
			return nil, err
		}
		// Section 4.1: the current actor at the top, the subject token's
		// own chain of actors nested within.
		act = &actClaim{Subject: actor.actSubject, Issuer: actor.issuer, Act: sub.act}
		expiry = min(expiry, actor.expiry)
	}
	if act.depth() > maxActDepth {
		return nil, badToken("the chain of delegation is too long")
	}
	aud, err := exchangeAudience(form, iss, pol)
	if err != nil {
		return nil, err
	}
	scope, err := exchangeScope(form, cl.Scopes, sub)
	if err != nil {
		return nil, err
	}

	// The new token never outlives the tokens it was made from.
	now := s.now()
	ttl := min(lifetime(cl.AccessTokenTTL), time.Unix(expiry, 0).Sub(now).Truncate(time.Second))
	if ttl <= 0 {
		return nil, badToken("the token has expired")
	}
	claims := accessClaims{Issuer: iss, Subject: sub.subject, Audience: aud,
		Expiry: now.Add(ttl).Unix(), IssuedAt: now.Unix(), ID: randomString(16),
		ClientID: cl.ID, Scope: scope, Act: act, AuthTime: sub.signIn.AuthTime,
		ACR: sub.signIn.ACR, AMR: sub.signIn.AMR, SessionID: sub.signIn.SessionID}
	token, err := s.issue(ctx, t, cl.AccessTokenFormat, claims, ttl)
	if err != nil {
		return nil, err
	}
	return exchangeResponse{AccessToken: token, IssuedTokenType: requested, TokenType: "Bearer",
		ExpiresIn: int64(ttl / time.Second), Scope: scope}, nil
}

// exchangeParty verifies a subject or actor token: an access token of
// this tenant's issuer (JWT or opaque, as introspection finds it), or a
// JWT of one of the tenant's trusted issuers, verified by the trusted
// issuers service. Either must come from an issuer the client's policy
// names. A token that is not active here is invalid_grant.
func (s *service) exchangeParty(ctx context.Context, t store.Tenant, iss string,
	pol *store.ExchangePolicy, tok, typ string) (party, error) {
	switch typ {
	case TokenTypeAccessToken, TokenTypeJWT, TokenTypeIDToken:
	default:
		return party{}, badRequest(errInvalidRequest, "the token type is not supported")
	}
	if len(tok) > maxExchangeToken {
		return party{}, badToken("the token is not valid")
	}
	// The claimed issuer only picks the path and the policy entry; the
	// signature check on that path decides whether the token is good.
	claimed := unverifiedIssuer(tok)
	if strings.HasPrefix(tok, OpaqueTokenPrefix) || claimed == iss {
		if !slices.Contains(pol.Issuers, store.ExchangeSelf) {
			return party{}, badToken("the client may not exchange this issuer's tokens")
		}
		// Ward's own ID tokens are not taken: they tell the client that
		// asked for them who signed in, and are no credential to pass on
		// (lookup refuses any typ but at+jwt as well).
		if typ == TokenTypeIDToken {
			return party{}, badToken("the token is not an ID token")
		}
		c, ok, err := s.lookup(ctx, t, iss, tok)
		if err != nil {
			return party{}, err
		}
		if !ok {
			return party{}, badToken("the token is not active")
		}
		return party{subject: c.Subject, actSubject: c.Subject, self: true, expiry: c.Expiry,
			scope: strings.Fields(c.Scope), scoped: true, act: c.Act,
			signIn: accessClaims{AuthTime: c.AuthTime, ACR: c.ACR, AMR: c.AMR,
				SessionID: c.SessionID}}, nil
	}
	if claimed == "" || !slices.Contains(pol.Issuers, claimed) {
		return party{}, badToken("the client may not exchange this issuer's tokens")
	}
	return s.externalParty(ctx, t, tok)
}

// externalParty verifies a trusted issuer's JWT with the trusted issuers
// service (the same verification sessions.validate uses) and maps its
// subject to a Ward user when the issuer says how.
func (s *service) externalParty(ctx context.Context, t store.Tenant, tok string) (party,
	error) {
	if s.inv == nil {
		return party{}, errs.New(errs.Unavailable, "the trusted issuers are not reachable")
	}
	out, err := invoke.Call[issuers.VerifyOutput](ctx, s.inv, issuers.FunctionName,
		issuers.OpVerify, serviceCaller, issuers.VerifyInput{Token: issuers.Token(tok),
			TenantID: t.ID})
	if err != nil {
		if c := errs.CodeOf(err); c == errs.Unavailable || c == errs.Internal {
			return party{}, err
		}
		return party{}, badToken("the token is not valid")
	}
	if out.TenantID != t.ID || out.Subject == "" || out.ExpiresAt <= s.now().Unix() {
		return party{}, badToken("the token is not valid")
	}
	ti, err := s.st.TrustedIssuers().Get(ctx, t.ID, out.IssuerID)
	if errs.CodeOf(err) == errs.NotFound { // deleted since it verified
		return party{}, badToken("the token is not valid")
	}
	if err != nil {
		return party{}, err
	}
	p := party{subject: externalSubjectPrefix + ti.ID + ":" + out.Subject,
		actSubject: out.Subject, issuer: out.Issuer, expiry: out.ExpiresAt, ti: ti,
		authTime: out.AuthTime}
	if u, ok, err := s.mappedUser(ctx, t, ti, out.Subject); err != nil {
		return party{}, err
	} else if ok {
		p.subject, p.actSubject, p.issuer, p.userID = u.ID, u.ID, "", u.ID
	}
	p.scope, p.scoped = carriedScope(out.Claims)
	if raw, ok := out.Claims["act"]; ok {
		b, _ := json.Marshal(raw)
		var a actClaim
		if json.Unmarshal(b, &a) != nil || a.Subject == "" {
			return party{}, badToken("the token's act claim is malformed")
		}
		p.act = &a
	}
	return p, nil
}

// mappedUser finds the Ward user a trusted issuer's subject is, by the
// issuer's user mapping. ok is false when the issuer maps no users; a
// subject that names no active user of the tenant is invalid_grant, so
// that a mapping issuer never yields unmapped tokens.
func (s *service) mappedUser(ctx context.Context, t store.Tenant, ti store.TrustedIssuer,
	subject string) (store.User, bool, error) {
	var u store.User
	var err error
	switch ti.UserMapping {
	case store.IssuerMapNone:
		return store.User{}, false, nil
	case store.IssuerMapID:
		if validate.ID("sub", subject) != nil {
			return store.User{}, false, badToken("the subject is no user here")
		}
		u, err = s.st.Users().Get(ctx, t.ID, subject)
	case store.IssuerMapUsername:
		u, err = s.st.Users().GetByUsername(ctx, t.ID, subject)
	case store.IssuerMapEmail:
		u, err = s.st.Users().GetByEmail(ctx, t.ID, subject)
	default:
		return store.User{}, false, errs.New(errs.Internal, "unknown user mapping")
	}
	if errs.CodeOf(err) == errs.NotFound {
		return store.User{}, false, badToken("the subject is no user here")
	}
	if err != nil {
		return store.User{}, false, err
	}
	if u.TenantID != t.ID || u.Status != store.UserActive {
		return store.User{}, false, badToken("the user is not active")
	}
	return u, true, nil
}

// carriedScope is a trusted issuer's token's scope, when the issuer
// carries a "scope" (a string, RFC 8693 section 4.2) or "scp" (a list,
// as some issuers write it) claim.
func carriedScope(claims map[string]any) ([]string, bool) {
	if sc, ok := claims["scope"].(string); ok {
		return strings.Fields(sc), true
	}
	if l, ok := claims["scp"].([]any); ok {
		var out []string
		for _, v := range l {
			if sc, ok := v.(string); ok {
				out = append(out, sc)
			}
		}
		return out, true
	}
	return nil, false
}

// unverifiedIssuer is the "iss" a JWT claims, read without checking its
// signature: it only chooses the path that will check it. Empty when tok
// is no JWT.
func unverifiedIssuer(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	return c.Iss
}

// exchangeAudience is the new token's audience: the resource indicators
// (absolute URIs, RFC 8707, by audienceOf's rule) and the audience
// parameters (URIs or logical names, RFC 8693 section 2.1), each of which
// must be the tenant's issuer or among the client's allowed audiences.
// Without either, the audience is the issuer.
func exchangeAudience(form url.Values, iss string, pol *store.ExchangePolicy) (audience,
	error) {
	if len(form["resource"])+len(form["audience"]) > maxResources {
		return nil, badRequest(errInvalidTarget, "too many resource and audience parameters")
	}
	var aud audience
	if len(form["resource"]) > 0 {
		var err error
		if aud, err = audienceOf(form["resource"], iss); err != nil {
			return nil, err
		}
	}
	for _, a := range form["audience"] {
		if !clients.AudienceValid(a) {
			return nil, badRequest(errInvalidTarget, "an audience is malformed")
		}
		if !slices.Contains(aud, a) {
			aud = append(aud, a)
		}
	}
	if len(aud) == 0 {
		return audience{iss}, nil
	}
	for _, a := range aud {
		if a != iss && !slices.Contains(pol.Audiences, a) {
			return nil, badRequest(errInvalidTarget, "an audience is not allowed to the client")
		}
	}
	return aud, nil
}

// exchangeScope is the new token's scope: what the request names, or by
// default everything allowed, where allowed is the client's scopes and,
// when the subject token has a scope, only those of them it has. The new
// token never holds more than the subject token did.
func exchangeScope(form url.Values, clientScopes []string, sub party) (string, error) {
	allowed := clientScopes
	if sub.scoped {
		allowed = slices.DeleteFunc(slices.Clone(clientScopes), func(sc string) bool {
			return !slices.Contains(sub.scope, sc)
		})
	}
	return grantedScope(form, allowed)
}

// exchangeSession answers a request for a Ward session: a trusted
// issuer's token of a user it maps to, in; a session of that user,
// started through the sessions function, out. Both the client's policy
// and the issuer must allow it. A session is the user's own, so there is
// no actor, and it has no audience or scope.
func (s *service) exchangeSession(ctx context.Context, t store.Tenant, iss string,
	form url.Values, pol *store.ExchangePolicy) (any, error) {
	if !pol.Sessions {
		return nil, badRequest(errUnauthorizedClient, "the client may not ask for sessions")
	}
	for _, name := range []string{"actor_token", "scope", "resource", "audience"} {
		if form.Has(name) {
			return nil, badRequest(errInvalidRequest, "a session takes no "+name)
		}
	}
	sub, err := s.exchangeParty(ctx, t, iss, pol, form.Get("subject_token"),
		form.Get("subject_token_type"))
	if err != nil {
		return nil, err
	}
	if sub.self || !sub.ti.Sessions || sub.userID == "" {
		return nil, badRequest(errUnauthorizedClient,
			"sessions are not made from this issuer's tokens")
	}
	now := s.now()
	authTime := sub.authTime
	if authTime <= 0 || authTime > now.Unix() {
		authTime = now.Unix()
	}
	out, err := invoke.Call[sessions.CreateOutput](ctx, s.inv, sessions.FunctionName,
		sessions.OpCreate, serviceCaller, sessions.CreateInput{TenantID: t.ID,
			UserID: sub.userID, ACR: exchangeSessionACR, AMR: []string{exchangeSessionAMR},
			AuthTime: authTime})
	if err != nil {
		switch errs.CodeOf(err) {
		case errs.NotFound, errs.InvalidArgument: // the user went, or is not active
			return nil, badToken("no session can be made for the user")
		}
		return nil, err
	}
	return exchangeResponse{AccessToken: string(out.Token), IssuedTokenType: TokenTypeSession,
		TokenType: "Bearer", ExpiresIn: int64(out.Session.ExpiresAt.Sub(now) / time.Second)}, nil
}
