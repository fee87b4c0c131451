package httpmod

import (
	"fmt"
	nethttp "net/http"
	"sort"
	"strings"
	"time"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/runtime/http"
	starjson "go.starlark.net/lib/json"
	"go.starlark.net/starlark"
)

// This file holds the Starlark values of the module: responses, headers,
// requests a server received, and small records (timings, log lines,
// cache statistics).

func jsonEncode(th *starlark.Thread, v starlark.Value) ([]byte, error) {
	s, err := starlark.Call(th, starjson.Module.Members["encode"], starlark.Tuple{v}, nil)
	if err != nil {
		return nil, err
	}
	return lang.ReadOnly(string(s.(starlark.String))), nil // a fresh str, only sent
}

func jsonDecode(th *starlark.Thread, op string, b []byte) (starlark.Value, error) {
	v, err := starlark.Call(th, starjson.Module.Members["decode"], starlark.Tuple{starlark.String(lang.StringView(b))}, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: body is not JSON: %s", op, strings.TrimPrefix(err.Error(), "json.decode: "))
	}
	return v, nil
}

func seconds(d time.Duration) starlark.Value { return starlark.Float(d.Seconds()) }

// record is lang's read-only value with named fields.
type record = lang.Record

func newRecord(typ string, kv ...any) *record { return lang.NewRecord(typ, kv...) }

func timingValue(t http.Timing) *record {
	return newRecord("http.timing",
		"connect", seconds(t.Connect),
		"first_byte", seconds(t.FirstByte),
		"transfer", seconds(t.Total-t.FirstByte),
		"total", seconds(t.Total))
}

func logValue(r http.LogRecord) *record {
	errV := starlark.Value(starlark.None)
	if r.Error != "" {
		errV = starlark.String(r.Error)
	}
	return newRecord("http.log_record",
		"method", starlark.String(r.Method),
		"path", starlark.String(r.Path),
		"status", starlark.MakeInt(r.Status),
		"bytes", starlark.MakeInt(r.Bytes),
		"duration", seconds(r.Duration),
		"remote", starlark.String(r.Remote),
		"time", starlark.Float(float64(r.Time.UnixNano())/1e9),
		"error", errV)
}

func statsValue(s http.CacheStats) *record {
	rate := 0.0
	if s.Requests > 0 {
		rate = float64(s.Hits+s.Revalidated) / float64(s.Requests)
	}
	return newRecord("http.stats",
		"requests", starlark.MakeInt64(s.Requests),
		"hits", starlark.MakeInt64(s.Hits),
		"misses", starlark.MakeInt64(s.Misses),
		"revalidated", starlark.MakeInt64(s.Revalidated),
		"hit_rate", starlark.Float(rate),
		"bytes_from_origin", starlark.MakeInt64(s.BytesFromOrigin),
		"bytes_to_clients", starlark.MakeInt64(s.BytesToClients),
		"stored_bytes", starlark.MakeInt64(s.Stored),
		"entries", starlark.MakeInt64(s.Entries))
}

var (
	timingType = lang.Document("http.timing", `http.timing

Where a request's time went, in seconds on the network's clock (lab time
inside a lab): connect (the TCP handshake; 0 on a reused connection),
first_byte (from the start until the first byte of the response arrived,
as curl's time_starttransfer), transfer (first byte to last) and total.
Fields are attributes (t.total) or keys (t["total"]).`)
	logRecordType = lang.Document("http.log_record", `http.log_record

One request a server answered, from server.log: method, path (with the
query), status, bytes (body bytes sent), duration (seconds), remote
("ip:port"), time (seconds since the epoch) and error (None, or why the
handler failed). Fields are attributes or keys.`)
	statsType = lang.Document("http.stats", `http.stats

A caching proxy's counters, from proxy.stats: requests, hits (answered from
the cache without asking the origin), misses (fetched in full from the
origin), revalidated (a stale copy the origin confirmed with 304 Not
Modified), hit_rate ((hits + revalidated) / requests), bytes_from_origin,
bytes_to_clients, stored_bytes and entries. Fields are attributes or keys.`)
)

// ---- headers ----

// headersValue is a message's header lines: a read-only mapping whose keys
// ignore case.
type headersValue struct{ h http.Header }

var (
	_ starlark.IterableMapping = (*headersValue)(nil)
	_ starlark.HasAttrs        = (*headersValue)(nil)
	_ starlark.Sequence        = (*headersValue)(nil)
)

var headersMethods = lang.NewMethods("http.headers", `http.headers

The header lines of a message, as a read-only mapping whose keys ignore
case: r.headers["content-type"] and r.headers["Content-Type"] are the same.
A header sent several times reads as its values joined by ", " (get_all
returns them apart). dict(r.headers) copies it; "etag" in r.headers tests
for a header.`,
	lang.Method("http.headers.get", `get(name, default=None) -> str

The value of header name, or default when it is absent.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		h, _ := lang.Receiver[*headersValue](b)
		var name string
		var def starlark.Value = starlark.None
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "default?", &def); err != nil {
			return nil, err
		}
		if !h.h.Has(name) {
			return def, nil
		}
		return h.value(name), nil
	}),
	lang.Method("http.headers.get_all", `get_all(name) -> list

Every value of header name, in order (for Set-Cookie, sent once per cookie).`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		h, _ := lang.Receiver[*headersValue](b)
		var name string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name); err != nil {
			return nil, err
		}
		var out []starlark.Value
		for _, v := range h.h.Values(name) {
			out = append(out, starlark.String(v))
		}
		return starlark.NewList(out), nil
	}),
	lang.Method("http.headers.keys", `keys() -> list

The header names, as sent, each once.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		h, _ := lang.Receiver[*headersValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		var out []starlark.Value
		for _, n := range h.names() {
			out = append(out, starlark.String(n))
		}
		return starlark.NewList(out), nil
	}),
	lang.Method("http.headers.items", `items() -> list

(name, value) pairs, one per header name.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		h, _ := lang.Receiver[*headersValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		var out []starlark.Value
		for _, it := range h.Items() {
			out = append(out, it)
		}
		return starlark.NewList(out), nil
	}),
	lang.Method("http.headers.values", `values() -> list

The values, one per header name.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		h, _ := lang.Receiver[*headersValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		var out []starlark.Value
		for _, n := range h.names() {
			out = append(out, h.value(n))
		}
		return starlark.NewList(out), nil
	}),
)

func (h *headersValue) names() []string {
	var names []string
	seen := map[string]bool{}
	for _, f := range h.h {
		k := strings.ToLower(f.Name)
		if !seen[k] {
			seen[k] = true
			names = append(names, f.Name)
		}
	}
	return names
}

func (h *headersValue) value(name string) starlark.Value {
	return starlark.String(strings.Join(h.h.Values(name), ", "))
}

func (h *headersValue) String() string {
	var b strings.Builder
	b.WriteString("{")
	for i, n := range h.names() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q: %s", n, h.value(n).String())
	}
	b.WriteString("}")
	return b.String()
}
func (h *headersValue) Type() string          { return "http.headers" }
func (h *headersValue) Freeze()               {}
func (h *headersValue) Truth() starlark.Bool  { return len(h.h) > 0 }
func (h *headersValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: http.headers") }
func (h *headersValue) Len() int              { return len(h.names()) }
func (h *headersValue) Get(k starlark.Value) (starlark.Value, bool, error) {
	s, ok := k.(starlark.String)
	if !ok {
		return nil, false, fmt.Errorf("http.headers: key must be a string, not %s", k.Type())
	}
	if !h.h.Has(string(s)) {
		return nil, false, nil
	}
	return h.value(string(s)), true, nil
}
func (h *headersValue) Items() []starlark.Tuple {
	var out []starlark.Tuple
	for _, n := range h.names() {
		out = append(out, starlark.Tuple{starlark.String(n), h.value(n)})
	}
	return out
}
func (h *headersValue) Iterate() starlark.Iterator {
	var keys []starlark.Value
	for _, n := range h.names() {
		keys = append(keys, starlark.String(n))
	}
	return starlark.NewList(keys).Iterate()
}
func (h *headersValue) AttrNames() []string { return headersMethods.Names() }
func (h *headersValue) Attr(name string) (starlark.Value, error) {
	return headersMethods.Attr(h, name), nil
}

// headerFromNet turns a received request's header map into lines, sorted
// by name (the map has lost the order).
func headerFromNet(nh nethttp.Header) http.Header {
	names := make([]string, 0, len(nh))
	for k := range nh {
		names = append(names, k)
	}
	sort.Strings(names)
	var h http.Header
	for _, k := range names {
		for _, v := range nh[k] {
			h = append(h, http.Field{Name: k, Value: v})
		}
	}
	return h
}

// headerArg converts a headers= argument: a dict (values str, numbers or
// lists of them), an http.headers, or a list of (name, value) pairs.
func headerArg(op string, v starlark.Value) (http.Header, error) {
	var h http.Header
	add := func(k, val starlark.Value) error {
		name, ok := starlark.AsString(k)
		if !ok {
			return fmt.Errorf("%s: for parameter headers: header names must be strings, not %s", op, k.Type())
		}
		var vals []starlark.Value
		if l, ok := val.(*starlark.List); ok {
			for i := 0; i < l.Len(); i++ {
				vals = append(vals, l.Index(i))
			}
		} else {
			vals = []starlark.Value{val}
		}
		for _, x := range vals {
			s, ok := starlark.AsString(x)
			if !ok {
				switch x.(type) {
				case starlark.Int, starlark.Float, starlark.Bool:
					s = x.String()
				default:
					return fmt.Errorf("%s: for parameter headers: value of %s must be a string, not %s", op, name, x.Type())
				}
			}
			f := http.Field{Name: name, Value: s}
			if err := http.ValidField(f); err != nil {
				return fmt.Errorf("%s: for parameter headers: %v", op, err)
			}
			h = append(h, f)
		}
		return nil
	}
	switch v := v.(type) {
	case starlark.NoneType:
		return nil, nil
	case *headersValue:
		return append(http.Header(nil), v.h...), nil
	case starlark.IterableMapping:
		for _, it := range v.Items() {
			if err := add(it[0], it[1]); err != nil {
				return nil, err
			}
		}
		return h, nil
	case *starlark.List:
		for i := 0; i < v.Len(); i++ {
			t, ok := v.Index(i).(starlark.Tuple)
			if !ok || len(t) != 2 {
				return nil, fmt.Errorf("%s: for parameter headers: want a dict or a list of (name, value) pairs", op)
			}
			if err := add(t[0], t[1]); err != nil {
				return nil, err
			}
		}
		return h, nil
	}
	return nil, fmt.Errorf("%s: for parameter headers: got %s, want dict", op, v.Type())
}

// ---- bodies ----

// A message's body reaches Starlark without a copy: .body and .text are
// views of the engine's bytes. That is safe because nothing writes to a
// body once it is in a value: the client reads a response's body into a
// buffer of its own and lets go of it, the server reads a request's body
// likewise, and a body http.response built is a str's or bytes' own
// (bodyOf), which the engine only reads.

// textOf is body as a str, made once and kept in *cache: it costs a UTF-8
// check of the whole body (and a copy when the body is not UTF-8).
// Values are only read under the interpreter lock, which guards *cache.
func textOf(body []byte, cache *starlark.Value) starlark.Value {
	if *cache == nil {
		*cache = lang.Text(body)
	}
	return *cache
}

// ---- responses ----

// respValue is an HTTP response: one a client received, or one a handler
// builds with http.response to send.
type respValue struct {
	r      *http.Response
	timing bool // r.Timing is meaningful
	text   starlark.Value
}

var respMethods = lang.NewMethods("http.response", `http.response

An HTTP response. A client's call returns one; a server's handler may build
one with http.response(...) to choose the status, headers and cookies.
Attributes: status (int, 200), reason ("OK"), proto ("HTTP/1.1"), headers
(http.headers, keys ignore case), body (bytes), text (the body as str), ok
(status below 400), url (the URL it answers, after redirects), cookies (dict
of the cookies it sets), timing (http.timing, or None for a built response).
A 304 Not Modified and any answer to HEAD have an empty body.

    r = http.get(srv.url + "/index.html")
    print(r.status, r.reason, r.headers["Content-Type"], len(r.body))
    print("first byte after %.3fs" % r.timing.first_byte)`,
	lang.Method("http.response.json", `json() -> value

The body decoded as JSON (dicts, lists, strings, numbers…).`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		r, _ := lang.Receiver[*respValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		return jsonDecode(th, b.Name(), r.r.Body)
	}),
)

func (r *respValue) String() string {
	return fmt.Sprintf("<http.response %d %s, %d bytes>", r.r.Status, r.r.Reason, len(r.r.Body))
}
func (r *respValue) Type() string          { return "http.response" }
func (r *respValue) Freeze()               {}
func (r *respValue) Truth() starlark.Bool  { return true }
func (r *respValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: http.response") }
func (r *respValue) AttrNames() []string {
	return append(respMethods.Names(), "body", "cookies", "headers", "ok", "proto", "reason", "status", "text", "timing", "url")
}
func (r *respValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "status":
		return starlark.MakeInt(r.r.Status), nil
	case "reason":
		return starlark.String(r.r.Reason), nil
	case "proto":
		return starlark.String(r.r.Proto), nil
	case "headers":
		return &headersValue{r.r.Header}, nil
	case "body":
		return starlark.Bytes(lang.StringView(r.r.Body)), nil
	case "text":
		return textOf(r.r.Body, &r.text), nil
	case "ok":
		return starlark.Bool(r.r.Status < 400), nil
	case "url":
		return starlark.String(r.r.URL), nil
	case "cookies":
		d := starlark.NewDict(2)
		resp := nethttp.Response{Header: nethttp.Header{"Set-Cookie": r.r.Header.Values("Set-Cookie")}}
		for _, c := range resp.Cookies() {
			d.SetKey(starlark.String(c.Name), starlark.String(c.Value))
		}
		return d, nil
	case "timing":
		if !r.timing {
			return starlark.None, nil
		}
		return timingValue(r.r.Timing), nil
	}
	return respMethods.Attr(r, name), nil
}

// ---- a request a server received ----

type reqValue struct {
	r    *http.InRequest
	text starlark.Value
}

var reqMethods = lang.NewMethods("http.server_request", `http.server_request

A request a server's handler receives. Attributes: method ("GET"), path
("/cart", without the query), query (dict of the query string's
parameters), url (the request target as sent, "/cart?id=3"), proto
("HTTP/1.1"), headers (http.headers, keys ignore case), cookies (dict of the
Cookie header's cookies), body (bytes), text (the body as str), form (dict
of a POSTed HTML form's fields, or of the query for a GET) and remote (the
client's "ip:port").

    def handler(req):
        return "hello %s from %s" % (req.query.get("name", "you"), req.remote)`,
	lang.Method("http.server_request.json", `json() -> value

The request body decoded as JSON.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		r, _ := lang.Receiver[*reqValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		return jsonDecode(th, b.Name(), r.r.Body)
	}),
)

func (r *reqValue) String() string {
	return fmt.Sprintf("<http.server_request %s %s>", r.r.Method, r.r.R.RequestURI)
}
func (r *reqValue) Type() string          { return "http.server_request" }
func (r *reqValue) Freeze()               {}
func (r *reqValue) Truth() starlark.Bool  { return true }
func (r *reqValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: http.server_request") }
func (r *reqValue) AttrNames() []string {
	return append(reqMethods.Names(), "body", "cookies", "form", "headers", "method", "path", "proto", "query", "remote", "text", "url")
}

func valuesDict(vals map[string][]string) *starlark.Dict {
	d := starlark.NewDict(len(vals))
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if vs := vals[k]; len(vs) > 0 {
			d.SetKey(starlark.String(k), starlark.String(vs[0]))
		}
	}
	return d
}

func (r *reqValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "method":
		return starlark.String(r.r.Method), nil
	case "path":
		return starlark.String(r.r.Path), nil
	case "url":
		return starlark.String(r.r.R.RequestURI), nil
	case "proto":
		return starlark.String(r.r.Proto), nil
	case "query":
		return valuesDict(r.r.R.URL.Query()), nil
	case "headers":
		return &headersValue{headerFromNet(r.r.Header)}, nil
	case "cookies":
		d := starlark.NewDict(2)
		for _, c := range r.r.R.Cookies() {
			d.SetKey(starlark.String(c.Name), starlark.String(c.Value))
		}
		return d, nil
	case "body":
		return starlark.Bytes(lang.StringView(r.r.Body)), nil
	case "text":
		return textOf(r.r.Body, &r.text), nil
	case "form":
		return valuesDict(http.FormValues(r.r)), nil
	case "remote":
		return starlark.String(r.r.Remote), nil
	}
	return reqMethods.Attr(r, name), nil
}
