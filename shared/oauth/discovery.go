package oauth

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/httpx"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// Paths under an issuer ({base}/t/{tenant}). All are served but
// end_session, which the metadata names for the endpoint to come.
const (
	PathJWKS          = "/t/{tenant}/jwks.json"
	pathAuthorize     = "/oauth2/authorize"
	pathToken         = "/oauth2/token"
	pathUserinfo      = "/oauth2/userinfo"
	pathIntrospection = "/oauth2/introspect"
	pathRevocation    = "/oauth2/revoke"
	pathEndSession    = "/oauth2/logout"
	pathPAR           = "/oauth2/par"
	pathDevice        = "/oauth2/device_authorization"
)

// Patterns are where a host serving several functions sends this one's
// requests.
var Patterns = []string{
	"/t/{tenant}/.well-known/",
	"/.well-known/oauth-authorization-server/",
	PathJWKS,
	"/t/{tenant}/oauth2/",
}

// Cache lifetimes of the public documents. The key set's is short next to
// the keys' overlap (at least keys.MinOverlap, a day by default), and a
// relying party that meets an unknown "kid" fetches the set again anyway.
const (
	discoveryCache = "public, max-age=3600"
	jwksCache      = "public, max-age=300"
)

// metadata is the provider's metadata: the members of OpenID Connect
// Discovery 1.0 section 3 and RFC 8414 section 2, one document for both.
// Every value is true of this server once its endpoints exist; today
// all answer but end_session.
type metadata struct {
	Issuer                             string   `json:"issuer"`
	AuthorizationEndpoint              string   `json:"authorization_endpoint"`
	TokenEndpoint                      string   `json:"token_endpoint"`
	UserinfoEndpoint                   string   `json:"userinfo_endpoint"`
	JWKSURI                            string   `json:"jwks_uri"`
	IntrospectionEndpoint              string   `json:"introspection_endpoint"`
	RevocationEndpoint                 string   `json:"revocation_endpoint"`
	EndSessionEndpoint                 string   `json:"end_session_endpoint"`
	PAREndpoint                        string   `json:"pushed_authorization_request_endpoint"`
	DeviceAuthorizationEndpoint        string   `json:"device_authorization_endpoint"`
	ScopesSupported                    []string `json:"scopes_supported"`
	ResponseTypesSupported             []string `json:"response_types_supported"`
	ResponseModesSupported             []string `json:"response_modes_supported"`
	GrantTypesSupported                []string `json:"grant_types_supported"`
	SubjectTypesSupported              []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported   []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported  []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgs       []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	CodeChallengeMethodsSupported      []string `json:"code_challenge_methods_supported"`
	ACRValuesSupported                 []string `json:"acr_values_supported"`
	ClaimsSupported                    []string `json:"claims_supported"`
	RequestParameterSupported          bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported       bool     `json:"request_uri_parameter_supported"`
	RequirePushedAuthorizationRequests bool     `json:"require_pushed_authorization_requests"`
	// RFC 9207 section 3: every authorization response carries iss.
	AuthorizationResponseISSParameterSupported bool `json:"authorization_response_iss_parameter_supported"`
	ClaimsParameterSupported                   bool `json:"claims_parameter_supported"`
	// RegistrationEndpoint is named only for tenants that allow dynamic
	// client registration (rfc7591.go).
	RegistrationEndpoint string `json:"registration_endpoint,omitempty"`
}

// signingAlgs are the algorithms of the tenants' keys; OpenID Connect
// Discovery section 3 requires RS256 among the ID token's.
var signingAlgs = []string{store.SigningAlgorithmES, store.SigningAlgorithmRSA}

func metadataFor(issuer string) metadata {
	return metadata{
		Issuer:                      issuer,
		AuthorizationEndpoint:       issuer + pathAuthorize,
		TokenEndpoint:               issuer + pathToken,
		UserinfoEndpoint:            issuer + pathUserinfo,
		JWKSURI:                     issuer + "/jwks.json",
		IntrospectionEndpoint:       issuer + pathIntrospection,
		RevocationEndpoint:          issuer + pathRevocation,
		EndSessionEndpoint:          issuer + pathEndSession,
		PAREndpoint:                 issuer + pathPAR,
		DeviceAuthorizationEndpoint: issuer + pathDevice,
		ScopesSupported:             []string{"openid", "profile", "email", "phone", "offline_access"},
		ResponseTypesSupported:      []string{"code"},
		ResponseModesSupported:      []string{"query", "form_post"},
		GrantTypesSupported: []string{"authorization_code", "refresh_token", "client_credentials",
			"urn:ietf:params:oauth:grant-type:device_code",
			"urn:ietf:params:oauth:grant-type:token-exchange"},
		SubjectTypesSupported:            []string{"public"},
		IDTokenSigningAlgValuesSupported: signingAlgs,
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post",
			"private_key_jwt", "none"},
		TokenEndpointAuthSigningAlgs: signingAlgs,
		// RFC 7636 section 4.2: "plain" is left out on purpose.
		CodeChallengeMethodsSupported: []string{"S256"},
		ACRValuesSupported:            []string{store.ACRPassword, store.ACRMultiFactor},
		ClaimsSupported: []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce",
			"acr", "amr", "azp", "at_hash", "sid", "name", "preferred_username", "given_name",
			"family_name", "updated_at", "email", "email_verified", "phone_number",
			"phone_number_verified", "locale"},
		AuthorizationResponseISSParameterSupported: true,
	}
}

// serveDiscovery answers both discovery documents: the same metadata.
func (s *service) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	t, err := s.tenantOf(r.Context(), r.PathValue("tenant"))
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	iss := s.issuer(r, t)
	m := metadataFor(iss)
	m.RegistrationEndpoint = registrationEndpoint(t, iss)
	b, err := json.Marshal(m)
	if err != nil {
		httpx.WriteError(w, r, s.log, errs.Wrap(errs.Internal, err, "internal error"))
		return
	}
	writePublic(w, "application/json", discoveryCache, b)
}

// serveJWKS answers the tenant's published keys (keys.Manager.JWKS). A
// tenant without keys yet has an empty set; serving it makes none.
func (s *service) serveJWKS(w http.ResponseWriter, r *http.Request) {
	t, err := s.tenantOf(r.Context(), r.PathValue("tenant"))
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	b, err := s.keys.JWKS(r.Context(), t.ID)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	writePublic(w, "application/jwk-set+json", jwksCache, b)
}

// writePublic answers a public document, which browsers' scripts of any
// origin may read, and caches may keep.
func writePublic(w http.ResponseWriter, contentType, cacheControl string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", cacheControl)
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// tenantOf finds the tenant a path names, by ID or by name (folded to
// lower case, as tenant names are). Anything not found is NOT_FOUND.
func (s *service) tenantOf(ctx context.Context, ref string) (store.Tenant, error) {
	var t store.Tenant
	var err error
	if validate.ID("tenant", ref) == nil {
		t, err = s.st.Tenants().Get(ctx, ref)
	} else {
		t, err = s.st.Tenants().GetByName(ctx, strings.ToLower(ref))
	}
	switch errs.CodeOf(err) {
	case errs.NotFound, errs.InvalidArgument:
		return store.Tenant{}, errs.New(errs.NotFound, "tenant not found")
	}
	return t, err
}

// issuer is the tenant's issuer identifier. It names the tenant by name
// whichever way the request named it, so that one tenant has one issuer
// (OpenID Connect Discovery section 4.3: the issuer in the document must
// be the one the relying party expects, byte for byte).
func (s *service) issuer(r *http.Request, t store.Tenant) string {
	base := s.publicURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return strings.TrimRight(base, "/") + "/t/" + t.Name
}
