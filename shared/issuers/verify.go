package issuers

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

const (
	// maxToken bounds a presented token, as the sessions service does.
	maxToken = 8 << 10
	// leeway is the clock skew allowed on exp, nbf and iat.
	leeway = 30 * time.Second
	// maxSubject bounds the subject a token gives.
	maxSubject = 256
	// maxCarried bounds the JSON of the claims a verification carries.
	maxCarried = 4 << 10
)

// Validate bounds the token before anything looks at it.
func (in *VerifyInput) Validate() error {
	if in.Token == "" || len(in.Token) > maxToken {
		return invalidToken()
	}
	return validate.ID("tenantId", in.TenantID)
}

func invalidToken() error { return errs.New(errs.Unauthenticated, "invalid token") }

// refusal is why a token is refused; it is logged, never answered.
type refusal string

func (r refusal) Error() string { return string(r) }

// header is the part of a JWS protected header Ward reads.
type header struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Typ  string          `json:"typ"`
	Crit json.RawMessage `json:"crit"`
}

// unverified is what is read of a token before its signature is checked:
// its header and the issuer it claims. Nothing in it is trusted; it only
// chooses the issuer and the key that the signature check then uses.
type unverified struct {
	header header
	iss    string
}

func readUnverified(token string) (unverified, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return unverified{}, refusal("not a compact JWS")
	}
	var u unverified
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &u.header) != nil {
		return unverified{}, refusal("malformed header")
	}
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return unverified{}, refusal("malformed payload")
	}
	var claims struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(pb, &claims) != nil || claims.Iss == "" {
		return unverified{}, refusal("no issuer")
	}
	u.iss = claims.Iss
	return u, nil
}

// verify checks a token for a tenant; see the package comment for the
// rules. Refusals are UNAUTHENTICATED "invalid token" with the reason
// logged; a key set that cannot be had is UNAVAILABLE.
func (s *service) verify(ctx context.Context, c function.Caller, in VerifyInput) (VerifyOutput,
	error) {
	if err := c.RequireService(); err != nil {
		return VerifyOutput{}, err
	}
	out, ti, err := s.check(ctx, in.TenantID, string(in.Token))
	var why refusal
	if errors.As(err, &why) {
		s.log.LogAttrs(ctx, slog.LevelWarn, "issuers: access token refused",
			slog.String("request_id", function.RequestID(ctx)),
			slog.String("tenantId", in.TenantID), slog.String("issuerId", ti.ID),
			slog.String("reason", string(why)))
		return VerifyOutput{}, invalidToken()
	}
	return out, err
}

// check verifies token; a refusal is a refusal error. It returns the
// issuer it chose, when it got that far, for the log.
func (s *service) check(ctx context.Context, tenantID, token string) (VerifyOutput,
	store.TrustedIssuer, error) {
	u, err := readUnverified(token)
	if err != nil {
		return VerifyOutput{}, store.TrustedIssuer{}, err
	}
	h := u.header
	switch {
	case h.Alg == "" || strings.EqualFold(h.Alg, "none"):
		return VerifyOutput{}, store.TrustedIssuer{}, refusal("unsigned token (alg none)")
	case strings.HasPrefix(strings.ToUpper(h.Alg), "HS"):
		return VerifyOutput{}, store.TrustedIssuer{}, refusal("HMAC algorithm " + h.Alg)
	case len(h.Crit) > 0:
		return VerifyOutput{}, store.TrustedIssuer{}, refusal("crit header present")
	case h.Typ != "" && !typeAccepted(h.Typ):
		return VerifyOutput{}, store.TrustedIssuer{}, refusal("typ " + h.Typ)
	}

	ti, err := s.st.GetByIssuer(ctx, tenantID, u.iss)
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		return VerifyOutput{}, store.TrustedIssuer{}, refusal("issuer not trusted by the tenant")
	case err != nil:
		return VerifyOutput{}, store.TrustedIssuer{}, err
	case !ti.Enabled:
		return VerifyOutput{}, ti, refusal("issuer disabled")
	case !slices.Contains(ti.Algorithms, h.Alg):
		return VerifyOutput{}, ti, refusal("algorithm " + h.Alg + " not allowed")
	}
	alg, ok := jwa.LookupSignatureAlgorithm(h.Alg)
	if !ok {
		return VerifyOutput{}, ti, refusal("unknown algorithm")
	}

	key, err := s.keyFor(ctx, ti, h.Kid)
	if err != nil {
		return VerifyOutput{}, ti, err
	}
	if !key.fits(h.Alg) {
		return VerifyOutput{}, ti, refusal("key does not fit algorithm " + h.Alg)
	}
	payload, err := jws.VerifyCompactFast(key.raw, []byte(token), alg)
	if err != nil {
		return VerifyOutput{}, ti, refusal("bad signature")
	}
	out, err := s.claims(ti, payload)
	return out, ti, err
}

// typeAccepted allows the "typ" values of JWTs and of JWT access tokens
// (RFC 9068 section 2.1).
func typeAccepted(typ string) bool {
	switch strings.ToLower(typ) {
	case "jwt", "at+jwt", "application/at+jwt", "application/jwt":
		return true
	}
	return false
}

// keyFor finds the verification key: from the kept set, else from a set
// fetched again once (an issuer may have rotated its keys).
func (s *service) keyFor(ctx context.Context, ti store.TrustedIssuer, kid string) (*pubKey,
	error) {
	set, err := s.keys.keys(ctx, ti)
	if err != nil {
		return nil, err
	}
	if k, ok := set.pick(kid); ok {
		return k, nil
	}
	if kid == "" {
		return nil, refusal("no kid, and the key set has more than one key")
	}
	set, fetched, err := s.keys.refresh(ctx, ti)
	if err != nil {
		return nil, err
	}
	if set != nil {
		if k, ok := set.pick(kid); ok {
			return k, nil
		}
	}
	if !fetched {
		return nil, refusal("unknown kid (key set fetched recently)")
	}
	return nil, refusal("unknown kid")
}

// claims checks the verified payload's claims and makes the answer.
func (s *service) claims(ti store.TrustedIssuer, payload []byte) (VerifyOutput, error) {
	tok := jwt.New()
	if err := json.Unmarshal(payload, tok); err != nil {
		return VerifyOutput{}, refusal("malformed claims")
	}
	err := jwt.Validate(tok, jwt.WithClock(jwt.ClockFunc(s.now)), jwt.WithAcceptableSkew(leeway),
		jwt.WithIssuer(ti.Issuer), jwt.WithRequiredClaim(jwt.ExpirationKey))
	switch {
	case errors.Is(err, jwt.TokenExpiredError()):
		return VerifyOutput{}, refusal("expired")
	case errors.Is(err, jwt.TokenNotYetValidError()):
		return VerifyOutput{}, refusal("not yet valid (nbf)")
	case errors.Is(err, jwt.InvalidIssuedAtError()):
		return VerifyOutput{}, refusal("issued in the future (iat)")
	case errors.Is(err, jwt.InvalidIssuerError()):
		return VerifyOutput{}, refusal("wrong issuer")
	case errors.Is(err, jwt.MissingRequiredClaimError()):
		return VerifyOutput{}, refusal("no exp")
	case err != nil:
		return VerifyOutput{}, refusal("claims not valid")
	}

	aud, _ := tok.Audience()
	if !slices.ContainsFunc(aud, func(a string) bool { return slices.Contains(ti.Audiences, a) }) {
		return VerifyOutput{}, refusal("wrong audience")
	}
	var sub string
	if err := tok.Get(ti.SubjectClaim, &sub); err != nil || sub == "" || len(sub) > maxSubject {
		return VerifyOutput{}, refusal("no usable subject claim " + ti.SubjectClaim)
	}

	exp, _ := tok.Expiration()
	out := VerifyOutput{
		TenantID: ti.TenantID, IssuerID: ti.ID, Issuer: ti.Issuer, Subject: sub,
		Audience: aud, ExpiresAt: exp.Unix(), AMR: []string{}, Claims: map[string]any{},
	}
	if iat, ok := tok.IssuedAt(); ok {
		out.IssuedAt = iat.Unix()
	}
	var acr string
	if tok.Get("acr", &acr) == nil && len(acr) <= 128 {
		out.ACR = acr
	}
	var amr []any
	if tok.Get("amr", &amr) == nil {
		for _, m := range amr {
			if m, ok := m.(string); ok && m != "" && len(m) <= 32 && len(out.AMR) < 16 {
				out.AMR = append(out.AMR, m)
			}
		}
	}
	var authTime float64
	if tok.Get("auth_time", &authTime) == nil && authTime > 0 {
		out.AuthTime = int64(authTime)
	}
	for _, name := range ti.Claims {
		var v any
		if tok.Get(name, &v) == nil {
			out.Claims[name] = v
		}
	}
	if b, err := json.Marshal(out.Claims); err != nil || len(b) > maxCarried {
		return VerifyOutput{}, refusal("carried claims too large")
	}
	return out, nil
}
