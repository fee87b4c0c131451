// Package httpmod is the Starlark module http: a thin binding over the
// engine in runtime/http (argument reading, Starlark handlers, the
// http.response, http.request, http.client and http.server values, and
// their docs).
package httpmod

import (
	"context"
	"errors"
	"fmt"
	"net"
	nethttp "net/http"
	"net/url"
	"strings"
	"time"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/runtime/http"
	"github.com/netplay-dev/netplay/runtime/stack"
	"go.starlark.net/starlark"
)

const moduleDoc = `HTTP/1.1: a client (persistent or not, pipelining, cookies, conditional
GET, raw "telnet" mode, timings), a server calling Starlark handlers, and a
caching web proxy.

    srv = http.serve("127.0.0.1:0", handler=lambda req: "hello\n")
    r = http.get(srv.url + "/")
    print(r.status, r.text, r.timing.total)

Replies are values whatever their status (a 404 is a response, not an
error); refused connections, resets and timeouts fail with catch() kinds
"refused", "reset" and "timeout", a peer breaking HTTP with "protocol".`

const requestParams = `Parameters: headers (dict of extra header lines), params (dict added to
the URL's query string), data (str or bytes body; a dict is sent as a
form), form (dict sent as application/x-www-form-urlencoded), json (a value
sent as application/json), timeout (seconds or "5s"; default 30s),
follow_redirects (default True), trace (print the request and response
heads, C: and S: lines as the course draws them).`

// New returns the http module over st.
func New(st stack.Stack) *lang.Module {
	def := http.NewClient(st, false, nil, "")
	members := starlark.StringDict{
		"request": lang.Func("http.request", `request(method, url, headers=None, params=None, data=None, form=None, json=None, timeout=30, follow_redirects=True, trace=False) -> http.response

Sends a request with any method on a connection of its own (closed after
the response: non-persistent HTTP) and returns the response.
`+requestParams+`

    r = http.request("OPTIONS", srv.url + "/")`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			return doRequest(th, b, def, "", args, kwargs)
		}),
		"client":   clientBuiltin(st),
		"serve":    serveBuiltin(st),
		"response": responseBuiltin,
		"raw":      rawBuiltin(st),
		"proxy":    proxyBuiltin(st),
	}
	for _, m := range methodNames {
		method := strings.ToUpper(m)
		members[m] = lang.Func("http."+m, fmt.Sprintf(`%s(url, headers=None, params=None, data=None, form=None, json=None, timeout=30, follow_redirects=True, trace=False) -> http.response

Sends a %s request on a connection of its own (non-persistent HTTP) and
returns the response, whatever its status.
%s

    r = http.%s(srv.url + "/index.html")   # srv: an http.serve server`, m, method, requestParams, m), func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			return doRequest(th, b, def, method, args, kwargs)
		})
	}
	return lang.NewModule("http", moduleDoc, members, clientMethods, serverMethods, proxyMethods,
		headersMethods, respMethods, reqMethods, timingType, logRecordType, statsType)
}

var methodNames = []string{"get", "post", "head", "put", "delete", "options", "patch"}

// errorOf turns an engine error into what a script sees.
func errorOf(op, peer string, err error, timeout time.Duration) error {
	var ae *http.ArgError
	if errors.As(err, &ae) {
		return lang.Errorf(lang.KindArgument, op, "", "%s", ae.Msg)
	}
	var pe *http.ProtocolError
	if errors.As(err, &pe) {
		return lang.Errorf(lang.KindProtocol, op, peer, "%s", pe.Msg)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &lang.Error{Kind: lang.KindTimeout, Op: op, Peer: peer, Msg: "timeout after " + lang.FormatDuration(timeout), Err: err}
	}
	return lang.NetError(op, peer, err, timeout)
}

// doRequest is every request method of the module and of a client. method
// is "" for request(method, url, ...).
func doRequest(th *starlark.Thread, b *starlark.Builtin, c *http.Client, method string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var rawURL string
	var headersV, paramsV, dataV, formV, jsonV starlark.Value = starlark.None, starlark.None, starlark.None, starlark.None, starlark.None
	var timeoutV starlark.Value = starlark.MakeInt(30)
	follow, trace := true, false
	pairs := []any{"url", &rawURL, "headers?", &headersV, "params?", &paramsV, "data?", &dataV, "form?", &formV, "json?", &jsonV,
		"timeout?", &timeoutV, "follow_redirects?", &follow, "trace?", &trace}
	if method == "" {
		pairs = append([]any{"method", &method}, pairs...)
	}
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, pairs...); err != nil {
		return nil, err
	}
	method = strings.ToUpper(method)
	if method == "" || strings.ContainsAny(method, " \t\r\n") {
		return nil, fmt.Errorf("%s: invalid method %q", b.Name(), method)
	}
	timeout, err := lang.Duration(timeoutV)
	if err != nil {
		return nil, fmt.Errorf("%s: for parameter timeout: %v", b.Name(), err)
	}
	req := &http.Request{Method: method, Timeout: timeout, Redirect: follow}
	if req.Header, err = headerArg(b.Name(), headersV); err != nil {
		return nil, err
	}
	if req.URL, err = withParams(b.Name(), rawURL, paramsV); err != nil {
		return nil, err
	}
	if err := setBody(th, b.Name(), req, dataV, formV, jsonV); err != nil {
		return nil, err
	}
	if trace {
		out := lang.InterpOf(th).Output()
		req.Trace = out.Println
	}
	ctx := lang.Context(th)
	var resp *http.Response
	lang.Unlocked(th, func() { resp, err = c.Do(ctx, req) })
	if err != nil {
		return nil, errorOf(b.Name(), hostOf(req.URL), err, timeout)
	}
	return &respValue{r: resp, timing: true}, nil
}

func hostOf(rawURL string) string {
	if !strings.Contains(rawURL, "://") {
		rawURL = "http://" + rawURL
	}
	if u, err := url.Parse(rawURL); err == nil {
		return u.Host
	}
	return rawURL
}

// withParams adds params (a dict) to rawURL's query string.
func withParams(op, rawURL string, paramsV starlark.Value) (string, error) {
	if paramsV == starlark.None {
		return rawURL, nil
	}
	vals, err := formArg(op, "params", paramsV)
	if err != nil {
		return "", err
	}
	enc := vals.Encode()
	if enc == "" {
		return rawURL, nil
	}
	base, frag, hasFrag := strings.Cut(rawURL, "#")
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	base += sep + enc
	if hasFrag {
		base += "#" + frag
	}
	return base, nil
}

// formArg converts a dict of fields (values str, numbers, or lists of them).
func formArg(op, param string, v starlark.Value) (url.Values, error) {
	m, ok := v.(starlark.IterableMapping)
	if !ok {
		return nil, fmt.Errorf("%s: for parameter %s: got %s, want dict", op, param, v.Type())
	}
	vals := url.Values{}
	str := func(x starlark.Value) string {
		if s, ok := starlark.AsString(x); ok {
			return s
		}
		return x.String()
	}
	for _, it := range m.Items() {
		k := str(it[0])
		if l, ok := it[1].(*starlark.List); ok {
			for i := 0; i < l.Len(); i++ {
				vals.Add(k, str(l.Index(i)))
			}
			continue
		}
		vals.Add(k, str(it[1]))
	}
	return vals, nil
}

func setBody(th *starlark.Thread, op string, req *http.Request, dataV, formV, jsonV starlark.Value) error {
	n := 0
	for _, v := range []starlark.Value{dataV, formV, jsonV} {
		if v != starlark.None {
			n++
		}
	}
	if n > 1 {
		return fmt.Errorf("%s: give only one of data, form and json", op)
	}
	ctype := ""
	switch {
	case jsonV != starlark.None:
		b, err := jsonEncode(th, jsonV)
		if err != nil {
			return fmt.Errorf("%s: for parameter json: %v", op, err)
		}
		req.Body, ctype = b, "application/json"
	case formV != starlark.None:
		vals, err := formArg(op, "form", formV)
		if err != nil {
			return err
		}
		req.Body, ctype = []byte(vals.Encode()), "application/x-www-form-urlencoded"
	case dataV != starlark.None:
		if _, ok := dataV.(starlark.IterableMapping); ok {
			vals, err := formArg(op, "data", dataV)
			if err != nil {
				return err
			}
			req.Body, ctype = []byte(vals.Encode()), "application/x-www-form-urlencoded"
		} else {
			// Only read: the engine copies it into the request it sends.
			b, err := lang.BytesView(op, "data", dataV)
			if err != nil {
				return err
			}
			req.Body = b
		}
	default:
		if req.Method == "POST" || req.Method == "PUT" || req.Method == "PATCH" {
			req.HasBody = true // Content-Length: 0
		}
		return nil
	}
	req.HasBody = true
	if ctype != "" && !req.Header.Has("Content-Type") {
		req.Header = append(req.Header, http.Field{Name: "Content-Type", Value: ctype})
	}
	return nil
}

// ---- http.client ----

type clientValue struct {
	c       *http.Client
	untrack func()
}

func clientBuiltin(st stack.Stack) *lang.Builtin {
	return lang.Func("http.client", `client(persistent=True, cookies=True, proxy=None) -> http.client

A browser-like client: with persistent=True it keeps connections open and
reuses them (persistent HTTP, HTTP/1.1's default); with persistent=False it
opens a new TCP connection for every request and asks the server to close it
(non-persistent HTTP). With cookies=True it keeps the cookies servers set
(.cookies) and sends them back, as a browser's cookie file does. proxy is a
web cache to send every request through: an http.proxy server, a URL or
"host:port". client.connections counts the TCP connections it opened.

    c = http.client()
    c.get(shop.url + "/add?item=book")
    print(c.cookies)            # {"id": "1678"}
    page = c.get(shop.url + "/cart")`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		persistent, cookies := true, true
		var proxyV starlark.Value = starlark.None
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "persistent?", &persistent, "cookies?", &cookies, "proxy?", &proxyV); err != nil {
			return nil, err
		}
		proxy := ""
		switch p := proxyV.(type) {
		case starlark.NoneType:
		case *proxyValue:
			proxy = hostOf(p.s.URL())
		case starlark.String:
			proxy = hostOf(string(p))
			if _, _, err := net.SplitHostPort(proxy); err != nil {
				return nil, fmt.Errorf("%s: for parameter proxy: %q is not host:port", b.Name(), string(p))
			}
		default:
			return nil, fmt.Errorf("%s: for parameter proxy: got %s, want http.proxy_server or \"host:port\"", b.Name(), proxyV.Type())
		}
		var jar *http.Jar
		if cookies {
			jar = &http.Jar{}
		}
		cv := &clientValue{c: http.NewClient(st, persistent, jar, proxy)}
		cv.untrack = lang.InterpOf(th).Track(cv.c)
		return cv, nil
	})
}

var clientMethods = lang.NewMethods("http.client", `http.client

A client made by http.client(): the module's request functions as methods
(get, post, head, put, delete, options, patch, request) sharing its
connections and cookie jar, plus pipeline and close. Attributes: cookies
(dict name -> value of the cookies it holds), connections (TCP connections
it has opened so far), persistent, proxy.`, clientMethodList()...)

func clientMethodList() []lang.MethodDoc {
	var ms []lang.MethodDoc
	ms = append(ms, lang.Method("http.client.request", `request(method, url, headers=None, params=None, data=None, form=None, json=None, timeout=30, follow_redirects=True, trace=False) -> http.response

Sends a request with any method through this client (its connections and
cookies). `+requestParams, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, _ := lang.Receiver[*clientValue](b)
		return doRequest(th, b, cv.c, "", args, kwargs)
	}))
	for _, m := range methodNames {
		method := strings.ToUpper(m)
		ms = append(ms, lang.Method("http.client."+m, fmt.Sprintf(`%s(url, headers=None, params=None, data=None, form=None, json=None, timeout=30, follow_redirects=True, trace=False) -> http.response

Sends a %s request through this client, reusing an open connection when it
is persistent and sending its cookies.`, m, method), func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			cv, _ := lang.Receiver[*clientValue](b)
			return doRequest(th, b, cv.c, method, args, kwargs)
		}))
	}
	ms = append(ms, lang.Method("http.client.pipeline", `pipeline(urls, headers=None, timeout=30, trace=False) -> list

HTTP/1.1 pipelining: opens one connection to the server of urls (all must
be on the same server), sends a GET for every URL back to back without
waiting, then reads the responses, which the server sends in order
(first-come-first-served). Returns the responses in the order of urls;
each one's timing counts from the start of the pipeline.

    objects = ["%s/img%d.jpg" % (srv.url, i) for i in range(10)]
    for r in c.pipeline(objects):
        print(r.url, r.status, len(r.body))`, pipeline))
	ms = append(ms, lang.Method("http.client.close", `close()

Closes the client's idle connections.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, _ := lang.Receiver[*clientValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		cv.c.Close()
		return starlark.None, nil
	}))
	return ms
}

// pipeline is http.client.pipeline.
func pipeline(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	cv, _ := lang.Receiver[*clientValue](b)
	var urlsV starlark.Iterable
	var headersV starlark.Value = starlark.None
	var timeoutV starlark.Value = starlark.MakeInt(30)
	trace := false
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "urls", &urlsV, "headers?", &headersV, "timeout?", &timeoutV, "trace?", &trace); err != nil {
		return nil, err
	}
	urls, err := lang.StringsArg(b.Name(), "urls", urlsV)
	if err != nil {
		return nil, err
	}
	h, err := headerArg(b.Name(), headersV)
	if err != nil {
		return nil, err
	}
	timeout, err := lang.Duration(timeoutV)
	if err != nil {
		return nil, fmt.Errorf("%s: for parameter timeout: %v", b.Name(), err)
	}
	var tr func(string)
	if trace {
		tr = lang.InterpOf(th).Output().Println
	}
	ctx := lang.Context(th)
	var resps []*http.Response
	lang.Unlocked(th, func() { resps, err = cv.c.Pipeline(ctx, urls, h, timeout, tr) })
	if err != nil {
		peer := ""
		if len(urls) > 0 {
			peer = hostOf(urls[0])
		}
		return nil, errorOf(b.Name(), peer, err, timeout)
	}
	out := make([]starlark.Value, len(resps))
	for i, r := range resps {
		out[i] = &respValue{r: r, timing: true}
	}
	return starlark.NewList(out), nil
}

func (cv *clientValue) String() string {
	kind := "persistent"
	if !cv.c.Persistent {
		kind = "non-persistent"
	}
	return fmt.Sprintf("<http.client %s, %d connections>", kind, cv.c.Opened())
}
func (cv *clientValue) Type() string          { return "http.client" }
func (cv *clientValue) Freeze()               {}
func (cv *clientValue) Truth() starlark.Bool  { return true }
func (cv *clientValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: http.client") }
func (cv *clientValue) AttrNames() []string {
	return append(clientMethods.Names(), "connections", "cookies", "persistent", "proxy")
}
func (cv *clientValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "connections":
		return starlark.MakeInt64(cv.c.Opened()), nil
	case "cookies":
		d := starlark.NewDict(4)
		if cv.c.Jar != nil {
			for _, kv := range cv.c.Jar.All(cv.c.Stack().Now()) {
				d.SetKey(starlark.String(kv[0]), starlark.String(kv[1]))
			}
		}
		return d, nil
	case "persistent":
		return starlark.Bool(cv.c.Persistent), nil
	case "proxy":
		if cv.c.Proxy == "" {
			return starlark.None, nil
		}
		return starlark.String(cv.c.Proxy), nil
	}
	return clientMethods.Attr(cv, name), nil
}

// ---- http.response(...) ----

var responseBuiltin = lang.Func("http.response", `response(status=200, body="", headers=None, cookies=None, content_type=None) -> http.response

A response for a server's handler to return, when a plain str or dict is
not enough: any status code, extra headers (Location, Cache-Control,
Last-Modified, ETag …) and cookies to set. body may be str, bytes, or a
dict or list (sent as JSON). cookies maps names to values, or to dicts with
value and any of path, max_age (seconds), expires, domain, http_only,
secure. A 200 response carrying ETag or Last-Modified is turned into
304 Not Modified, without a body, when the request's If-None-Match or
If-Modified-Since shows the client's copy is current.

    def handler(req):
        if "id" not in req.cookies:
            return http.response(body="welcome", cookies={"id": "1678"})
        return "welcome back, " + req.cookies["id"]`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	status := 200
	var bodyV, headersV, cookiesV, ctypeV starlark.Value = starlark.String(""), starlark.None, starlark.None, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "status?", &status, "body?", &bodyV, "headers?", &headersV, "cookies?", &cookiesV, "content_type?", &ctypeV); err != nil {
		return nil, err
	}
	if status < 100 || status > 999 {
		return nil, fmt.Errorf("%s: for parameter status: %d is not an HTTP status code", b.Name(), status)
	}
	h, err := headerArg(b.Name(), headersV)
	if err != nil {
		return nil, err
	}
	body, ctype, err := bodyOf(th, b.Name(), bodyV)
	if err != nil {
		return nil, err
	}
	if s, ok := starlark.AsString(ctypeV); ok {
		ctype = s
	} else if ctypeV != starlark.None {
		return nil, fmt.Errorf("%s: for parameter content_type: got %s, want str", b.Name(), ctypeV.Type())
	}
	if ctype != "" && !h.Has("Content-Type") {
		h = append(h, http.Field{Name: "Content-Type", Value: ctype})
	}
	if cookiesV != starlark.None {
		cs, err := cookiesArg(b.Name(), cookiesV)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			h = append(h, http.Field{Name: "Set-Cookie", Value: c})
		}
	}
	return &respValue{r: &http.Response{Proto: "HTTP/1.1", Status: status, Reason: http.StatusText(status), Header: h, Body: body}}, nil
})

// bodyOf converts what a handler returns as a body. A str or bytes is
// shared, not copied: the engine only reads a reply's body (to send it, to
// sniff its type) and so does the respValue a body may be kept in.
func bodyOf(th *starlark.Thread, op string, v starlark.Value) ([]byte, string, error) {
	switch v := v.(type) {
	case starlark.String:
		return lang.ReadOnly(string(v)), textType(string(v)), nil
	case starlark.Bytes:
		return lang.ReadOnly(string(v)), "", nil
	case starlark.NoneType:
		return nil, "", nil
	case *starlark.Dict, *starlark.List, starlark.Tuple:
		b, err := jsonEncode(th, v)
		if err != nil {
			return nil, "", fmt.Errorf("%s: body: %v", op, err)
		}
		return b, "application/json", nil
	}
	return nil, "", fmt.Errorf("%s: for parameter body: got %s, want str, bytes, dict or list", op, v.Type())
}

func textType(s string) string {
	if t := strings.TrimLeft(s, " \t\r\n"); strings.HasPrefix(t, "<") {
		return "text/html; charset=utf-8"
	}
	return "text/plain; charset=utf-8"
}

func cookiesArg(op string, v starlark.Value) ([]string, error) {
	m, ok := v.(starlark.IterableMapping)
	if !ok {
		return nil, fmt.Errorf("%s: for parameter cookies: got %s, want dict", op, v.Type())
	}
	var out []string
	for _, it := range m.Items() {
		name, ok := starlark.AsString(it[0])
		if !ok {
			return nil, fmt.Errorf("%s: for parameter cookies: names must be strings", op)
		}
		c := &nethttp.Cookie{Name: name}
		switch val := it[1].(type) {
		case starlark.String:
			c.Value = string(val)
		case starlark.Int:
			c.Value = val.String()
		case starlark.IterableMapping:
			for _, a := range val.Items() {
				k, _ := starlark.AsString(a[0])
				switch k {
				case "value":
					c.Value, _ = starlark.AsString(a[1])
					if _, isInt := a[1].(starlark.Int); isInt {
						c.Value = a[1].String()
					}
				case "path":
					c.Path, _ = starlark.AsString(a[1])
				case "domain":
					c.Domain, _ = starlark.AsString(a[1])
				case "max_age":
					d, err := lang.Duration(a[1])
					if err != nil {
						return nil, fmt.Errorf("%s: cookie %s: max_age: %v", op, name, err)
					}
					c.MaxAge = int(d / time.Second)
					if c.MaxAge == 0 {
						c.MaxAge = -1 // max_age=0 deletes the cookie
					}
				case "expires":
					s, _ := starlark.AsString(a[1])
					t, err := nethttp.ParseTime(s)
					if err != nil {
						return nil, fmt.Errorf("%s: cookie %s: expires %q is not an HTTP date", op, name, s)
					}
					c.Expires = t
				case "http_only":
					c.HttpOnly = bool(a[1].Truth())
				case "secure":
					c.Secure = bool(a[1].Truth())
				default:
					return nil, fmt.Errorf("%s: cookie %s: unknown attribute %q (want value, path, domain, max_age, expires, http_only, secure)", op, name, k)
				}
			}
		default:
			return nil, fmt.Errorf("%s: cookie %s: got %s, want str or dict", op, name, it[1].Type())
		}
		if c.Path == "" {
			c.Path = "/"
		}
		if err := c.Valid(); err != nil {
			return nil, fmt.Errorf("%s: cookie %s: %v", op, name, err)
		}
		out = append(out, c.String())
	}
	return out, nil
}

// ---- http.raw ----

func rawBuiltin(st stack.Stack) *lang.Builtin {
	return lang.Func("http.raw", `raw(address, text, timeout=10) -> str

The course's "telnet to port 80": connects to address ("host:port", or a
URL), sends text (str or bytes) exactly as given — nothing added, so end
lines with \r\n and the head with an empty line — and returns what the
server sent back, as text: the responses to the requests typed (or, if a
request says Connection: close or the text is not HTTP, everything until
the server closes or goes quiet).

    print(http.raw("127.0.0.1:%d" % srv.port,
                   "GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n"))`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var addrV, textV starlark.Value
		var timeoutV starlark.Value = starlark.MakeInt(10)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "address", &addrV, "text", &textV, "timeout?", &timeoutV); err != nil {
			return nil, err
		}
		addr, err := lang.AddrArg(b.Name(), "address", addrV, 80)
		if err != nil {
			return nil, err
		}
		data, err := lang.BytesView(b.Name(), "text", textV) // only sent and parsed
		if err != nil {
			return nil, err
		}
		timeout, err := lang.Duration(timeoutV)
		if err != nil {
			return nil, fmt.Errorf("%s: for parameter timeout: %v", b.Name(), err)
		}
		ctx := lang.Context(th)
		var reply []byte
		lang.Unlocked(th, func() { reply, err = http.Raw(ctx, st, addr, data, timeout) })
		if err != nil {
			return nil, errorOf(b.Name(), addr, err, timeout)
		}
		return lang.Text(reply), nil // reply is ours alone
	})
}
