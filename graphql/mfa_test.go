package graphql

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

func TestFactorsThroughGraphQL(t *testing.T) {
	w := newSessionWorld(t)
	annTok, _ := w.signIn(t, w.ann)
	bobTok, _ := w.signIn(t, w.bob)

	d := w.must(t, annTok, `mutation { enrollTotp(name: "phone") { factorId type secret otpauthUri qrCode } }`, nil)
	factorID, _ := get(d, "enrollTotp", "factorId").(string)
	secret, _ := get(d, "enrollTotp", "secret").(string)
	if uri, _ := get(d, "enrollTotp", "otpauthUri").(string); !strings.HasPrefix(uri, "otpauth://totp/") ||
		secret == "" {
		t.Fatalf("enrollTotp = %v", d)
	}
	if qr, _ := get(d, "enrollTotp", "qrCode").(string); !strings.HasPrefix(qr, "data:image/png;base64,") {
		t.Errorf("qrCode = %.40q", qr)
	}

	got := w.hs.query(t, annTok, `mutation($f: ID!) { confirmFactor(factorId: $f, code: "000000") { id } }`,
		map[string]any{"f": factorID})
	if !slices.Equal(got.codes(), []string{"UNAUTHENTICATED"}) {
		t.Errorf("confirm with a wrong code: %s", got.raw)
	}
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	d = w.must(t, annTok, `mutation($f: ID!, $c: String!) { confirmFactor(factorId: $f, code: $c) { id confirmed name } }`,
		map[string]any{"f": factorID, "c": code})
	if get(d, "confirmFactor", "confirmed") != true || get(d, "confirmFactor", "name") != "phone" {
		t.Errorf("confirmFactor = %v", d)
	}

	d = w.must(t, annTok, `mutation { regenerateRecoveryCodes { codes } }`, nil)
	if codes, _ := get(d, "regenerateRecoveryCodes", "codes").([]any); len(codes) != 10 {
		t.Errorf("recovery codes = %v", d)
	}
	d = w.must(t, annTok, `{ myFactors { id type confirmed } }`, nil)
	if mine, _ := get(d, "myFactors").([]any); len(mine) != 2 {
		t.Errorf("myFactors = %v", d)
	}

	// Another user sees none of it and removes nothing.
	d = w.must(t, bobTok, `{ myFactors { id } }`, nil)
	if theirs, _ := get(d, "myFactors").([]any); len(theirs) != 0 {
		t.Errorf("bob's factors = %v", d)
	}
	got = w.hs.query(t, bobTok, `mutation($f: ID!) { removeFactor(factorId: $f) }`,
		map[string]any{"f": factorID})
	if !slices.Equal(got.codes(), []string{"NOT_FOUND"}) {
		t.Errorf("bob removes ann's factor: %s", got.raw)
	}
	for who, tok := range map[string]string{"bob": bobTok, "globex's admin": w.globexAdmin,
		"the right org's admin": w.rightAdmin} {
		got = w.hs.query(t, tok, `mutation($t: ID!, $u: ID!) { resetUserFactors(tenantId: $t, userId: $u) }`,
			map[string]any{"t": w.acme, "u": w.ann})
		if c := got.codes(); len(c) != 1 || (c[0] != "NOT_FOUND" && c[0] != "PERMISSION_DENIED") {
			t.Errorf("%s resets ann's factors: %s", who, got.raw)
		}
	}

	d = w.must(t, w.leftAdmin, `query($t: ID!, $u: ID!) { userFactors(tenantId: $t, userId: $u) { id } }`,
		map[string]any{"t": w.acme, "u": w.ann})
	if listed, _ := get(d, "userFactors").([]any); len(listed) != 2 {
		t.Errorf("the admin of ann's organization lists %v", d)
	}
	d = w.must(t, annTok, `mutation($f: ID!) { removeFactor(factorId: $f) }`, map[string]any{"f": factorID})
	if get(d, "removeFactor") != factorID {
		t.Errorf("removeFactor = %v", d)
	}
	d = w.must(t, w.acmeAdmin, `mutation($t: ID!, $u: ID!) { resetUserFactors(tenantId: $t, userId: $u) }`,
		map[string]any{"t": w.acme, "u": w.ann})
	if n, _ := get(d, "resetUserFactors").(float64); n != 1 {
		t.Errorf("resetUserFactors = %v, want 1 (the recovery codes)", d)
	}
}
