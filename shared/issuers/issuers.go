// Package issuers is the trusted issuers service: the external token
// issuers each tenant trusts (store.TrustedIssuers), and the verification
// of their access tokens (JWTs) for the sessions service.
//
// Who may call what:
//
//   - system administrators and the tenant's administrators: create, get,
//     list, update and delete the tenant's trusted issuers; every write
//     is audited (trustedIssuer.create, .update, .delete);
//   - Ward's own components (function.RoleService): verify.
//
// A caller outside the tenant gets NOT_FOUND, like a missing issuer.
//
// # Verification
//
// A token is accepted when every one of these holds, and otherwise
// refused with the one answer UNAUTHENTICATED "invalid token", the reason
// being logged on the server only:
//
//   - it is a JWS in compact form whose protected header has an "alg" the
//     issuer allows (never "none", never HMAC: HS256 signed with an RSA
//     public key as the secret is the classic algorithm confusion) and no
//     "crit" (RFC 7515 section 4.1.11: Ward understands no extension);
//   - its "iss" names, byte for byte, an enabled issuer of the tenant;
//   - its signature verifies with a key of that issuer's key set: the key
//     its "kid" names, or the only key when it names none; the key's type
//     (and curve) must fit the algorithm, and its own "alg" and "use",
//     when present, must be that algorithm and "sig";
//   - it has "exp", is not past it, not before "nbf", and its "iat" is not
//     in the future, each with a leeway of 30 seconds (RFC 7519 section
//     4.1.4 allows "some small leeway");
//   - one of its "aud" values is one of the issuer's audiences;
//   - its subject claim is a non-empty string.
//
// # Keys
//
// Key sets at a JWKS URI are fetched over HTTP(S) with a 5-second timeout,
// no redirects and at most 256 KiB, and kept in process for 10 minutes. A
// token whose "kid" the kept set lacks makes one fetch at once (the issuer
// may have rotated its keys), but never more than one every 30 seconds
// per issuer; within that time it is refused as an unknown key. A set
// that cannot be fetched makes verification UNAVAILABLE, not invalid;
// once fetched, a set keeps serving for up to a day after its 10 minutes
// when fetching it again fails, with a warning in the log.
//
// Known shortcomings:
//   - JWKS URIs are fetched from wherever this function runs. Only https
//     URLs (http on loopback hosts) are accepted, but a tenant
//     administrator can point one at an https service inside the
//     deployment's network and learn, from the answers, whether it
//     answers. Deployments that care put the function where it reaches
//     the internet only.
//   - Each process keeps its own key sets, so each fetches them.
//   - The bound of store.MaxTrustedIssuers per tenant is the store's.
package issuers

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/orgs"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// Deps are what the service needs.
type Deps struct {
	Store store.Store
	// HTTPClient fetches key sets. Nil: a client with the package's
	// timeouts that follows no redirects.
	HTTPClient *http.Client
	Now        func() time.Time // nil: time.Now
	Log        *slog.Logger     // nil: slog.Default()
}

type service struct {
	st    store.TrustedIssuers
	keys  *keyCache
	now   func() time.Time
	log   *slog.Logger
	audit audit.Recorder
}

func newService(d Deps) *service {
	s := &service{st: d.Store.TrustedIssuers(), now: d.Now, log: d.Log}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.keys = newKeyCache(d.HTTPClient, s.now, s.log)
	s.audit = audit.Recorder{Audit: d.Store.Audit(), Log: s.log, Now: s.now}
	return s
}

// Function returns the trusted issuers function.
func Function(d Deps) *function.Function {
	s := newService(d)
	f := function.New(FunctionName)
	function.Op(f, OpCreate, s.create)
	function.Op(f, OpGet, s.get)
	function.Op(f, OpList, s.list)
	function.Op(f, OpUpdate, s.update)
	function.Op(f, OpDelete, s.delete)
	function.Op(f, OpVerify, s.verify)
	return f
}

// DefaultAlgorithms are the algorithms of an issuer created without any.
var DefaultAlgorithms = []string{"ES256", "RS256"}

// supportedAlgorithms are the JWS algorithms an issuer may allow: public
// key signatures only.
var supportedAlgorithms = []string{"ES256", "ES384", "ES512", "RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512", "EdDSA"}

// claimRE is the shape of a claim name an issuer maps.
var claimRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$`)

// audienceRE bounds an audience: printable, no spaces.
var audienceRE = regexp.MustCompile(`^[\x21-\x7e]{1,256}$`)

func issuerNotFound() error { return errs.New(errs.NotFound, "trusted issuer not found") }

// gate lets through system administrators and the tenant's own; anyone
// else of another tenant gets NOT_FOUND.
func gate(c function.Caller, tenantID string) error {
	if orgs.TenantWide(c, tenantID) {
		return nil
	}
	if _, err := orgs.Gate(c, tenantID); err != nil {
		return err
	}
	return errs.New(errs.PermissionDenied, "only the tenant's administrators manage trusted issuers")
}

// checkURL checks an issuer or JWKS URL: absolute https, or http on a
// loopback host (for development), no user information or fragment.
func checkURL(field, raw string, allowQuery bool) error {
	if raw == "" {
		return errs.Invalid(field, "is required")
	}
	if len(raw) > store.MaxIssuerURLBytes {
		return errs.Invalid(field, "must be at most %d bytes", store.MaxIssuerURLBytes)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return errs.Invalid(field, "must be an absolute https URL")
	}
	if u.User != nil || u.Fragment != "" || strings.Contains(raw, "#") {
		return errs.Invalid(field, "must have no user information and no fragment")
	}
	if !allowQuery && u.RawQuery != "" {
		return errs.Invalid(field, "must have no query")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
	}
	return errs.Invalid(field, "must be an https URL (http only on a loopback host)")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkIssuer checks an issuer's meaning and fills its defaults.
func checkIssuer(ti *store.TrustedIssuer) error {
	if err := validate.Text("name", ti.Name, store.MaxIssuerNameBytes); err != nil {
		return err
	}
	if err := checkURL("issuer", ti.Issuer, false); err != nil {
		return err
	}
	switch {
	case ti.JWKSURI != "" && ti.JWKS != "":
		return errs.Invalid("jwks", "give either jwksUri or jwks, not both")
	case ti.JWKSURI != "":
		if err := checkURL("jwksUri", ti.JWKSURI, true); err != nil {
			return err
		}
	case ti.JWKS != "":
		if len(ti.JWKS) > store.MaxInlineJWKSBytes {
			return errs.Invalid("jwks", "must be at most %d bytes", store.MaxInlineJWKSBytes)
		}
		if _, err := parseKeySet([]byte(ti.JWKS)); err != nil {
			return errs.Invalid("jwks", "%s", err.Error())
		}
	default:
		return errs.Invalid("jwksUri", "give jwksUri or jwks")
	}

	if len(ti.Audiences) == 0 || len(ti.Audiences) > store.MaxIssuerAudiences {
		return errs.Invalid("audiences", "must hold 1 to %d audiences", store.MaxIssuerAudiences)
	}
	for _, a := range ti.Audiences {
		if !audienceRE.MatchString(a) {
			return errs.Invalid("audiences", "an audience is 1 to 256 printable characters")
		}
	}
	ti.Audiences = uniq(ti.Audiences)

	if len(ti.Algorithms) == 0 {
		ti.Algorithms = slices.Clone(DefaultAlgorithms)
	}
	if len(ti.Algorithms) > store.MaxIssuerAlgorithms {
		return errs.Invalid("algorithms", "must hold at most %d algorithms",
			store.MaxIssuerAlgorithms)
	}
	for _, a := range ti.Algorithms {
		switch {
		case strings.EqualFold(a, "none"):
			return errs.Invalid("algorithms", "unsigned tokens (none) are never accepted")
		case strings.HasPrefix(strings.ToUpper(a), "HS"):
			return errs.Invalid("algorithms",
				"HMAC algorithms are never accepted from an external issuer")
		case !slices.Contains(supportedAlgorithms, a):
			return errs.Invalid("algorithms", "must be among %s",
				strings.Join(supportedAlgorithms, ", "))
		}
	}
	ti.Algorithms = uniq(ti.Algorithms)

	if ti.SubjectClaim == "" {
		ti.SubjectClaim = "sub"
	}
	if !claimRE.MatchString(ti.SubjectClaim) {
		return errs.Invalid("subjectClaim", "must be a claim name: a letter or _, then up to 63 "+
			"letters, digits or _ . : -")
	}
	if len(ti.Claims) > store.MaxIssuerClaims {
		return errs.Invalid("claims", "must hold at most %d claims", store.MaxIssuerClaims)
	}
	for _, c := range ti.Claims {
		if !claimRE.MatchString(c) {
			return errs.Invalid("claims", "a claim name is a letter or _, then up to 63 "+
				"letters, digits or _ . : -")
		}
	}
	ti.Claims = uniq(ti.Claims)
	switch ti.UserMapping {
	case store.IssuerMapNone, store.IssuerMapID, store.IssuerMapUsername, store.IssuerMapEmail:
	default:
		return errs.Invalid("userMapping", "must be empty, id, username or email")
	}
	// A session is a Ward user's: without a mapping there is no user.
	if ti.Sessions && ti.UserMapping == store.IssuerMapNone {
		return errs.Invalid("sessions", "sessions need a userMapping")
	}
	return nil
}

func uniq(l []string) []string {
	var out []string
	for _, s := range l {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func (in *CreateInput) Validate() error { return validate.ID("tenantId", in.TenantID) }

func (in *GetInput) Validate() error { return validate.TenantAndID(in.TenantID, in.ID) }

func (in *ListInput) Validate() error { return validate.ID("tenantId", in.TenantID) }

func (in *UpdateInput) Validate() error { return validate.TenantAndID(in.TenantID, in.ID) }

func (in *DeleteInput) Validate() error { return validate.TenantAndID(in.TenantID, in.ID) }

// Fields are a trusted issuer's audited fields; an inline key set is
// recorded by its size only.
func Fields(ti store.TrustedIssuer) audit.Fields {
	f := audit.Fields{
		"name": ti.Name, "issuer": ti.Issuer, "jwksUri": ti.JWKSURI,
		"audiences": strings.Join(ti.Audiences, ","), "algorithms": strings.Join(ti.Algorithms, ","),
		"subjectClaim": ti.SubjectClaim, "claims": strings.Join(ti.Claims, ","),
		"userMapping": ti.UserMapping,
		"sessions":    map[bool]string{true: "true", false: "false"}[ti.Sessions],
		"enabled":     map[bool]string{true: "true", false: "false"}[ti.Enabled],
	}
	if ti.JWKS != "" {
		f["jwks"] = "(inline key set)"
	}
	return f
}

func target(tenantID, id string) audit.Target {
	return audit.Target{TenantID: tenantID, Type: audit.TypeTrustedIssuer, ID: id}
}

func (s *service) stamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

func (s *service) create(ctx context.Context, c function.Caller, in CreateInput) (
	store.TrustedIssuer, error) {
	if err := gate(c, in.TenantID); err != nil {
		return store.TrustedIssuer{}, err
	}
	now := s.stamp()
	ti := store.TrustedIssuer{
		ID: validate.NewID(), TenantID: in.TenantID, Name: in.Name, Issuer: in.Issuer,
		JWKSURI: in.JWKSURI, JWKS: in.JWKS, Audiences: in.Audiences, Algorithms: in.Algorithms,
		SubjectClaim: in.SubjectClaim, Claims: in.Claims, Enabled: in.Enabled == nil || *in.Enabled,
		UserMapping: in.UserMapping, Sessions: in.Sessions, CreatedAt: now, UpdatedAt: now,
	}
	if err := checkIssuer(&ti); err != nil {
		return store.TrustedIssuer{}, err
	}
	out, err := s.st.Create(ctx, ti)
	if err != nil {
		return store.TrustedIssuer{}, err
	}
	s.audit.Record(ctx, c, "trustedIssuer.create", target(out.TenantID, out.ID),
		audit.Changes(nil, Fields(out)))
	return out, nil
}

func (s *service) get(ctx context.Context, c function.Caller, in GetInput) (
	store.TrustedIssuer, error) {
	if err := gate(c, in.TenantID); err != nil {
		return store.TrustedIssuer{}, err
	}
	ti, err := s.st.Get(ctx, in.TenantID, in.ID)
	if errs.CodeOf(err) == errs.NotFound {
		return store.TrustedIssuer{}, issuerNotFound()
	}
	return ti, err
}

func (s *service) list(ctx context.Context, c function.Caller, in ListInput) (ListOutput,
	error) {
	if err := gate(c, in.TenantID); err != nil {
		return ListOutput{}, err
	}
	items, err := s.st.List(ctx, in.TenantID)
	if err != nil {
		return ListOutput{}, err
	}
	if items == nil {
		items = []store.TrustedIssuer{}
	}
	return ListOutput{Items: items}, nil
}

func (s *service) update(ctx context.Context, c function.Caller, in UpdateInput) (
	store.TrustedIssuer, error) {
	if err := gate(c, in.TenantID); err != nil {
		return store.TrustedIssuer{}, err
	}
	var before store.TrustedIssuer
	out, err := s.st.Update(ctx, in.TenantID, in.ID, func(ti store.TrustedIssuer) (
		store.TrustedIssuer, error) {
		before = ti
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&ti.Name, in.Name)
		set(&ti.Issuer, in.Issuer)
		set(&ti.SubjectClaim, in.SubjectClaim)
		set(&ti.UserMapping, in.UserMapping)
		if in.Sessions != nil {
			ti.Sessions = *in.Sessions
		}
		if in.JWKSURI != nil {
			ti.JWKSURI = *in.JWKSURI
			if *in.JWKSURI != "" && in.JWKS == nil {
				ti.JWKS = ""
			}
		}
		if in.JWKS != nil {
			ti.JWKS = *in.JWKS
			if *in.JWKS != "" && in.JWKSURI == nil {
				ti.JWKSURI = ""
			}
		}
		if in.Audiences != nil {
			ti.Audiences = *in.Audiences
		}
		if in.Algorithms != nil {
			ti.Algorithms = *in.Algorithms
		}
		if in.Claims != nil {
			ti.Claims = *in.Claims
		}
		if in.Enabled != nil {
			ti.Enabled = *in.Enabled
		}
		ti.UpdatedAt = s.stamp()
		return ti, checkIssuer(&ti)
	})
	if errs.CodeOf(err) == errs.NotFound {
		return store.TrustedIssuer{}, issuerNotFound()
	}
	if err != nil {
		return store.TrustedIssuer{}, err
	}
	s.audit.Record(ctx, c, "trustedIssuer.update", target(out.TenantID, out.ID),
		audit.Changes(Fields(before), Fields(out)))
	return out, nil
}

func (s *service) delete(ctx context.Context, c function.Caller, in DeleteInput) (DeleteOutput,
	error) {
	if err := gate(c, in.TenantID); err != nil {
		return DeleteOutput{}, err
	}
	ti, err := s.st.Get(ctx, in.TenantID, in.ID)
	if errs.CodeOf(err) == errs.NotFound {
		return DeleteOutput{}, issuerNotFound()
	}
	if err != nil {
		return DeleteOutput{}, err
	}
	if err := s.st.Delete(ctx, in.TenantID, in.ID); errs.CodeOf(err) == errs.NotFound {
		return DeleteOutput{}, issuerNotFound()
	} else if err != nil {
		return DeleteOutput{}, err
	}
	s.audit.Record(ctx, c, "trustedIssuer.delete", target(in.TenantID, in.ID),
		audit.Changes(Fields(ti), nil))
	return DeleteOutput{ID: in.ID}, nil
}
