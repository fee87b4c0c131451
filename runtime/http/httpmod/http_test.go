package httpmod_test

import (
	"strings"
	"testing"

	"github.com/netplay-dev/netplay/grade"
	"github.com/netplay-dev/netplay/modules"
	"github.com/netplay-dev/netplay/modules/startest"
)

// TestStarlark runs the module's binding tests, testdata/*_test.star, as
// `netplay test` runs them.
func TestStarlark(t *testing.T) { startest.Scripts(t, "testdata") }

// TestTrace checks what trace=True prints, which a test script cannot
// read: the course's C: and S: lines.
func TestTrace(t *testing.T) {
	out := startest.MustRun(t, `
srv = http.serve("127.0.0.1:0", handler=lambda req: "hello")
http.get(srv.url + "/index.html", trace=True)
`)
	for _, w := range []string{"C: GET /index.html HTTP/1.1", "C: Host: 127.0.0.1:", "S: HTTP/1.1 200 OK", "S: Content-Length: 5"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestDocumented(t *testing.T) {
	for _, name := range modules.Undocumented(modules.Docs(grade.Docs()...)) {
		if strings.HasPrefix(name, "http") {
			t.Errorf("undocumented: %s", name)
		}
	}
}
