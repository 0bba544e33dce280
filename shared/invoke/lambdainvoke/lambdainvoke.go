// Package lambdainvoke reaches functions' operations through the AWS Lambda
// Invoke API (synchronous, RequestResponse): the payload is a
// function.Request and the function, run by function/lambdafn, answers a
// function.Response. IAM authenticates the call; the invoking role needs
// lambda:InvokeFunction on each function named here and nothing else does.
//
// A call is not retried by this package. The SDK's own retryer may repeat
// a call that Lambda throttled or refused before it ran.
package lambdainvoke

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
)

// DefaultTimeout bounds one call when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// API is the part of the Lambda client that an Invoker uses;
// *lambda.Client implements it.
type API interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput,
		opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

var _ API = (*lambda.Client)(nil)

// Config configures an Invoker.
type Config struct {
	// Functions maps each Ward function name to its Lambda function: a
	// name, a full or partial ARN, optionally with ":alias" or ":version".
	Functions map[string]string
	// Timeout bounds each call; DefaultTimeout when zero. Keep it above the
	// Lambda function's own timeout, or a call may be abandoned while the
	// operation still runs.
	Timeout time.Duration
}

// Invoker calls operations through Lambda Invoke.
type Invoker struct {
	api       API
	functions map[string]string
	timeout   time.Duration
}

var _ invoke.Invoker = (*Invoker)(nil)

// New returns an Invoker that sends calls through api.
func New(api API, cfg Config) (*Invoker, error) {
	if api == nil {
		return nil, errors.New("lambdainvoke: a Lambda client is required")
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("lambdainvoke: negative timeout")
	}
	inv := &Invoker{api: api, functions: make(map[string]string, len(cfg.Functions)),
		timeout: cfg.Timeout}
	if inv.timeout == 0 {
		inv.timeout = DefaultTimeout
	}
	for fn, target := range cfg.Functions {
		if target == "" {
			return nil, fmt.Errorf("lambdainvoke: function %q: empty Lambda function name", fn)
		}
		inv.functions[fn] = target
	}
	return inv, nil
}

// Invoke implements invoke.Invoker. A function error (the Lambda function
// failed, timed out or refused the event), a status other than 200 and a
// payload that is not exactly a function.Response are transport errors.
func (inv *Invoker) Invoke(ctx context.Context, fn string,
	req function.Request) (function.Response, error) {
	target, ok := inv.functions[fn]
	if !ok {
		return function.Response{}, fmt.Errorf("lambdainvoke: no Lambda function configured for %q", fn)
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return function.Response{}, fmt.Errorf("lambdainvoke: encoding request: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, inv.timeout)
	defer cancel()
	out, err := inv.api.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(target),
		InvocationType: types.InvocationTypeRequestResponse,
		Payload:        payload,
	})
	if err != nil {
		return function.Response{}, fmt.Errorf("lambdainvoke: function %q: %w", fn, err)
	}
	if out.FunctionError != nil {
		return function.Response{}, &FunctionError{Function: fn, Kind: *out.FunctionError,
			Type: errorType(out.Payload)}
	}
	if out.StatusCode != 200 {
		return function.Response{}, fmt.Errorf("lambdainvoke: function %q: status %d", fn, out.StatusCode)
	}
	resp, err := function.DecodeResponse(out.Payload)
	if err != nil {
		return function.Response{}, fmt.Errorf("lambdainvoke: function %q: %w", fn, err)
	}
	return resp, nil
}

// FunctionError is a Lambda function that failed instead of answering: it
// returned an error, panicked, ran out of time or memory. Kind is Lambda's
// FunctionError ("Unhandled"); Type is the errorType of the payload, when
// it has one. The payload's message stays out of it: it is for the
// function's own logs.
type FunctionError struct {
	Function string
	Kind     string
	Type     string
}

func (e *FunctionError) Error() string {
	msg := fmt.Sprintf("lambdainvoke: function %q failed (%s", e.Function, e.Kind)
	if e.Type != "" {
		msg += ", " + e.Type
	}
	return msg + ")"
}

func errorType(payload []byte) string {
	var p struct {
		ErrorType string `json:"errorType"`
	}
	json.Unmarshal(payload, &p)
	if len(p.ErrorType) > 100 {
		return p.ErrorType[:100]
	}
	return p.ErrorType
}
