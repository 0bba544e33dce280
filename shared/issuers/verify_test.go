package issuers_test

import (
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/issuers"
	"github.com/wardhq/ward/shared/issuers/issuerstest"
	"github.com/wardhq/ward/shared/sessions"
	"github.com/wardhq/ward/shared/store"
)

func b64(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// forge builds a compact JWS from a header, claims and a signature made
// by sign over the signing input (nil: an empty signature).
func forge(header, claims map[string]any, sign func(input []byte) []byte) string {
	input := b64(header) + "." + b64(claims)
	var sig []byte
	if sign != nil {
		sig = sign([]byte(input))
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestVerifyAcceptsAGoodToken(t *testing.T) {
	for _, kid := range []string{issuerstest.KidES256, issuerstest.KidRS256} {
		t.Run(kid, func(t *testing.T) {
			e := newEnv(t)
			claims := e.claims()
			got, err := e.verify(e.idp.Sign(t, kid, claims))
			if err != nil {
				t.Fatal(err)
			}
			want := issuers.VerifyOutput{
				TenantID: e.a.ID, IssuerID: e.ti.ID, Issuer: e.idp.URL, Subject: "user-42",
				Audience: []string{"api://ward", "other"}, ExpiresAt: claims["exp"].(int64),
				IssuedAt: claims["iat"].(int64), ACR: "2", AMR: []string{"pwd", "otp"},
				AuthTime: claims["auth_time"].(int64),
				Claims:   map[string]any{"email": "ada@example.com"},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("verify (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVerifyAnswersWhatSessionsReads(t *testing.T) {
	e := newEnv(t)
	in, err := json.Marshal(sessions.IssuersVerifyInput{Token: "a.b.c", TenantID: e.a.ID})
	if err != nil {
		t.Fatal(err)
	}
	var mine issuers.VerifyInput
	dec := json.NewDecoder(strings.NewReader(string(in)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&mine); err != nil || mine.TenantID != e.a.ID || mine.Token != "a.b.c" {
		t.Fatalf("sessions' input decodes as %+v, %v", mine, err)
	}

	out, err := e.verify(e.idp.Sign(t, issuerstest.KidES256, e.claims()))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(out)
	var theirs sessions.IssuersVerifyOutput
	dec = json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&theirs); err != nil {
		t.Fatal(err)
	}
	if theirs.Subject != "user-42" || theirs.TenantID != e.a.ID || theirs.Issuer != e.idp.URL ||
		theirs.ExpiresAt != out.ExpiresAt {
		t.Errorf("sessions reads %+v", theirs)
	}
}

func TestVerifyRefusals(t *testing.T) {
	e := newEnv(t)
	es := func(claims map[string]any) string { return e.idp.Sign(t, issuerstest.KidES256, claims) }
	with := func(k string, v any) map[string]any {
		c := e.claims()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	now := e.clk.Now().Unix()

	// The RSA key as its holder publishes it: PEM of the public key, the
	// secret an algorithm-confusion attacker signs HS256 with.
	var rsaPub rsa.PublicKey
	if err := jwk.Export(e.idp.PublicJWK(t, issuerstest.KidRS256), &rsaPub); err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&rsaPub)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	hs256 := func(input []byte) []byte {
		m := hmac.New(sha256.New, pemKey)
		m.Write(input)
		return m.Sum(nil)
	}
	// A valid ES256 signature moved under another header.
	good := strings.Split(es(e.claims()), ".")
	goodSig, _ := base64.RawURLEncoding.DecodeString(good[2])
	reuse := func([]byte) []byte { return goodSig }

	// An RS256 token while the issuer allows ES256 only is checked with
	// another issuer (see below); a key of another issuer:
	other := issuerstest.New(t)

	cases := []struct {
		name, token, reason string
	}{
		{"an unsigned token (alg none)", forge(map[string]any{"alg": "none"}, e.claims(), nil),
			"unsigned token"},
		{"alg none with a signature", forge(map[string]any{"alg": "none", "kid": "es-1"},
			e.claims(), reuse), "unsigned token"},
		{"HS256 signed with the RSA public key", forge(map[string]any{"alg": "HS256",
			"kid": issuerstest.KidRS256}, e.claims(), hs256), "HMAC algorithm"},
		{"an RSA key claimed for ES256", forge(map[string]any{"alg": "ES256",
			"kid": issuerstest.KidRS256}, e.claims(), reuse), "key does not fit"},
		{"an unknown kid", forge(map[string]any{"alg": "ES256", "kid": "nope"}, e.claims(),
			reuse), "unknown kid"},
		{"no kid while the set has two keys", forge(map[string]any{"alg": "ES256"}, e.claims(),
			reuse), "no kid"},
		{"a tampered payload", good[0] + "." + b64(with("sub", "admin")) + "." + good[2],
			"bad signature"},
		{"a key of another issuer", other.Sign(t, issuerstest.KidES256, with("iss", e.idp.URL)),
			"bad signature"},
		{"an expired token", es(with("exp", now-31)), "expired"},
		{"a token not yet valid", es(with("nbf", now+31)), "not yet valid"},
		{"a token issued in the future", es(with("iat", now+31)), "issued in the future"},
		{"no exp", es(with("exp", nil)), "no exp"},
		{"a wrong audience", es(with("aud", "api://other")), "wrong audience"},
		{"no audience", es(with("aud", nil)), "wrong audience"},
		{"an untrusted issuer", other.Sign(t, issuerstest.KidES256, with("iss", other.URL)),
			"issuer not trusted"},
		{"an issuer in another case", es(with("iss", strings.ToUpper(e.idp.URL))),
			"issuer not trusted"},
		{"no subject", es(with("sub", nil)), "no usable subject"},
		{"a crit header", forge(map[string]any{"alg": "ES256", "kid": "es-1",
			"crit": []string{"exp"}, "exp": 1}, e.claims(), reuse), "crit header"},
		{"a typ that is no JWT", forge(map[string]any{"alg": "ES256", "kid": "es-1",
			"typ": "dpop+jwt"}, e.claims(), reuse), "typ"},
		{"not a JWS", "a.b", "not a compact JWS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.logs.Reset()
			_, err := e.verify(tc.token)
			var ce *errs.Error
			if !errors.As(err, &ce) || ce.Code != errs.Unauthenticated ||
				ce.Message != "invalid token" {
				t.Fatalf("verify = %v, want UNAUTHENTICATED invalid token", err)
			}
			if !e.logged(tc.reason) {
				t.Errorf("the log does not give the reason %q:\n%s", tc.reason, e.logs)
			}
			if strings.Contains(e.logs.String(), tc.token) {
				t.Error("the log holds the token")
			}
		})
	}
	t.Run("leeway: 29 seconds past exp still passes", func(t *testing.T) {
		if _, err := e.verify(es(with("exp", now-29))); err != nil {
			t.Errorf("verify = %v", err)
		}
	})
}

func TestVerifyChecksTheIssuersRules(t *testing.T) {
	e := newEnv(t)
	token := e.idp.Sign(t, issuerstest.KidRS256, e.claims())

	_, err := call[store.TrustedIssuer](e, issuers.OpUpdate, sysRoot, issuers.UpdateInput{
		TenantID: e.a.ID, ID: e.ti.ID, Algorithms: &[]string{"ES256"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.verify(token); errs.CodeOf(err) != errs.Unauthenticated ||
		!e.logged("algorithm RS256 not allowed") {
		t.Errorf("an RS256 token for an ES256 issuer: %v", err)
	}

	off := false
	_, err = call[store.TrustedIssuer](e, issuers.OpUpdate, sysRoot, issuers.UpdateInput{
		TenantID: e.a.ID, ID: e.ti.ID, Enabled: &off})
	if err != nil {
		t.Fatal(err)
	}
	es := e.idp.Sign(t, issuerstest.KidES256, e.claims())
	if _, err := e.verify(es); errs.CodeOf(err) != errs.Unauthenticated ||
		!e.logged("issuer disabled") {
		t.Errorf("a disabled issuer's token: %v", err)
	}

	// Tenant b does not trust the issuer at all.
	_, err = call[issuers.VerifyOutput](e, issuers.OpVerify, svc,
		issuers.VerifyInput{Token: issuers.Token(es), TenantID: e.b.ID})
	if errs.CodeOf(err) != errs.Unauthenticated {
		t.Errorf("another tenant's verification: %v", err)
	}
}

func TestVerifyIsForServicesOnly(t *testing.T) {
	e := newEnv(t)
	token := e.idp.Sign(t, issuerstest.KidES256, e.claims())
	admin := function.Caller{Subject: "adm", Tenant: e.a.ID, Roles: []string{function.RoleTenantAdmin}}
	for _, c := range []function.Caller{{}, sysRoot, admin} {
		_, err := call[issuers.VerifyOutput](e, issuers.OpVerify, c,
			issuers.VerifyInput{Token: issuers.Token(token), TenantID: e.a.ID})
		if errs.CodeOf(err) != errs.PermissionDenied {
			t.Errorf("verify as %q = %v, want PERMISSION_DENIED", c.Subject, err)
		}
	}
}

func TestKeySetsAreCachedAndRefreshedOnce(t *testing.T) {
	e := newEnv(t)
	es := func() string { return e.idp.Sign(t, issuerstest.KidES256, e.claims()) }
	for range 5 {
		if _, err := e.verify(es()); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.idp.Fetches.Load(); n != 1 {
		t.Errorf("5 verifications fetched the set %d times, want 1", n)
	}

	e.clk.Add(10*time.Minute + time.Second)
	if _, err := e.verify(es()); err != nil {
		t.Fatal(err)
	}
	if n := e.idp.Fetches.Load(); n != 2 {
		t.Errorf("after the TTL: %d fetches, want 2", n)
	}

	// A rotation: the issuer signs with a key it publishes only now.
	e.idp.AddUnpublishedKey(t, "es-2", jwa.ES256())
	rotated := e.idp.Sign(t, "es-2", e.claims())
	e.clk.Add(31 * time.Second)
	if _, err := e.verify(rotated); errs.CodeOf(err) != errs.Unauthenticated {
		t.Fatalf("a kid not yet published: %v", err)
	}
	if n := e.idp.Fetches.Load(); n != 3 {
		t.Errorf("an unknown kid made %d fetches in all, want 3", n)
	}
	e.idp.Publish("es-2")
	for range 3 {
		if _, err := e.verify(rotated); errs.CodeOf(err) != errs.Unauthenticated ||
			!e.logged("unknown kid (key set fetched recently)") {
			t.Fatalf("within 30 s of the last fetch: %v", err)
		}
	}
	if n := e.idp.Fetches.Load(); n != 3 {
		t.Errorf("unknown kids within 30 s fetched again: %d fetches, want 3", n)
	}
	e.clk.Add(30 * time.Second)
	if _, err := e.verify(rotated); err != nil {
		t.Fatalf("after 30 s the rotated key is fetched: %v", err)
	}
	if n := e.idp.Fetches.Load(); n != 4 {
		t.Errorf("%d fetches, want 4", n)
	}
}

func TestUnreachableKeysAreUnavailable(t *testing.T) {
	e := newEnv(t)
	es := func() string { return e.idp.Sign(t, issuerstest.KidES256, e.claims()) }
	e.idp.SetDown(true)
	if _, err := e.verify(es()); errs.CodeOf(err) != errs.Unavailable {
		t.Fatalf("with the set down: %v, want UNAVAILABLE", err)
	}

	e.idp.SetDown(false)
	e.clk.Add(2 * time.Second)
	if _, err := e.verify(es()); err != nil {
		t.Fatalf("with the set back: %v", err)
	}
	e.idp.SetDown(true)
	e.clk.Add(11 * time.Minute)
	if _, err := e.verify(es()); err != nil {
		t.Errorf("a kept set serves past its TTL when the fetch fails: %v", err)
	}
	e.clk.Add(25 * time.Hour)
	if _, err := e.verify(es()); errs.CodeOf(err) != errs.Unavailable {
		t.Errorf("a set a day stale: %v, want UNAVAILABLE", err)
	}

	gone := issuerstest.New(t)
	_, err := call[store.TrustedIssuer](e, issuers.OpUpdate, sysRoot, issuers.UpdateInput{
		TenantID: e.a.ID, ID: e.ti.ID, JWKSURI: ptr("http://127.0.0.1:1/jwks.json")})
	if err != nil {
		t.Fatal(err)
	}
	_ = gone
	if _, err := e.verify(es()); errs.CodeOf(err) != errs.Unavailable {
		t.Errorf("a set nobody answers for: %v, want UNAVAILABLE", err)
	}
}

func TestInlineKeySet(t *testing.T) {
	e := newEnv(t)
	idp := issuerstest.New(t)
	_, err := call[store.TrustedIssuer](e, issuers.OpCreate, sysRoot, issuers.CreateInput{
		TenantID: e.a.ID, Issuer: "https://inline.example.com", JWKS: idp.KeySet(t),
		Audiences: []string{"api://ward"}})
	if err != nil {
		t.Fatal(err)
	}
	idp.SetDown(true) // never asked
	c := e.claims()
	c["iss"] = "https://inline.example.com"
	got, err := e.verify(idp.Sign(t, issuerstest.KidRS256, c))
	if err != nil || got.Issuer != "https://inline.example.com" {
		t.Fatalf("verify = %+v, %v", got, err)
	}
	if n := idp.Fetches.Load(); n != 0 {
		t.Errorf("an inline set was fetched %d times", n)
	}
}

func ptr[T any](v T) *T { return &v }

func BenchmarkVerify(b *testing.B) {
	e := newEnv(b)
	c := e.claims()
	c["exp"] = time.Now().Add(time.Hour).Unix()
	token := e.idp.Sign(b, issuerstest.KidES256, c)
	if _, err := e.verify(token); err != nil { // fetches the set once
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.verify(token); err != nil {
			b.Fatal(err)
		}
	}
}
