package http_test

import (
	"strings"
	"testing"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/lang/startest"
)

// The fixes of the security review (issue 11), each proved by a script.

func TestHandlerBudget(t *testing.T) {
	t.Run("a looping handler is ended with 503 and the server goes on", func(t *testing.T) {
		r := startest.Run(t, `
def loop(req):
    while True:
        pass
def nap(req):
    sleep(60)
def ok(req):
    return "fine"
srv = http.serve("127.0.0.1:0", routes={"/loop": loop, "/nap": nap, "/ok": ok}, handler_timeout="300ms")
slow = spawn(http.get, srv.url + "/loop")
print("loop", slow.join().status)
print("ok", http.get(srv.url + "/ok").text)
print("nap", http.get(srv.url + "/nap").status)
print("ok", http.get(srv.url + "/ok").text)
print("log", [(e.path, e.status) for e in srv.log])
`, nil)
		if r.Err != nil {
			t.Fatalf("script failed: %s\n%s", lang.FormatError(r.Err), r.Stderr)
		}
		for _, want := range []string{"loop 503\n", "ok fine\nnap 503\nok fine\n", `("/loop", 503)`} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("output lacks %q:\n%s", want, r.Stdout)
			}
		}
		if !strings.Contains(r.Stderr, `handler for GET /loop ran past its time budget (handler_timeout="300ms") (answered 503)`) {
			t.Errorf("no log line for the ended handler:\n%s", r.Stderr)
		}
	})
	t.Run("a step budget ends a handler the same way", func(t *testing.T) {
		r := startest.Run(t, `
def count(req):
    n = 0
    for i in range(int(req.query["n"])):
        n += i
    return str(n)
srv = http.serve("127.0.0.1:0", handler=count, handler_steps=100000)
print(http.get(srv.url + "/?n=10").text, http.get(srv.url + "/?n=100000000").status, http.get(srv.url + "/?n=4").text)
`, nil)
		if r.Err != nil || !strings.Contains(r.Stdout, "45 503 6") || !strings.Contains(r.Stderr, "step budget (handler_steps=100000)") {
			t.Errorf("got %v\nstdout:\n%s\nstderr:\n%s", r.Err, r.Stdout, r.Stderr)
		}
	})
}
