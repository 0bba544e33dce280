// Package httpx holds what every Ward HTTP server shares: request IDs,
// one access-log line per request, panic recovery, and a server that
// finishes in-flight requests when it is told to stop.
package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/wardhq/ward/shared/function"
)

// RequestIDHeader carries the request ID in and out.
const RequestIDHeader = "X-Request-Id"

// NewRequestID returns a fresh random request ID.
func NewRequestID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// RequestID returns the inbound request ID when it is sane (1 to 64
// characters of [A-Za-z0-9._-], fit for logs and headers as it is), else a
// fresh one.
func RequestID(given string) string {
	if saneRequestID(given) {
		return given
	}
	return NewRequestID()
}

func saneRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '-' || r == '_' || r == '.'
		if !ok {
			return false
		}
	}
	return true
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Middleware gives each request an ID (kept from X-Request-Id when sane),
// recovers panics as 500s, and logs one line per request at info.
func Middleware(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := RequestID(r.Header.Get(RequestIDHeader))
		r.Header.Set(RequestIDHeader, id)
		w.Header().Set(RequestIDHeader, id)
		ctx := function.WithRequestID(r.Context(), id)
		sw := &statusWriter{ResponseWriter: w}

		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(ctx, "panic serving request", "request_id", id, "panic", p)
				if sw.status == 0 {
					http.Error(sw, `{"error":"internal error"}`, http.StatusInternalServerError)
				}
			}
			log.InfoContext(ctx, "request",
				"method", r.Method,
				"path", r.URL.Path,
				"status", sw.status,
				"bytes", sw.bytes,
				"duration_ms", float64(time.Since(start).Microseconds())/1000,
				"request_id", id,
			)
		}()
		next.ServeHTTP(sw, r.WithContext(ctx))
	})
}

// Serve serves h on addr until ctx ends, then stops accepting connections
// and waits up to grace for in-flight requests to finish. ready, when not
// nil, is called with the bound address once the listener is open.
func Serve(ctx context.Context, addr string, h http.Handler, grace time.Duration, log *slog.Logger, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", grace.String())
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// NewLogger returns Ward's structured logger.
func NewLogger(w interface{ Write([]byte) (int, error) }, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
