package bolt

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/store"
)

// A rotation acknowledged before the process stops is there after it
// starts again: the spent token stays spent, the next one works.
func TestRefreshTokensSurviveReopening(t *testing.T) {
	s, path := openTemp(t)
	ctx := t.Context()
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])
	}
	now := time.Now()
	f := store.RefreshFamily{ID: newID(), TenantID: newID(), ClientID: newID(), UserID: newID(),
		Scope: "openid", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	first := store.RefreshToken{Hash: hash("1"), TenantID: f.TenantID, FamilyID: f.ID,
		Generation: 1, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.RefreshTokens().CreateFamily(ctx, f, first); err != nil {
		t.Fatal(err)
	}
	next := first
	next.Hash, next.Generation = hash("2"), 2
	if err := s.RefreshTokens().Rotate(ctx, f.TenantID, first.Hash, next); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	spent, _, err := s2.RefreshTokens().GetByHash(ctx, first.Hash)
	if err != nil || !spent.Used {
		t.Errorf("the spent token after reopening: used %v, %v", spent.Used, err)
	}
	got, fam, err := s2.RefreshTokens().GetByHash(ctx, next.Hash)
	if err != nil || got.Used || got.Generation != 2 || fam.ID != f.ID {
		t.Errorf("the next token after reopening: %+v of %s, %v", got, fam.ID, err)
	}
}
