package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/httpx"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
)

// Dynamic client registration (RFC 7591) and management (RFC 7592), for
// tenants whose setting auth.clientRegistration is OPEN, or TOKEN (an
// initial access token is required, rfc7591_tokens.go). Elsewhere the
// endpoint does not exist: 404 with Ward's JSON error, as for an unknown
// tenant, and discovery names no registration_endpoint. Registrations are
// rate limited (rfc7591_limits.go) and the registry bounds how many
// clients a tenant may have by registration. The rules and the
// registration access token are the registry's (clients.register,
// clients.manageRegistration); this file maps RFC 7591 metadata onto them.

const pathRegister = "/oauth2/register"

// Error codes of RFC 7591 section 3.2.2 (and errInvalidToken, RFC 6750
// section 3.1, for a wrong registration access token).
const (
	errInvalidRedirectURI    = "invalid_redirect_uri"
	errInvalidClientMetadata = "invalid_client_metadata"
)

// maxMetadataBytes bounds a registration request: an inline key set
// (clients: 16 KiB) and 64 URIs of 2 KiB fit.
const maxMetadataBytes = 256 << 10

// metadata are the client metadata of RFC 7591 section 2 that Ward keeps.
// Others are ignored, as section 2 says unknown ones must be, and are not
// echoed back.
type clientMetadata struct {
	RedirectURIs            []string        `json:"redirect_uris,omitempty"`
	TokenEndpointAuthMethod string          `json:"token_endpoint_auth_method,omitempty"`
	GrantTypes              []string        `json:"grant_types,omitempty"`
	ResponseTypes           []string        `json:"response_types,omitempty"`
	ClientName              string          `json:"client_name,omitempty"`
	Scope                   string          `json:"scope,omitempty"`
	JWKSURI                 string          `json:"jwks_uri,omitempty"`
	JWKS                    json.RawMessage `json:"jwks,omitempty"`
	PostLogoutRedirectURIs  []string        `json:"post_logout_redirect_uris,omitempty"`
	// In a replace (RFC 7592 section 2.2) only.
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
}

// registrationAnswer is RFC 7591 section 3.2.1's answer, and RFC 7592's.
type registrationAnswer struct {
	ClientID              string `json:"client_id"`
	ClientSecret          string `json:"client_secret,omitempty"`
	ClientIDIssuedAt      int64  `json:"client_id_issued_at"`
	ClientSecretExpiresAt *int64 `json:"client_secret_expires_at,omitempty"`
	RegistrationToken     string `json:"registration_access_token,omitempty"`
	RegistrationClientURI string `json:"registration_client_uri"`
	clientMetadata
}

// registration turns metadata into the registry's terms, with RFC 7591's
// defaults: client_secret_basic, and response type code with the grant
// authorization_code (section 2).
func (m clientMetadata) registration() (clients.Registration, error) {
	r := clients.Registration{Name: m.ClientName, AuthMethod: m.TokenEndpointAuthMethod,
		JWKSURI: m.JWKSURI, RedirectURIs: m.RedirectURIs,
		PostLogoutRedirectURIs: m.PostLogoutRedirectURIs, GrantTypes: m.GrantTypes,
		Scopes: strings.Fields(m.Scope)}
	if r.AuthMethod == "" {
		r.AuthMethod = clients.MethodSecretBasic
	}
	if len(m.JWKS) > 0 && !bytes.Equal(m.JWKS, []byte("null")) {
		r.JWKS = string(m.JWKS)
	}
	if len(r.GrantTypes) == 0 {
		r.GrantTypes = []string{clients.GrantAuthorizationCode}
	}
	// Section 2.1: the response type code goes with authorization_code.
	// Ward serves no other response type.
	code := slices.Contains(r.GrantTypes, clients.GrantAuthorizationCode)
	for _, rt := range m.ResponseTypes {
		if rt != "code" || !code {
			return r, badRequest(errInvalidClientMetadata,
				"response_types may hold only code, with the authorization_code grant")
		}
	}
	return r, nil
}

// answerOf is the registered client as RFC 7591 section 3.2.1 shows it.
func answerOf(iss string, out clients.RegisteredOutput) registrationAnswer {
	c := out.Client
	a := registrationAnswer{ClientID: c.ID, ClientSecret: string(out.Secret),
		ClientIDIssuedAt: c.CreatedAt.Unix(), RegistrationToken: string(out.RegistrationToken),
		RegistrationClientURI: iss + pathRegister + "/" + c.ID,
		clientMetadata: clientMetadata{RedirectURIs: c.RedirectURIs,
			TokenEndpointAuthMethod: c.AuthMethod, GrantTypes: c.GrantTypes,
			ResponseTypes: []string{}, ClientName: c.Name,
			Scope: strings.Join(c.Scopes, " "), JWKSURI: c.JWKSURI,
			PostLogoutRedirectURIs: c.PostLogoutRedirectURIs}}
	if c.JWKS != "" {
		a.JWKS = json.RawMessage(c.JWKS)
	}
	if slices.Contains(c.GrantTypes, clients.GrantAuthorizationCode) {
		a.ResponseTypes = []string{"code"}
	}
	if c.HasSecret {
		never := int64(0) // Ward's secrets do not expire (section 3.2.1: 0)
		a.ClientSecretExpiresAt = &never
	}
	return a
}

// registrationHandler serves one registration request of a tenant that
// allows it, and writes its answer or its error (RFC 7591 section 3.2.2
// JSON, through writeProtocolError).
func (s *service) registrationHandler(status int, h func(r *http.Request, t store.Tenant,
	iss string) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, err := s.tenantOf(r.Context(), r.PathValue("tenant"))
		if err == nil && !t.Auth.RegistrationOpen() {
			err = errs.New(errs.NotFound, "tenant not found")
		}
		if err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		if s.inv == nil {
			err = errs.New(errs.Unavailable, "the client registry is not reachable")
		}
		var out any
		if err == nil {
			out, err = h(r, t, s.issuer(r, t))
		}
		var pe *protocolError
		if errors.As(err, &pe) && pe.code == errInvalidToken {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		if err != nil {
			s.writeProtocolError(r.Context(), w, t, err)
			return
		}
		if out == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		b, err := json.Marshal(out)
		if err != nil {
			s.writeProtocolError(r.Context(), w, t, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(b)
	}
}

// readMetadata reads a JSON body of client metadata.
func readMetadata(r *http.Request) (clientMetadata, error) {
	var m clientMetadata
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return m, badRequest(errInvalidClientMetadata, "the body must be application/json")
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxMetadataBytes+1))
	if err != nil || len(b) > maxMetadataBytes {
		return m, badRequest(errInvalidClientMetadata, "the body is too large or unreadable")
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, badRequest(errInvalidClientMetadata, "the body is not client metadata JSON")
	}
	return m, nil
}

// registryError turns the registry's refusals into RFC 7591 and RFC 7592
// codes: a bad redirect URI is invalid_redirect_uri, any other bad field
// invalid_client_metadata (with the registry's description, which names
// the rule and never echoes the input), a refused token invalid_token.
func registryError(err error) error {
	var e *errs.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code {
	case errs.InvalidArgument:
		if e.Field == "redirectUris" || e.Field == "postLogoutRedirectUris" {
			return badRequest(errInvalidRedirectURI, e.Message)
		}
		return badRequest(errInvalidClientMetadata, e.Message)
	case errs.PermissionDenied:
		// The tenant's bound on dynamically registered clients.
		return &protocolError{code: errAccessDenied, description: e.Message,
			status: http.StatusForbidden}
	case errs.Unauthenticated, errs.NotFound:
		return &protocolError{code: errInvalidToken,
			description: "the registration access token is not valid for this client",
			status:      http.StatusUnauthorized}
	}
	return err
}

// serveRegister is RFC 7591 section 3: POST {issuer}/oauth2/register.
// The order of the checks is the order of their cost to others: the
// network's count first, then the metadata, the initial access token
// (TOKEN tenants), the tenant's count, and the registry's rules and
// bound. A use of the token is given back when no client results.
func (s *service) serveRegister(r *http.Request, t store.Tenant, iss string) (any, error) {
	ctx := r.Context()
	if err := s.limitNetwork(ctx, r, t.ID); err != nil {
		return nil, err
	}
	m, err := readMetadata(r)
	if err != nil {
		return nil, err
	}
	if m.ClientID != "" || m.ClientSecret != "" {
		return nil, badRequest(errInvalidClientMetadata, "Ward chooses client_id and "+
			"client_secret")
	}
	reg, err := m.registration()
	if err != nil {
		return nil, err
	}
	if t.Auth.ClientRegistration == store.ClientRegistrationToken {
		var id string
		if id, err = s.useRegistrationToken(ctx, r, t.ID); err != nil {
			return nil, err
		}
		defer func() { // err is the function's, set by every later step
			if err != nil {
				s.refundRegistrationToken(context.WithoutCancel(ctx), t.ID, id)
			}
		}()
	}
	if err = s.limitTenant(ctx, t.ID); err != nil {
		return nil, err
	}
	var out clients.RegisteredOutput
	out, err = invoke.Call[clients.RegisteredOutput](ctx, s.inv, clients.FunctionName,
		clients.OpRegister, serviceCaller, clients.RegisterInput{TenantID: t.ID,
			Registration: reg})
	if err != nil {
		return nil, registryError(err)
	}
	return answerOf(iss, out), nil
}

// manageRegistration is RFC 7592: GET, PUT and DELETE on the client's
// registration_client_uri, with the registration access token as a
// Bearer token (RFC 6750 section 2.1).
func (s *service) manageRegistration(action string) func(*http.Request, store.Tenant, string) (
	any, error) {
	return func(r *http.Request, t store.Tenant, iss string) (any, error) {
		tok, ok := bearer(r)
		if !ok {
			return nil, registryError(errs.New(errs.Unauthenticated, "invalid_token"))
		}
		in := clients.ManageInput{TenantID: t.ID, ID: r.PathValue("id"), Token: tok,
			Action: action}
		if action == clients.RegistrationReplace {
			m, err := readMetadata(r)
			if err != nil {
				return nil, err
			}
			// RFC 7592 section 2.2: the body's client_id must be the client's.
			if m.ClientID != in.ID {
				return nil, badRequest(errInvalidClientMetadata,
					"client_id must be the client's own")
			}
			reg, err := m.registration()
			if err != nil {
				return nil, err
			}
			in.Registration, in.Secret = &reg, clients.Secret(m.ClientSecret)
		}
		out, err := invoke.Call[clients.RegisteredOutput](r.Context(), s.inv,
			clients.FunctionName, clients.OpManageRegistration, serviceCaller, in)
		if err != nil {
			return nil, registryError(err)
		}
		if action == clients.RegistrationDelete {
			return nil, nil // RFC 7592 section 2.3: 204
		}
		return answerOf(iss, out), nil
	}
}

// bearer is the request's Bearer token, if it has exactly one.
func bearer(r *http.Request) (clients.Secret, bool) {
	auth := r.Header.Values("Authorization")
	if len(auth) != 1 {
		return "", false
	}
	scheme, tok, ok := strings.Cut(auth[0], " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return clients.Secret(tok), true
}

// registrationEndpoint is the tenant's registration endpoint for
// discovery, or empty where registration is closed.
func registrationEndpoint(t store.Tenant, iss string) string {
	if !t.Auth.RegistrationOpen() {
		return ""
	}
	return iss + pathRegister
}
