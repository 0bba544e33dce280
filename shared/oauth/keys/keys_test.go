package keys_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/wardhq/ward/shared/clocktest"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/oauth/keys"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/validate"
)

var (
	master = bytes.Repeat([]byte{0x42}, 32)
	quiet  = slog.New(slog.DiscardHandler)
)

type env struct {
	st     store.Store
	clk    *clocktest.Clock
	m      *keys.Manager
	tenant string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "ward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{st: st, clk: clocktest.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))}
	e.m = e.manager(t, master)
	e.tenant = validate.NewID()
	return e
}

func (e *env) manager(t testing.TB, key []byte) *keys.Manager {
	t.Helper()
	m, err := keys.New(e.st.SigningKeys(), key, keys.Options{Overlap: time.Hour,
		Now: e.clk.Now, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// verify checks token against the tenant's key set as served now, the
// way a relying party would: by kid, with the key's own algorithm.
func (e *env) verify(t *testing.T, token string) error {
	t.Helper()
	raw, err := e.m.JWKS(context.Background(), e.tenant)
	if err != nil {
		t.Fatal(err)
	}
	set, err := jwk.Parse(raw)
	if err != nil {
		t.Fatalf("the key set does not parse: %v\n%s", err, raw)
	}
	_, err = jws.Verify([]byte(token), jws.WithKeySet(set, jws.WithRequireKid(true)))
	return err
}

func header(t *testing.T, token string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestTheFirstSignatureMakesOneES256Key(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if ks, err := e.m.JWKS(ctx, e.tenant); err != nil || string(ks) != `{"keys":[]}` {
		t.Fatalf("key set before any key = %s, %v; want an empty set", ks, err)
	}

	var wg sync.WaitGroup
	tokens := make([]string, 8)
	for i := range tokens {
		wg.Go(func() {
			var err error
			tokens[i], err = e.m.Sign(ctx, e.tenant, []byte(`{"sub":"u1"}`), "JWT")
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	set, err := e.st.SigningKeys().Get(ctx, e.tenant)
	if err != nil || len(set.Keys) != 1 {
		t.Fatalf("set after concurrent first signatures = %+v, %v; want one key", set, err)
	}
	k := set.Keys[0]
	for _, tok := range tokens {
		h := header(t, tok)
		if h["alg"] != "ES256" || h["kid"] != k.ID || h["typ"] != "JWT" {
			t.Errorf("header = %v, want ES256, kid %s, typ JWT", h, k.ID)
		}
		if err := e.verify(t, tok); err != nil {
			t.Errorf("token does not verify: %v", err)
		}
	}
	var pub map[string]any
	if err := json.Unmarshal([]byte(k.PublicJWK), &pub); err != nil {
		t.Fatal(err)
	}
	if pub["kty"] != "EC" || pub["crv"] != "P-256" || pub["use"] != "sig" || pub["kid"] != k.ID ||
		pub["d"] != nil {
		t.Errorf("published key = %v, want a public P-256 signature key named %s", pub, k.ID)
	}
}

func TestARotatedOutKeyVerifiesDuringTheOverlapOnly(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	old, err := e.m.Sign(ctx, e.tenant, []byte(`{"sub":"u1"}`), "JWT")
	if err != nil {
		t.Fatal(err)
	}
	oldKid := header(t, old)["kid"]

	set, err := e.m.Rotate(ctx, e.tenant, "RS256")
	if err != nil {
		t.Fatal(err)
	}
	active, _ := set.Active()
	if active.Algorithm != "RS256" || active.ID == oldKid {
		t.Fatalf("active after rotation = %s %s, want a new RS256 key", active.ID, active.Algorithm)
	}
	fresh, err := e.m.Sign(ctx, e.tenant, []byte(`{"sub":"u1"}`), "JWT")
	if err != nil {
		t.Fatal(err)
	}
	if h := header(t, fresh); h["kid"] != active.ID || h["alg"] != "RS256" {
		t.Errorf("a signature after rotation has header %v, want the new key", h)
	}

	e.clk.Add(time.Hour - time.Second)
	if err := e.verify(t, old); err != nil {
		t.Errorf("old token within the overlap: %v", err)
	}
	if err := e.verify(t, fresh); err != nil {
		t.Errorf("new token within the overlap: %v", err)
	}

	e.clk.Add(time.Second)
	if err := e.verify(t, old); err == nil {
		t.Error("old token verifies after the overlap")
	}
	if err := e.verify(t, fresh); err != nil {
		t.Errorf("new token after the overlap: %v", err)
	}
	published, _ := e.m.Published(ctx, e.tenant)
	if len(published) != 1 || published[0].ID != active.ID {
		t.Errorf("published after the overlap = %v, want the active key only", published)
	}

	// The next rotation forgets the retired key, private half and all.
	set, err = e.m.Rotate(ctx, e.tenant, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k.ID == oldKid {
			t.Errorf("the retired key %s is still stored", k.ID)
		}
	}
	if len(set.Keys) != 2 {
		t.Errorf("after a second rotation: %d keys, want 2 (active, retiring)", len(set.Keys))
	}
}

func TestRotationsWithinTheOverlapAreBounded(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.m.Rotate(ctx, e.tenant, ""); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < store.MaxSigningKeys; i++ {
		if _, err := e.m.Rotate(ctx, e.tenant, ""); err != nil {
			t.Fatalf("rotation %d: %v", i, err)
		}
	}
	before, _ := e.st.SigningKeys().Get(ctx, e.tenant)
	_, err := e.m.Rotate(ctx, e.tenant, "")
	if errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("rotation past the bound = %v, want CONFLICT", err)
	}
	after, _ := e.st.SigningKeys().Get(ctx, e.tenant)
	if after.Version != before.Version {
		t.Error("a refused rotation wrote")
	}
	e.clk.Add(time.Hour)
	if _, err := e.m.Rotate(ctx, e.tenant, ""); err != nil {
		t.Errorf("rotation once the overlaps ended: %v", err)
	}
	if _, err := e.m.Rotate(ctx, e.tenant, "HS256"); errs.CodeOf(err) != errs.InvalidArgument {
		t.Errorf("rotation to HS256 = %v, want INVALID_ARGUMENT", err)
	}
}

func TestPrivateKeysAreSealedInTheStore(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.m.Rotate(ctx, e.tenant, "ES256"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Rotate(ctx, e.tenant, "RS256"); err != nil {
		t.Fatal(err)
	}
	set, err := e.st.SigningKeys().Get(ctx, e.tenant)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		// PKCS #8 DER starts with a SEQUENCE (0x30); sealed bytes start
		// with the seal's version, then a random nonce.
		if len(k.PrivateKey) == 0 || k.PrivateKey[0] != 1 {
			t.Errorf("key %s: stored private key starts %x, want sealed bytes", k.ID,
				k.PrivateKey[:min(4, len(k.PrivateKey))])
		}
		if bytes.Contains(k.PrivateKey, []byte{0x30, 0x82}) && k.Algorithm == "RS256" ||
			bytes.Contains(k.PrivateKey, []byte("PRIVATE")) {
			t.Errorf("key %s: the stored bytes look like a clear private key", k.ID)
		}
		if _, err := jwk.ParseKey(k.PrivateKey); err == nil {
			t.Errorf("key %s: the stored private key parses as a key", k.ID)
		}
	}
	record, _ := json.Marshal(set)
	for _, field := range []string{`"d":`, `"p":`, `"q":`, `"dp":`} {
		if bytes.Contains(record, []byte(field)) {
			t.Errorf("the stored set holds a private JWK member %s", field)
		}
	}
}

func TestAnotherMasterKeyFailsClearly(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.m.Sign(ctx, e.tenant, []byte(`{}`), ""); err != nil {
		t.Fatal(err)
	}
	other := e.manager(t, bytes.Repeat([]byte{0x43}, 32))
	_, err := other.Sign(ctx, e.tenant, []byte(`{}`), "")
	if !errors.Is(err, keys.ErrKeyDoesNotOpen) || errs.CodeOf(err) != errs.Internal {
		t.Fatalf("signing with another master key = %v, want INTERNAL caused by "+
			"ErrKeyDoesNotOpen", err)
	}
	if !strings.Contains(err.Error(), "WARD_OAUTH_KEY") {
		t.Errorf("error %q does not name the setting to check", err)
	}

	// A sealed key moved to another tenant's record does not open there.
	set, _ := e.st.SigningKeys().Get(ctx, e.tenant)
	moved := set
	moved.TenantID = validate.NewID()
	if _, err := e.st.SigningKeys().Create(ctx, moved); err != nil {
		t.Fatal(err)
	}
	_, err = e.m.Sign(ctx, moved.TenantID, []byte(`{}`), "")
	if !errors.Is(err, keys.ErrKeyDoesNotOpen) {
		t.Errorf("signing with a key moved to another tenant = %v, want ErrKeyDoesNotOpen", err)
	}
}

func TestWithoutAMasterKeyNothingIsSignedButKeysArePublished(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.m.Sign(ctx, e.tenant, []byte(`{}`), ""); err != nil {
		t.Fatal(err)
	}
	none := e.manager(t, nil)
	if _, err := none.Sign(ctx, e.tenant, []byte(`{}`), ""); errs.CodeOf(err) != errs.Unavailable {
		t.Errorf("sign without a master key = %v, want UNAVAILABLE", err)
	}
	if _, err := none.Rotate(ctx, e.tenant, ""); errs.CodeOf(err) != errs.Unavailable {
		t.Errorf("rotate without a master key = %v, want UNAVAILABLE", err)
	}
	if ks, err := none.JWKS(ctx, e.tenant); err != nil || !bytes.Contains(ks, []byte(`"kid"`)) {
		t.Errorf("key set without a master key = %s, %v; want the published key", ks, err)
	}
	if _, err := keys.New(e.st.SigningKeys(), []byte("short"), keys.Options{}); err == nil {
		t.Error("a 5-byte master key was accepted")
	}
	if _, err := keys.New(e.st.SigningKeys(), master, keys.Options{Overlap: time.Second}); err == nil {
		t.Error("a one-second overlap was accepted")
	}
}

func BenchmarkSign(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	payload := []byte(`{"iss":"https://ward.example.com/t/acme","sub":"0190a6e2-5b7c-7d3e-8f4a-1b2c3d4e5f60","aud":"client-1","exp":1893456000,"iat":1893452400}`)
	if _, err := e.m.Sign(ctx, e.tenant, payload, "JWT"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.m.Sign(ctx, e.tenant, payload, "JWT"); err != nil {
			b.Fatal(err)
		}
	}
}
