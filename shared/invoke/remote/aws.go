package remote

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/wardhq/ward/shared/awsx"
)

// lambdaClient builds the Lambda client from the environment as package
// awsx reads it (AWS compute credentials only, not the SDK's full chain).
func lambdaClient(_ context.Context) (*lambda.Client, error) {
	s, err := awsx.FromEnv("lambda transport")
	if err != nil {
		return nil, err
	}
	return lambda.New(lambda.Options{Region: s.Region, Credentials: s.Credentials}), nil
}
