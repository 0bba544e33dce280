// Package apitokens is the API token service of the admin function: bearer
// tokens for the GraphQL facade, stored only as SHA-256 hashes, and the
// bootstrap system administrator created on first start.
//
// A token secret is 32 random bytes, so a fast hash is enough: nobody can
// guess a preimage, and a lookup by hash reveals nothing through timing
// about the secret. Secrets chosen by people (passwords) get a slow hash
// elsewhere; tokens never are chosen by people.
package apitokens

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// Prefix starts every token, so that leaked tokens are easy to find in
// code and logs by secret scanners.
const Prefix = "ward_"

// MaxTTL bounds the lifetime a token may be given at creation.
const MaxTTL = 366 * 24 * time.Hour

// MaxUserTTL bounds the lifetime of a personal token (CreateInput.UserID).
const MaxUserTTL = 24 * time.Hour

// VerifyCacheTTL is how long a verified token is remembered in the cache.
// A deleted token therefore keeps working for up to this long on callers
// that verified it just before; the window is kept short on purpose.
const VerifyCacheTTL = 5 * time.Second

// Deps are what the service needs.
type Deps struct {
	Store store.Store
	// Cache, when set, remembers verified tokens for VerifyCacheTTL.
	Cache cache.Cache
	Now   func() time.Time // nil: time.Now
	Log   *slog.Logger     // nil: slog.Default()
}

type service struct {
	tokens  store.APITokens
	users   store.Users
	tenants store.Tenants
	orgs    store.Organizations
	cache   cache.Cache
	now     func() time.Time
	audit   audit.Recorder
}

func newService(d Deps) *service {
	s := &service{tokens: d.Store.APITokens(), users: d.Store.Users(), tenants: d.Store.Tenants(),
		orgs: d.Store.Organizations(), cache: d.Cache, now: d.Now}
	if s.now == nil {
		s.now = time.Now
	}
	s.audit = audit.Recorder{Audit: d.Store.Audit(), Log: d.Log, Now: s.now}
	return s
}

// Function returns the admin function with the API token operations.
func Function(d Deps) *function.Function {
	s := newService(d)
	f := function.New(FunctionName)
	function.Op(f, OpVerify, s.verify)
	function.Op(f, OpCreate, s.create)
	function.Op(f, OpList, s.list)
	function.Op(f, OpDelete, s.delete)
	return f
}

// Hash returns the stored form of a token secret.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewSecret returns a fresh token secret.
func NewSecret() string {
	var b [32]byte
	rand.Read(b[:])
	return Prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// maxTokenLen bounds presented tokens before they are hashed.
const maxTokenLen = 256

func (in *VerifyInput) Validate() error {
	if in.Token == "" || len(in.Token) > maxTokenLen {
		return errs.New(errs.Unauthenticated, "invalid token")
	}
	return nil
}

func (s *service) verify(ctx context.Context, c function.Caller, in VerifyInput) (function.Caller, error) {
	if err := c.RequireService(); err != nil {
		return function.Caller{}, err
	}
	hash := Hash(in.Token)
	key := "apitok:" + hash
	if s.cache != nil {
		if b, err := s.cache.Get(ctx, key); err == nil {
			var who function.Caller
			if json.Unmarshal(b, &who) == nil {
				return who, nil
			}
		}
		// A cache miss or a cache fault falls through to the store: the
		// cache only ever saves work, it never decides.
	}
	t, err := s.tokens.GetByHash(ctx, hash)
	if err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return function.Caller{}, errs.New(errs.Unauthenticated, "invalid token")
		}
		return function.Caller{}, err
	}
	if personal(t) {
		// A personal token is worth no more than its user: it stops
		// working once the user is gone or no longer ACTIVE.
		u, err := s.users.Get(ctx, t.TenantID, t.Subject)
		if errs.CodeOf(err) == errs.NotFound || (err == nil && u.Status != store.UserActive) {
			return function.Caller{}, errs.New(errs.Unauthenticated, "invalid token")
		}
		if err != nil {
			return function.Caller{}, err
		}
	}
	who := function.Caller{Subject: t.Subject, Tenant: t.TenantID, Roles: t.Roles, Orgs: t.Orgs}
	if s.cache != nil {
		ttl := VerifyCacheTTL
		if !t.ExpiresAt.IsZero() {
			ttl = min(ttl, t.ExpiresAt.Sub(s.now()))
		}
		if b, err := json.Marshal(who); err == nil && ttl > 0 {
			_ = s.cache.Set(ctx, key, b, ttl)
		}
	}
	return who, nil
}

// Validate checks the shape of the input; who may create what is checked
// against the caller in create.
func (in *CreateInput) Validate() error {
	if in.TenantID != "" {
		if err := validate.ID("tenantId", in.TenantID); err != nil {
			return err
		}
	}
	if strings.TrimSpace(in.Name) == "" {
		return errs.Invalid("name", "is required")
	}
	if err := validate.Text("name", in.Name, 100); err != nil {
		return err
	}
	if len(in.Roles) == 0 {
		return errs.Invalid("roles", "at least one role is required")
	}
	for _, r := range in.Roles {
		switch r {
		case function.RoleSystemAdmin:
			if in.TenantID != "" {
				return errs.Invalid("roles", "system_admin is only for system tokens")
			}
		case function.RoleTenantAdmin, function.RoleUser, function.RoleOrgAdmin:
			if in.TenantID == "" {
				return errs.Invalid("roles", "%s needs a tenantId", r)
			}
		default:
			return errs.Invalid("roles", "unknown or ungrantable role %q", r)
		}
	}
	if err := validOrgs(in.Roles, in.Orgs); err != nil {
		return err
	}
	if in.TTLSeconds < 0 || time.Duration(in.TTLSeconds)*time.Second > MaxTTL {
		return errs.Invalid("ttlSeconds", "must be between 0 (no expiry) and %d", int64(MaxTTL/time.Second))
	}
	if in.UserID != "" {
		if err := validate.ID("userId", in.UserID); err != nil {
			return err
		}
		if in.TenantID == "" {
			return errs.Invalid("tenantId", "a personal token needs the user's tenant")
		}
		if len(in.Roles) != 1 || in.Roles[0] != function.RoleUser {
			return errs.Invalid("roles", "a personal token has exactly the user role")
		}
		if in.TTLSeconds == 0 || time.Duration(in.TTLSeconds)*time.Second > MaxUserTTL {
			return errs.Invalid("ttlSeconds", "a personal token lives 1 to %d seconds",
				int64(MaxUserTTL/time.Second))
		}
	}
	return nil
}

// personal reports whether a token acts as a user: its subject is then
// the user's ID, where other tokens' subjects are "apitoken:<id>".
func personal(t store.APIToken) bool { return validate.ID("subject", t.Subject) == nil }

func (s *service) create(ctx context.Context, c function.Caller, in CreateInput) (CreateOutput, error) {
	if in.TenantID == "" {
		if err := c.RequireSystemAdmin(); err != nil {
			return CreateOutput{}, err
		}
	} else {
		if err := c.RequireTenantAdmin(in.TenantID); err != nil {
			return CreateOutput{}, err
		}
		if _, err := s.tenants.Get(ctx, in.TenantID); err != nil {
			return CreateOutput{}, err
		}
		if in.UserID != "" {
			u, err := s.users.Get(ctx, in.TenantID, in.UserID)
			if errs.CodeOf(err) == errs.NotFound {
				return CreateOutput{}, errs.Invalid("userId", "names no user of the tenant")
			}
			if err != nil {
				return CreateOutput{}, err
			}
			if u.Status != store.UserActive {
				return CreateOutput{}, errs.Invalid("userId", "the user is not ACTIVE")
			}
		}
		for _, id := range in.Orgs {
			_, err := s.orgs.Get(ctx, in.TenantID, id)
			if errs.CodeOf(err) == errs.NotFound {
				return CreateOutput{}, errs.Invalid("orgs", "names no organization of the tenant")
			}
			if err != nil {
				return CreateOutput{}, err
			}
		}
	}
	var ttl time.Duration
	if in.TTLSeconds > 0 {
		ttl = time.Duration(in.TTLSeconds) * time.Second
	}
	out, err := s.save(ctx, NewSecret(), validate.NewID(), in.TenantID, in.UserID, in.Name,
		in.Roles, in.Orgs, ttl)
	if err != nil {
		return CreateOutput{}, err
	}
	// TokenFields leaves out the hash; the secret is not in the record.
	s.audit.Record(ctx, c, "apitoken.create", tokenTarget(in.TenantID, out.APIToken.ID),
		audit.Changes(nil, audit.TokenFields(out.APIToken)))
	return out, nil
}

func tokenTarget(tenantID, id string) audit.Target {
	return audit.Target{TenantID: tenantID, Type: audit.TypeAPIToken, ID: id}
}

// maxOrgs bounds the organizations one token administers.
const maxOrgs = 32

// validOrgs checks that orgs come with the org_admin role and it with
// them: one without the other would grant nothing, or something unclear.
func validOrgs(roles, orgs []string) error {
	isOrgAdmin := slices.Contains(roles, function.RoleOrgAdmin)
	switch {
	case isOrgAdmin && len(orgs) == 0:
		return errs.Invalid("orgs", "org_admin needs at least one organization")
	case !isOrgAdmin && len(orgs) > 0:
		return errs.Invalid("orgs", "only an org_admin token administers organizations")
	case len(orgs) > maxOrgs:
		return errs.Invalid("orgs", "at most %d organizations", maxOrgs)
	}
	for i, id := range orgs {
		if err := validate.ID("orgs", id); err != nil {
			return err
		}
		if slices.Contains(orgs[:i], id) {
			return errs.Invalid("orgs", "lists an organization twice")
		}
	}
	return nil
}

// save stores a new token; userID, when set, is its subject (a personal
// token), else the subject is "apitoken:<id>".
func (s *service) save(ctx context.Context, secret, id, tenantID, userID, name string, roles,
	orgs []string, ttl time.Duration) (CreateOutput, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	subject := "apitoken:" + id
	if userID != "" {
		subject = userID
	}
	t := store.APIToken{
		ID:        id,
		Hash:      Hash(secret),
		Name:      name,
		Subject:   subject,
		TenantID:  tenantID,
		Roles:     roles,
		Orgs:      orgs,
		CreatedAt: now,
	}
	if ttl > 0 {
		t.ExpiresAt = now.Add(ttl)
	}
	created, err := s.tokens.Create(ctx, t)
	if err != nil {
		return CreateOutput{}, err
	}
	created.Hash = ""
	return CreateOutput{Token: secret, APIToken: created}, nil
}

func (in *ListInput) Validate() error {
	if in.TenantID == "" {
		return nil
	}
	return validate.ID("tenantId", in.TenantID)
}

func (s *service) authorizeScope(c function.Caller, tenantID string) error {
	if tenantID == "" {
		return c.RequireSystemAdmin()
	}
	return c.RequireTenantAdmin(tenantID)
}

func (s *service) list(ctx context.Context, c function.Caller, in ListInput) (ListOutput, error) {
	if err := s.authorizeScope(c, in.TenantID); err != nil {
		return ListOutput{}, err
	}
	items, next, err := s.tokens.List(ctx, in.TenantID, store.Page{After: in.After, Limit: in.First})
	if err != nil {
		return ListOutput{}, err
	}
	if items == nil {
		items = []store.APIToken{}
	}
	for i := range items {
		items[i].Hash = ""
	}
	return ListOutput{Items: items, Next: next}, nil
}

func (in *DeleteInput) Validate() error {
	if in.TenantID != "" {
		if err := validate.ID("tenantId", in.TenantID); err != nil {
			return err
		}
	}
	return validate.ID("id", in.ID)
}

func (s *service) delete(ctx context.Context, c function.Caller, in DeleteInput) (DeleteOutput, error) {
	if err := s.authorizeScope(c, in.TenantID); err != nil {
		return DeleteOutput{}, err
	}
	if err := s.tokens.Delete(ctx, in.TenantID, in.ID); err != nil {
		return DeleteOutput{}, err
	}
	s.audit.Record(ctx, c, "apitoken.delete", tokenTarget(in.TenantID, in.ID), nil)
	return DeleteOutput{ID: in.ID}, nil
}
