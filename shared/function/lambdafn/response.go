package lambdafn

import (
	"bytes"
	"encoding/base64"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// responseWriter records what a route writes, as a plain HTTP server would
// send it: the headers are taken when the status is written, the content
// type is sniffed when none was set, and 204, 304 and HEAD answers carry no
// body.
//
// The API proxy library has a writer of its own, but it keeps one
// Set-Cookie header of several; this one moves every Set-Cookie into the
// event's cookies list, which payload 2.0 keeps apart from the headers.
//
// Known shortcoming: the whole answer is buffered, and Lambda refuses an
// answer over 6 MB (API Gateway then answers 500), so routes cannot stream
// and must keep their bodies well below that.
type responseWriter struct {
	header http.Header
	sent   http.Header // header as it was when the status was written
	status int
	body   bytes.Buffer
}

func newResponseWriter() *responseWriter {
	return &responseWriter{header: http.Header{}}
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		// Informational answers cannot cross API Gateway; the final status
		// follows.
		return
	}
	w.status = code
	w.sent = w.header.Clone()
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.body.Write(p)
}

// result is the HTTP API answer of what was written, for a request of the
// given method.
func (w *responseWriter) result(method string) events.APIGatewayV2HTTPResponse {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	h := w.sent
	body := w.body.Bytes()
	if w.status == http.StatusNoContent || w.status == http.StatusNotModified ||
		method == http.MethodHead {
		body = nil
	}
	if _, set := h["Content-Type"]; !set && len(body) > 0 {
		h.Set("Content-Type", http.DetectContentType(body))
	}

	resp := events.APIGatewayV2HTTPResponse{StatusCode: w.status, Headers: map[string]string{}}
	for k, vs := range h {
		if len(vs) == 0 {
			continue
		}
		if k == "Set-Cookie" {
			resp.Cookies = append(resp.Cookies, vs...)
			continue
		}
		// A field sent several times means the same as its values joined
		// by commas (RFC 9110 §5.3); Set-Cookie is the exception, above.
		resp.Headers[k] = strings.Join(vs, ", ")
	}

	if len(body) == 0 {
		return resp
	}
	if isText(h, body) {
		resp.Body = string(body)
	} else {
		resp.Body = base64.StdEncoding.EncodeToString(body)
		resp.IsBase64Encoded = true
	}
	return resp
}

// isText reports whether body can travel in the event as a string: a
// textual, unencoded content type and valid UTF-8. Everything else is sent
// base64-encoded, which API Gateway decodes.
func isText(h http.Header, body []byte) bool {
	if ce := h.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return false
	}
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return false
	}
	textual := strings.HasPrefix(mt, "text/") ||
		strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml") ||
		mt == "application/json" || mt == "application/xml" ||
		mt == "application/javascript" || mt == "application/x-www-form-urlencoded" ||
		mt == "application/graphql"
	return textual && utf8.Valid(body)
}
