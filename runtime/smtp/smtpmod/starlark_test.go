package smtpmod_test

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/netplay-dev/netplay/internal/peertest"
	"github.com/netplay-dev/netplay/modules/startest"
)

// TestStarlark runs the module's binding tests, testdata/*_test.star, as
// `netplay test` runs them.
func TestStarlark(t *testing.T) { startest.Scripts(t, "testdata") }

// TestTrace checks what trace=True prints, which a test script cannot
// read: the dialogue's C: and S: lines.
func TestTrace(t *testing.T) {
	out := startest.MustRun(t, `
srv = smtp.serve("127.0.0.1:0", "hamburger.edu")
c = smtp.client(srv.address, trace=True)
c.helo("crepes.fr")
c.mail("alice@crepes.fr")
`)
	for _, want := range []string{"C: HELO crepes.fr\n", "S: 250 alice@crepes.fr... Sender ok\n"} {
		if !strings.Contains(out, want) {
			t.Fatalf("missing %q in:\n%s", want, out)
		}
	}
}

func TestInteropPythonSMTPD(t *testing.T) {
	t.Run("netplay client to python smtpd", func(t *testing.T) {
		py := peertest.Need(t, "python3.11")
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		script := `
import smtpd, asyncore, sys, warnings
warnings.simplefilter("ignore")
class S(smtpd.SMTPServer):
    def process_message(self, peer, mailfrom, rcpttos, data, **kw):
        sys.stdout.write("FROM %s TO %s\n%s\nEND\n" % (mailfrom, ",".join(rcpttos), data.decode()))
        sys.stdout.flush()
S(("127.0.0.1", int(sys.argv[1])), None)
print("ready", flush=True)
asyncore.loop()
`
		cmd := exec.Command(py, "-W", "ignore", "-c", script, fmt.Sprint(port))
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		br := bufio.NewReader(stdout)
		if l, _ := br.ReadString('\n'); !strings.HasPrefix(l, "ready") {
			t.Fatalf("smtpd: %q", l)
		}
		out := startest.MustRun(t, fmt.Sprintf(`
c = smtp.client("127.0.0.1:%d")
print(c.helo("crepes.fr").code, c.mail("alice@crepes.fr").code, c.rcpt("bob@hamburger.edu").code)
print(c.data("Subject: hi\n\n..dots\nDo you like ketchup?").code)
`, port))
		if out != "250 250 250\n250\n" {
			t.Fatalf("netplay:\n%s", out)
		}
		var got strings.Builder
		for {
			l, err := br.ReadString('\n')
			got.WriteString(l)
			if err != nil || l == "END\n" {
				break
			}
		}
		if !strings.Contains(got.String(), "FROM alice@crepes.fr TO bob@hamburger.edu") || !strings.Contains(got.String(), "\n..dots\n") {
			t.Fatalf("smtpd got:\n%s", got.String())
		}
	})
}
