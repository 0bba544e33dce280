package oauth

import (
	"net/http"
	"net/url"

	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/store"
)

// private_key_jwt client authentication (RFC 7523 section 2.2, OpenID
// Connect Core section 9) is read here and checked by the clients
// function, in clients.authenticate like every other method: the registry
// holds the client's keys and its method, and one operation answering
// invalid_client for every failure keeps the refusals alike whatever the
// method.

// assertionCredentials reads client_assertion and client_assertion_type.
// A client uses one method per request (RFC 6749 section 2.3): an
// assertion with an Authorization header or a client_secret is
// invalid_request.
func assertionCredentials(auth []string, form url.Values) (credentials, error) {
	if len(auth) > 0 || form.Has("client_secret") {
		return credentials{}, badRequest(errInvalidRequest,
			"more than one client authentication method")
	}
	if form.Get("client_assertion_type") != clients.AssertionType {
		return credentials{}, invalidClient("client_assertion_type must be " +
			clients.AssertionType)
	}
	if form.Get("client_assertion") == "" {
		return credentials{}, invalidClient("client_assertion is required")
	}
	return credentials{method: clients.MethodPrivateKeyJWT, clientID: form.Get("client_id"),
		assertion: clients.Secret(form.Get("client_assertion"))}, nil
}

// assertionAudiences are what an assertion's aud may name (RFC 7523
// section 3 (3)): the token endpoint's URL, which RFC 7523 and OpenID
// Connect Core section 9 name, or the issuer, which RFC 7521 section 5.1
// allows; at the introspection and revocation endpoints too, so that one
// kind of assertion serves them all.
func (s *service) assertionAudiences(r *http.Request, t store.Tenant, cr credentials) []string {
	if cr.method != clients.MethodPrivateKeyJWT {
		return nil
	}
	iss := s.issuer(r, t)
	return []string{iss + pathToken, iss}
}
