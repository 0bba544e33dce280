package remote

import (
	"context"
	"testing"
)

func TestLambdaClientNeedsARegion(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	if _, err := lambdaClient(context.Background()); err == nil {
		t.Error("a client was built without a region")
	}
}

func TestLambdaClientTakesCredentialsFromTheEnvironment(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "session")
	c, err := lambdaClient(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	o := c.Options()
	if o.Region != "eu-west-1" {
		t.Errorf("region = %q", o.Region)
	}
	creds, err := o.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "AKIDEXAMPLE" || creds.SecretAccessKey != "secret" || creds.SessionToken != "session" {
		t.Errorf("credentials = %+v", creds)
	}
}

func TestRoutesSendsNamedFunctionsToTheirTransport(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	key := make([]byte, 32)
	inv, err := Routes(context.Background(), map[string]string{
		"users":   "lambda:ward-users",
		"tenants": "http://127.0.0.1:9/",
	}, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	if inv == nil {
		t.Fatal("no invoker")
	}
	if _, err := Routes(context.Background(), map[string]string{"users": "http://127.0.0.1:9/"}, nil, nil); err == nil {
		t.Error("an HTTP route without a key was accepted")
	}
}
