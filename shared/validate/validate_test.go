package validate

import (
	"errors"
	"strings"
	"testing"

	"github.com/wardhq/ward/shared/errs"
)

func TestID(t *testing.T) {
	if err := ID("id", NewID()); err != nil {
		t.Errorf("a fresh ID is refused: %v", err)
	}
	for _, bad := range []string{
		"", "nope", strings.ToUpper(NewID()), "{" + NewID() + "}",
		"6ba7b810-9dad-41d1-80b4-00c04fd430c8", // version 4
		"00000000-0000-0000-0000-000000000000",
		"0190b0b0-0000-7000-c000-000000000000", // wrong variant
	} {
		if err := ID("id", bad); !errors.Is(err, errs.ErrInvalidArgument) {
			t.Errorf("ID(%q) = %v, want INVALID_ARGUMENT", bad, err)
		}
	}
}

func TestUsernameAndEmailAreFolded(t *testing.T) {
	u, err := Username("u", "Alice.Smith")
	if err != nil || u != "alice.smith" {
		t.Errorf("Username = %q, %v", u, err)
	}
	e, err := Email("e", "Alice@Example.COM")
	if err != nil || e != "alice@example.com" {
		t.Errorf("Email = %q, %v", e, err)
	}
	for _, bad := range []string{"", "a b", ".dot", strings.Repeat("a", 65), "é"} {
		if _, err := Username("u", bad); err == nil {
			t.Errorf("Username(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"x", "a@b@c", "A <a@b.c>", "a@b.c\r\nBcc: x@y.z", strings.Repeat("a", 250) + "@b.cc"} {
		if _, err := Email("e", bad); err == nil {
			t.Errorf("Email(%q) accepted", bad)
		}
	}
}

func TestSlugAndText(t *testing.T) {
	for _, ok := range []string{"abc", "acme-corp", "a1b"} {
		if Slug("n", ok) != nil {
			t.Errorf("Slug(%q) refused", ok)
		}
	}
	for _, bad := range []string{"ab", "-abc", "abc-", "Abc", "a_b", strings.Repeat("a", 64)} {
		if Slug("n", bad) == nil {
			t.Errorf("Slug(%q) accepted", bad)
		}
	}
	if Text("t", "héllo wörld", 11) != nil || Text("t", "abc", 2) == nil || Text("t", "a\nb", 10) == nil ||
		Text("t", "\xff", 10) == nil {
		t.Error("Text checks are wrong")
	}
}

func TestTenantAndIDNamesTheBadField(t *testing.T) {
	var e *errs.Error
	if err := TenantAndID("x", NewID()); !errors.As(err, &e) || e.Field != "tenantId" {
		t.Errorf("bad tenant: %v", err)
	}
	if err := TenantAndID(NewID(), "x"); !errors.As(err, &e) || e.Field != "id" {
		t.Errorf("bad id: %v", err)
	}
	if err := TenantAndID(NewID(), NewID()); err != nil {
		t.Errorf("good pair: %v", err)
	}
}
