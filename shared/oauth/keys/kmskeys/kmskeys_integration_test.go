//go:build integration

package kmskeys_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/oauth/keys"
	"github.com/wardhq/ward/shared/oauth/keys/kmskeys"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/validate"
)

// client is a KMS client of the server at WARD_TEST_KMS_ENDPOINT, a
// KMS-compatible server (Local KMS in CI, .ci/kms.sh).
func client(t testing.TB) *kms.Client {
	t.Helper()
	ep := os.Getenv("WARD_TEST_KMS_ENDPOINT")
	if ep == "" {
		t.Fatal("WARD_TEST_KMS_ENDPOINT is not set: run `make test`, or start a server with " +
			"`.ci/kms.sh install && .ci/kms.sh start` and set " +
			"WARD_TEST_KMS_ENDPOINT=http://127.0.0.1:14599")
	}
	return kms.New(kms.Options{Region: "eu-central-1", BaseEndpoint: aws.String(ep),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDWARDTEST", "secret", ""),
		RetryMaxAttempts: 1})
}

// newKMSKey creates a symmetric encryption key and returns its ARN.
func newKMSKey(t *testing.T, c *kms.Client) string {
	t.Helper()
	out, err := c.CreateKey(context.Background(), &kms.CreateKeyInput{
		Description: aws.String("ward kmskeys integration test")})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return aws.ToString(out.KeyMetadata.Arn)
}

func openStore(t *testing.T, path string) *bolt.Store {
	t.Helper()
	st, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func manager(t *testing.T, st store.Store, keyID string) *keys.Manager {
	t.Helper()
	dk, err := kmskeys.New(client(t), keyID)
	if err != nil {
		t.Fatal(err)
	}
	m, err := keys.New(st.SigningKeys(), nil, keys.Options{Overlap: time.Hour, DataKeys: dk})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSigningKeysSealedWithKMSReopenInANewProcessForTheirTenantOnly(t *testing.T) {
	ctx := context.Background()
	keyID := newKMSKey(t, client(t))
	path := filepath.Join(t.TempDir(), "ward.db")
	tenant, other := validate.NewID(), validate.NewID()

	st := openStore(t, path)
	m := manager(t, st, keyID)
	if _, err := m.Rotate(ctx, tenant, store.SigningAlgorithmES); err != nil {
		t.Fatalf("first rotation: %v", err)
	}
	if _, err := m.Rotate(ctx, tenant, store.SigningAlgorithmRSA); err != nil {
		t.Fatalf("second rotation: %v", err)
	}

	// The record holds the data key only wrapped, and sealed keys only.
	set, err := st.SigningKeys().Get(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.DataKey) == 0 {
		t.Fatal("the stored set has no wrapped data key")
	}
	plain, err := kmskeys.New(client(t), keyID)
	if err != nil {
		t.Fatal(err)
	}
	dataKey, err := plain.Decrypt(ctx, tenant, set.DataKey)
	if err != nil || len(dataKey) != 32 {
		t.Fatalf("the stored data key does not unwrap with KMS for its tenant: %d bytes, %v",
			len(dataKey), err)
	}
	record, _ := json.Marshal(set)
	encoded, _ := json.Marshal(dataKey)
	if bytes.Contains(record, dataKey) || bytes.Contains(record, encoded[1:len(encoded)-1]) {
		t.Error("the stored record holds the data key in the clear")
	}
	for _, k := range set.Keys {
		if k.Sealing != store.SealedKMS {
			t.Errorf("key %s: sealing %q, want kms", k.ID, k.Sealing)
		}
		if _, err := x509.ParsePKCS8PrivateKey(k.PrivateKey); err == nil {
			t.Errorf("key %s: the stored private key parses in the clear", k.ID)
		}
		if bytes.Contains(k.PrivateKey, []byte("PRIVATE")) {
			t.Errorf("key %s: the stored private key looks like PEM", k.ID)
		}
	}
	// Another tenant's copy of the record, for below.
	moved := set
	moved.TenantID = other
	if _, err := st.SigningKeys().Create(ctx, moved); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// A new process: a new store handle, KMS client and manager.
	st = openStore(t, path)
	t.Cleanup(func() { st.Close() })
	fresh := manager(t, st, keyID)
	tok, err := fresh.Sign(ctx, tenant, []byte(`{"sub":"kms"}`), "JWT")
	if err != nil {
		t.Fatalf("a new process signs: %v", err)
	}
	raw, err := fresh.JWKS(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := jwk.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jws.Verify([]byte(tok), jws.WithKeySet(jwks, jws.WithRequireKid(true))); err != nil {
		t.Errorf("the new process's signature does not verify against the key set: %v", err)
	}

	// The copied record carries the tenant's wrapped data key, whose
	// encryption context names the tenant: KMS refuses it for the other.
	_, err = fresh.Sign(ctx, other, []byte(`{}`), "")
	if !errors.Is(err, keys.ErrKeyDoesNotOpen) || errs.CodeOf(err) != errs.Internal {
		t.Errorf("signing with another tenant's record = %v, want INTERNAL caused by "+
			"ErrKeyDoesNotOpen", err)
	}
	if _, err := plain.Decrypt(ctx, other, set.DataKey); !errors.Is(err, keys.ErrKeyDoesNotOpen) {
		t.Errorf("KMS Decrypt with another tenant's context = %v, want ErrKeyDoesNotOpen", err)
	}

	// Another KMS key does not unwrap it either.
	otherKey, err := kmskeys.New(client(t), newKMSKey(t, client(t)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := otherKey.Decrypt(ctx, tenant, set.DataKey); err == nil {
		t.Error("a data key unwrapped under another KMS key")
	}
}
