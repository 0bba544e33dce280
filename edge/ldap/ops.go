package ldap

import (
	"context"
	"log/slog"
	"time"

	"github.com/jimlambrt/gldap"

	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/httpx"
)

// opTimeout bounds the work of one LDAP operation.
const opTimeout = 30 * time.Second

// begin starts an operation: a context with a fresh request ID, and the
// function that logs its one line at the end. The line names the
// operation, its result code, the connection and the tenant's ID; never
// a DN, a username or a password.
func (l *listener) begin(op string, r *gldap.Request) (context.Context,
	func(code int, tenantID string, err error)) {
	id := httpx.NewRequestID()
	ctx, cancel := context.WithTimeout(function.WithRequestID(context.Background(), id),
		opTimeout)
	start := time.Now()
	return ctx, func(code int, tenantID string, err error) {
		cancel()
		level := slog.LevelInfo
		attrs := []slog.Attr{
			slog.String("op", op), slog.Int("result", code),
			slog.Int("conn", r.ConnectionID()), slog.Bool("ldaps", l.tls),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("request_id", id),
		}
		if tenantID != "" {
			attrs = append(attrs, slog.String("tenant", tenantID))
		}
		if code == gldap.ResultOther || code == gldap.ResultUnavailable {
			// A fault of Ward or a dependency: its cause is for the log.
			level = slog.LevelError
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		l.srv.log.LogAttrs(ctx, level, "ldap", attrs...)
	}
}

// startTLS upgrades a plain connection (RFC 4511 section 4.14, RFC 4513
// section 3). The library runs it alone on its connection, before any
// later request is read.
func (l *listener) startTLS(w *gldap.ResponseWriter, r *gldap.Request) {
	_, done := l.begin("starttls", r)
	sess := l.session(r.ConnectionID())
	code, msg := gldap.ResultSuccess, ""
	switch {
	case l.srv.cfg.TLS == nil:
		// RFC 4511 section 4.14.2: protocolError when TLS is not
		// supported at all.
		code, msg = gldap.ResultProtocolError, "TLS is not configured"
	case sess.isTLS():
		code, msg = gldap.ResultOperationsError, "TLS is already established"
	}
	resp := r.NewExtendedResponse(gldap.WithResponseCode(code))
	resp.SetResponseName(gldap.ExtendedOperationStartTLS)
	resp.SetDiagnosticMessage(msg)
	if err := w.Write(resp); err != nil || code != gldap.ResultSuccess {
		done(code, "", err)
		return
	}
	if err := r.StartTLS(l.srv.cfg.TLS); err != nil {
		// The handshake failed; the client cannot go on in plain text
		// with any certainty, and the library closes the connection when
		// the next read fails.
		l.srv.log.Warn("ldap starttls handshake failed", "conn", r.ConnectionID())
		done(gldap.ResultProtocolError, "", nil)
		return
	}
	sess.mu.Lock()
	sess.tls = true
	sess.mu.Unlock()
	done(code, "", nil)
}

// whoAmI answers RFC 4532's "Who am I?" with the bound DN, or an empty
// authorization identity for an anonymous connection.
func (l *listener) whoAmI(w *gldap.ResponseWriter, r *gldap.Request) {
	_, done := l.begin("whoami", r)
	who := l.session(r.ConnectionID()).identity()
	resp := r.NewExtendedResponse(gldap.WithResponseCode(gldap.ResultSuccess))
	// The library's extended response carries no value; the bound DN is
	// sent as the diagnostic message instead.
	// Known shortcoming: RFC 4532 puts "dn:<DN>" in responseValue, which
	// clients such as ldapwhoami read; gldap v0.1.14 cannot send it.
	if !who.anonymous() {
		resp.SetDiagnosticMessage("dn:" + who.dn)
	}
	_ = w.Write(resp)
	done(gldap.ResultSuccess, who.tenantID, nil)
}

// unsupported answers every other request the library decodes (unknown
// extended operations).
//
// Known shortcoming: gldap v0.1.14 does not decode compare, modify DN,
// abandon or SASL bind requests at all; it drops the connection instead
// of answering them.
func (l *listener) unsupported(w *gldap.ResponseWriter, r *gldap.Request) {
	_, done := l.begin("unsupported", r)
	_ = w.Write(r.NewResponse(gldap.WithResponseCode(gldap.ResultUnwillingToPerform),
		gldap.WithDiagnosticMessage("operation not supported")))
	done(gldap.ResultUnwillingToPerform, "", nil)
}
