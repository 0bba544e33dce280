// Package kmskeys makes and unwraps the tenants' data keys with AWS KMS
// (keys.DataKeys): GenerateDataKey (AES_256) under one symmetric KMS key,
// and Decrypt, both with an encryption context that names the tenant and
// the purpose. KMS authenticates the context with the ciphertext, so a
// wrapped data key copied into another tenant's record does not unwrap
// there, and CloudTrail records which tenant each call was for.
//
// The data key in the clear leaves this package only to become the AEAD
// of package keys, which keeps it in process memory.
package kmskeys

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/wardhq/ward/shared/oauth/keys"
)

// Purpose is the encryption context's "purpose" of every data key made
// here; KMS key policies can condition on it (kms:EncryptionContext:purpose).
const Purpose = "ward-oauth-signing-keys"

// API is the part of the KMS client used; *kms.Client has it.
type API interface {
	GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput,
		opts ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput,
		opts ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// DataKeys wraps data keys under KeyID.
type DataKeys struct {
	api   API
	keyID string
}

var _ keys.DataKeys = (*DataKeys)(nil)

// New returns the data keys of the KMS key keyID (a key ID, key ARN, alias
// name or alias ARN of a symmetric encryption key).
func New(api API, keyID string) (*DataKeys, error) {
	if keyID == "" {
		return nil, errors.New("kmskeys: no KMS key ID")
	}
	return &DataKeys{api: api, keyID: keyID}, nil
}

// EncryptionContext is the context a tenant's data key is bound to.
func EncryptionContext(tenantID string) map[string]string {
	return map[string]string{"tenant": tenantID, "purpose": Purpose}
}

// Generate asks KMS for a new AES-256 data key for the tenant.
func (d *DataKeys) Generate(ctx context.Context, tenantID string) ([]byte, []byte, error) {
	out, err := d.api.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId:             aws.String(d.keyID),
		KeySpec:           types.DataKeySpecAes256,
		EncryptionContext: EncryptionContext(tenantID),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("kms GenerateDataKey: %w", err)
	}
	if len(out.Plaintext) != 32 || len(out.CiphertextBlob) == 0 {
		return nil, nil, errors.New("kms GenerateDataKey: not a 32-byte key and its ciphertext")
	}
	return out.Plaintext, out.CiphertextBlob, nil
}

// Decrypt asks KMS to unwrap the tenant's data key. The KMS key is named
// too, so that a ciphertext of another KMS key is refused rather than
// decrypted with whatever key it names.
func (d *DataKeys) Decrypt(ctx context.Context, tenantID string, wrapped []byte) ([]byte,
	error) {
	out, err := d.api.Decrypt(ctx, &kms.DecryptInput{
		CiphertextBlob:    wrapped,
		KeyId:             aws.String(d.keyID),
		EncryptionContext: EncryptionContext(tenantID),
	})
	var invalid *types.InvalidCiphertextException
	var incorrect *types.IncorrectKeyException
	if errors.As(err, &invalid) || errors.As(err, &incorrect) {
		return nil, fmt.Errorf("kms Decrypt: %w (%w)", keys.ErrKeyDoesNotOpen, err)
	}
	if err != nil {
		return nil, fmt.Errorf("kms Decrypt: %w", err)
	}
	return out.Plaintext, nil
}
