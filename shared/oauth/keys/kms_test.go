package keys_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/oauth/keys"
	"github.com/wardhq/ward/shared/oauth/keys/keystest"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// kmsManager is a Manager of e's store with KMS (dk) and, when master is
// not nil, the master key too.
func (e *env) kmsManager(t testing.TB, master []byte, dk keys.DataKeys) *keys.Manager {
	t.Helper()
	m, err := keys.New(e.st.SigningKeys(), master, keys.Options{Overlap: time.Hour,
		Now: e.clk.Now, Log: quiet, DataKeys: dk})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestWithKMSKeysAreSealedUnderTheTenantsWrappedDataKey(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dk := keystest.New()
	e.m = e.kmsManager(t, nil, dk)

	tok, err := e.m.Sign(ctx, e.tenant, []byte(`{"sub":"a"}`), "JWT")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Rotate(ctx, e.tenant, "RS256"); err != nil {
		t.Fatal(err)
	}
	set, err := e.st.SigningKeys().Get(ctx, e.tenant)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.DataKey) == 0 {
		t.Fatal("the stored set holds no wrapped data key")
	}
	for _, k := range set.Keys {
		if k.Sealing != store.SealedKMS {
			t.Errorf("key %s: sealing = %q, want %q", k.ID, k.Sealing, store.SealedKMS)
		}
	}
	if gen, _ := dk.Calls(); gen != 1 {
		t.Errorf("data keys generated = %d, want 1 for the tenant's two keys", gen)
	}
	record, _ := json.Marshal(set)
	if bytes.Contains(record, []byte(`"d":`)) || bytes.Contains(record, []byte("PRIVATE")) {
		t.Error("the stored set holds a clear private key")
	}

	// Another process (a new manager) unwraps the data key once and signs.
	other := e.kmsManager(t, nil, dk)
	_, before := dk.Calls()
	for range 3 {
		if tok, err = other.Sign(ctx, e.tenant, []byte(`{"sub":"b"}`), "JWT"); err != nil {
			t.Fatalf("a new process signs: %v", err)
		}
	}
	if _, after := dk.Calls(); after-before != 1 {
		t.Errorf("KMS Decrypt calls for three signatures = %d, want 1", after-before)
	}
	if err := e.verify(t, tok); err != nil {
		t.Errorf("the new process's token does not verify: %v", err)
	}

	// Without KMS configured such keys are unavailable, and say why.
	_, err = e.manager(t, master).Sign(ctx, e.tenant, []byte(`{}`), "")
	if errs.CodeOf(err) != errs.Unavailable || !bytes.Contains([]byte(err.Error()),
		[]byte("WARD_OAUTH_KMS_KEY_ID")) {
		t.Errorf("signing a KMS-sealed key without KMS = %v, want UNAVAILABLE naming "+
			"WARD_OAUTH_KMS_KEY_ID", err)
	}
}

func TestAnotherTenantsKMSSealedRecordDoesNotOpen(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dk := keystest.New()
	e.m = e.kmsManager(t, nil, dk)
	if _, err := e.m.Sign(ctx, e.tenant, []byte(`{}`), ""); err != nil {
		t.Fatal(err)
	}
	set, _ := e.st.SigningKeys().Get(ctx, e.tenant)
	moved := set
	moved.TenantID = validate.NewID()
	if _, err := e.st.SigningKeys().Create(ctx, moved); err != nil {
		t.Fatal(err)
	}
	_, err := e.kmsManager(t, nil, dk).Sign(ctx, moved.TenantID, []byte(`{}`), "")
	if !errors.Is(err, keys.ErrKeyDoesNotOpen) || errs.CodeOf(err) != errs.Internal {
		t.Errorf("signing with another tenant's record = %v, want INTERNAL caused by "+
			"ErrKeyDoesNotOpen", err)
	}

	// Another KMS (another key) does not unwrap the tenant's data key.
	_, err = e.kmsManager(t, nil, keystest.New()).Sign(ctx, e.tenant, []byte(`{}`), "")
	if !errors.Is(err, keys.ErrKeyDoesNotOpen) {
		t.Errorf("signing with another KMS = %v, want ErrKeyDoesNotOpen", err)
	}
}

func TestKeysSealedUnderTheMasterKeyKeepWorkingOnceKMSIsConfigured(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.m.Sign(ctx, e.tenant, []byte(`{}`), ""); err != nil {
		t.Fatal(err)
	}
	old, _ := e.st.SigningKeys().Get(ctx, e.tenant)
	if old.Keys[0].Sealing != store.SealedLocal || old.DataKey != nil {
		t.Fatalf("before KMS: sealing %q, data key %x; want local and none",
			old.Keys[0].Sealing, old.DataKey)
	}

	dk := keystest.New()
	both := e.kmsManager(t, master, dk)
	if _, err := both.Sign(ctx, e.tenant, []byte(`{}`), ""); err != nil {
		t.Fatalf("with both configured, the locally sealed active key signs: %v", err)
	}
	if gen, dec := dk.Calls(); gen+dec != 0 {
		t.Errorf("KMS calls for a locally sealed key = %d, want none", gen+dec)
	}
	set, err := both.Rotate(ctx, e.tenant, "")
	if err != nil {
		t.Fatal(err)
	}
	active, _ := set.Active()
	if active.Sealing != store.SealedKMS || len(set.DataKey) == 0 ||
		set.Keys[0].Sealing != store.SealedLocal {
		t.Errorf("after the rotation: active sealed %q, old %q, data key %d bytes; want kms, "+
			"local and a data key", active.Sealing, set.Keys[0].Sealing, len(set.DataKey))
	}

	// KMS alone signs with the new key; the master key alone does not.
	e.clk.Add(11 * time.Second)
	tok, err := e.kmsManager(t, nil, dk).Sign(ctx, e.tenant, []byte(`{}`), "")
	if err != nil {
		t.Fatalf("KMS alone, after the rotation: %v", err)
	}
	if header(t, tok)["kid"] != active.ID {
		t.Errorf("signed by %v, want the new key %s", header(t, tok)["kid"], active.ID)
	}
	if err := e.verify(t, tok); err != nil {
		t.Error(err)
	}
	if _, err := e.manager(t, master).Sign(ctx, e.tenant, []byte(`{}`), ""); errs.CodeOf(err) !=
		errs.Unavailable {
		t.Errorf("the master key alone, after the rotation = %v, want UNAVAILABLE", err)
	}
}

func TestARotationRacingForTheFirstDataKeySealsUnderTheStoredOne(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.m.Sign(ctx, e.tenant, []byte(`{}`), ""); err != nil {
		t.Fatal(err)
	}
	dk := keystest.New()
	a, b := e.kmsManager(t, master, dk), e.kmsManager(t, master, dk)
	// While a asks KMS for the tenant's first data key, b rotates and
	// stores a data key of its own.
	var bSet store.SigningKeySet
	dk.BeforeNextGenerate(func() {
		var err error
		if bSet, err = b.Rotate(ctx, e.tenant, ""); err != nil {
			t.Errorf("b's rotation: %v", err)
		}
	})
	set, err := a.Rotate(ctx, e.tenant, "")
	if err != nil {
		t.Fatalf("a's rotation: %v", err)
	}
	if len(set.Keys) != 3 {
		t.Fatalf("keys = %d, want 3 (the first and one of each rotation)", len(set.Keys))
	}
	e.clk.Add(11 * time.Second)
	if _, err := e.kmsManager(t, nil, dk).Sign(ctx, e.tenant, []byte(`{}`), ""); err != nil {
		t.Errorf("a's key, sealed under the stored data key, signs: %v", err)
	}
	// b's key (now retiring) still has its data key beside it.
	if len(bSet.DataKey) == 0 || !bytes.Equal(bSet.DataKey, set.DataKey) {
		t.Error("a's rotation replaced the data key b's key is sealed under")
	}
}

func TestAnUnreachableKMSMakesNoKey(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dk := keystest.New()
	dk.SetDown(true)
	e.m = e.kmsManager(t, master, dk)
	_, err := e.m.Sign(ctx, e.tenant, []byte(`{}`), "")
	if errs.CodeOf(err) != errs.Unavailable {
		t.Errorf("signing with KMS down = %v, want UNAVAILABLE", err)
	}
	if _, err := e.st.SigningKeys().Get(ctx, e.tenant); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("a key set was stored while KMS was down: %v", err)
	}
}
