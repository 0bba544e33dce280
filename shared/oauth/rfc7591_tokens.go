package oauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// Initial access tokens (RFC 7591 section 3) of tenants whose setting
// auth.clientRegistration is TOKEN. A token is "wit_" and 32 random bytes;
// the tenant's record keeps its SHA-256 (store.RegistrationToken), at most
// store.MaxRegistrationTokens of them, with its expiry and its uses. A
// registration spends one use by compare-and-swap on the tenant, so that
// two registrations never both take a token's last use.

func (in *CreateRegistrationTokenInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	if in.ExpiresIn < MinRegistrationTokenSeconds || in.ExpiresIn > MaxRegistrationTokenSeconds {
		return errs.Invalid("expiresIn", "must be %d to %d seconds",
			MinRegistrationTokenSeconds, MaxRegistrationTokenSeconds)
	}
	if in.MaxUses < 0 || in.MaxUses > MaxRegistrationTokenUses {
		return errs.Invalid("maxUses", "must be 1 to %d, or 0 for any number until it expires",
			MaxRegistrationTokenUses)
	}
	return nil
}

func (in *RegistrationTokensInput) Validate() error { return validate.ID("tenantId", in.TenantID) }

func (in *DeleteRegistrationTokenInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	return validate.ID("id", in.ID)
}

// tokenGate lets through system administrators and the tenant's
// administrators; callers of another tenant learn nothing (NOT_FOUND).
func tokenGate(c function.Caller, tenantID string) error {
	return adminGate(c, tenantID, "registration tokens")
}

// spent reports whether rt can register no more clients at now.
func spent(rt store.RegistrationToken, now time.Time) bool {
	return !now.Before(rt.ExpiresAt) || (rt.MaxUses > 0 && rt.Uses >= rt.MaxUses)
}

func tokenInfo(rt store.RegistrationToken, now time.Time) RegistrationTokenInfo {
	out := RegistrationTokenInfo{ID: rt.ID, CreatedAt: rt.CreatedAt, ExpiresAt: rt.ExpiresAt,
		MaxUses: rt.MaxUses, Uses: rt.Uses, Usable: !spent(rt, now)}
	if rt.MaxUses > 0 {
		left := max(rt.MaxUses-rt.Uses, 0)
		out.UsesLeft = &left
	}
	return out
}

func tokenTarget(tenantID, id string) audit.Target {
	return audit.Target{TenantID: tenantID, Type: audit.TypeRegistrationToken, ID: id}
}

func tokenFields(rt store.RegistrationToken) audit.Fields {
	return audit.Fields{"expiresAt": rt.ExpiresAt.UTC().Format(time.RFC3339),
		"maxUses": strconv.Itoa(rt.MaxUses), "uses": strconv.Itoa(rt.Uses)}
}

func newInitialAccessToken() clients.Secret {
	var b [32]byte
	rand.Read(b[:])
	return clients.Secret(RegistrationTokenPrefix + base64.RawURLEncoding.EncodeToString(b[:]))
}

// updateTokens changes a tenant's tokens by compare-and-swap, turning a
// missing tenant into NOT_FOUND. The tenant's UpdatedAt stays: tokens
// are not settings an administrator edits.
func (s *service) updateTokens(ctx context.Context, tenantID string,
	fn func([]store.RegistrationToken) ([]store.RegistrationToken, error)) error {
	found := false
	_, err := s.st.Tenants().Update(ctx, tenantID, func(t store.Tenant) (store.Tenant, error) {
		found = true
		toks, err := fn(slices.Clone(t.RegistrationTokens))
		t.RegistrationTokens = toks
		return t, err
	})
	if !found && errs.CodeOf(err) == errs.NotFound {
		return errs.New(errs.NotFound, "tenant not found")
	}
	return err
}

func (s *service) createRegistrationToken(ctx context.Context, c function.Caller,
	in CreateRegistrationTokenInput) (CreatedRegistrationToken, error) {
	if err := tokenGate(c, in.TenantID); err != nil {
		return CreatedRegistrationToken{}, err
	}
	now := s.now().UTC().Truncate(time.Second)
	tok := newInitialAccessToken()
	rt := store.RegistrationToken{ID: validate.NewID(), Hash: clients.HashSecret(tok),
		CreatedAt: now, ExpiresAt: now.Add(time.Duration(in.ExpiresIn) * time.Second),
		MaxUses: in.MaxUses}
	err := s.updateTokens(ctx, in.TenantID, func(toks []store.RegistrationToken) (
		[]store.RegistrationToken, error) {
		// Spent tokens make room: they can do nothing any more.
		toks = slices.DeleteFunc(toks, func(x store.RegistrationToken) bool {
			return spent(x, now)
		})
		if len(toks) >= store.MaxRegistrationTokens {
			return nil, errs.New(errs.Conflict, "the tenant has %d registration tokens, "+
				"the most it may; delete one first", store.MaxRegistrationTokens)
		}
		return append(toks, rt), nil
	})
	if err != nil {
		return CreatedRegistrationToken{}, err
	}
	s.audit.Record(ctx, c, "registrationToken.create", tokenTarget(in.TenantID, rt.ID),
		audit.Changes(nil, tokenFields(rt)))
	return CreatedRegistrationToken{Token: string(tok), Info: tokenInfo(rt, now)}, nil
}

func (s *service) listRegistrationTokens(ctx context.Context, c function.Caller,
	in RegistrationTokensInput) (RegistrationTokensOutput, error) {
	if err := tokenGate(c, in.TenantID); err != nil {
		return RegistrationTokensOutput{}, err
	}
	t, err := s.st.Tenants().Get(ctx, in.TenantID)
	if errs.CodeOf(err) == errs.NotFound {
		return RegistrationTokensOutput{}, errs.New(errs.NotFound, "tenant not found")
	}
	if err != nil {
		return RegistrationTokensOutput{}, err
	}
	now := s.now()
	out := RegistrationTokensOutput{Items: make([]RegistrationTokenInfo, 0,
		len(t.RegistrationTokens))}
	for _, rt := range t.RegistrationTokens {
		out.Items = append(out.Items, tokenInfo(rt, now))
	}
	return out, nil
}

func (s *service) deleteRegistrationToken(ctx context.Context, c function.Caller,
	in DeleteRegistrationTokenInput) (DeleteRegistrationTokenOutput, error) {
	if err := tokenGate(c, in.TenantID); err != nil {
		return DeleteRegistrationTokenOutput{}, err
	}
	var old store.RegistrationToken
	err := s.updateTokens(ctx, in.TenantID, func(toks []store.RegistrationToken) (
		[]store.RegistrationToken, error) {
		i := slices.IndexFunc(toks, func(x store.RegistrationToken) bool { return x.ID == in.ID })
		if i < 0 {
			return nil, errs.New(errs.NotFound, "registration token not found")
		}
		old = toks[i]
		return slices.Delete(toks, i, i+1), nil
	})
	if err != nil {
		return DeleteRegistrationTokenOutput{}, err
	}
	s.audit.Record(ctx, c, "registrationToken.delete", tokenTarget(in.TenantID, in.ID),
		audit.Changes(tokenFields(old), nil))
	return DeleteRegistrationTokenOutput{ID: in.ID}, nil
}

// errTokenRefused is the answer to a missing, unknown, expired or used-up
// initial access token: RFC 7591 section 3 leaves it to the token type,
// and for a Bearer token that is RFC 6750 section 3.1's invalid_token
// with 401. One description for every case, so that the answer does not
// tell a guessed token from an expired one.
var errTokenRefused = &protocolError{code: errInvalidToken,
	description: "an unexpired initial access token with uses left is required",
	status:      http.StatusUnauthorized}

func isTokenRefusal(err error) bool { return errors.Is(err, errTokenRefused) }

// useRegistrationToken spends one use of the initial access token of the
// request, and returns the token's ID for refundRegistrationToken.
func (s *service) useRegistrationToken(ctx context.Context, r *http.Request,
	tenantID string) (string, error) {
	tok, ok := bearer(r)
	if !ok {
		return "", errTokenRefused
	}
	hash := clients.HashSecret(tok)
	now := s.now()
	var id string
	err := s.updateTokens(ctx, tenantID, func(toks []store.RegistrationToken) (
		[]store.RegistrationToken, error) {
		// Every stored hash is compared, in constant time, whichever
		// matches: the time taken says nothing of which or how many.
		i := -1
		for j, x := range toks {
			if subtle.ConstantTimeCompare([]byte(x.Hash), []byte(hash)) == 1 {
				i = j
			}
		}
		if i < 0 || spent(toks[i], now) {
			return nil, errTokenRefused
		}
		toks[i].Uses++
		id = toks[i].ID
		return toks, nil
	})
	if isTokenRefusal(err) {
		s.log.WarnContext(ctx, "oauth: initial access token refused", "tenant", tenantID,
			"request_id", function.RequestID(ctx))
	}
	return id, err
}

// refundRegistrationToken gives back the use of a registration that did
// not happen (refused metadata, a limit), so that a typo does not cost a
// single-use token. A token deleted meanwhile stays deleted.
func (s *service) refundRegistrationToken(ctx context.Context, tenantID, id string) {
	err := s.updateTokens(ctx, tenantID, func(toks []store.RegistrationToken) (
		[]store.RegistrationToken, error) {
		if i := slices.IndexFunc(toks, func(x store.RegistrationToken) bool {
			return x.ID == id
		}); i >= 0 && toks[i].Uses > 0 {
			toks[i].Uses--
		}
		return toks, nil
	})
	if err != nil {
		s.log.WarnContext(ctx, "oauth: an initial access token's use was not given back",
			"tenant", tenantID, "request_id", function.RequestID(ctx), "error", err.Error())
	}
}
