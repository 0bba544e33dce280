// Package remote builds the invoker that sends some functions' operations
// to their own deployments (WARD_INVOKE_<FUNCTION>) and keeps the rest in
// process. Only binaries that call other functions (the facade) link it, so
// that domain functions stay free of the AWS SDK's Lambda client.
package remote

import (
	"context"
	"strings"

	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/invoke/httpinvoke"
	"github.com/wardhq/ward/shared/invoke/lambdainvoke"
)

// Routes wraps local with the remote transports that targets name: for
// each function, "lambda:<name or ARN>" (AWS Lambda Invoke, with the AWS
// SDK's default credentials and region) or an http(s) base URL (the signed
// HTTP transport, with key). Functions not named stay on local.
func Routes(ctx context.Context, targets map[string]string, key []byte, local invoke.Invoker) (invoke.Invoker, error) {
	if len(targets) == 0 {
		return local, nil
	}
	lambdaFns := map[string]string{}
	httpURLs := map[string]string{}
	for fn, target := range targets {
		if name, ok := strings.CutPrefix(target, "lambda:"); ok {
			lambdaFns[fn] = name
		} else {
			httpURLs[fn] = target
		}
	}
	r := invoke.Router{Default: local, Routes: map[string]invoke.Invoker{}}
	if len(lambdaFns) > 0 {
		client, err := lambdaClient(ctx)
		if err != nil {
			return nil, err
		}
		inv, err := lambdainvoke.New(client, lambdainvoke.Config{Functions: lambdaFns})
		if err != nil {
			return nil, err
		}
		for fn := range lambdaFns {
			r.Routes[fn] = inv
		}
	}
	if len(httpURLs) > 0 {
		inv, err := httpinvoke.New(httpinvoke.Config{URLs: httpURLs, Key: key})
		if err != nil {
			return nil, err
		}
		for fn := range httpURLs {
			r.Routes[fn] = inv
		}
	}
	return r, nil
}
