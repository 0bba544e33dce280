package keys_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/oauth/keys"
	"github.com/wardhq/ward/shared/validate"
)

func TestVerifyAcceptsPublishedKeysOnly(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	m := e.manager(t, master)
	ta, tb := validate.NewID(), validate.NewID()
	payload := []byte(`{"sub":"s-1"}`)
	old, err := m.Sign(ctx, ta, payload, "at+jwt")
	if err != nil {
		t.Fatal(err)
	}

	v, err := m.Verify(ctx, ta, []byte(old))
	if err != nil || string(v.Payload) != string(payload) || v.Type != "at+jwt" || v.KID == "" {
		t.Fatalf("Verify = %+v, %v", v, err)
	}
	refused := func(name, tenant, tok string) {
		t.Helper()
		_, err := m.Verify(ctx, tenant, []byte(tok))
		if !errors.Is(err, keys.ErrNotVerified) || errs.CodeOf(err) != errs.Unauthenticated {
			t.Errorf("%s: err = %v, want ErrNotVerified", name, err)
		}
	}
	refused("another tenant's token", tb, old)
	refused("an empty token", ta, "")
	refused("a token with its signature cut", ta, old[:len(old)-4])

	if _, err := m.Rotate(ctx, ta, "RS256"); err != nil {
		t.Fatal(err)
	}
	fresh, err := m.Sign(ctx, ta, payload, "at+jwt")
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"the retiring key's": old, "the new key's": fresh} {
		if _, err := m.Verify(ctx, ta, []byte(tok)); err != nil {
			t.Errorf("%s token during the overlap: %v", name, err)
		}
	}

	e.clk.Add(time.Hour + time.Minute)
	refused("the retired key's token after the overlap", ta, old)
	if _, err := m.Verify(ctx, ta, []byte(fresh)); err != nil {
		t.Errorf("the active key's token after the overlap: %v", err)
	}
}
