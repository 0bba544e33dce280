package httpfn

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers of a signed invocation.
const (
	// TimestampHeader holds the signing time in Unix seconds.
	TimestampHeader = "X-Ward-Timestamp"
	// SignatureHeader holds "v1=" and the hex HMAC-SHA256 of the request.
	SignatureHeader = "X-Ward-Signature"
)

// MaxSkew is how far a signature's timestamp may be from the server's
// clock, in either direction. Within it a captured request can be replayed:
// the invoke endpoint keeps no record of the signatures it has seen (see
// Handler).
const MaxSkew = 5 * time.Minute

// MinKeyBytes is the shortest invoke key accepted.
const MinKeyBytes = 32

const (
	sigVersion = "v1"
	// sigContext separates Ward invoke signatures from any other MAC that a
	// careless operator computes with the same key.
	sigContext = "ward-invoke-v1"
)

// CheckKey reports whether key may be used for signing. An empty key is
// valid for Handler (it disables the invoke endpoint) but not for signing.
func CheckKey(key []byte) error {
	if len(key) != 0 && len(key) < MinKeyBytes {
		return fmt.Errorf("httpfn: invoke key is %d bytes, want at least %d", len(key), MinKeyBytes)
	}
	return nil
}

// Sign returns the SignatureHeader value for an invocation of function fn
// with body, signed at Unix time ts. The function name is part of the MAC,
// so that a request signed for one function is refused by every other one
// that shares the key.
func Sign(key []byte, fn string, ts int64, body []byte) string {
	return sigVersion + "=" + hex.EncodeToString(mac(key, fn, ts, body))
}

// SignRequest sets both signature headers on r for body, which must be
// exactly the bytes r will send.
func SignRequest(r *http.Request, key []byte, fn string, now time.Time, body []byte) {
	ts := now.Unix()
	r.Header.Set(TimestampHeader, strconv.FormatInt(ts, 10))
	r.Header.Set(SignatureHeader, Sign(key, fn, ts, body))
}

func mac(key []byte, fn string, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	// The timestamp is all digits, so the newline after the function name
	// cannot be moved by a crafted name without changing the timestamp.
	fmt.Fprintf(m, "%s\n%s\n%d\n", sigContext, fn, ts)
	m.Write(body)
	return m.Sum(nil)
}

// Reasons a signature is refused. They go to the server's log only; the
// client is told no more than that the signature is missing or invalid.
var (
	errNoSignature    = errors.New("signature headers missing")
	errBadTimestamp   = errors.New("timestamp malformed")
	errStaleTimestamp = errors.New("timestamp outside the allowed skew")
	errBadSignature   = errors.New("signature malformed")
	errWrongSignature = errors.New("signature does not match")
)

// verify checks the signature headers h against body for function fn.
func verify(key []byte, fn string, h http.Header, body []byte, now time.Time) error {
	tsText, sigText := h.Get(TimestampHeader), h.Get(SignatureHeader)
	if tsText == "" || sigText == "" {
		return errNoSignature
	}

	if len(tsText) > 19 || strings.TrimLeft(tsText, "0123456789") != "" {
		return errBadTimestamp
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return errBadTimestamp
	}
	signedAt := time.Unix(ts, 0)
	if signedAt.Before(now.Add(-MaxSkew)) || signedAt.After(now.Add(MaxSkew)) {
		return errStaleTimestamp
	}

	hexMAC, ok := strings.CutPrefix(sigText, sigVersion+"=")
	if !ok || len(hexMAC) != 2*sha256.Size {
		return errBadSignature
	}
	got, err := hex.DecodeString(hexMAC)
	if err != nil {
		return errBadSignature
	}
	// hmac.Equal takes the same time wherever the first differing byte is.
	if !hmac.Equal(got, mac(key, fn, ts, body)) {
		return errWrongSignature
	}
	return nil
}
