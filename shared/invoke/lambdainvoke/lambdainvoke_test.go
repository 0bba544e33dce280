package lambdainvoke_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/function/lambdafn/lambdatest"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/invoke/lambdainvoke"
)

// bootstrap is the fixture function, built once for every test.
var bootstrap string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lambdainvoke")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bootstrap, err = lambdatest.BuildTo(lambdatest.FixturePackage, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// emulatorClient is a Lambda client for the emulator at url: the emulator
// serves the Invoke API's path and ignores the request signature.
func emulatorClient(url string) *lambda.Client {
	return lambda.New(lambda.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "test"}, nil
		}),
		RetryMaxAttempts: 1,
	})
}

func newInvoker(t *testing.T, api lambdainvoke.API) *lambdainvoke.Invoker {
	t.Helper()
	inv, err := lambdainvoke.New(api, lambdainvoke.Config{
		Functions: map[string]string{"fixture": "function"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestInvokeThroughTheEmulator(t *testing.T) {
	emu := lambdatest.Start(t, bootstrap, lambdatest.Options{})
	inv := newInvoker(t, emulatorClient(emu.URL))
	ctx := function.WithRequestID(context.Background(), "req-77")
	caller := function.Caller{Subject: "admin", Roles: []string{function.RoleSystemAdmin}}

	t.Run("an operation answers its output", func(t *testing.T) {
		got, err := invoke.Call[lambdatest.EchoOutput](ctx, inv, "fixture", lambdatest.OpEcho, caller,
			lambdatest.EchoInput{Text: "through lambda"})
		if err != nil {
			t.Fatalf("%v\n%s", err, emu.Output())
		}
		if got.Text != "through lambda" || got.Caller.Subject != "admin" || got.RequestID != "req-77" ||
			!got.Caller.Has(function.RoleSystemAdmin) {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("an operation error keeps its code", func(t *testing.T) {
		_, err := invoke.Call[struct{}](ctx, inv, "fixture", lambdatest.OpFail, caller, struct{}{})
		if !errors.Is(err, errs.ErrConflict) {
			t.Errorf("err = %v, want CONFLICT", err)
		}
	})
	t.Run("an unknown operation is not found", func(t *testing.T) {
		_, err := invoke.Call[struct{}](ctx, inv, "fixture", "fixture.nope", caller, struct{}{})
		if !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("err = %v, want NOT_FOUND", err)
		}
	})
	t.Run("a function with no Lambda configured", func(t *testing.T) {
		_, err := inv.Invoke(ctx, "users", function.Request{Op: "users.get"})
		if err == nil || !strings.Contains(err.Error(), "no Lambda function configured") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestTimedOutFunctionIsATransportError(t *testing.T) {
	emu := lambdatest.Start(t, bootstrap, lambdatest.Options{Timeout: 1})
	inv := newInvoker(t, emulatorClient(emu.URL))

	_, err := invoke.Call[struct{}](context.Background(), inv, "fixture", lambdatest.OpSleep,
		function.Caller{}, lambdatest.SleepInput{Millis: 3000})

	// The emulator answers 200 with "Task timed out after 1.00 seconds";
	// Lambda itself sets FunctionError. Either way, no success.
	if !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("err = %v, want UNAVAILABLE", err)
	}
	if !strings.Contains(err.Error(), "not a function response") {
		t.Errorf("err = %v, want the payload refused", err)
	}
}

func TestFailedInitIsATransportError(t *testing.T) {
	emu := lambdatest.Start(t, bootstrap, lambdatest.Options{Env: []string{"FIXTURE_FAIL_INIT=1"}})
	inv := newInvoker(t, emulatorClient(emu.URL))

	_, err := inv.Invoke(context.Background(), "fixture", function.Request{Op: lambdatest.OpEcho})

	if err == nil {
		t.Fatal("a function that failed to start answered")
	}
	if !strings.Contains(err.Error(), "502") {
		t.Errorf("err = %v, want the emulator's 502", err)
	}
}

// failingAPI injects the answers of the Lambda API that the emulator does
// not produce.
type failingAPI struct {
	out *lambda.InvokeOutput
	err error
}

func (f failingAPI) Invoke(context.Context, *lambda.InvokeInput,
	...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	return f.out, f.err
}

func TestLambdaFailures(t *testing.T) {
	tests := []struct {
		name    string
		api     failingAPI
		wantErr string
	}{
		{"an unhandled function error", failingAPI{out: &lambda.InvokeOutput{
			StatusCode: 200, FunctionError: aws.String("Unhandled"),
			Payload: []byte(`{"errorMessage":"secret detail","errorType":"MalformedEventError"}`),
		}}, `failed (Unhandled, MalformedEventError)`},
		{"a timeout as Lambda reports it", failingAPI{out: &lambda.InvokeOutput{
			StatusCode: 200, FunctionError: aws.String("Unhandled"),
			Payload: []byte(`{"errorMessage":"2026-03-01T12:00:00Z abc Task timed out after 3.00 seconds"}`),
		}}, `failed (Unhandled)`},
		{"a status other than 200", failingAPI{out: &lambda.InvokeOutput{
			StatusCode: 202, Payload: []byte(`{"output":{}}`),
		}}, "status 202"},
		{"an empty payload", failingAPI{out: &lambda.InvokeOutput{StatusCode: 200}}, "not a function response"},
		{"a payload of another shape", failingAPI{out: &lambda.InvokeOutput{
			StatusCode: 200, Payload: []byte(`{"statusCode":200,"body":"{}"}`),
		}}, "not a function response"},
		{"an error without a code", failingAPI{out: &lambda.InvokeOutput{
			StatusCode: 200, Payload: []byte(`{"error":{"message":"x"}}`),
		}}, "without a code"},
		{"an API error", failingAPI{err: errors.New("AccessDeniedException")}, "AccessDeniedException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := newInvoker(t, tt.api)

			_, err := inv.Invoke(context.Background(), "fixture", function.Request{Op: lambdatest.OpEcho})

			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "secret detail") {
				t.Error("the function's error message leaked into the error")
			}
		})
	}
}

func TestNewChecksTheConfiguration(t *testing.T) {
	if _, err := lambdainvoke.New(nil, lambdainvoke.Config{}); err == nil {
		t.Error("a nil client was accepted")
	}
	api := failingAPI{}
	if _, err := lambdainvoke.New(api, lambdainvoke.Config{Functions: map[string]string{"a": ""}}); err == nil {
		t.Error("an empty Lambda function name was accepted")
	}
	if _, err := lambdainvoke.New(api, lambdainvoke.Config{Timeout: -1}); err == nil {
		t.Error("a negative timeout was accepted")
	}
}
