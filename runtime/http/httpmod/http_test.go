package httpmod_test

import (
	"strings"
	"testing"

	"github.com/netplay-dev/netplay/grade"
	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/modules"
	"github.com/netplay-dev/netplay/modules/startest"
)

// expect runs src and checks that its output contains every line of want.
func expect(t *testing.T, src string, want ...string) string {
	t.Helper()
	out := startest.MustRun(t, src)
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	return out
}

func TestStarlarkAPI(t *testing.T) {
	t.Run("cookie round trip", func(t *testing.T) {
		expect(t, `
carts = {}
ids = [1677]
def shop(req):
    id = req.cookies.get("id")
    if id == None:
        ids[0] += 1
        id = str(ids[0])
        carts[id] = []
        item = req.query.get("item")
        if item:
            carts[id].append(item)
        return http.response(body="new cart\n", cookies={"id": id})
    carts[id].append(req.query.get("item", "?"))
    return {"id": id, "cart": carts[id]}

srv = http.serve("127.0.0.1:0", handler=shop)
c = http.client()
r1 = c.get(srv.url + "/add", params={"item": "book"})
print("set-cookie:", r1.headers["set-cookie"], r1.cookies)
print("jar:", c.cookies)
r2 = c.get(srv.url + "/add?item=pen")
print("cart:", r2.json())
other = http.client(cookies=False)
print("other:", other.get(srv.url + "/add").text.strip())
srv.stop()
`, `set-cookie: id=1678; Path=/ {"id": "1678"}`, `jar: {"id": "1678"}`, `cart: {"cart": ["book", "pen"], "id": "1678"}`, "other: new cart")
	})

	t.Run("conditional GET answers 304", func(t *testing.T) {
		expect(t, `
srv = http.serve("127.0.0.1:0", static={"/index.html": "<html>hi</html>"})
r = http.get(srv.url + "/index.html")
print(r.status, "lm" if r.headers["Last-Modified"] else "", "etag" if "etag" in r.headers else "")
r2 = http.get(srv.url + "/index.html", headers={"If-Modified-Since": r.headers["Last-Modified"]})
print("ims", r2.status, r2.reason, len(r2.body))
r3 = http.get(srv.url + "/index.html", headers={"If-None-Match": r.headers["ETag"]})
print("inm", r3.status, len(r3.body))
r4 = http.get(srv.url + "/index.html", headers={"If-None-Match": '"other"'})
print("changed", r4.status, r4.text)
r5 = http.get(srv.url + "/index.html", headers={"If-Modified-Since": "Mon, 01 Jan 1990 00:00:00 GMT"})
print("old", r5.status)

def page(req):
    return http.response(body="v1", headers={"ETag": '"v1"'})
srv2 = http.serve("127.0.0.1:0", handler=page)
print("handler", http.get(srv2.url, headers={"If-None-Match": '"v1"'}).status)
`, "200 lm etag", "ims 304 Not Modified 0", "inm 304 0", "changed 200 <html>hi</html>", "old 200", "handler 304")
	})

	t.Run("pipelined fetch in order", func(t *testing.T) {
		expect(t, `
def h(req):
    if req.path == "/slow":
        sleep(0.05)
    return "object " + req.path
srv = http.serve("127.0.0.1:0", handler=h)
c = http.client()
urls = [srv.url + "/slow"] + [srv.url + "/o%d" % i for i in range(9)]
rs = c.pipeline(urls)
print([r.text for r in rs])
print("conns", c.connections, srv.connections)
`, `["object /slow", "object /o0", "object /o1", "object /o2", "object /o3", "object /o4", "object /o5", "object /o6", "object /o7", "object /o8"]`, "conns 1 1")
	})

	t.Run("handler failure answers 500 and the server goes on", func(t *testing.T) {
		r := startest.Run(t, `
def h(req):
    if req.path == "/bad":
        return {"x": 1}["missing"]
    return "fine"
srv = http.serve("127.0.0.1:0", handler=h)
print(http.get(srv.url + "/bad").status)
print(http.get(srv.url + "/good").status, http.get(srv.url + "/good").text)
print([(e.path, e.status) for e in srv.log])
`, nil)
		if r.Err != nil {
			t.Fatal(lang.FormatError(r.Err))
		}
		for _, w := range []string{"500\n", "200 fine\n", `[("/bad", 500), ("/good", 200), ("/good", 200)]`} {
			if !strings.Contains(r.Stdout, w) {
				t.Errorf("stdout lacks %q:\n%s", w, r.Stdout)
			}
		}
		if !strings.Contains(r.Stderr, "Traceback") || !strings.Contains(r.Stderr, "missing") {
			t.Errorf("traceback not logged: %s", r.Stderr)
		}
	})

	t.Run("proxy hit counts", func(t *testing.T) {
		expect(t, `
def origin(req):
    if req.path == "/fresh":
        return http.response(body="F" * 1000, headers={"Cache-Control": "max-age=60"})
    if req.path == "/nostore":
        return http.response(body="N", headers={"Cache-Control": "no-store"})
    return http.response(body="V" * 100, headers={"ETag": '"v"', "Cache-Control": "no-cache"})
o = http.serve("127.0.0.1:0", handler=origin)
p = http.proxy("127.0.0.1:0")
c = http.client(proxy=p)
xs = [c.get(o.url + "/fresh").headers["X-Cache"] for i in range(3)]
print(xs, c.get(o.url + "/fresh").text == "F" * 1000)
s = p.stats
print("fresh", s.hits, s.misses, s.bytes_from_origin)
ys = [c.get(o.url + "/validate").headers["X-Cache"] for i in range(3)]
print(ys)
print("validate", p.stats.revalidated, p.stats["misses"])
c.get(o.url + "/nostore")
c.get(o.url + "/nostore")
print("nostore", p.stats.misses)
print("origin requests", len(o.log))
`, `["MISS", "HIT", "HIT"] True`, "fresh 3 1 1000", `["MISS", "REVALIDATED", "REVALIDATED"]`, "validate 2 2", "nostore 4", "origin requests 6")
	})

	t.Run("raw mode", func(t *testing.T) {
		expect(t, `
srv = http.serve("127.0.0.1:0", handler=lambda req: "hi " + req.method)
r = http.raw("127.0.0.1:%d" % srv.port, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
print(r.startswith("HTTP/1.1 200 OK\r\n"), r.endswith("\r\n\r\nhi GET"))
r = http.raw(srv.url, "HEAD / HTTP/1.0\r\n\r\n")
print("head", r.split("\r\n")[0], r.endswith("\r\n\r\n"))
r = http.raw(("127.0.0.1", srv.port), "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n")
print("two", r.count("HTTP/1.1 200 OK"))
r = http.raw(srv.url, "HELLO\r\n\r\n")
print("bad", r.split("\r\n")[0])
`, "True True", "head HTTP/1.0 200 OK True", "two 2", "bad HTTP/1.1 400 Bad Request")
	})

	t.Run("persistent and non-persistent connection counts", func(t *testing.T) {
		expect(t, `
srv = http.serve("127.0.0.1:0", handler=lambda req: "x")
np = http.client(persistent=False)
for i in range(5):
    np.get(srv.url + "/%d" % i)
print("non-persistent", np.connections, srv.connections)
p = http.client()
for i in range(5):
    p.get(srv.url + "/%d" % i)
print("persistent", p.connections, srv.connections)
off = http.serve("127.0.0.1:0", handler=lambda req: "x", keepalive=False)
for i in range(3):
    p.get(off.url)
print("server without keep-alive", off.connections)
`, "non-persistent 5 5", "persistent 1 6", "server without keep-alive 3")
	})

	t.Run("request bodies, methods and redirects", func(t *testing.T) {
		expect(t, `
def echo(req):
    return {"method": req.method, "form": req.form, "json": req.json() if req.headers.get("content-type") == "application/json" else None, "text": req.text, "q": req.query}
def moved(req):
    return http.response(status=301, headers={"Location": "/echo"})
srv = http.serve("127.0.0.1:0", routes={"/echo": echo, "/old": moved})
print(http.post(srv.url + "/echo", form={"name": "susan", "n": 2}).json()["form"])
print(http.post(srv.url + "/echo", json={"a": [1, 2]}).json()["json"])
print(http.put(srv.url + "/echo", data="raw body").json()["text"])
print(http.delete(srv.url + "/echo").json()["method"])
print(http.request("OPTIONS", srv.url + "/echo?x=1").json()["q"])
h = http.head(srv.url + "/echo")
print("head", h.status, len(h.body), int(h.headers["content-length"]) > 0)
r = http.get(srv.url + "/old")
print("redirected", r.status, r.url.endswith("/echo"))
r = http.get(srv.url + "/old", follow_redirects=False)
print("not followed", r.status, r.headers["location"])
print(http.get(srv.url + "/nothing").status)
`, `{"n": "2", "name": "susan"}`, `{"a": [1, 2]}`, "raw body", "DELETE", `{"x": "1"}`, "head 200 0 True", "redirected 200 True", "not followed 301 /echo", "404")
	})

	t.Run("errors are catch kinds", func(t *testing.T) {
		expect(t, `
srv = http.serve("127.0.0.1:0", handler=lambda req: "x")
port = srv.port
srv.stop()
r = catch(http.get, "http://127.0.0.1:%d/" % port)
print("refused", r.error.kind)
slow = http.serve("127.0.0.1:0", handler=lambda req: sleep(2))
r = catch(http.get, slow.url, timeout=0.2)
print("timeout", r.error.kind, r.error.message)
r = catch(http.get, "ftp://x/")
print("arg", r.error.kind)
rude = socket.serve(("127.0.0.1", 0), lambda conn, addr: sleep(0.1))   # closes without reading: RST
r = catch(http.get, "http://127.0.0.1:%d/" % rude.port)
print("reset", r.error.kind)
hangup = socket.serve(("127.0.0.1", 0), lambda conn, addr: conn.recv(4096))   # reads, closes: no reply
r = catch(http.get, "http://127.0.0.1:%d/" % hangup.port)
print("closed", r.error.kind)
junk = socket.serve(("127.0.0.1", 0), lambda conn, addr: conn.sendall(conn.recv(4096) and b"SMTP ready\r\n\r\n"))
r = catch(http.get, "http://127.0.0.1:%d/" % junk.port)
print("protocol", r.error.kind)
`, "refused refused", "reset reset", "closed closed", "protocol protocol", "timeout timeout http.get 127.0.0.1:", "timeout after 200ms", "arg argument")
	})

	t.Run("robust server: malformed and oversized requests", func(t *testing.T) {
		expect(t, `
srv = http.serve("127.0.0.1:0", handler=lambda req: "ok", max_body=100)
print(http.raw(srv.url, "GARBAGE\r\n\r\n").split("\r\n")[0])
print(http.raw(srv.url, "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n").split("\r\n")[0])
print(http.post(srv.url, data="x" * 1000).status)
print(http.get(srv.url).text)
`, "HTTP/1.1 400 Bad Request", "413", "ok")
	})

	t.Run("trace and timing", func(t *testing.T) {
		expect(t, `
srv = http.serve("127.0.0.1:0", handler=lambda req: "hello")
r = http.get(srv.url + "/index.html", trace=True)
t = r.timing
print(t.connect >= 0, t.first_byte >= t.connect, t.total >= t.first_byte, t["total"] == t.total)
`, "C: GET /index.html HTTP/1.1", "C: Host: 127.0.0.1:", "S: HTTP/1.1 200 OK", "S: Content-Length: 5", "True True True True")
	})
}

func TestDocumented(t *testing.T) {
	for _, name := range modules.Undocumented(modules.Docs(grade.Docs()...)) {
		if strings.HasPrefix(name, "http") {
			t.Errorf("undocumented: %s", name)
		}
	}
}
