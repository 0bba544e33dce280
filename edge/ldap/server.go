// Package ldap is Ward's LDAP listener (RFC 4511): a directory view of
// each tenant's users and groups under o=<tenant>,dc=ward, simple binds
// checked by Ward's users and API token services, searches with filters
// and paged results (RFC 2696), and adds, modifies and deletes by
// administrators, mapped to Ward's operations and reached through an
// invoke.Invoker.
// LDAPS and StartTLS (RFC 4513 section 3) are served when a certificate
// is configured.
package ldap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jimlambrt/gldap"

	"github.com/wardhq/ward/shared/invoke"
)

// DefaultSizeLimit bounds the entries of one search (or one page).
const DefaultSizeLimit = 1000

// Config configures a Server.
type Config struct {
	// Addr is the plain LDAP address; StartTLS is offered on it when TLS
	// is set. Empty: no plain listener.
	Addr string
	// TLSAddr is the LDAPS address (TLS from the first byte). Needs TLS.
	TLSAddr string
	// TLS is the server certificate's configuration, for LDAPS and
	// StartTLS. Nil: neither is offered.
	TLS *tls.Config
	// AllowAnonymous admits anonymous binds (RFC 4513 section 5.1.1).
	// Off by default; even when on, anonymous clients read only the
	// root DSE.
	AllowAnonymous bool
	// SizeLimit bounds the entries of a search or a page; zero means
	// DefaultSizeLimit.
	SizeLimit int
	// InsecurePlainBinds admits binds in clear text on a plain listener
	// whose address is not a loopback one. Without it such a listener
	// asks for StartTLS first (confidentialityRequired), so that
	// passwords and tokens never cross a network unencrypted; on a
	// loopback address they do not cross one at all.
	InsecurePlainBinds bool
	// Invoker reaches Ward's operations.
	Invoker invoke.Invoker
	// Log receives one line per operation; nil: slog.Default().
	Log *slog.Logger
}

// Server serves the directory on its listeners.
type Server struct {
	cfg       Config
	dir       directory
	log       *slog.Logger
	listeners []*listener
	errc      chan error
	// listAlways serves every search from the listing, never from a plan
	// (plan.go): the tests and benchmarks compare the two with it.
	listAlways bool
}

// listener is one address with its own connections: gldap numbers
// connections per server, so sessions are kept per listener.
type listener struct {
	srv  *Server
	addr string
	tls  bool // LDAPS: every connection is TLS from the start
	ldap *gldap.Server

	mu       sync.Mutex
	sessions map[int]*session
	// bindNeedsTLS refuses binds on connections not yet upgraded.
	bindNeedsTLS bool
}

// New checks cfg and builds a server; Start opens the listeners.
func New(cfg Config) (*Server, error) {
	if cfg.Invoker == nil {
		return nil, errors.New("ldap: an invoker is required")
	}
	if cfg.Addr == "" && cfg.TLSAddr == "" {
		return nil, errors.New("ldap: no address to listen on")
	}
	if cfg.TLSAddr != "" && cfg.TLS == nil {
		return nil, errors.New("ldap: LDAPS needs a certificate")
	}
	if cfg.TLS != nil && cfg.TLS.MinVersion < tls.VersionTLS12 {
		c := cfg.TLS.Clone()
		c.MinVersion = tls.VersionTLS12
		cfg.TLS = c
	}
	if cfg.SizeLimit <= 0 {
		cfg.SizeLimit = DefaultSizeLimit
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Server{cfg: cfg, dir: directory{inv: cfg.Invoker}, log: cfg.Log, errc: make(chan error, 2)}
	for _, a := range []struct {
		addr string
		tls  bool
	}{{cfg.Addr, false}, {cfg.TLSAddr, true}} {
		if a.addr == "" {
			continue
		}
		l, err := s.newListener(a.addr, a.tls)
		if err != nil {
			return nil, err
		}
		s.listeners = append(s.listeners, l)
	}
	return s, nil
}

func (s *Server) newListener(addr string, isTLS bool) (*listener, error) {
	l := &listener{srv: s, addr: addr, tls: isTLS, sessions: map[int]*session{},
		bindNeedsTLS: !isTLS && !s.cfg.InsecurePlainBinds && !loopback(addr)}
	// The library's own log lines (broken connections, protocol errors)
	// go to Ward's log at warning level. Its debug level dumps packets,
	// bind passwords included, and must never be turned on.
	hl := hclog.New(&hclog.LoggerOptions{
		Name:   "ldap",
		Level:  hclog.Error,
		Output: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn).Writer(),
	})
	srv, err := gldap.NewServer(gldap.WithLogger(hl), gldap.WithOnClose(l.closed))
	if err != nil {
		return nil, err
	}
	mux, err := gldap.NewMux()
	if err != nil {
		return nil, err
	}
	if err := errors.Join(
		mux.Bind(l.bind),
		mux.Search(l.search),
		mux.Add(l.add),
		mux.Modify(l.modify),
		mux.Delete(l.delete),
		mux.ExtendedOperation(l.startTLS, gldap.ExtendedOperationStartTLS),
		mux.ExtendedOperation(l.whoAmI, gldap.ExtendedOperationWhoAmI),
		mux.DefaultRoute(l.unsupported),
		srv.Router(mux),
	); err != nil {
		return nil, err
	}
	l.ldap = srv
	return l, nil
}

// Start opens every listener and returns once they accept connections.
// A listener that fails later reports on Err.
func (s *Server) Start() error {
	for _, l := range s.listeners {
		// The library opens its own socket and does not report a failure
		// to do so before Ready; trying the address first turns the
		// common failures (a taken port, a bad address) into an error
		// here rather than a report on Err.
		probe, err := net.Listen("tcp", l.addr)
		if err != nil {
			return fmt.Errorf("ldap: %w", err)
		}
		probe.Close()
		var opts []gldap.Option
		if l.tls {
			opts = append(opts, gldap.WithTLSConfig(s.cfg.TLS))
		}
		go func(l *listener) {
			if err := l.ldap.Run(l.addr, opts...); err != nil {
				s.errc <- fmt.Errorf("ldap %s: %w", l.addr, err)
			}
		}(l)
		for !l.ldap.Ready() {
			select {
			case err := <-s.errc:
				return err
			default:
			}
			time.Sleep(time.Millisecond)
		}
		s.log.Info("ldap listening", "addr", l.addr, "ldaps", l.tls,
			"starttls", !l.tls && s.cfg.TLS != nil)
	}
	return nil
}

// Err reports a listener that stopped with an error after Start.
func (s *Server) Err() <-chan error { return s.errc }

// Shutdown closes the listeners at once and waits, until ctx ends, for
// open connections to finish. The library ends a connection after the
// request it is reading, with a notice of disconnection (RFC 4511
// section 4.4.1).
//
// Known shortcoming: the library cannot interrupt a connection that sits
// idle between requests; such a connection ends only after its next
// request (which is still served) or when the client leaves. Shutdown
// then returns ctx's error, and the process exiting closes what is left.
// Nor does the library bound how long a connection may stay idle.
func (s *Server) Shutdown(ctx context.Context) error {
	done := make(chan error, len(s.listeners))
	for _, l := range s.listeners {
		go func(l *listener) { done <- l.ldap.Stop() }(l)
	}
	var errs []error
	for range s.listeners {
		select {
		case err := <-done:
			errs = append(errs, err)
		case <-ctx.Done():
			return fmt.Errorf("ldap: connections still open at the end of the grace period: %w",
				ctx.Err())
		}
	}
	return errors.Join(errs...)
}

// loopback reports whether addr listens on a loopback address only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (l *listener) session(connID int) *session {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.sessions[connID]
	if !ok {
		s = &session{tls: l.tls, pages: map[string]pageState{}}
		l.sessions[connID] = s
	}
	return s
}

func (l *listener) needsTLSToBind() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bindNeedsTLS
}

func (l *listener) closed(connID int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.sessions, connID)
}
