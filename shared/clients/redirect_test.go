package clients

import (
	"strings"
	"testing"
)

func TestMatchRedirectURIIsExact(t *testing.T) {
	registered := []string{"https://app.example.com/cb", "http://127.0.0.1:8400/cb",
		"com.example.app:/oauth2"}
	cases := []struct {
		name  string
		given string
		want  bool
	}{
		{"the registered URI", "https://app.example.com/cb", true},
		{"a loopback URI with its port", "http://127.0.0.1:8400/cb", true},
		{"a native app's URI", "com.example.app:/oauth2", true},
		{"a prefix", "https://app.example.com/c", false},
		{"a longer path", "https://app.example.com/cb/evil", false},
		{"a trailing slash", "https://app.example.com/cb/", false},
		{"a fragment", "https://app.example.com/cb#x", false},
		{"an empty fragment", "https://app.example.com/cb#", false},
		{"another port", "https://app.example.com:8443/cb", false},
		{"the default port spelt out", "https://app.example.com:443/cb", false},
		{"another loopback port", "http://127.0.0.1:8401/cb", false},
		{"case in the path", "https://app.example.com/CB", false},
		{"case in the host", "https://APP.example.com/cb", false},
		{"case in the scheme", "HTTPS://app.example.com/cb", false},
		{"a query added", "https://app.example.com/cb?x=1", false},
		{"an empty query added", "https://app.example.com/cb?", false},
		{"percent-encoding", "https://app.example.com/%63b", false},
		{"another host", "https://app.example.com.evil.net/cb", false},
		{"user information", "https://evil@app.example.com/cb", false},
		{"http for https", "http://app.example.com/cb", false},
		{"localhost for 127.0.0.1", "http://localhost:8400/cb", false},
		{"empty", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := MatchRedirectURI(registered, tc.given); got != tc.want {
				t.Errorf("MatchRedirectURI(%q) = %v, want %v", tc.given, got, tc.want)
			}
		})
	}
	if MatchRedirectURI(nil, "https://app.example.com/cb") {
		t.Error("a client without redirect URIs matched one")
	}
}

func TestCheckRedirectURI(t *testing.T) {
	cases := []struct {
		uri string
		ok  bool
	}{
		{"https://app.example.com/cb", true},
		{"https://app.example.com/cb?tenant=a", true},
		{"https://app.example.com:8443/cb", true},
		{"http://127.0.0.1:8400/cb", true},
		{"http://[::1]:8400/cb", true},
		{"http://localhost/cb", true},
		{"com.example.app:/oauth2redirect", true},
		{"com.example.app://callback", true},

		{"", false},
		{"/cb", false},                // relative
		{"app.example.com/cb", false}, // no scheme
		{"https://app.example.com/cb#frag", false},                      // fragment
		{"https://app.example.com/cb#", false},                          // empty fragment
		{"https://*.example.com/cb", false},                             // wildcard host
		{"https://app.example.com/*", false},                            // wildcard path
		{"http://app.example.com/cb", false},                            // http off loopback
		{"http://10.0.0.1/cb", false},                                   // http on a private address
		{"http://127.0.0.2/cb", false},                                  // only the named loopbacks
		{"http://localhost.evil.net/cb", false},                         // not localhost
		{"https:///cb", false},                                          // no host
		{"https:app.example.com", false},                                // opaque
		{"https://user:pw@app.example.com/cb", false},                   // user information
		{"https://app.example.com/a b", false},                          // space
		{"https://app.example.com/\x00", false},                         // control character
		{"myapp:/cb", false},                                            // private scheme without a dot
		{"com.example.app:cb", false},                                   // private scheme without "/"
		{"javascript:alert(1)", false},                                  // script
		{"data:text/html,hi", false},                                    // data
		{"file:///etc/passwd", false},                                   // file
		{"https://app.example.com/\xff", false},                         // not UTF-8
		{"https://app.example.com/" + strings.Repeat("a", 2048), false}, // too long
	}
	for _, tc := range cases {
		err := checkRedirectURI("redirectUris", tc.uri)
		if (err == nil) != tc.ok {
			t.Errorf("checkRedirectURI(%q) = %v, want ok %v", tc.uri, err, tc.ok)
		}
	}
}
