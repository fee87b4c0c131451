package httpmod

import (
	"fmt"
	"net"
	nethttp "net/http"
	"sort"
	"strings"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/runtime/http"
	"github.com/netplay-dev/netplay/runtime/neterr"
	"github.com/netplay-dev/netplay/runtime/stack"
	"go.starlark.net/starlark"
)

// route is one entry of serve(routes=...).
type route struct {
	method string // "" for any
	path   string
	prefix bool // path ends with "*": a subtree
	fn     starlark.Callable
}

// dispatcher answers a server's requests with Starlark handlers.
type dispatcher struct {
	in      *lang.Interp
	addr    string
	routes  []route
	handler starlark.Callable
	static  *http.Static
	budget  lang.Budget // each handler call's time and steps
	// threads are Starlark threads kept for reuse between requests. Only
	// touched while holding the interpreter lock.
	threads []*starlark.Thread
	stopped bool
}

func (d *dispatcher) match(r *http.InRequest) starlark.Callable {
	var best *route
	for i := range d.routes {
		rt := &d.routes[i]
		if rt.method != "" && rt.method != r.Method && !(rt.method == "GET" && r.Method == "HEAD") {
			continue
		}
		if rt.prefix {
			if !strings.HasPrefix(r.Path, rt.path) {
				continue
			}
		} else if r.Path != rt.path {
			continue
		}
		if best == nil || len(rt.path) > len(best.path) || (len(rt.path) == len(best.path) && rt.method != "" && best.method == "") {
			best = rt
		}
	}
	if best == nil {
		return nil
	}
	return best.fn
}

// handle is the server's Handler: routes, then static files, then the
// catch-all handler.
func (d *dispatcher) handle(r *http.InRequest) *http.Reply {
	fn := d.match(r)
	if fn == nil && d.static != nil {
		if reply := d.static.Serve(r.Method, r.Path); reply != nil {
			return reply
		}
	}
	if fn == nil {
		fn = d.handler
	}
	if fn == nil {
		return http.TextReply(404, "404 Not Found: "+r.Path+"\n")
	}
	d.in.Lock()
	defer d.in.Unlock()
	if d.stopped || d.in.Context().Err() != nil {
		return http.TextReply(503, "503 Service Unavailable: the script is ending\n")
	}
	var th *starlark.Thread
	if n := len(d.threads); n > 0 {
		th = d.threads[n-1]
		d.threads = d.threads[:n-1]
	} else {
		th = d.in.NewThread("http handler", nil)
	}
	budget := d.budget
	local := d.addr
	if la, ok := r.R.Context().Value(nethttp.LocalAddrContextKey).(net.Addr); ok {
		local = la.String()
	}
	budget.Exceeded = func(what string) error {
		if what == "steps" {
			return lang.Errorf(lang.KindLimit, "http.serve", local, "handler for %s %s ran past its step budget (handler_steps=%d)", r.Method, r.R.RequestURI, d.budget.Steps)
		}
		return lang.Errorf(lang.KindLimit, "http.serve", local, "handler for %s %s ran past its time budget (handler_timeout=%q)", r.Method, r.R.RequestURI, lang.FormatDuration(d.budget.Timeout))
	}
	v, err, spent := lang.CallBudget(th, fn, starlark.Tuple{&reqValue{r: r}}, nil, budget)
	if spent {
		// The handler was ended; its thread stays cancelled, so it goes.
		d.in.EndThread(th)
		d.in.Fprintf("%v (answered 503)\n", err)
		return http.TextReply(503, "503 Service Unavailable: the handler ran out of time\n")
	}
	var reply *http.Reply
	if err != nil {
		reply = &http.Reply{Err: err}
	} else {
		reply = replyOf(th, v)
	}
	if len(d.threads) < 64 {
		d.threads = append(d.threads, th)
	} else {
		d.in.EndThread(th)
	}
	return reply
}

// release ends the kept threads once the server has stopped.
func (d *dispatcher) release() {
	d.in.Lock()
	d.stopped = true
	for _, th := range d.threads {
		d.in.EndThread(th)
	}
	d.threads = nil
	d.in.Unlock()
}

// replyOf converts what a handler returned.
func replyOf(th *starlark.Thread, v starlark.Value) *http.Reply {
	switch v := v.(type) {
	case *respValue:
		return &http.Reply{Status: v.r.Status, Header: append(http.Header(nil), http.StripHop(v.r.Header).Del("Content-Length")...), Body: v.r.Body}
	case starlark.NoneType:
		return &http.Reply{Status: 204}
	case starlark.Int:
		code, ok := v.Int64()
		if !ok || code < 100 || code > 999 {
			return &http.Reply{Err: fmt.Errorf("handler returned %s, which is not an HTTP status code", v)}
		}
		return http.TextReply(int(code), fmt.Sprintf("%d %s\n", code, http.StatusText(int(code))))
	}
	body, ctype, err := bodyOf(th, "handler", v)
	if err != nil {
		return &http.Reply{Err: fmt.Errorf("handler returned %s: want str, bytes, dict, list, None, a status code or http.response(...)", v.Type())}
	}
	r := &http.Reply{Status: 200, Body: body}
	if ctype != "" {
		r.Header = http.Header{{Name: "Content-Type", Value: ctype}}
	}
	return r
}

// serverValue is a running http.serve server.
type serverValue struct {
	s       *http.Server
	d       *dispatcher
	untrack func()
}

func serveBuiltin(st stack.Stack) *lang.Builtin {
	return lang.Func("http.serve", `serve(address="127.0.0.1:0", handler=None, routes=None, static=None, keepalive=True, timeout="10s", idle_timeout="30s", max_body="10MiB", handler_timeout="10s", handler_steps=None) -> http.server

Starts an HTTP/1.1 server in the background on address ("host:port"; port 0
picks a free one) and returns at once. Each request goes to the first of:
a route (routes maps "/path", "/prefix/*" or "POST /path" to a handler),
a static file (static is a folder, or a dict mapping paths to contents),
then handler. A handler is called as handler(req) with an
http.server_request and returns a str or bytes (200 OK), a dict or list
(JSON), None (204), a status code, or http.response(...) for full control.
Handlers run one at a time under the interpreter lock, so they may share
the script's variables. A handler that fails is answered with 500 Internal
Server Error, its traceback is printed, and the server goes on. Each call
of a handler has a budget of handler_timeout of wall time and, if given,
handler_steps execution steps: a handler past it is ended, the request gets
503 Service Unavailable, a line is printed, and the server goes on serving.

Static files carry Last-Modified and ETag and answer conditional GETs with
304 Not Modified. keepalive=False closes every connection after one
response (non-persistent HTTP). timeout bounds how long a client may take
to send a request, idle_timeout how long a kept-alive connection may sit
idle; bodies over max_body get 413. Malformed requests get 400.

    cart = {}
    def add(req):
        cart[req.query["item"]] = cart.get(req.query["item"], 0) + 1
        return cart
    srv = http.serve("127.0.0.1:0", routes={"/add": add})
    print(http.get(srv.url + "/add?item=book").json())`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var addrV starlark.Value = starlark.String("127.0.0.1:0")
		var handlerV, routesV, staticV starlark.Value = starlark.None, starlark.None, starlark.None
		keepalive := true
		var timeoutV, idleV, maxBodyV starlark.Value = starlark.String("10s"), starlark.String("30s"), starlark.String("10MiB")
		var handlerTimeoutV, handlerStepsV starlark.Value = starlark.String("10s"), starlark.None
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "address?", &addrV, "handler?", &handlerV, "routes?", &routesV,
			"static?", &staticV, "keepalive?", &keepalive, "timeout?", &timeoutV, "idle_timeout?", &idleV, "max_body?", &maxBodyV,
			"handler_timeout?", &handlerTimeoutV, "handler_steps?", &handlerStepsV); err != nil {
			return nil, err
		}
		addr, err := lang.AddrArg(b.Name(), "address", addrV, 0)
		if err != nil {
			return nil, err
		}
		in := lang.InterpOf(th)
		d, err := newDispatcher(th, st, b.Name(), addr, handlerV, routesV, staticV, handlerTimeoutV, handlerStepsV)
		if err != nil {
			return nil, err
		}
		cfg := http.ServerConfig{Handler: d.handle, KeepAlive: keepalive}
		if cfg.Timeout, err = lang.Duration(timeoutV); err != nil {
			return nil, fmt.Errorf("%s: for parameter timeout: %v", b.Name(), err)
		}
		if cfg.IdleTimeout, err = lang.Duration(idleV); err != nil {
			return nil, fmt.Errorf("%s: for parameter idle_timeout: %v", b.Name(), err)
		}
		if cfg.MaxBody, err = lang.Size(maxBodyV); err != nil {
			return nil, fmt.Errorf("%s: for parameter max_body: %v", b.Name(), err)
		}
		cfg.OnError = reportHandlerError(in)
		s, err := listenAndServe(th, st, b.Name(), addr, cfg)
		if err != nil {
			return nil, err
		}
		sv := &serverValue{s: s, d: d}
		sv.untrack = in.Track(sv)
		return sv, nil
	})
}

// newDispatcher reads http.serve's handler=, routes=, static=,
// handler_timeout= and handler_steps=: where each request goes, and the
// budget of a handler's call.
func newDispatcher(th *starlark.Thread, st stack.Stack, fn, addr string, handlerV, routesV, staticV, timeoutV, stepsV starlark.Value) (*dispatcher, error) {
	d := &dispatcher{in: lang.InterpOf(th), addr: addr}
	if handlerV != starlark.None {
		h, ok := handlerV.(starlark.Callable)
		if !ok {
			return nil, fmt.Errorf("%s: for parameter handler: got %s, want a function", fn, handlerV.Type())
		}
		d.handler = h
	}
	var err error
	if routesV != starlark.None {
		if d.routes, err = routesArg(fn, routesV); err != nil {
			return nil, err
		}
	}
	if d.static, err = staticArg(th, fn, st, staticV); err != nil {
		return nil, err
	}
	if d.budget.Timeout, err = lang.Duration(timeoutV); err != nil {
		return nil, fmt.Errorf("%s: for parameter handler_timeout: %v", fn, err)
	}
	if stepsV != starlark.None {
		n, err := starlark.AsInt32(stepsV)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s: for parameter handler_steps: got %s, want a non-negative int", fn, stepsV)
		}
		d.budget.Steps = uint64(n)
	}
	return d, nil
}

// reportHandlerError prints a handler's failure (answered 500), unless the
// script is ending or its lab network was closed, which interrupted it.
func reportHandlerError(in *lang.Interp) func(r *http.InRequest, err error) {
	return func(r *http.InRequest, err error) {
		if in.Context().Err() != nil || neterr.Closed(err) {
			return
		}
		local, _ := r.R.Context().Value(nethttp.LocalAddrContextKey).(net.Addr)
		in.Fprintf("http.serve %v: handler for %s %s failed (answered 500): %s\n", local, r.Method, r.R.RequestURI, lang.FormatError(err))
	}
}

// listenAndServe opens the listener (releasing the lock) and starts s.
func listenAndServe(th *starlark.Thread, st stack.Stack, op, addr string, cfg http.ServerConfig) (*http.Server, error) {
	ctx := lang.Context(th)
	var s *http.Server
	var err error
	addr = lang.ServerAddr(th, st, addr)
	lang.Unlocked(th, func() { s, err = http.Serve(ctx, st, addr, cfg) })
	if err != nil {
		return nil, lang.NetError(op, addr, err, 0)
	}
	lang.Listening(th, st, op, s.Addr())
	return s, nil
}

func routesArg(op string, v starlark.Value) ([]route, error) {
	m, ok := v.(starlark.IterableMapping)
	if !ok {
		return nil, fmt.Errorf("%s: for parameter routes: got %s, want dict", op, v.Type())
	}
	var rs []route
	for _, it := range m.Items() {
		key, ok := starlark.AsString(it[0])
		if !ok {
			return nil, fmt.Errorf("%s: for parameter routes: keys must be strings such as \"/cart\" or \"POST /cart\"", op)
		}
		fn, ok := it[1].(starlark.Callable)
		if !ok {
			return nil, fmt.Errorf("%s: for parameter routes: %q: got %s, want a function", op, key, it[1].Type())
		}
		rt := route{fn: fn}
		if m, p, ok := strings.Cut(key, " "); ok {
			rt.method, key = strings.ToUpper(m), strings.TrimSpace(p)
		}
		if !strings.HasPrefix(key, "/") {
			return nil, fmt.Errorf("%s: for parameter routes: %q: a path must start with /", op, key)
		}
		if strings.HasSuffix(key, "*") {
			rt.prefix, key = true, strings.TrimSuffix(key, "*")
		}
		rt.path = key
		rs = append(rs, rt)
	}
	return rs, nil
}

func staticArg(th *starlark.Thread, op string, st stack.Stack, v starlark.Value) (*http.Static, error) {
	switch v := v.(type) {
	case starlark.NoneType:
		return nil, nil
	case starlark.String:
		root, err := lang.OpenDir(th, op, string(v))
		if err != nil {
			return nil, err
		}
		return http.StaticRoot(root), nil
	case starlark.IterableMapping:
		files := map[string][]byte{}
		for _, it := range v.Items() {
			p, ok := starlark.AsString(it[0])
			if !ok {
				return nil, fmt.Errorf("%s: for parameter static: paths must be strings", op)
			}
			b, err := lang.BytesView(op, "static["+p+"]", it[1]) // only ever sent
			if err != nil {
				return nil, err
			}
			files[p] = b
		}
		return http.StaticFiles(files, st.Now()), nil
	}
	return nil, fmt.Errorf("%s: for parameter static: got %s, want a folder or a dict of paths to contents", op, v.Type())
}

var serverMethods = lang.NewMethods("http.server", `http.server

A server started by http.serve. Attributes: url ("http://127.0.0.1:PORT"),
port, address ((host, port)), log (list of http.log_record, one per
request answered, oldest first; the last 10000 are kept), requests (how
many it answered), connections (how many TCP connections it accepted: one
per request without keep-alive, one per client with it).`,
	lang.Method("http.server.stop", `stop()

Stops the server: closes the listener and every connection.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		sv, _ := lang.Receiver[*serverValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		lang.Unlocked(th, func() { sv.Close() })
		return starlark.None, nil
	}),
)

// Close stops the server; it must be called without the interpreter lock.
func (sv *serverValue) Close() error {
	sv.s.Stop()
	sv.d.release()
	if sv.d.static != nil {
		sv.d.static.Close()
	}
	sv.untrack()
	return nil
}

func (sv *serverValue) String() string        { return fmt.Sprintf("<http.server %s>", sv.s.URL()) }
func (sv *serverValue) Type() string          { return "http.server" }
func (sv *serverValue) Freeze()               {}
func (sv *serverValue) Truth() starlark.Bool  { return true }
func (sv *serverValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: http.server") }
func (sv *serverValue) AttrNames() []string {
	return append(serverMethods.Names(), "address", "connections", "log", "port", "requests", "url")
}
func (sv *serverValue) Attr(name string) (starlark.Value, error) {
	if v := serverAttr(sv.s, name); v != nil {
		return v, nil
	}
	return serverMethods.Attr(sv, name), nil
}

func serverAttr(s *http.Server, name string) starlark.Value {
	switch name {
	case "url":
		return starlark.String(s.URL())
	case "port":
		return starlark.MakeInt(s.Port())
	case "address":
		host, _, _ := strings.Cut(strings.TrimPrefix(s.URL(), "http://"), ":")
		if strings.HasPrefix(host, "[") {
			host = "::1"
		}
		return starlark.Tuple{starlark.String(host), starlark.MakeInt(s.Port())}
	case "connections":
		return starlark.MakeInt64(s.Accepted())
	case "requests":
		return starlark.MakeInt64(s.Requests())
	case "log":
		recs := s.Log()
		out := make([]starlark.Value, len(recs))
		for i, r := range recs {
			out[i] = logValue(r)
		}
		return starlark.NewList(out)
	}
	return nil
}

// ---- http.proxy ----

type proxyValue struct {
	s       *http.Server
	p       *http.Proxy
	untrack func()
}

func proxyBuiltin(st stack.Stack) *lang.Builtin {
	return lang.Func("http.proxy", `proxy(address="127.0.0.1:0", cache=True, max_bytes="64MiB", timeout="30s", persistent=True) -> http.proxy_server

Starts a forward web proxy — the course's institutional web cache — that
browsers and clients send every request to (curl -x, http.client(proxy=p)).
With cache=True it keeps responses (up to max_bytes of bodies, least
recently used out first) as the origin's Cache-Control allows: max-age=N
keeps a copy fresh for N seconds (served without asking the origin),
no-cache keeps it but validates it every time, no-store and private are
never kept; a copy with no max-age but a Last-Modified or ETag is validated
each time. Validation is a conditional GET (If-Modified-Since,
If-None-Match): a 304 Not Modified lets the cache serve its copy. Every
answer carries X-Cache: HIT, MISS or REVALIDATED. .stats counts hits,
misses, revalidated and bytes_from_origin.

With persistent=True the proxy keeps its connections to origin servers
open, as real caches do, so a miss after the first to the same origin
costs one round trip to it. The course counts a miss as two (a TCP
connection, then the request): persistent=False opens a new connection to
the origin for every miss and reproduces that figure exactly.

    p = http.proxy("127.0.0.1:0")
    c = http.client(proxy=p)
    for i in range(3):
        c.get(origin.url + "/logo.png")
    print(p.stats.hits, p.stats.misses)   # 2 1 if the origin says max-age`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var addrV starlark.Value = starlark.String("127.0.0.1:0")
		cache, persistent := true, true
		var maxV, timeoutV starlark.Value = starlark.String("64MiB"), starlark.String("30s")
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "address?", &addrV, "cache?", &cache, "max_bytes?", &maxV, "timeout?", &timeoutV, "persistent?", &persistent); err != nil {
			return nil, err
		}
		addr, err := lang.AddrArg(b.Name(), "address", addrV, 0)
		if err != nil {
			return nil, err
		}
		maxBytes, err := lang.Size(maxV)
		if err != nil {
			return nil, fmt.Errorf("%s: for parameter max_bytes: %v", b.Name(), err)
		}
		timeout, err := lang.Duration(timeoutV)
		if err != nil {
			return nil, fmt.Errorf("%s: for parameter timeout: %v", b.Name(), err)
		}
		p := http.NewProxy(st, cache, maxBytes, timeout)
		if !persistent {
			p.SetClient(http.NewClient(st, false, nil, "")) // a connection per request to the origin
		}
		s, err := listenAndServe(th, st, b.Name(), addr, http.ServerConfig{Handler: p.Handle, KeepAlive: true})
		if err != nil {
			return nil, err
		}
		pv := &proxyValue{s: s, p: p}
		pv.untrack = lang.InterpOf(th).Track(pv)
		return pv, nil
	})
}

var proxyMethods = lang.NewMethods("http.proxy_server", `http.proxy_server

A web proxy started by http.proxy. Attributes: url, port, address, stats
(http.stats: hits, misses, revalidated, bytes_from_origin …), log (one
http.log_record per client request), connections (TCP connections accepted
from clients).`,
	lang.Method("http.proxy_server.stop", `stop()

Stops the proxy and closes its connections.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		pv, _ := lang.Receiver[*proxyValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		lang.Unlocked(th, func() { pv.Close() })
		return starlark.None, nil
	}),
)

// Close stops the proxy.
func (pv *proxyValue) Close() error {
	pv.s.Stop()
	pv.p.Close()
	pv.untrack()
	return nil
}

func (pv *proxyValue) String() string        { return fmt.Sprintf("<http.proxy_server %s>", pv.s.URL()) }
func (pv *proxyValue) Type() string          { return "http.proxy_server" }
func (pv *proxyValue) Freeze()               {}
func (pv *proxyValue) Truth() starlark.Bool  { return true }
func (pv *proxyValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: http.proxy_server") }
func (pv *proxyValue) AttrNames() []string {
	names := append(proxyMethods.Names(), "address", "connections", "log", "port", "requests", "stats", "url")
	sort.Strings(names)
	return names
}
func (pv *proxyValue) Attr(name string) (starlark.Value, error) {
	if name == "stats" {
		return statsValue(pv.p.Stats()), nil
	}
	if v := serverAttr(pv.s, name); v != nil {
		return v, nil
	}
	return proxyMethods.Attr(pv, name), nil
}
