package httpmod_test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netplay-dev/netplay/internal/peertest"
	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/modules"
	"github.com/netplay-dev/netplay/modules/startest"
	"go.starlark.net/starlark"
)

// background runs src (which starts servers) and leaves them running until
// the test ends; it returns the script's globals.
func background(t *testing.T, src string) starlark.StringDict {
	t.Helper()
	var out, errb bytes.Buffer
	in := lang.New(lang.Options{
		Stdin: bytes.NewReader(nil), Stdout: &out, Stderr: &errb,
		Root:        t.TempDir(),
		Predeclared: modules.Universe(modules.Env{}),
	})
	g, err := in.ExecFile("setup.star", src)
	if err != nil {
		in.Close()
		t.Fatalf("setup failed: %s\n%s", lang.FormatError(err), errb.String())
	}
	t.Cleanup(in.Close)
	return g
}

func attr(t *testing.T, v starlark.Value, name string) string {
	t.Helper()
	a, err := v.(starlark.HasAttrs).Attr(name)
	if err != nil || a == nil {
		t.Fatalf("no attribute %s on %s", name, v)
	}
	if s, ok := starlark.AsString(a); ok {
		return s
	}
	return a.String()
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s%s", name, args, err, out.String(), errb.String())
	}
	return out.String()
}

const shopSetup = `
def cart(req):
    id = req.cookies.get("id")
    if id == None:
        return http.response(body="new\n", cookies={"id": "1678"})
    return "cart of " + id + "\n"
def form(req):
    return "hello %s, %s\n" % (req.form.get("name"), req.method)
srv = http.serve("127.0.0.1:0", routes={"/cart": cart, "POST /form": form},
                 static={"/index.html": "<html>home</html>\n"})
`

func TestCurlAgainstServer(t *testing.T) {
	curl := peertest.Need(t, "curl")
	g := background(t, shopSetup)
	url := attr(t, g["srv"], "url")

	t.Run("GET", func(t *testing.T) {
		out := run(t, curl, "-s", "-i", url+"/index.html")
		for _, w := range []string{"HTTP/1.1 200 OK", "Last-Modified: ", "Etag: ", "<html>home</html>"} {
			if !strings.Contains(out, w) {
				t.Errorf("curl output lacks %q:\n%s", w, out)
			}
		}
	})
	t.Run("HEAD", func(t *testing.T) {
		out := run(t, curl, "-s", "-I", url+"/index.html")
		if !strings.HasPrefix(out, "HTTP/1.1 200 OK") || strings.Contains(out, "home") || !strings.Contains(out, "Content-Length: 18") {
			t.Errorf("HEAD answer:\n%s", out)
		}
	})
	t.Run("POST form", func(t *testing.T) {
		out := run(t, curl, "-s", "-d", "name=susan", url+"/form")
		if out != "hello susan, POST\n" {
			t.Errorf("got %q", out)
		}
	})
	t.Run("cookies", func(t *testing.T) {
		jar := filepath.Join(t.TempDir(), "jar")
		first := run(t, curl, "-s", "-c", jar, url+"/cart")
		second := run(t, curl, "-s", "-b", jar, url+"/cart")
		if first != "new\n" || second != "cart of 1678\n" {
			t.Errorf("got %q then %q", first, second)
		}
	})
	t.Run("304", func(t *testing.T) {
		head := run(t, curl, "-s", "-I", url+"/index.html")
		var lm string
		for _, l := range strings.Split(head, "\r\n") {
			if v, ok := strings.CutPrefix(l, "Last-Modified: "); ok {
				lm = v
			}
		}
		out := run(t, curl, "-s", "-i", "-H", "If-Modified-Since: "+lm, url+"/index.html")
		if !strings.HasPrefix(out, "HTTP/1.1 304 Not Modified") || strings.Contains(out, "home") {
			t.Errorf("conditional GET:\n%s", out)
		}
		out = run(t, curl, "-s", "-o", "/dev/null", "-w", "%{http_code}", "-z", lm, url+"/index.html")
		if out != "304" {
			t.Errorf("curl -z: %s", out)
		}
	})
}

func TestCurlThroughProxy(t *testing.T) {
	curl := peertest.Need(t, "curl")
	g := background(t, `
origin = http.serve("127.0.0.1:0", handler=lambda req: http.response(body="object " + req.path, headers={"Cache-Control": "max-age=60"}))
p = http.proxy("127.0.0.1:0")
`)
	url, proxy := attr(t, g["origin"], "url"), attr(t, g["p"], "url")
	var caches []string
	for i := 0; i < 3; i++ {
		out := run(t, curl, "-s", "-i", "-x", proxy, url+"/logo.png")
		if !strings.Contains(out, "object /logo.png") {
			t.Fatalf("through the proxy:\n%s", out)
		}
		for _, l := range strings.Split(out, "\r\n") {
			if v, ok := strings.CutPrefix(l, "X-Cache: "); ok {
				caches = append(caches, v)
			}
		}
	}
	if fmt.Sprint(caches) != "[MISS HIT HIT]" {
		t.Errorf("X-Cache: %v", caches)
	}
	if n := attr(t, g["origin"], "requests"); n != "1" {
		t.Errorf("origin answered %s requests, want 1", n)
	}
}

func TestPythonClientAgainstServer(t *testing.T) {
	py := peertest.Need(t, "python3")
	g := background(t, shopSetup)
	port := attr(t, g["srv"], "port")
	script := `
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
c.request("GET", "/index.html")
r = c.getresponse(); body = r.read()
print(r.status, r.reason, body.decode().strip(), r.getheader("ETag") is not None)
c.request("GET", "/index.html", headers={"If-None-Match": r.getheader("ETag")})
r = c.getresponse(); print(r.status, len(r.read()))
c.request("POST", "/form", body="name=bob", headers={"Content-Type": "application/x-www-form-urlencoded"})
r = c.getresponse(); print(r.status, r.read().decode().strip())
c.request("GET", "/cart", headers={"Cookie": "id=42"})
r = c.getresponse(); print(r.read().decode().strip())
`
	out := run(t, py, "-c", script, port)
	want := "200 OK <html>home</html> True\n304 0\n200 hello bob, POST\ncart of 42\n"
	if out != want {
		t.Errorf("python http.client got:\n%s\nwant:\n%s", out, want)
	}
	if n := attr(t, g["srv"], "connections"); n != "1" {
		t.Errorf("python's persistent connection: server accepted %s connections, want 1", n)
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestClientAgainstPythonServer(t *testing.T) {
	py := peertest.Need(t, "python3")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<html>python</html>\n"), 0o644)
	port := freePort(t)
	cmd := exec.Command(py, "-m", "http.server", "--bind", "127.0.0.1", "--directory", dir, fmt.Sprint(port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			break
		}
		if i > 600 { // 30 s: python3 starts slowly on a loaded machine
			t.Fatal("python http.server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	out := startest.MustRun(t, fmt.Sprintf(`
url = "http://127.0.0.1:%d/index.html"
r = http.get(url)
print(r.status, r.proto, r.text.strip(), r.headers["content-type"])
r2 = http.get(url, headers={"If-Modified-Since": r.headers["Last-Modified"]})
print(r2.status, len(r2.body))
print(http.head(url).status, http.get(url.replace("index", "missing")).status)
c = http.client()
print([x.status for x in c.pipeline([url, url, url])])
print(http.raw(url, "GET /index.html HTTP/1.0\r\n\r\n").split("\r\n")[0])
`, port))
	want := "200 HTTP/1.0 <html>python</html> text/html\n304 0\n200 404\n[200, 200, 200]\nHTTP/1.0 200 OK\n"
	if out != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
}

func TestSlowAndIdleClientsTimeOut(t *testing.T) {
	g := background(t, `srv = http.serve("127.0.0.1:0", handler=lambda req: "ok", timeout=0.3, idle_timeout=0.3)`)
	addr := strings.TrimPrefix(attr(t, g["srv"], "url"), "http://")
	for name, send := range map[string]string{
		"slow head":      "GET / HTTP/1.1\r\nHost: x\r\n",
		"idle keepalive": "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"silent":         "",
	} {
		t.Run(name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Write([]byte(send))
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			start := time.Now()
			b := make([]byte, 4096)
			for {
				_, err := c.Read(b)
				if err != nil {
					if ne, ok := err.(net.Error); ok && ne.Timeout() {
						t.Fatalf("server kept the connection open for 5s")
					}
					break
				}
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("closed after %v", d)
			}
		})
	}
}
