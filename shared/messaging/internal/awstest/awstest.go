// Package awstest is a stand-in for an AWS service endpoint in unit tests:
// an httptest server that checks each request's Signature Version 4 against
// the test credentials, records it, and answers as the test says. AWS itself
// cannot be reached from the test machines; what is checked here is what
// Ward controls, namely the action, its parameters and a valid signature.
package awstest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// The static credentials and region the clients under test are given.
const (
	AccessKeyID     = "AKIAWARDTESTEXAMPLE0"
	SecretAccessKey = "ward-test-secret-access-key-0123456789ab"
	Region          = "eu-central-1"
)

// Config returns an aws.Config with the test credentials and region, no
// retries, and nothing read from the environment or ~/.aws. Clients take
// the server's URL as their BaseEndpoint.
func Config() aws.Config {
	return aws.Config{
		Region:           Region,
		Credentials:      credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		RetryMaxAttempts: 1,
	}
}

// Request is one request the server received, with a verified signature.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
	// Service and Region are from the signature's credential scope.
	Service string
	Region  string
}

// Response is what the server answers.
type Response struct {
	Status      int
	ContentType string
	Header      map[string]string
	Body        string
}

// Server is a fake AWS endpoint.
type Server struct {
	URL string

	t       testing.TB
	service string
	respond func(Request) Response

	mu       sync.Mutex
	requests []Request
}

// NewServer starts a server for service (the signing name, such as "ses" or
// "sns") that answers every correctly signed request with respond. A request
// with a missing or wrong signature fails the test and is answered 403. The
// server stops when the test ends.
func NewServer(t testing.TB, service string, respond func(Request) Response) *Server {
	s := &Server{t: t, service: service, respond: respond}
	hs := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.t.Errorf("awstest: reading the body: %v", err)
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	req, err := s.verify(r, body)
	if err != nil {
		s.t.Errorf("awstest: %s %s: %v", r.Method, r.URL.Path, err)
		w.Header().Set("X-Amzn-ErrorType", "SignatureDoesNotMatch")
		w.WriteHeader(http.StatusForbidden)
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()

	resp := s.respond(req)
	for k, v := range resp.Header {
		w.Header().Set(k, v)
	}
	if resp.ContentType != "" {
		w.Header().Set("Content-Type", resp.ContentType)
	}
	w.Header().Set("X-Amzn-RequestId", "ward-test-request-id")
	if resp.Status == 0 {
		resp.Status = http.StatusOK
	}
	w.WriteHeader(resp.Status)
	io.WriteString(w, resp.Body)
}

type sigError string

func (e sigError) Error() string { return string(e) }

// verify signs a copy of the request made of its signed headers alone, with
// the secret key and the time the client stated, and compares signatures.
func (s *Server) verify(r *http.Request, body []byte) (Request, error) {
	const algo = "AWS4-HMAC-SHA256 "
	authz := r.Header.Get("Authorization")
	if !strings.HasPrefix(authz, algo) {
		return Request{}, sigError("not signed with SigV4: " + authz)
	}
	fields := map[string]string{}
	for _, kv := range strings.Split(strings.TrimPrefix(authz, algo), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return Request{}, sigError("malformed credential scope " + fields["Credential"])
	}
	if scope[0] != AccessKeyID {
		return Request{}, sigError("signed with access key " + scope[0])
	}
	if scope[3] != s.service || scope[2] != Region {
		return Request{}, sigError("signed for " + scope[3] + " in " + scope[2])
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return Request{}, sigError("bad X-Amz-Date")
	}
	if d := time.Since(when); d > 5*time.Minute || d < -5*time.Minute {
		return Request{}, sigError("X-Amz-Date is not current")
	}

	cp, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return Request{}, err
	}
	cp.Host = r.Host
	for _, h := range strings.Split(fields["SignedHeaders"], ";") {
		if h != "host" && h != "content-length" {
			cp.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey}
	err = v4.NewSigner().SignHTTP(context.Background(), creds, cp, hex.EncodeToString(sum[:]),
		s.service, Region, when)
	if err != nil {
		return Request{}, err
	}
	if want := cp.Header.Get("Authorization"); !hmac.Equal([]byte(want), []byte(authz)) {
		return Request{}, sigError("signature does not match: got " + authz + ", want " + want)
	}
	return Request{
		Method:  r.Method,
		Path:    r.URL.Path,
		Header:  r.Header.Clone(),
		Body:    body,
		Service: scope[3],
		Region:  scope[2],
	}, nil
}
