package apitokens

import (
	"context"
	"errors"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// BootstrapID is the fixed ID of the generated bootstrap token. A fixed ID
// makes the first start idempotent across processes: when several start
// at once, the store's uniqueness lets exactly one create it.
const BootstrapID = "00000000-0000-7000-8000-000000000001"

// Bootstrap makes sure a system administrator can reach a fresh Ward.
//
// With a configured token (WARD_BOOTSTRAP_TOKEN), it makes sure a system
// token with that secret exists and returns "". Without one, and only while
// no system token exists at all (the first start), it creates the bootstrap
// token and returns its secret, which the caller prints once.
func Bootstrap(ctx context.Context, d Deps, configured string) (generated string, err error) {
	s := newService(d)
	roles := []string{function.RoleSystemAdmin}

	if configured != "" {
		if len(configured) < 32 || len(configured) > maxTokenLen {
			return "", errs.Invalid("WARD_BOOTSTRAP_TOKEN", "must be 32 to %d characters", maxTokenLen)
		}
		_, err := s.tokens.GetByHash(ctx, Hash(configured))
		if err == nil {
			return "", nil
		}
		if !errors.Is(err, errs.ErrNotFound) {
			return "", err
		}
		_, err = s.save(ctx, configured, validate.NewID(), "", "", "bootstrap (configured)", roles, nil, 0)
		if errors.Is(err, errs.ErrConflict) {
			return "", nil // another process stored it first
		}
		return "", err
	}

	existing, _, err := s.tokens.List(ctx, "", store.Page{Limit: 1})
	if err != nil {
		return "", err
	}
	if len(existing) > 0 {
		return "", nil // a system administrator exists already
	}
	out, err := s.save(ctx, NewSecret(), BootstrapID, "", "", "bootstrap", roles, nil, 0)
	if errors.Is(err, errs.ErrConflict) {
		return "", nil // created on an earlier start
	}
	if err != nil {
		return "", err
	}
	return out.Token, nil
}
