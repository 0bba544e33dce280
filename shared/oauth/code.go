package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
)

// Authorization codes (RFC 6749 section 4.1.2): 32 random bytes, kept in
// the cache under their SHA-256 only, for codeTTL, redeemed once.
const (
	codeTTL = 60 * time.Second
	// redeemedTTL is how long a redeemed code's marker is kept: a replay
	// within it is refused and revokes what the code issued (RFC 6749
	// section 4.1.2; RFC 9700 section 4.5). Later replays are refused
	// all the same, as unknown codes.
	redeemedTTL = 10 * time.Minute

	codeKeyPrefix     = "oauth:code:"   // + hex SHA-256 of the code
	redeemedKeyPrefix = "oauth:used:"   // + hex SHA-256 of the code
	replayKeyPrefix   = "oauth:replay:" // + hex SHA-256 of the code
)

// codeRecord is what a code stands for.
type codeRecord struct {
	TenantID    string    `json:"tid"`
	RedirectURI string    `json:"ru"`
	Challenge   string    `json:"cc,omitempty"`
	IssuedAt    int64     `json:"iat"`
	Grant       userGrant `json:"g"`
}

// redeemed is the marker of a redeemed code: what it issued (nothing
// yet while the redemption is under way).
//
// A replay racing the redemption: the redemption writes the marker with
// what it issued, then looks for the replay's flag; the replay writes
// its flag, then reads the marker. Whichever comes second sees the
// other's write, so the tokens are revoked in every order. What is left
// is the moment between taking the code and writing the first marker, a
// few cache round trips, in which a replay is refused without revoking.
type redeemed struct {
	Issued *issued `json:"issued,omitempty"`
}

// newCode makes a code for a request the session meets.
func (s *service) newCode(ctx context.Context, t store.Tenant, cl clients.Client,
	req authRequest, sess sessions.ValidateOutput) (string, error) {
	if s.cache == nil {
		return "", errs.New(errs.Unavailable, "no cache for authorization codes")
	}
	rec := codeRecord{TenantID: t.ID, RedirectURI: req.RedirectURI, Challenge: req.Challenge,
		IssuedAt: s.now().Unix(), Grant: userGrant{ClientID: cl.ID, Scope: req.Scope,
			Audience: req.Audience, Nonce: req.Nonce, UserID: sess.Subject,
			SessionID: sess.SessionID, AuthTime: sess.AuthTime, ACR: sess.ACR,
			AMR: sess.AMR}}
	b, err := json.Marshal(rec)
	if err != nil {
		return "", errs.Wrap(errs.Internal, err, "internal error")
	}
	code := randomString(32)
	if err := s.cache.Set(ctx, codeKey(codeKeyPrefix, code), b, codeTTL); err != nil {
		return "", err
	}
	return code, nil
}

// grantAuthorizationCode redeems a code at the token endpoint (RFC 6749
// section 4.1.3). Every refusal of the code itself is invalid_grant, and
// nothing is issued.
func (s *service) grantAuthorizationCode(r *http.Request, t store.Tenant, iss string,
	form url.Values, cl clients.Client) (any, error) {
	ctx := r.Context()
	if !slices.Contains(cl.GrantTypes, clients.GrantAuthorizationCode) {
		return nil, badRequest(errUnauthorizedClient,
			"the client may not use the authorization code grant")
	}
	code, verifier := form.Get("code"), form.Get("code_verifier")
	if code == "" {
		return nil, badRequest(errInvalidRequest, "code is required")
	}
	if form.Get("redirect_uri") == "" {
		return nil, badRequest(errInvalidRequest, "redirect_uri is required")
	}
	// RFC 7636 section 4.1: 43 to 128 unreserved characters.
	if verifier != "" && !verifierRE.MatchString(verifier) {
		return nil, badRequest(errInvalidRequest, "code_verifier is malformed")
	}
	if s.cache == nil {
		return nil, errs.New(errs.Unavailable, "no cache for authorization codes")
	}

	b, err := s.cache.GetDel(ctx, codeKey(codeKeyPrefix, code))
	if errors.Is(err, cache.ErrMiss) {
		if err := s.replayed(ctx, t, code); err != nil {
			return nil, err
		}
		return nil, badRequest(errInvalidGrant, "the code is invalid, expired or used")
	}
	if err != nil {
		return nil, err
	}
	var rec codeRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, errs.Wrap(errs.Internal, err, "a code record is damaged")
	}
	pending, _ := json.Marshal(redeemed{})
	if err := s.cache.Set(ctx, codeKey(redeemedKeyPrefix, code), pending, redeemedTTL); err != nil {
		return nil, err
	}
	// The code is spent from here on, whatever follows: one presented by
	// the wrong client or with the wrong verifier is burnt (RFC 6749
	// section 10.5).
	switch {
	case rec.TenantID != t.ID || rec.Grant.ClientID != cl.ID:
		// RFC 6749 section 4.1.3: the code was issued to this client.
		return nil, badRequest(errInvalidGrant, "the code is invalid, expired or used")
	case s.now().Unix() >= rec.IssuedAt+int64(codeTTL/time.Second):
		return nil, badRequest(errInvalidGrant, "the code is invalid, expired or used")
	case form.Get("redirect_uri") != rec.RedirectURI:
		// RFC 6749 section 4.1.3: identical to the authorization request's.
		return nil, badRequest(errInvalidGrant, "redirect_uri differs from the authorization request's")
	}
	if err := checkVerifier(rec.Challenge, verifier); err != nil {
		return nil, err
	}

	return s.issueMarked(ctx, t, iss, cl, code, rec.Grant)
}

// issueMarked issues the grant's tokens under a redeemed-code marker.
func (s *service) issueMarked(ctx context.Context, t store.Tenant, iss string, cl clients.Client,
	code string, g userGrant) (any, error) {
	out, is, err := s.issueStartingFamily(ctx, t, iss, cl, g)
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(redeemed{Issued: &is})
	if err := s.cache.Set(ctx, codeKey(redeemedKeyPrefix, code), b, redeemedTTL); err != nil {
		return nil, errors.Join(err, s.revokeIssued(ctx, is))
	}
	_, err = s.cache.Get(ctx, codeKey(replayKeyPrefix, code))
	switch {
	case errors.Is(err, cache.ErrMiss):
		return out, nil
	case err == nil:
		err = badRequest(errInvalidGrant, "the code is invalid, expired or used")
	}
	return nil, errors.Join(err, s.revokeIssued(ctx, is))
}

// replayed handles a code that is not (or no longer) in the cache: if it
// was redeemed within redeemedTTL, what it issued is revoked (RFC 6749
// section 4.1.2: SHOULD revoke) and a warning logged. Either way the
// caller answers invalid_grant.
func (s *service) replayed(ctx context.Context, t store.Tenant, code string) error {
	key := codeKey(redeemedKeyPrefix, code)
	if _, err := s.cache.Get(ctx, key); errors.Is(err, cache.ErrMiss) {
		return nil // unknown or long expired: nothing to revoke
	} else if err != nil {
		return err
	}
	s.log.WarnContext(ctx, "oauth: an authorization code was presented again; its tokens are revoked",
		"tenant", t.ID)
	if err := s.cache.Set(ctx, codeKey(replayKeyPrefix, code), []byte{1}, redeemedTTL); err != nil {
		return err
	}
	b, err := s.cache.Get(ctx, key) // again, after the flag: see redeemed
	if errors.Is(err, cache.ErrMiss) {
		return nil
	}
	if err != nil {
		return err
	}
	var m redeemed
	if err := json.Unmarshal(b, &m); err != nil || m.Issued == nil || m.Issued.TenantID != t.ID {
		return nil
	}
	return s.revokeIssued(ctx, *m.Issued)
}

var verifierRE = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// checkVerifier checks the PKCE verifier against the code's challenge
// (RFC 7636 section 4.6), in constant time. A verifier without a
// challenge is refused too (RFC 9700 section 2.1.1: it would hide a
// downgrade).
func checkVerifier(challenge, verifier string) error {
	switch {
	case challenge == "" && verifier == "":
		return nil
	case challenge == "":
		return badRequest(errInvalidGrant, "code_verifier sent for a code without a challenge")
	case verifier == "":
		return badRequest(errInvalidGrant, "code_verifier is required")
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) != 1 {
		return badRequest(errInvalidGrant, "code_verifier does not match the challenge")
	}
	return nil
}

func codeKey(prefix, code string) string {
	sum := sha256.Sum256([]byte(code))
	return prefix + hex.EncodeToString(sum[:])
}

// decodeB64URL decodes unpadded base64url.
func decodeB64URL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
