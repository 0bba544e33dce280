//go:build integration

package platform

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/wardhq/ward/shared/config"
	"github.com/wardhq/ward/shared/validate"
)

// TestTheOAuthFunctionReachesKMSThroughTheAWSSettings opens a binary that
// hosts oauth with WARD_OAUTH_KMS_KEY_ID and the AWS settings of package
// awsx (region, credentials from the environment, AWS_ENDPOINT_URL_KMS)
// pointing at the KMS-compatible server of WARD_TEST_KMS_ENDPOINT.
func TestTheOAuthFunctionReachesKMSThroughTheAWSSettings(t *testing.T) {
	ep := os.Getenv("WARD_TEST_KMS_ENDPOINT")
	if ep == "" {
		t.Fatal("WARD_TEST_KMS_ENDPOINT is not set: run `make test`, or start a server with " +
			"`.ci/kms.sh install && .ci/kms.sh start` and set " +
			"WARD_TEST_KMS_ENDPOINT=http://127.0.0.1:14599")
	}
	for k, v := range map[string]string{"AWS_REGION": "eu-central-1",
		"AWS_ACCESS_KEY_ID": "AKIDWARDTEST", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_SESSION_TOKEN": "", "AWS_ENDPOINT_URL_KMS": ep} {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	admin := kms.New(kms.Options{Region: "eu-central-1", BaseEndpoint: aws.String(ep),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDWARDTEST", "secret", "")})
	key, err := admin.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}

	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.OAuthKMSKeyID = aws.ToString(key.KeyMetadata.KeyId)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, err := OpenWith(ctx, cfg, quiet, []Wiring{OAuth()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.OAuthDataKeys == nil {
		t.Fatal("no KMS client with WARD_OAUTH_KMS_KEY_ID set")
	}
	tenant := validate.NewID()
	plain, wrapped, err := p.OAuthDataKeys.Generate(ctx, tenant)
	if err != nil || len(plain) != 32 {
		t.Fatalf("GenerateDataKey through the platform's client: %d bytes, %v", len(plain), err)
	}
	again, err := p.OAuthDataKeys.Decrypt(ctx, tenant, wrapped)
	if err != nil || string(again) != string(plain) {
		t.Errorf("Decrypt gave another key or %v", err)
	}
}
