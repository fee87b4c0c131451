// Command smtp compares, in one run, how many messages per second the
// netplay SMTP server (go-smtp plus the course-style replies, Received:
// stamping and delivery into a mail.Store) accepts from a concurrent Go
// load, against a bare go-smtp server whose backend keeps messages in a
// slice. Loopback only, bounded: -workers connections each send -per
// messages.
//
//	go run ./bench/smtp
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	gosmtp "github.com/emersion/go-smtp"
	"github.com/netplay-dev/netplay/runtime/mail"
	npsmtp "github.com/netplay-dev/netplay/runtime/smtp"
	"github.com/netplay-dev/netplay/runtime/stack"
)

var (
	workers = flag.Int("workers", 8, "concurrent client connections")
	per     = flag.Int("per", 500, "messages per connection")
	size    = flag.Int("size", 2000, "message body size in bytes")
	rounds  = flag.Int("rounds", 3, "alternating rounds per server")
)

// bare is a go-smtp backend that keeps messages in memory.
type bare struct {
	mu   sync.Mutex
	msgs [][]byte
}

func (b *bare) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &bareSession{b: b}, nil }

type bareSession struct{ b *bare }

func (s *bareSession) Reset()        {}
func (s *bareSession) Logout() error { return nil }
func (s *bareSession) Mail(string, *gosmtp.MailOptions) error {
	return nil
}
func (s *bareSession) Rcpt(string, *gosmtp.RcptOptions) error { return nil }
func (s *bareSession) Data(r io.Reader) error {
	buf, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, buf)
	s.b.mu.Unlock()
	return nil
}

func load(addr string, body []byte) (time.Duration, error) {
	var wg sync.WaitGroup
	errs := make(chan error, *workers)
	start := time.Now()
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := gosmtp.Dial(addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			if err := c.Hello("bench.local"); err != nil {
				errs <- err
				return
			}
			for i := 0; i < *per; i++ {
				if err := c.SendMail("alice@crepes.fr", []string{"bob@hamburger.edu"}, strings.NewReader(string(body))); err != nil {
					errs <- err
					return
				}
			}
			c.Quit()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return 0, err
	}
	return time.Since(start), nil
}

func main() {
	flag.Parse()
	body := []byte("Subject: bench\r\nFrom: alice@crepes.fr\r\nTo: bob@hamburger.edu\r\n\r\n" + strings.Repeat("Do you like ketchup?\r\n", *size/22))
	ctx := context.Background()

	ln1, err := stack.OS.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	np := npsmtp.Serve(stack.OS, ln1, npsmtp.Config{Domain: "hamburger.edu", Store: mail.NewStore()})
	defer np.Stop()

	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	bs := gosmtp.NewServer(&bare{})
	bs.Domain = "hamburger.edu"
	bs.ErrorLog = log.New(io.Discard, "", 0)
	go bs.Serve(ln2)
	defer bs.Close()

	n := *workers * *per
	var tNP, tBare time.Duration
	for r := 0; r < *rounds; r++ {
		d, err := load(ln1.Addr().String(), body)
		if err != nil {
			fmt.Fprintln(os.Stderr, "netplay:", err)
			os.Exit(1)
		}
		tNP += d
		d, err = load(ln2.Addr().String(), body)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bare go-smtp:", err)
			os.Exit(1)
		}
		tBare += d
	}
	total := float64(n * *rounds)
	npRate := total / tNP.Seconds()
	bareRate := total / tBare.Seconds()
	fmt.Printf("messages: %d per server (%d connections x %d messages x %d rounds, %d-byte bodies)\n", n**rounds, *workers, *per, *rounds, len(body))
	fmt.Printf("netplay smtp.serve:   %8.0f msg/s\n", npRate)
	fmt.Printf("bare go-smtp server:  %8.0f msg/s\n", bareRate)
	fmt.Printf("ratio netplay/bare:   %8.2f\n", npRate/bareRate)
}
