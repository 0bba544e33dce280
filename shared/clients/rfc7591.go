package clients

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"slices"
	"strings"

	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// Dynamic client registration (RFC 7591) and its management (RFC 7592):
// the registry's side. The oauth function serves the endpoint, decides
// whether the tenant allows it, and maps the metadata onto RegisterInput;
// the registry applies the same rules as to clients that administrators
// make (checkClient), the limits below, and the check of the
// registration access token.

// RegistrationTokenPrefix starts every registration access token.
const RegistrationTokenPrefix = "wrg_"

// DefaultMaxDynamicClients is how many clients a tenant may have by
// dynamic registration unless Deps says otherwise. Clients its
// administrators made do not count. The count pages through the tenant's
// clients (a few store reads at this size; registrations are rate
// limited by the oauth function); concurrent registrations may pass it by
// as many as run at once, which no counter short of a transaction would
// prevent either.
const DefaultMaxDynamicClients = 1000

// dynamicGrantTypes are the grants a client may give itself by
// registering. client_credentials and token exchange obtain tokens with
// no user in the loop, on the client's own authority: a client anybody
// registered has none that the tenant vouches for, so an administrator
// must grant them (updateOAuthClient), as Auth0 and Keycloak's anonymous
// registration policies also keep them from self-registered clients.
var dynamicGrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken, GrantDeviceCode}

// Registration is what a registration request asks for: the RFC 7591
// metadata Ward keeps, in the registry's terms.
type Registration struct {
	Name                   string   `json:"name,omitempty"`
	AuthMethod             string   `json:"authMethod"`
	JWKSURI                string   `json:"jwksUri,omitempty"`
	JWKS                   string   `json:"jwks,omitempty"`
	RedirectURIs           []string `json:"redirectUris,omitempty"`
	PostLogoutRedirectURIs []string `json:"postLogoutRedirectUris,omitempty"`
	GrantTypes             []string `json:"grantTypes,omitempty"`
	Scopes                 []string `json:"scopes,omitempty"`
}

// RegisterInput registers a client in a tenant that allows dynamic
// registration (the caller, a service, has checked that).
type RegisterInput struct {
	TenantID     string       `json:"tenantId"`
	Registration Registration `json:"registration"`
}

// RegisteredOutput is a dynamically registered client. Secret and
// RegistrationToken are set only when they are made: the secret on
// registration (or when an update moves the client to a secret method),
// the token on registration.
type RegisteredOutput struct {
	Client            Client `json:"client"`
	Secret            Secret `json:"secret,omitempty"`
	RegistrationToken Secret `json:"registrationToken,omitempty"`
}

// Registration actions (RFC 7592 sections 2.1 to 2.3).
const (
	RegistrationRead    = "read"
	RegistrationReplace = "replace"
	RegistrationDelete  = "delete"
)

// ManageInput reads, replaces or deletes a dynamically registered client
// with its registration access token (RFC 7592). Replace takes
// Registration whole; Secret, when the request carried client_secret,
// must be the client's current one (RFC 7592 section 2.2).
type ManageInput struct {
	TenantID     string        `json:"tenantId"`
	ID           string        `json:"id"`
	Token        Secret        `json:"token"`
	Action       string        `json:"action"`
	Registration *Registration `json:"registration,omitempty"`
	Secret       Secret        `json:"secret,omitempty"`
}

func (in *RegisterInput) Validate() error { return validate.ID("tenantId", in.TenantID) }

// Validate checks the tenant and the action; a malformed ID or token is
// refused by the check of the token, like a wrong one.
func (in *ManageInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	switch in.Action {
	case RegistrationRead, RegistrationDelete:
		return nil
	case RegistrationReplace:
		if in.Registration == nil {
			return errs.Invalid("registration", "is required to replace")
		}
		return nil
	}
	return errs.Invalid("action", "must be read, replace or delete")
}

func (in ManageInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tenantId", in.TenantID),
		slog.String("action", in.Action))
}

func newRegistrationToken() Secret {
	var b [32]byte
	rand.Read(b[:])
	return Secret(RegistrationTokenPrefix + base64.RawURLEncoding.EncodeToString(b[:]))
}

// checkDynamic applies the limits of self-registered clients on top of
// checkClient's rules.
func checkDynamic(r Registration) error {
	for _, g := range r.GrantTypes {
		if !slices.Contains(dynamicGrantTypes, g) {
			return errs.Invalid("grantTypes", "a dynamically registered client may have "+
				"only %s; ask the tenant's administrators for others",
				strings.Join(dynamicGrantTypes, ", "))
		}
	}
	return nil
}

// applyRegistration sets what a registration decides on cl. The type
// follows the method: none is a public client, any other a confidential
// one (RFC 7591 section 2).
func applyRegistration(cl *store.OAuthClient, r Registration) {
	cl.Name, cl.AuthMethod = r.Name, r.AuthMethod
	cl.JWKSURI, cl.JWKS = r.JWKSURI, r.JWKS
	cl.RedirectURIs, cl.PostLogoutRedirectURIs = r.RedirectURIs, r.PostLogoutRedirectURIs
	cl.GrantTypes, cl.Scopes = r.GrantTypes, r.Scopes
	cl.RequireConsent = true // a third party's client: checkClient insists
	cl.Type = store.ClientConfidential
	if r.AuthMethod == MethodNone {
		cl.Type = store.ClientPublic
	}
}

// registrar is the caller audit records name for registrations: the
// client registered itself, through the service that asked.
func registrar(c function.Caller) function.Caller {
	c.Subject = "registration:" + c.Subject
	return c
}

func (s *service) register(ctx context.Context, c function.Caller, in RegisterInput) (
	RegisteredOutput, error) {
	if err := c.RequireService(); err != nil {
		return RegisteredOutput{}, err
	}
	if err := checkDynamic(in.Registration); err != nil {
		return RegisteredOutput{}, err
	}
	if err := s.belowDynamicBound(ctx, in.TenantID); err != nil {
		return RegisteredOutput{}, err
	}
	now := s.stamp()
	cl := store.OAuthClient{ID: validate.NewID(), TenantID: in.TenantID, RequirePKCE: true,
		RequireConsent: true, CreatedAt: now, UpdatedAt: now}
	applyRegistration(&cl, in.Registration)
	if err := checkClient(&cl); err != nil {
		return RegisteredOutput{}, err
	}
	out := RegisteredOutput{RegistrationToken: newRegistrationToken()}
	cl.RegistrationTokenHash = HashSecret(out.RegistrationToken)
	if usesSecret(cl.AuthMethod) {
		out.Secret = newSecret()
		cl.SecretHash = HashSecret(out.Secret)
	}
	made, err := s.st.Create(ctx, cl)
	if err != nil {
		return RegisteredOutput{}, err
	}
	s.audit.Record(ctx, registrar(c), "oauthClient.create", target(made.TenantID, made.ID),
		audit.Changes(nil, Fields(made)))
	out.Client = view(made)
	return out, nil
}

// belowDynamicBound refuses a registration at a tenant that has
// maxDynamic dynamically registered clients already (those with a
// registration access token).
func (s *service) belowDynamicBound(ctx context.Context, tenantID string) error {
	n, after := 0, ""
	for {
		page, next, err := s.st.List(ctx, tenantID, store.Page{After: after,
			Limit: store.MaxPageSize})
		if err != nil {
			return err
		}
		for _, cl := range page {
			if cl.RegistrationTokenHash != "" {
				n++
			}
		}
		if n >= s.maxDynamic {
			return errs.New(errs.PermissionDenied, "the tenant has %d clients made by "+
				"registration, the most it may; ask its administrators", s.maxDynamic)
		}
		if next == "" {
			return nil
		}
		after = next
	}
}

func invalidToken() error { return errs.New(errs.Unauthenticated, "invalid_token") }

func (s *service) manage(ctx context.Context, c function.Caller, in ManageInput) (
	RegisteredOutput, error) {
	if err := c.RequireService(); err != nil {
		return RegisteredOutput{}, err
	}
	if len(in.Token) > maxSecretBytes {
		in.Token = in.Token[:maxSecretBytes]
	}
	cl, found, err := s.lookup(ctx, in.TenantID, in.ID)
	if err != nil {
		return RegisteredOutput{}, err
	}
	// Compared in constant time, against a dummy when the client is
	// missing or was not registered dynamically, so that every refusal
	// costs the same. RFC 7592 section 2.1: an unknown client is 401 too.
	matches := secretMatches(cl.RegistrationTokenHash, in.Token)
	if !found || cl.RegistrationTokenHash == "" || !matches {
		s.log.WarnContext(ctx, "registration access token refused", "tenant", in.TenantID,
			"request_id", function.RequestID(ctx))
		return RegisteredOutput{}, invalidToken()
	}

	switch in.Action {
	case RegistrationDelete:
		if err := s.st.Delete(ctx, in.TenantID, in.ID); errs.CodeOf(err) == errs.NotFound {
			return RegisteredOutput{}, invalidToken()
		} else if err != nil {
			return RegisteredOutput{}, err
		}
		s.audit.Record(ctx, registrar(c), "oauthClient.delete", target(in.TenantID, in.ID),
			audit.Changes(Fields(cl), nil))
		return RegisteredOutput{Client: view(cl)}, nil
	case RegistrationReplace:
		return s.replace(ctx, c, in)
	}
	return RegisteredOutput{Client: view(cl)}, nil
}

// replace puts a registration in place of the client's metadata (RFC 7592
// section 2.2). What RFC 7591 does not cover (token format, lifetimes,
// PKCE) stays as it is. A move to a secret method makes a secret; a move
// away drops it.
func (s *service) replace(ctx context.Context, c function.Caller, in ManageInput) (
	RegisteredOutput, error) {
	r := *in.Registration
	if err := checkDynamic(r); err != nil {
		return RegisteredOutput{}, err
	}
	var before store.OAuthClient
	var secret Secret
	out, err := s.st.Update(ctx, in.TenantID, in.ID, func(cl store.OAuthClient) (
		store.OAuthClient, error) {
		before = cl
		if in.Secret != "" && !secretMatches(cl.SecretHash, in.Secret) {
			return cl, errs.Invalid("clientSecret", "is not the client's secret")
		}
		typ := cl.Type
		applyRegistration(&cl, r)
		if cl.Type != typ {
			return cl, errs.Invalid("authMethod",
				"cannot move between none and the confidential methods")
		}
		switch {
		case !usesSecret(cl.AuthMethod):
			cl.SecretHash = ""
		case !usesSecret(before.AuthMethod):
			secret = newSecret()
			cl.SecretHash = HashSecret(secret)
		}
		cl.UpdatedAt = s.stamp()
		return cl, checkClient(&cl)
	})
	if errs.CodeOf(err) == errs.NotFound {
		return RegisteredOutput{}, invalidToken()
	}
	if err != nil {
		return RegisteredOutput{}, err
	}
	s.audit.Record(ctx, registrar(c), "oauthClient.update", target(out.TenantID, out.ID),
		audit.Changes(Fields(before), Fields(out)))
	return RegisteredOutput{Client: view(out), Secret: secret}, nil
}
