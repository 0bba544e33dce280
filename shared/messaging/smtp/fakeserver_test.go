package smtp_test

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
)

// fakeServer is a small SMTP server for unit tests: it advertises what it
// is told to, checks credentials, can refuse recipients, and records what
// it accepts and how. The integration tests use Mailpit instead.
type fakeServer struct {
	addr string

	offerTLS  bool
	cert      *tls.Certificate
	authMechs string // "" offers no AUTH
	user      string
	pass      string
	// silent accepts connections and never greets.
	silent bool

	mu       sync.Mutex
	accepted []fakeMessage
	commands []string // verbs received, in order, across connections
}

type fakeMessage struct {
	from   string
	to     []string
	data   string
	tls    bool
	authed bool
}

func startFake(t *testing.T, f *fakeServer) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	f.addr = ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
			go f.serve(c)
		}
	}()
	return f
}

func (f *fakeServer) messages() []fakeMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeMessage(nil), f.accepted...)
}

func (f *fakeServer) saw(verb string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.commands {
		if c == verb {
			return true
		}
	}
	return false
}

func (f *fakeServer) serve(c net.Conn) {
	defer c.Close()
	if f.silent {
		io.Copy(io.Discard, c)
		return
	}
	tp := textproto.NewConn(c)
	reply := func(format string, args ...any) bool { return tp.PrintfLine(format, args...) == nil }
	reply("220 %s fake ESMTP", serverName)

	var cur fakeMessage
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		f.mu.Lock()
		f.commands = append(f.commands, verb)
		f.mu.Unlock()

		switch verb {
		case "EHLO":
			ext := []string{serverName, "8BITMIME"}
			if f.offerTLS && !cur.tls {
				ext = append(ext, "STARTTLS")
			}
			if f.authMechs != "" {
				ext = append(ext, "AUTH "+f.authMechs)
			}
			for i, e := range ext {
				sep := "-"
				if i == len(ext)-1 {
					sep = " "
				}
				reply("250%s%s", sep, e)
			}
		case "STARTTLS":
			reply("220 ready")
			tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{*f.cert}})
			if err := tc.Handshake(); err != nil {
				return
			}
			c = tc
			tp = textproto.NewConn(tc)
			cur = fakeMessage{tls: true}
		case "AUTH":
			cur.authed = f.auth(tp, arg)
			if cur.authed {
				reply("235 2.7.0 authenticated")
			} else {
				reply("535 5.7.8 authentication failed")
			}
		case "MAIL":
			cur.from = strings.TrimSuffix(strings.TrimPrefix(strings.Fields(arg)[0], "FROM:<"), ">")
			reply("250 ok")
		case "RCPT":
			to := strings.TrimSuffix(strings.TrimPrefix(arg, "TO:<"), ">")
			if strings.Contains(to, "reject") {
				reply("550 5.1.1 no such user here")
				continue
			}
			cur.to = append(cur.to, to)
			reply("250 ok")
		case "DATA":
			reply("354 go ahead")
			data, err := io.ReadAll(tp.DotReader())
			if err != nil {
				return
			}
			cur.data = string(bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n")))
			f.mu.Lock()
			f.accepted = append(f.accepted, cur)
			f.mu.Unlock()
			cur = fakeMessage{tls: cur.tls, authed: cur.authed}
			reply("250 2.0.0 queued")
		case "RSET", "NOOP":
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 unknown command")
		}
	}
}

// auth reads one AUTH exchange and reports whether the credentials match.
func (f *fakeServer) auth(tp *textproto.Conn, arg string) bool {
	mech, initial, _ := strings.Cut(arg, " ")
	read := func(prompt string) string {
		tp.PrintfLine("334 %s", base64.StdEncoding.EncodeToString([]byte(prompt)))
		line, _ := tp.ReadLine()
		b, _ := base64.StdEncoding.DecodeString(line)
		return string(b)
	}
	switch strings.ToUpper(mech) {
	case "PLAIN":
		var resp string
		if initial != "" {
			b, _ := base64.StdEncoding.DecodeString(initial)
			resp = string(b)
		} else {
			resp = read("")
		}
		return resp == "\x00"+f.user+"\x00"+f.pass
	case "LOGIN":
		user := read("Username:")
		pass := read("Password:")
		return user == f.user && pass == f.pass
	}
	return false
}
