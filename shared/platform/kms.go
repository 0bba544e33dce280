package platform

import (
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/wardhq/ward/shared/awsx"
	"github.com/wardhq/ward/shared/config"
	"github.com/wardhq/ward/shared/oauth/keys"
	"github.com/wardhq/ward/shared/oauth/keys/kmskeys"
)

// oauthDataKeys is the KMS that wraps the tenants' data keys when
// WARD_OAUTH_KMS_KEY_ID names a key; nil otherwise. Region, credentials
// and an endpoint override (AWS_ENDPOINT_URL_KMS) come from package awsx.
func oauthDataKeys(cfg config.Config) (keys.DataKeys, error) {
	if cfg.OAuthKMSKeyID == "" {
		return nil, nil
	}
	s, err := awsx.FromEnv("oauth kms")
	if err != nil {
		return nil, err
	}
	o := kms.Options{Region: s.Region, Credentials: s.Credentials}
	if ep := awsx.Endpoint("KMS"); ep != "" {
		o.BaseEndpoint = &ep
	}
	return kmskeys.New(kms.New(o), cfg.OAuthKMSKeyID)
}
