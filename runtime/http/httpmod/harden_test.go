package httpmod_test

import (
	"strings"
	"testing"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/modules/startest"
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

func TestProxyFollowsRFC9111(t *testing.T) {
	expect(t, `
seen = []
def lang(req):
    seen.append("lang")
    return http.response(body="in " + req.headers.get("Accept-Language", "?"),
                         headers={"Vary": "Accept-Language", "Cache-Control": "max-age=60"})
def secret(req):
    seen.append("secret")
    return http.response(body="for " + req.headers.get("Authorization", "nobody"), headers={"Cache-Control": "max-age=60"})
def cookie(req):
    seen.append("cookie")
    return http.response(body="hello", headers={"Cache-Control": "max-age=60", "Set-Cookie": "session=" + str(len(seen))})
def public_cookie(req):
    seen.append("public")
    return http.response(body="shared", headers={"Cache-Control": "public, max-age=60", "Set-Cookie": "session=" + str(len(seen))})
def nostore(req):
    seen.append("nostore")
    return http.response(body="fresh", headers={"Cache-Control": "no-store"})
def private(req):
    seen.append("private")
    return http.response(body="mine", headers={"Cache-Control": "private, max-age=60"})
origin = http.serve("127.0.0.1:0", routes={"/lang": lang, "/secret": secret, "/cookie": cookie,
    "/public": public_cookie, "/nostore": nostore, "/private": private})
p = http.proxy("127.0.0.1:0")
c = http.client(proxy=p, cookies=False)
def get(path, headers={}):
    r = c.get(origin.url + path, headers=headers)
    return "%s %s %s" % (r.text, r.headers.get("X-Cache"), r.headers.get("Set-Cookie", "-"))

print("fr:", get("/lang", {"Accept-Language": "fr"}))
print("de:", get("/lang", {"Accept-Language": "de"}))
print("fr again:", get("/lang", {"Accept-Language": "fr"}))
print("de again:", get("/lang", {"Accept-Language": "de"}))
print("with credentials:", get("/secret", {"Authorization": "Basic YWxpY2U6cHc="}))
print("without:", get("/secret"))
print("cookie 1:", get("/cookie"))
print("cookie 2:", get("/cookie"))
print("public 1:", get("/public"))
print("public 2:", get("/public"))
print("no-store:", get("/nostore"), get("/nostore"))
print("private:", get("/private"), get("/private"))
print("origin saw:", seen)
`,
		"fr: in fr MISS -", "de: in de MISS -", "fr again: in fr HIT -", "de again: in de HIT -",
		"with credentials: for Basic YWxpY2U6cHc= MISS -", "without: for nobody MISS -",
		"cookie 1: hello MISS session=5", "cookie 2: hello MISS session=6",
		"public 1: shared MISS session=7", "public 2: shared HIT -",
		"no-store: fresh MISS - fresh MISS -", "private: mine MISS - mine MISS -",
		`origin saw: ["lang", "lang", "secret", "secret", "cookie", "cookie", "public", "nostore", "nostore", "private", "private"]`)
}
