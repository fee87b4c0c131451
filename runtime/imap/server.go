package imap

import (
	"net"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/netplay-dev/netplay/runtime/mail"
	"github.com/netplay-dev/netplay/runtime/stack"
)

// Server is a running IMAP server.
type Server struct {
	srv *imapserver.Server
	wg  sync.WaitGroup
}

// Serve starts an IMAP server on ln.
func Serve(ln net.Listener, cfg Config) *Server {
	if cfg.Store == nil {
		cfg.Store = mail.NewStore()
	}
	if cfg.Clock == nil {
		cfg.Clock = stack.OS
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	c := &cfg
	s := &Server{}
	s.srv = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &session{cfg: c}, nil, nil
		},
		Caps: imap.CapSet{
			imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}, imap.CapMove: {}, imap.CapUIDPlus: {},
			imap.CapNamespace: {}, imap.CapESearch: {}, imap.CapLiteralMinus: {},
		},
		InsecureAuth: true,
		Logger:       discard{},
	})
	s.wg.Add(1)
	// go-imap sets its deadlines by the wall clock; IdleListener carries
	// them over to the stack's and caps them at the idle timeout.
	go func() {
		defer s.wg.Done()
		s.srv.Serve(zeroSetListener(stack.IdleListener(ln, cfg.Clock, cfg.IdleTimeout)))
	}()
	return s
}

// Close stops the server and its connections.
func (s *Server) Close() {
	s.srv.Close()
	s.wg.Wait()
}

type discard struct{}

func (discard) Printf(string, ...any) {}
