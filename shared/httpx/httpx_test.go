package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/function"
)

func TestMiddlewareKeepsSaneRequestIDs(t *testing.T) {
	var seen string
	h := Middleware(slog.New(slog.NewTextHandler(io.Discard, nil)), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = function.RequestID(r.Context())
	}))
	cases := []struct {
		in      string
		keepsIt bool
	}{
		{"abc-123_x.y", true},
		{"", false},
		{"has space", false},
		{"inject\r\nX-Evil: 1", false},
		{strings.Repeat("a", 65), false},
	}
	for _, tc := range cases {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set(RequestIDHeader, tc.in)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		out := rec.Header().Get(RequestIDHeader)
		if out != seen || out == "" {
			t.Errorf("%q: header %q, context %q; want the same non-empty ID", tc.in, out, seen)
		}
		if (out == tc.in) != tc.keepsIt {
			t.Errorf("%q: kept = %v, want %v", tc.in, out == tc.in, tc.keepsIt)
		}
	}
}

func TestMiddlewareLogsOneLineAndRecoversPanics(t *testing.T) {
	var logs bytes.Buffer
	h := Middleware(slog.New(slog.NewJSONHandler(&logs, nil)), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/graphql", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", rec.Code)
	}
	var access map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "request" {
			access = m
		}
	}
	if access == nil || access["status"] != float64(500) || access["path"] != "/graphql" || access["request_id"] == "" {
		t.Errorf("access line = %v\nlogs:\n%s", access, logs.String())
	}
}

func TestServeFinishesInFlightRequests(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release // held until shutdown has closed the listener
		io.WriteString(w, "done")
	})
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- Serve(ctx, "127.0.0.1:0", h, 5*time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)),
			func(a net.Addr) { addrc <- a })
	}()
	addr := <-addrc

	body := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr.String())
		if err != nil {
			body <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body <- string(b)
	}()
	<-started
	cancel()
	for { // shutdown has begun once new connections are refused
		c, err := net.Dial("tcp", addr.String())
		if err != nil {
			break
		}
		c.Close()
		time.Sleep(time.Millisecond)
	}
	close(release)
	if got := <-body; got != "done" {
		t.Errorf("in-flight request got %q, want %q", got, "done")
	}
	if err := <-errc; err != nil {
		t.Errorf("Serve = %v", err)
	}
}
