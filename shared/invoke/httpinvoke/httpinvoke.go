// Package httpinvoke reaches functions' operations over HTTP: each call is
// a function.Request posted to the function's invoke endpoint (see
// function/httpfn), signed with the shared invoke key.
//
// Use it when functions run apart, on Cloud Functions, Cloud Run or any
// HTTP host. Calls are not retried: an operation may have taken effect even
// when its answer was lost.
package httpinvoke

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/function/httpfn"
	"github.com/wardhq/ward/shared/invoke"
)

// DefaultTimeout bounds one call when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// MaxResponseBytes bounds the answer of one call.
const MaxResponseBytes = 16 << 20

// Config configures an Invoker.
type Config struct {
	// URLs maps each Ward function name to the base URL it is served at;
	// calls go to the base URL followed by httpfn.InvokePath.
	URLs map[string]string
	// Key is the shared invoke key, at least httpfn.MinKeyBytes long.
	Key []byte
	// Timeout bounds each call, from sending to the decoded answer.
	Timeout time.Duration
	// Client sends the requests. Its redirect policy is replaced: a
	// redirect is never followed, since it would carry a signed request
	// somewhere the configuration did not name.
	Client *http.Client
	// InsecureAllowHTTP permits http:// URLs to hosts other than loopback.
	// The signature protects integrity, not confidentiality: inputs such as
	// passwords would cross the network in clear.
	InsecureAllowHTTP bool
	// Now is the signing clock; time.Now when nil.
	Now func() time.Time
}

// Invoker calls operations over HTTP.
type Invoker struct {
	endpoints map[string]string
	key       []byte
	timeout   time.Duration
	client    *http.Client
	now       func() time.Time
}

var _ invoke.Invoker = (*Invoker)(nil)

// New checks cfg and returns an Invoker.
func New(cfg Config) (*Invoker, error) {
	if len(cfg.Key) == 0 {
		return nil, errors.New("httpinvoke: an invoke key is required")
	}
	if err := httpfn.CheckKey(cfg.Key); err != nil {
		return nil, err
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("httpinvoke: negative timeout")
	}

	inv := &Invoker{
		endpoints: make(map[string]string, len(cfg.URLs)),
		key:       bytes.Clone(cfg.Key),
		timeout:   cfg.Timeout,
		now:       cfg.Now,
	}
	if inv.timeout == 0 {
		inv.timeout = DefaultTimeout
	}
	if inv.now == nil {
		inv.now = time.Now
	}
	for fn, base := range cfg.URLs {
		endpoint, err := endpointFor(base, cfg.InsecureAllowHTTP)
		if err != nil {
			return nil, fmt.Errorf("httpinvoke: function %q: %w", fn, err)
		}
		inv.endpoints[fn] = endpoint
	}

	client := http.Client{}
	if cfg.Client != nil {
		client = *cfg.Client
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}
	inv.client = &client
	return inv, nil
}

func endpointFor(base string, allowHTTP bool) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", errors.New("base URL does not parse")
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("base URL must be scheme://host[:port][/path] with nothing else")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !allowHTTP && !isLoopback(u.Hostname()) {
			return "", errors.New("base URL must use https (set InsecureAllowHTTP to permit http)")
		}
	default:
		return "", fmt.Errorf("base URL scheme %q is not http(s)", u.Scheme)
	}
	return strings.TrimSuffix(u.String(), "/") + httpfn.InvokePath, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Invoke implements invoke.Invoker. Any status but 200, and any answer that
// is not exactly a function.Response, is a transport error.
func (inv *Invoker) Invoke(ctx context.Context, fn string,
	req function.Request) (function.Response, error) {
	endpoint, ok := inv.endpoints[fn]
	if !ok {
		return function.Response{}, fmt.Errorf("httpinvoke: no URL configured for function %q", fn)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return function.Response{}, fmt.Errorf("httpinvoke: encoding request: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, inv.timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return function.Response{}, fmt.Errorf("httpinvoke: %w", err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	httpfn.SignRequest(hr, inv.key, fn, inv.now(), body)

	res, err := inv.client.Do(hr)
	if err != nil {
		return function.Response{}, fmt.Errorf("httpinvoke: function %q: %w", fn, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, MaxResponseBytes+1))
	if err != nil {
		return function.Response{}, fmt.Errorf("httpinvoke: function %q: reading answer: %w", fn, err)
	}
	if len(raw) > MaxResponseBytes {
		return function.Response{}, fmt.Errorf("httpinvoke: function %q: answer over %d bytes",
			fn, MaxResponseBytes)
	}
	if res.StatusCode != http.StatusOK {
		return function.Response{}, statusError(fn, res.StatusCode, raw)
	}
	resp, err := function.DecodeResponse(raw)
	if err != nil {
		return function.Response{}, fmt.Errorf("httpinvoke: function %q: %w", fn, err)
	}
	return resp, nil
}

// statusError describes a refused call, with the code the endpoint gave
// when it gave one (the body of a refusal is a function.Response).
func statusError(fn string, status int, raw []byte) error {
	var refusal function.Response
	if json.Unmarshal(raw, &refusal) == nil && refusal.Error != nil {
		return fmt.Errorf("httpinvoke: function %q answered %d (%s)", fn, status, refusal.Error.Code)
	}
	return fmt.Errorf("httpinvoke: function %q answered %d", fn, status)
}
