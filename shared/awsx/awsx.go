// Package awsx builds the AWS settings Ward's AWS clients (Lambda, SES,
// SNS) start from, the way AWS compute provides them: the region from
// AWS_REGION (or AWS_DEFAULT_REGION), and credentials from the environment
// variables (Lambda sets them from the execution role), else the container
// endpoint (ECS, EKS Pod Identity), else the instance metadata service
// (EC2).
//
// It deliberately stops short of the SDK's full default chain (shared
// config files, SSO, web identity, credential processes): that chain links
// several more AWS service clients into every binary, which would put the
// Lambda bootstraps over their size budget, and none of it is how a
// deployed function gets credentials. On a workstation, export the
// credentials (for instance with `aws configure export-credentials
// --format env`).
package awsx

import (
	"errors"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
)

// Settings are the region and the credentials a client is built with.
type Settings struct {
	Region      string
	Credentials aws.CredentialsProvider
}

// Endpoint is the endpoint override for a service, as the SDKs read it:
// AWS_ENDPOINT_URL_<SERVICE> (the service's ID in upper case, spaces as
// underscores: "KMS"), else AWS_ENDPOINT_URL; empty for the service's
// usual regional endpoint. Set it for VPC endpoints or test servers.
func Endpoint(service string) string {
	if v := os.Getenv("AWS_ENDPOINT_URL_" + service); v != "" {
		return v
	}
	return os.Getenv("AWS_ENDPOINT_URL")
}

// FromEnv reads the settings from the process environment; what names the
// error when the region is missing ("lambda transport", "ses"...).
func FromEnv(what string) (Settings, error) {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	if region == "" {
		return Settings{}, errors.New(what + ": AWS_REGION is not set")
	}

	var provider aws.CredentialsProvider
	switch {
	case os.Getenv("AWS_ACCESS_KEY_ID") != "":
		provider = credentials.NewStaticCredentialsProvider(os.Getenv("AWS_ACCESS_KEY_ID"),
			os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN"))
	case os.Getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI") != "":
		provider = containerProvider(os.Getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI"))
	case os.Getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") != "":
		provider = containerProvider("http://169.254.170.2" +
			os.Getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"))
	default:
		provider = ec2rolecreds.New()
	}
	return Settings{Region: region, Credentials: aws.NewCredentialsCache(provider)}, nil
}

func containerProvider(endpoint string) aws.CredentialsProvider {
	return endpointcreds.New(endpoint, func(o *endpointcreds.Options) {
		if tok := os.Getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN"); tok != "" {
			o.AuthorizationToken = tok
		}
		if file := os.Getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); file != "" {
			o.AuthorizationTokenProvider = endpointcreds.TokenProviderFunc(func() (string, error) {
				b, err := os.ReadFile(file)
				return string(b), err
			})
		}
	})
}
