package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeServer answers the token and introspection endpoints as the
// contract says, for one client, and counts the calls it refused.
type fakeServer struct {
	id, secret string
	token      string
	introAuth  bool // introspection authenticates the client (Ward)
	refused    atomic.Int64
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// RFC 6749 section 2.3.1: both parts are form-encoded inside Basic.
	id, secret, ok := r.BasicAuth()
	id, errID := url.QueryUnescape(id)
	secret, errSecret := url.QueryUnescape(secret)
	authed := ok && errID == nil && errSecret == nil && id == f.id && secret == f.secret
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/token":
		if !authed || r.PostForm.Get("grant_type") != "client_credentials" {
			f.refused.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": f.token,
			"token_type": "Bearer", "expires_in": 300})
	case "/introspect":
		if f.introAuth && !authed {
			f.refused.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"active": r.PostForm.Get("token") == f.token, "client_id": f.id})
	default:
		http.NotFound(w, r)
	}
}

func jwtLike() string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"ES256","typ":"at+jwt"}`)) + "." + enc([]byte(`{}`)) + ".c2ln"
}

func cfgFor(srv *httptest.Server, target, format string) config {
	return config{target: target, tokenURL: srv.URL + "/token", introURL: srv.URL + "/introspect",
		id: "client-1", secret: "s3cret/with+chars", format: format}
}

func TestRunMeasuresBothOperations(t *testing.T) {
	for _, tc := range []struct{ target, format, token string }{
		{"ward", "jwt", jwtLike()},
		{"ward", "opaque", "opaque-token-value"},
		{"hydra", "opaque", "ory_at_abc.def"},
	} {
		t.Run(tc.target+"/"+tc.format, func(t *testing.T) {
			f := &fakeServer{id: "client-1", secret: "s3cret/with+chars", token: tc.token,
				introAuth: tc.target == "ward"}
			srv := httptest.NewServer(f)
			defer srv.Close()
			err := run(cfgFor(srv, tc.target, tc.format), []string{"issue", "introspect"}, 4,
				200*time.Millisecond, 50*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if n := f.refused.Load(); n != 0 {
				t.Fatalf("%d calls refused", n)
			}
		})
	}
}

func TestRunFailsOnWrongAnswers(t *testing.T) {
	cases := map[string]struct {
		cfgFormat string
		server    *fakeServer
		want      string
	}{
		"opaque token where jwt expected": {"jwt",
			&fakeServer{id: "client-1", secret: "s3cret/with+chars", token: "opaque"},
			"expected format jwt"},
		"jwt where opaque expected": {"opaque",
			&fakeServer{id: "client-1", secret: "s3cret/with+chars", token: jwtLike()},
			"expected format opaque"},
		"wrong secret": {"opaque",
			&fakeServer{id: "client-1", secret: "other", token: "t"}, "status 401"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(tc.server)
			defer srv.Close()
			err := run(cfgFor(srv, "ward", tc.cfgFormat), []string{"issue"}, 2,
				100*time.Millisecond, 0)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one with %q", err, tc.want)
			}
		})
	}
}

func TestInactiveIntrospectionFails(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			_, _ = w.Write([]byte(`{"access_token":"t","token_type":"bearer","expires_in":60}`))
			return
		}
		_, _ = w.Write([]byte(`{"active":false}`))
	}))
	defer srv.Close()
	err := run(cfgFor(srv, "hydra", "opaque"), []string{"introspect"}, 2, 100*time.Millisecond, 0)
	if err == nil || !strings.Contains(err.Error(), "active false") {
		t.Fatalf("err = %v, want an inactive token refused", err)
	}
}

func TestTokenEndpointNotServed(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	err := run(cfgFor(srv, "ward", "jwt"), []string{"issue"}, 2, 100*time.Millisecond, 0)
	if !errors.Is(err, errNotServed) {
		t.Fatalf("err = %v, want errNotServed", err)
	}
}
