package ldap

import (
	"bytes"
	"errors"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/jimlambrt/gldap"
)

// modValues recovers the values of one modification.
//
// gldap v0.1.14 hands over a modification's value SET as one string
// holding the SET's encoded contents, not as its values. They are
// decoded here: a sequence of OCTET STRINGs (RFC 4511 section 4.6,
// AttributeValue) that must cover the string exactly.
func modValues(c gldap.Change) ([]string, error) {
	var out []string
	for _, raw := range c.Modification.Vals {
		r := bytes.NewReader([]byte(raw))
		for r.Len() > 0 {
			p, err := ber.ReadPacket(r)
			if err != nil {
				return nil, err
			}
			if p.ClassType != ber.ClassUniversal || p.TagType != ber.TypePrimitive ||
				p.Tag != ber.TagOctetString {
				return nil, errors.New("a modification value is not an OCTET STRING")
			}
			out = append(out, p.Data.String())
		}
	}
	return out, nil
}
