// Command oauth measures an OAuth 2.0 server from outside, Ward or Ory
// Hydra, on two operations: client_credentials token issuance and token
// introspection (RFC 7662). Given the token and introspection endpoints and
// a confidential client (client_secret_basic), it runs a closed-loop load
// for each chosen operation and prints one line per operation in the form
// of the other load commands. Every answer is checked: issuance must answer
// 200 with an access_token of the expected format (three base64url parts
// with a JSON header for jwt, anything else for opaque) and token_type
// bearer; introspection must answer 200 with active true and the client's
// client_id. One failure fails the run.
//
// Introspection of the token obtained first: at Ward the introspection
// endpoint authenticates the client (client_secret_basic); Hydra's is on
// its admin port and takes no client authentication (-target hydra).
//
// When the token endpoint answers 404, the command prints why and exits
// with status 3, so that a script can skip a server that does not serve it
// yet. e2e/load/oauth.sh starts the servers and runs it.
//
//	go run ./e2e/load/oauth -target ward \
//	  -token-url http://127.0.0.1:18080/t/acme/oauth2/token \
//	  -introspect-url http://127.0.0.1:18080/t/acme/oauth2/introspect \
//	  -client-id ID -client-secret SECRET -format jwt -c 64 -d 15s
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/wardhq/ward/e2e/load/loadgen"
)

// errNotServed is a 404 from the token endpoint.
var errNotServed = errors.New("the token endpoint answers 404")

func main() {
	target := flag.String("target", "ward", "the server under test: ward or hydra")
	tokenURL := flag.String("token-url", "", "token endpoint URL")
	introURL := flag.String("introspect-url", "", "introspection endpoint URL")
	id := flag.String("client-id", "", "client_id of a confidential client_credentials client")
	secret := flag.String("client-secret", "", "its client secret")
	format := flag.String("format", "opaque", "the access token format the server issues: jwt or opaque")
	label := flag.String("label", "", "words added to each result line")
	ops := flag.String("ops", "issue,introspect", "operations to measure, comma-separated")
	conc := flag.Int("c", 64, "concurrent clients")
	dur := flag.Duration("d", 15*time.Second, "duration of each measurement")
	warm := flag.Duration("warmup", 3*time.Second, "warm-up before each measurement")
	flag.Parse()

	cfg := config{target: *target, tokenURL: *tokenURL, introURL: *introURL, id: *id,
		secret: *secret, format: *format, label: *label}
	if err := cfg.check(); err != nil {
		fmt.Fprintln(os.Stderr, "oauth:", err)
		os.Exit(2)
	}
	err := run(cfg, strings.Split(*ops, ","), *conc, *dur, *warm)
	switch {
	case errors.Is(err, errNotServed):
		fmt.Fprintf(os.Stderr, "oauth: %s: %v (%s); skipped\n", cfg.target, err, cfg.tokenURL)
		os.Exit(3)
	case err != nil:
		fmt.Fprintln(os.Stderr, "oauth:", err)
		os.Exit(1)
	}
}

type config struct {
	target, tokenURL, introURL, id, secret, format, label string
	http                                                  *http.Client
}

func (c config) check() error {
	if c.target != "ward" && c.target != "hydra" {
		return fmt.Errorf("-target must be ward or hydra, not %q", c.target)
	}
	if c.format != "jwt" && c.format != "opaque" {
		return fmt.Errorf("-format must be jwt or opaque, not %q", c.format)
	}
	if c.tokenURL == "" || c.id == "" || c.secret == "" {
		return errors.New("-token-url, -client-id and -client-secret are required")
	}
	return nil
}

// post sends a form and decodes the JSON answer, which must be 200.
func (c config) post(ctx context.Context, endpoint string, form url.Values, auth bool,
	out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint,
		bytes.NewBufferString(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if auth {
		// RFC 6749 section 2.3.1: both parts form-encoded before Basic.
		req.SetBasicAuth(url.QueryEscape(c.id), url.QueryEscape(c.secret))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusNotFound && endpoint == c.tokenURL {
		return errNotServed
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: status %d: %.300s", endpoint, resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s: %w: %.300s", endpoint, err, raw)
	}
	return nil
}

// issue obtains one token with client_credentials and checks it.
func (c config) issue(ctx context.Context) (string, error) {
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := c.post(ctx, c.tokenURL, url.Values{"grant_type": {"client_credentials"}}, true,
		&tok); err != nil {
		return "", err
	}
	if tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "bearer") || tok.ExpiresIn <= 0 {
		return "", fmt.Errorf("token answer without a bearer access_token and expires_in: %+v", tok)
	}
	if isJWT(tok.AccessToken) != (c.format == "jwt") {
		return "", fmt.Errorf("access token %.40q… is not of the expected format %s",
			tok.AccessToken, c.format)
	}
	return tok.AccessToken, nil
}

// isJWT says whether a token has a JWS compact form with a JSON header
// naming an algorithm.
func isJWT(tok string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return false
	}
	var h struct {
		Alg string `json:"alg"`
	}
	return json.Unmarshal(raw, &h) == nil && h.Alg != "" && h.Alg != "none"
}

// introspect checks that a token is active and the client's.
func (c config) introspect(ctx context.Context, token string) error {
	var in struct {
		Active   bool   `json:"active"`
		ClientID string `json:"client_id"`
	}
	// Hydra's introspection is an admin endpoint without client
	// authentication; Ward's authenticates the calling client.
	if err := c.post(ctx, c.introURL, url.Values{"token": {token},
		"token_type_hint": {"access_token"}}, c.target == "ward", &in); err != nil {
		return err
	}
	if !in.Active || in.ClientID != c.id {
		return fmt.Errorf("introspection: active %v, client_id %q; want true, %q", in.Active,
			in.ClientID, c.id)
	}
	return nil
}

func run(c config, ops []string, conc int, dur, warm time.Duration) error {
	c.http = &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: conc * 2}}
	// The first token: proves the endpoint is served and the client
	// works before anything is measured, and is the one introspected.
	first, err := c.issue(context.Background())
	if err != nil {
		return err
	}
	label := c.target + ", " + c.format
	if c.label != "" {
		label += ", " + c.label
	}
	for _, op := range ops {
		var fn func(ctx context.Context, _ int) error
		var what string
		switch strings.TrimSpace(op) {
		case "issue":
			what = "client_credentials issuance"
			fn = func(ctx context.Context, _ int) error { _, err := c.issue(ctx); return err }
		case "introspect":
			if c.introURL == "" {
				return errors.New("-introspect-url is required to measure introspection")
			}
			if err := c.introspect(context.Background(), first); err != nil {
				return err
			}
			what = "introspection"
			fn = func(ctx context.Context, _ int) error { return c.introspect(ctx, first) }
		default:
			return fmt.Errorf("unknown operation %q (issue, introspect)", op)
		}
		res, err := loadgen.Run(conc, dur, warm, fn)
		if err != nil {
			return fmt.Errorf("%s (%s): %w", what, label, err)
		}
		fmt.Printf("%s (%s), %s\n", what, label, res)
	}
	return nil
}
