package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/orgs"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// Consent (OpenID Connect Core section 3.1.2.4).
//
// A client with RequireConsent (always those registered dynamically) gets
// a code only for scopes the user has consented to: a remembered consent
// (store.Consents) that covers the request, or a decision on the hosted
// consent page for this very request. prompt=consent asks again whatever
// is remembered, and whatever the client's setting.
//
// When consent is needed, the authorization endpoint keeps the request
// (as for signing in) bound to the browser's user and session, and sends
// the browser to the pages' /t/{tenant}/consent?request=<ID>. The pages
// read what is asked with OpConsentRequest and record the answer with
// OpConsentDecide, calling as services with the user and session that
// sessions.validate gave them for the browser's cookie; both refuse
// (NOT_FOUND) a request kept for another user, session or tenant, or no
// longer kept. The decision is written into the kept request; the browser
// then resumes the authorization endpoint, which issues a code on "allow"
// and redirects access_denied on "deny". Allow also remembers the scopes
// (merged with those consented before).
const (
	// OpConsentRequest answers what a kept request asks the user to
	// consent to. Service callers only (the pages).
	OpConsentRequest = "oauth.consentRequest"
	// OpConsentDecide records the user's answer to a kept request.
	// Service callers only (the pages). Audited (oauthConsent.grant).
	OpConsentDecide = "oauth.consentDecide"
	// OpListConsents lists a user's remembered consents: the user, the
	// administrators who reach the user, services.
	OpListConsents = "oauth.listConsents"
	// OpRevokeConsent forgets a user's consent to a client and revokes
	// the user's refresh token families of that client: the same
	// callers. Audited (oauthConsent.revoke).
	OpRevokeConsent = "oauth.revokeConsent"
)

// Decisions written into a kept request.
const (
	decisionAllow = "allow"
	decisionDeny  = "deny"
)

// ConsentRequestInput names a kept request and who is looking at it: the
// user and session of the browser, as sessions.validate answered them.
type ConsentRequestInput struct {
	TenantID  string `json:"tenantId"`
	RequestID string `json:"requestId"`
	UserID    string `json:"userId"`
	SessionID string `json:"sessionId"`
}

// ScopeInfo is one scope asked for, with what it means to a person.
type ScopeInfo struct {
	Scope       string `json:"scope"`
	Description string `json:"description"`
}

// ConsentRequestOutput is what the consent page shows.
type ConsentRequestOutput struct {
	ClientID   string      `json:"clientId"`
	ClientName string      `json:"clientName"`
	Scopes     []ScopeInfo `json:"scopes"`
	// FormAction is the CSP source of the redirect URI (its origin, or
	// its scheme for a native app's): browsers hold the redirects that
	// follow the consent form's POST to the page's form-action.
	FormAction string `json:"formAction"`
}

// ConsentDecideInput is the user's answer to a kept request.
type ConsentDecideInput struct {
	ConsentRequestInput
	Allow bool `json:"allow"`
}

// ConsentDecideOutput is where the browser goes next: the authorization
// endpoint resuming the request, a path on Ward's own origin.
type ConsentDecideOutput struct {
	RedirectTo string `json:"redirectTo"`
}

// ListConsentsInput names a user.
type ListConsentsInput struct {
	TenantID string `json:"tenantId"`
	UserID   string `json:"userId"`
}

// ConsentsOutput lists a user's consents in order of client ID.
type ConsentsOutput struct {
	Items []store.Consent `json:"items"`
}

// RevokeConsentInput names the consent to forget.
type RevokeConsentInput struct {
	TenantID string `json:"tenantId"`
	UserID   string `json:"userId"`
	ClientID string `json:"clientId"`
}

// RevokeConsentOutput counts the refresh token families revoked with the
// consent.
type RevokeConsentOutput struct {
	RevokedGrants int `json:"revokedGrants"`
}

// scopeDescriptions are what the consent page says of the standard
// scopes (OpenID Connect Core section 5.4, and offline_access, 11).
var scopeDescriptions = map[string]string{
	"openid":         "Sign you in with your account",
	"profile":        "See your name, username and language",
	"email":          "See your email address",
	"phone":          "See your phone number",
	"offline_access": "Keep access while you are not signed in, until you revoke it",
}

func describeScopes(scope string) []ScopeInfo {
	out := []ScopeInfo{}
	for _, sc := range strings.Fields(scope) {
		d, ok := scopeDescriptions[sc]
		if !ok {
			d = sc
		}
		out = append(out, ScopeInfo{Scope: sc, Description: d})
	}
	return out
}

// consentNeeded tells whether the user must be asked to consent before a
// code is issued for req: prompt=consent, or a client that requires
// consent whose remembered consent does not cover the scope. A decision
// made on the consent page for this request, by this user and session,
// settles it: allow issues the code, deny is access_denied.
func (s *service) consentNeeded(ctx context.Context, t store.Tenant, cl clients.Client,
	req authRequest, sess sessions.ValidateOutput) (bool, error) {
	if req.Decision != "" && req.ConsentUser == sess.Subject &&
		req.ConsentSession == sess.SessionID {
		if req.Decision == decisionDeny {
			return false, badRequest(errAccessDenied, "the user did not consent")
		}
		return false, nil
	}
	if req.prompts(promptConsent) {
		return true, nil
	}
	if !cl.RequireConsent {
		return false, nil
	}
	c, err := s.st.Consents().Get(ctx, t.ID, sess.Subject, cl.ID)
	if errs.CodeOf(err) == errs.NotFound {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return !c.Covers(strings.Fields(req.Scope)), nil
}

// toConsent keeps the request for the browser's user and session and
// sends the browser to the consent page.
func (s *service) toConsent(w http.ResponseWriter, r *http.Request, t store.Tenant, iss string,
	req authRequest, sess sessions.ValidateOutput) {
	req.ConsentUser, req.ConsentSession, req.Decision = sess.Subject, sess.SessionID, ""
	req.Until = s.now().Add(resumeTTL).Unix()
	uri, err := s.keepRequest(r.Context(), t, req, resumeTTL)
	if err != nil {
		s.respond(w, r, t, iss, req.target(), s.authorizationError(r, t, err))
		return
	}
	id := strings.TrimPrefix(uri, RequestURIPrefix)
	setPageHeaders(w, pageCSP)
	http.Redirect(w, r, iss+"/consent?"+url.Values{"request": {id}}.Encode(),
		http.StatusSeeOther)
}

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

func (in *ConsentRequestInput) Validate() error {
	for _, f := range [][2]string{{"tenantId", in.TenantID}, {"userId", in.UserID},
		{"sessionId", in.SessionID}} {
		if err := validate.ID(f[0], f[1]); err != nil {
			return err
		}
	}
	if !requestIDRE.MatchString(in.RequestID) {
		return errs.Invalid("requestId", "is not a request ID")
	}
	return nil
}

func (in *ConsentDecideInput) Validate() error { return in.ConsentRequestInput.Validate() }

// consentRequestOf reads the request kept for in's user and session,
// leaving it kept; anything else is NOT_FOUND, alike for every cause.
func (s *service) consentRequestOf(ctx context.Context, c function.Caller,
	in ConsentRequestInput) (authRequest, clients.Client, error) {
	if err := c.RequireService(); err != nil {
		return authRequest{}, clients.Client{}, err
	}
	if s.cache == nil {
		return authRequest{}, clients.Client{}, errs.New(errs.Unavailable,
			"no cache for authorization requests")
	}
	notFound := errs.New(errs.NotFound, "authorization request not found")
	b, err := s.cache.Get(ctx, requestKey(in.TenantID, in.RequestID))
	if errors.Is(err, cache.ErrMiss) {
		return authRequest{}, clients.Client{}, notFound
	}
	if err != nil {
		return authRequest{}, clients.Client{}, err
	}
	var req authRequest
	if err := json.Unmarshal(b, &req); err != nil {
		return authRequest{}, clients.Client{}, errs.Wrap(errs.Internal, err,
			"a kept request is damaged")
	}
	// Only a request kept by toConsent names a user; the session must be
	// the one it was kept for, and the request still within its time.
	if req.ConsentUser == "" || req.ConsentUser != in.UserID ||
		req.ConsentSession != in.SessionID || s.now().Unix() >= req.Until {
		return authRequest{}, clients.Client{}, notFound
	}
	cl, err := s.client(ctx, store.Tenant{ID: in.TenantID}, req.ClientID)
	if pe := (*protocolError)(nil); errors.As(err, &pe) {
		return authRequest{}, clients.Client{}, notFound // the client was deleted
	}
	if err != nil {
		return authRequest{}, clients.Client{}, err
	}
	return req, cl, nil
}

func (s *service) consentRequest(ctx context.Context, c function.Caller,
	in ConsentRequestInput) (ConsentRequestOutput, error) {
	req, cl, err := s.consentRequestOf(ctx, c, in)
	if err != nil {
		return ConsentRequestOutput{}, err
	}
	return ConsentRequestOutput{ClientID: cl.ID, ClientName: cl.Name,
		Scopes: describeScopes(req.Scope), FormAction: formOrigin(req.RedirectURI)}, nil
}

func (s *service) consentDecide(ctx context.Context, c function.Caller,
	in ConsentDecideInput) (ConsentDecideOutput, error) {
	req, cl, err := s.consentRequestOf(ctx, c, in.ConsentRequestInput)
	if err != nil {
		return ConsentDecideOutput{}, err
	}
	t, err := s.st.Tenants().Get(ctx, in.TenantID)
	if err != nil {
		return ConsentDecideOutput{}, err
	}
	now := s.now()
	user := function.Caller{Subject: in.UserID, Tenant: in.TenantID, Session: in.SessionID}
	req.Decision = decisionDeny
	if in.Allow {
		req.Decision = decisionAllow
		stamp := now.UTC().Truncate(time.Millisecond)
		got, err := s.st.Consents().Grant(ctx, store.Consent{TenantID: t.ID, UserID: in.UserID,
			ClientID: cl.ID, Scopes: strings.Fields(req.Scope), CreatedAt: stamp,
			UpdatedAt: stamp})
		if err != nil {
			return ConsentDecideOutput{}, err
		}
		s.audit.Record(ctx, user, "oauthConsent.grant",
			audit.Target{TenantID: t.ID, Type: audit.TypeUser, ID: in.UserID},
			map[string]store.AuditChange{"clientId": {New: cl.ID},
				"scopes": {New: strings.Join(got.Scopes, " ")}})
	}
	b, err := json.Marshal(req)
	if err != nil {
		return ConsentDecideOutput{}, errs.Wrap(errs.Internal, err, "internal error")
	}
	ttl := time.Unix(req.Until, 0).Sub(now)
	if err := s.cache.Set(ctx, requestKey(t.ID, in.RequestID), b, ttl); err != nil {
		return ConsentDecideOutput{}, err
	}
	resume := "/t/" + t.Name + pathAuthorize + "?" + url.Values{"client_id": {req.ClientID},
		"request_uri": {RequestURIPrefix + in.RequestID}}.Encode()
	return ConsentDecideOutput{RedirectTo: resume}, nil
}

// reachesUser lets through the user themself, the administrators who
// reach the user (package orgs) and service callers.
func reachesUser(ctx context.Context, st store.Store, c function.Caller, tenantID,
	userID string) error {
	self := !c.Anonymous() && c.Tenant != "" && c.Tenant == tenantID && c.Subject == userID
	if self || c.Has(function.RoleService) {
		return nil
	}
	return orgs.AdministersUser(ctx, st, c, tenantID, userID)
}

func (in *ListConsentsInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	return validate.ID("userId", in.UserID)
}

func (in *RevokeConsentInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	if err := validate.ID("userId", in.UserID); err != nil {
		return err
	}
	return validate.ID("clientId", in.ClientID)
}

func (s *service) listConsents(ctx context.Context, c function.Caller, in ListConsentsInput) (
	ConsentsOutput, error) {
	if err := reachesUser(ctx, s.st, c, in.TenantID, in.UserID); err != nil {
		return ConsentsOutput{}, err
	}
	list, err := s.st.Consents().ListByUser(ctx, in.TenantID, in.UserID)
	if err != nil {
		return ConsentsOutput{}, err
	}
	if list == nil {
		list = []store.Consent{}
	}
	return ConsentsOutput{Items: list}, nil
}

// revokeConsent forgets the consent, then revokes the client's families
// of the user: a token obtained under the consent ends with it.
func (s *service) revokeConsent(ctx context.Context, c function.Caller, in RevokeConsentInput) (
	RevokeConsentOutput, error) {
	if err := reachesUser(ctx, s.st, c, in.TenantID, in.UserID); err != nil {
		return RevokeConsentOutput{}, err
	}
	old, err := s.st.Consents().Get(ctx, in.TenantID, in.UserID, in.ClientID)
	if err != nil {
		return RevokeConsentOutput{}, err
	}
	if err := s.st.Consents().Delete(ctx, in.TenantID, in.UserID, in.ClientID); err != nil {
		return RevokeConsentOutput{}, err
	}
	gone, err := s.st.RefreshTokens().RevokeByUser(ctx, in.TenantID, in.UserID, in.ClientID)
	if err != nil {
		return RevokeConsentOutput{}, err
	}
	s.audit.Record(ctx, c, "oauthConsent.revoke",
		audit.Target{TenantID: in.TenantID, Type: audit.TypeUser, ID: in.UserID},
		map[string]store.AuditChange{"clientId": {Old: in.ClientID},
			"scopes":        {Old: strings.Join(old.Scopes, " ")},
			"revokedGrants": {New: strconv.Itoa(len(gone))}})
	return RevokeConsentOutput{RevokedGrants: len(gone)}, nil
}
