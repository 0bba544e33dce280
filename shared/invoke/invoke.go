// Package invoke is how the facade reaches functions' operations. One
// Invoker interface has three transports: in-process (the default in every
// deployment), AWS Lambda Invoke (invoke/lambdainvoke) and HTTP
// (invoke/httpinvoke), for operators who split functions for isolation.
//
// Every transport carries the same function.Request and returns the same
// function.Response, so an operation behaves alike whichever way it is
// reached.
package invoke

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
)

// Invoker calls an operation of a named function. A non-nil error means the
// transport failed (the function was not reached or gave no answer); an
// error of the operation itself is in Response.Error.
type Invoker interface {
	Invoke(ctx context.Context, fn string, req function.Request) (function.Response, error)
}

// Call invokes op of fn with a typed input and decodes the typed output.
// An operation error comes back as an *errs.Error with its code; a transport
// failure as errs.ErrUnavailable.
func Call[Out any](ctx context.Context, inv Invoker, fn, op string, caller function.Caller, in any) (Out, error) {
	var out Out
	raw, err := json.Marshal(in)
	if err != nil {
		return out, errs.Wrap(errs.Internal, err, "internal error")
	}
	req := function.Request{Op: op, Caller: caller, Input: raw, RequestID: function.RequestID(ctx)}
	resp, err := inv.Invoke(ctx, fn, req)
	if err != nil {
		return out, errs.Wrap(errs.Unavailable, err, "function %s unavailable", fn)
	}
	if resp.Error != nil {
		return out, resp.Error.Err()
	}
	if err := json.Unmarshal(resp.Output, &out); err != nil {
		return out, errs.Wrap(errs.Internal, err, "internal error")
	}
	return out, nil
}

// Local invokes functions registered in this process. It still passes
// input and output as JSON, so that nothing depends on sharing memory with
// the caller.
type Local struct {
	mu  sync.RWMutex
	fns map[string]*function.Function
	// OnFault, when set, is told of every internal fault an operation
	// returns (for logging); the caller sees only the coded error.
	OnFault func(ctx context.Context, fn, op string, err error)
}

// NewLocal returns an in-process invoker for fns.
func NewLocal(fns ...*function.Function) *Local {
	l := &Local{fns: map[string]*function.Function{}}
	for _, f := range fns {
		l.Register(f)
	}
	return l
}

// Register adds f; a second function of the same name panics.
func (l *Local) Register(f *function.Function) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, dup := l.fns[f.Name]; dup {
		panic(fmt.Sprintf("invoke: function %q registered twice", f.Name))
	}
	l.fns[f.Name] = f
}

// Function returns the registered function named fn, or nil.
func (l *Local) Function(fn string) *function.Function {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.fns[fn]
}

// Invoke implements Invoker.
func (l *Local) Invoke(ctx context.Context, fn string, req function.Request) (function.Response, error) {
	f := l.Function(fn)
	if f == nil {
		return function.Response{}, fmt.Errorf("invoke: no function %q in this process", fn)
	}
	resp, fault := f.Invoke(ctx, req)
	if fault != nil && l.OnFault != nil {
		l.OnFault(ctx, fn, req.Op, fault)
	}
	return resp, nil
}

// Router sends each function to its own invoker (for instance users over
// Lambda, the rest in process) and the rest to Default.
type Router struct {
	Default Invoker
	Routes  map[string]Invoker
}

// Invoke implements Invoker.
func (r Router) Invoke(ctx context.Context, fn string, req function.Request) (function.Response, error) {
	if inv, ok := r.Routes[fn]; ok {
		return inv.Invoke(ctx, fn, req)
	}
	return r.Default.Invoke(ctx, fn, req)
}
