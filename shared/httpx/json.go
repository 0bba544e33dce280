package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
)

// MaxJSONBody bounds the JSON body of a plain HTTP endpoint.
const MaxJSONBody = 1 << 20

// WriteJSON answers v as JSON with status, never cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError,
			[]byte(`{"error":{"code":"INTERNAL","message":"internal error"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// ErrorBody is the JSON of an error answer: the client-safe part of an
// errs.Error.
type ErrorBody struct {
	Error struct {
		Code    errs.Code `json:"code"`
		Message string    `json:"message"`
		Field   string    `json:"field,omitempty"`
	} `json:"error"`
}

// WriteError answers err as JSON with the status its code maps to. An
// internal fault is logged with its cause; the client sees only the
// public part (errs.Public).
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	p := errs.Public(err)
	if p.Code == errs.Internal || p.Code == errs.Unavailable {
		log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("request_id", function.RequestID(r.Context())),
			slog.String("path", r.URL.Path), slog.String("error", err.Error()))
	}
	var body ErrorBody
	body.Error.Code, body.Error.Message, body.Error.Field = p.Code, p.Message, p.Field
	if p.Code == errs.RateLimited {
		w.Header().Set("Retry-After", "1")
	}
	WriteJSON(w, p.Code.HTTPStatus(), body)
}

// ReadJSON decodes a request's JSON body into v strictly: application/json,
// at most MaxJSONBody bytes, no unknown fields, no trailing data. An empty
// body decodes as {}.
func ReadJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !isJSON(ct) {
		return errs.New(errs.InvalidArgument, "content type must be application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxJSONBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return errs.New(errs.TooLarge, "request body exceeds %d bytes", MaxJSONBody)
		}
		return errs.New(errs.InvalidArgument, "could not read request body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errs.New(errs.InvalidArgument, "malformed JSON body")
	}
	if dec.More() {
		return errs.New(errs.InvalidArgument, "malformed JSON body: trailing data")
	}
	return nil
}

func isJSON(ct string) bool {
	mt, _, _ := bytes.Cut([]byte(ct), []byte(";"))
	return string(bytes.TrimSpace(mt)) == "application/json"
}

// ClientIP is the address of the client that sent r: the connection's
// peer (on AWS Lambda, the source IP API Gateway saw). Forwarding headers
// are not read: Ward is reached directly, or through API Gateway, which
// gives the peer. A deployment behind another proxy must set the peer
// there (the PROXY protocol, or a proxy that rewrites RemoteAddr).
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return ""
	}
	return addr.Unmap().String()
}
