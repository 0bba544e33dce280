package ldap

import (
	"strings"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"
)

// Search filters (RFC 4511 section 4.5.1.7) arrive as BER on the wire.
// The listener library hands them over in their RFC 4515 string form,
// which go-ldap wrote with every value escaped; that string is compiled
// back into the BER tree by go-ldap and evaluated here. No filter is ever
// assembled from values by string concatenation.

type tristate int8

const (
	isFalse tristate = iota
	isTrue
	isUndefined
)

// filter is a compiled search filter.
type filter struct{ root *ber.Packet }

func compileFilter(s string) (filter, error) {
	if s == "" {
		s = "(objectClass=*)"
	}
	p, err := goldap.CompileFilter(s)
	if err != nil {
		return filter{}, err
	}
	return filter{root: p}, nil
}

// match evaluates the filter over e per RFC 4511 section 4.5.1.7:
// an entry is returned only when the filter is TRUE.
func (f filter) match(e *entry) bool { return eval(f.root, e) == isTrue }

func eval(p *ber.Packet, e *entry) tristate {
	switch p.Tag {
	case goldap.FilterAnd:
		res := isTrue
		for _, c := range p.Children {
			switch eval(c, e) {
			case isFalse:
				return isFalse
			case isUndefined:
				res = isUndefined
			}
		}
		return res
	case goldap.FilterOr:
		res := isFalse
		for _, c := range p.Children {
			switch eval(c, e) {
			case isTrue:
				return isTrue
			case isUndefined:
				res = isUndefined
			}
		}
		return res
	case goldap.FilterNot:
		if len(p.Children) != 1 {
			return isUndefined
		}
		switch eval(p.Children[0], e) {
		case isTrue:
			return isFalse
		case isFalse:
			return isTrue
		}
		return isUndefined
	case goldap.FilterPresent:
		if e.get(decode(p)) != nil {
			return isTrue
		}
		return isFalse
	case goldap.FilterEqualityMatch, goldap.FilterApproxMatch,
		goldap.FilterGreaterOrEqual, goldap.FilterLessOrEqual:
		if len(p.Children) != 2 {
			return isUndefined
		}
		a := e.get(decode(p.Children[0]))
		if a == nil {
			return isUndefined
		}
		norm := fold
		if dnValued[canonical(a.name)] && p.Tag == goldap.FilterEqualityMatch {
			norm = normalDN
		}
		want := norm(decode(p.Children[1]))
		for _, v := range a.vals {
			got := norm(v)
			var ok bool
			switch p.Tag {
			case goldap.FilterGreaterOrEqual:
				ok = got >= want
			case goldap.FilterLessOrEqual:
				ok = got <= want
			default:
				// Approximate matching falls back to equality, which
				// RFC 4511 allows a server without a better rule.
				ok = got == want
			}
			if ok {
				return isTrue
			}
		}
		return isFalse
	case goldap.FilterSubstrings:
		if len(p.Children) != 2 {
			return isUndefined
		}
		a := e.get(decode(p.Children[0]))
		if a == nil {
			return isUndefined
		}
		for _, v := range a.vals {
			if substringsMatch(fold(v), p.Children[1].Children) {
				return isTrue
			}
		}
		return isFalse
	}
	// Extensible matching (and anything unknown) is Undefined: Ward
	// implements no matching rules beyond the attributes' own.
	return isUndefined
}

// substringsMatch applies initial, any and final parts in order.
func substringsMatch(v string, parts []*ber.Packet) bool {
	for i, part := range parts {
		s := fold(decode(part))
		switch part.Tag {
		case goldap.FilterSubstringsInitial:
			if i != 0 || !strings.HasPrefix(v, s) {
				return false
			}
			v = v[len(s):]
		case goldap.FilterSubstringsAny:
			k := strings.Index(v, s)
			if k < 0 {
				return false
			}
			v = v[k+len(s):]
		case goldap.FilterSubstringsFinal:
			if i != len(parts)-1 || !strings.HasSuffix(v, s) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func decode(p *ber.Packet) string { return ber.DecodeString(p.Data.Bytes()) }

// fold is Ward's matching for every attribute it publishes: all are
// case-insensitive strings (caseIgnoreMatch, RFC 4517 section 4.2.11),
// with insignificant spaces collapsed.
func fold(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
