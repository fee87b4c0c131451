package grade

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"time"

	"github.com/netplay-dev/netplay/lang"
	"go.starlark.net/starlark"
)

// t.load runs the submission's file in a child netplay ("netplay run
// --calls FILE"), which then serves calls of its functions over two pipes:
// requests on the child's fd 4, replies on its fd 5, a JSON object a line.
// Values cross as their Starlark repr, so only plain data crosses.

// CallRequest is one call sent to a --calls child.
type CallRequest struct {
	Func   string `json:"func"`
	Args   string `json:"args"`   // a tuple's repr
	Kwargs string `json:"kwargs"` // a dict's repr
}

// CallReply is the child's answer to a CallRequest, or, first of all, to
// loading the file (Names set, or Error).
type CallReply struct {
	OK    bool              `json:"ok"`
	Value string            `json:"value,omitempty"` // a repr
	Error string            `json:"error,omitempty"` // the failure, with its traceback
	Kind  string            `json:"kind,omitempty"`
	Names map[string]string `json:"names,omitempty"` // global -> "function" or its repr
}

// Plain reports whether v is data that may cross to or from a child: None,
// bools, ints, finite floats, strings, bytes, and lists, tuples, dicts and
// sets of them.
func Plain(v starlark.Value) error {
	switch v := v.(type) {
	case starlark.NoneType, starlark.Bool, starlark.Int, starlark.String, starlark.Bytes:
		return nil
	case starlark.Float:
		if math.IsInf(float64(v), 0) || math.IsNaN(float64(v)) {
			return fmt.Errorf("the float %s cannot be copied", v)
		}
		return nil
	case *starlark.List, starlark.Tuple, *starlark.Set:
		it := v.(starlark.Iterable).Iterate()
		defer it.Done()
		var x starlark.Value
		for it.Next(&x) {
			if err := Plain(x); err != nil {
				return err
			}
		}
		return nil
	case *starlark.Dict:
		for _, kv := range v.Items() {
			if err := Plain(kv[0]); err != nil {
				return err
			}
			if err := Plain(kv[1]); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("a %s cannot be copied between interpreters (only None, bools, numbers, strings, bytes, lists, tuples, dicts and sets)", v.Type())
}

// Decode turns a repr made by a child back into a value.
func Decode(text string) (starlark.Value, error) {
	return starlark.EvalOptions(lang.Dialect, &starlark.Thread{Name: "decode"}, "<child>", text, nil)
}

// module is what t.load returns.
type module struct {
	path    string
	p       *Process
	req     *os.File
	rep     *bufio.Reader
	timeout time.Duration
	attrs   map[string]starlark.Value
	names   []string
	dead    string // why calls no longer work
}

func tLoad(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	t, _ := lang.Receiver[*T](b)
	var path string
	var timeoutV starlark.Value = starlark.String("5s")
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &path, "timeout?", &timeoutV); err != nil {
		return nil, err
	}
	timeout, err := lang.Duration(timeoutV)
	if err != nil {
		return nil, fmt.Errorf("%s: timeout: %v", b.Name(), err)
	}
	p, err := t.spawnChild(b.Name(), path, nil, nil, t.s.opts.Timeout, true)
	if err != nil {
		return nil, err
	}
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	repR, repW, err := os.Pipe()
	if err != nil {
		reqR.Close()
		reqW.Close()
		return nil, err
	}
	p.cmd.ExtraFiles = append(p.cmd.ExtraFiles, reqR, repW)
	lang.Unlocked(th, func() { err = p.begin() })
	reqR.Close()
	repW.Close()
	if err != nil {
		reqW.Close()
		repR.Close()
		return nil, fmt.Errorf("%s: starting %s: %v", b.Name(), path, err)
	}
	t.children = append(t.children, p)
	m := &module{path: path, p: p, req: reqW, rep: bufio.NewReaderSize(repR, 64<<10), timeout: timeout, attrs: map[string]starlark.Value{}}
	go func() { <-p.done; repR.Close(); reqW.Close() }()
	// Loading starts a process: on a loaded grading machine that takes
	// longer than a call, so it gets at least 10s.
	m.timeout = max(timeout, 10*time.Second)
	var hello CallReply
	if err := m.exchange(th, nil, &hello, fmt.Sprintf("your file %s did not finish loading within %s: does it loop at top level, like a server? (a server is run with t.start)", path, lang.FormatDuration(m.timeout))); err != nil {
		return nil, err
	}
	m.timeout = timeout
	if !hello.OK {
		return nil, lang.Errorf(lang.KindScript, b.Name(), "", "loading your file %s failed:\n%s", path, hello.Error)
	}
	for name, v := range hello.Names {
		if v == "function" {
			m.attrs[name] = &remoteFunc{m: m, name: name}
		} else if x, err := Decode(v); err == nil {
			m.attrs[name] = x
		} else {
			continue
		}
		m.names = append(m.names, name)
	}
	sort.Strings(m.names)
	return m, nil
}

// exchange sends req (if any) and reads one reply, giving up after the
// module's timeout with the student-facing message slow.
func (m *module) exchange(th *starlark.Thread, req *CallRequest, reply *CallReply, slow string) error {
	if m.dead != "" {
		return lang.Errorf(lang.KindClosed, "", "", "%s", m.dead)
	}
	ctx := lang.Context(th)
	var err error
	timedOut := false
	lang.Unlocked(th, func() {
		if req != nil {
			line, _ := json.Marshal(req)
			if _, err = m.req.Write(append(line, '\n')); err != nil {
				return
			}
		}
		done := make(chan error, 1)
		go func() {
			line, rerr := m.rep.ReadBytes('\n')
			if rerr == nil {
				rerr = json.Unmarshal(line, reply)
			}
			done <- rerr
		}()
		tm := time.NewTimer(m.timeout)
		defer tm.Stop()
		select {
		case err = <-done:
		case <-tm.C:
			timedOut = true
			m.p.kill()
		case <-ctx.Done():
			m.p.kill()
		}
	})
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if timedOut {
		m.dead = slow + "; the child interpreter was stopped"
		return lang.Errorf(lang.KindTimeout, "", "", "%s", slow)
	}
	if err != nil {
		m.p.kill()
		why := m.p.exitSummary()
		if why == "" {
			why = "your program " + m.path + " stopped"
		}
		if e := cleanStderr(m.p.stderr.String()); e != "" {
			why += ":\n" + e
		}
		m.dead = why
		return lang.Errorf(lang.KindScript, "", "", "%s", why)
	}
	return nil
}

func (m *module) String() string        { return fmt.Sprintf("<testing.module %s>", m.path) }
func (m *module) Type() string          { return "testing.module" }
func (m *module) Freeze()               {}
func (m *module) Truth() starlark.Bool  { return true }
func (m *module) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: testing.module") }
func (m *module) AttrNames() []string   { return m.names }
func (m *module) Attr(name string) (starlark.Value, error) {
	if v, ok := m.attrs[name]; ok {
		return v, nil
	}
	return nil, starlark.NoSuchAttrError(fmt.Sprintf("your file %s defines no %s", m.path, name))
}

var moduleDoc = lang.Document("testing.module", `testing.module

What t.load returns: the loaded file's functions, each called in the child
interpreter, and its plain global values as they were after loading.`)

// remoteFunc calls a function of a loaded file in its child.
type remoteFunc struct {
	m    *module
	name string
}

func (f *remoteFunc) String() string        { return fmt.Sprintf("<function %s in %s>", f.name, f.m.path) }
func (f *remoteFunc) Type() string          { return "function" }
func (f *remoteFunc) Freeze()               {}
func (f *remoteFunc) Truth() starlark.Bool  { return true }
func (f *remoteFunc) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: function") }
func (f *remoteFunc) Name() string          { return f.name }

func (f *remoteFunc) CallInternal(th *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := Plain(args); err != nil {
		return nil, fmt.Errorf("%s: %v", f.name, err)
	}
	kw := starlark.NewDict(len(kwargs))
	for _, kv := range kwargs {
		kw.SetKey(kv[0], kv[1])
	}
	if err := Plain(kw); err != nil {
		return nil, fmt.Errorf("%s: %v", f.name, err)
	}
	req := &CallRequest{Func: f.name, Args: args.String(), Kwargs: kw.String()}
	if len(args) == 1 {
		req.Args = "(" + args[0].String() + ",)"
	}
	var reply CallReply
	slow := fmt.Sprintf("your function %s did not return within %s", f.name, lang.FormatDuration(f.m.timeout))
	if err := f.m.exchange(th, req, &reply, slow); err != nil {
		return nil, err
	}
	if !reply.OK {
		kind := reply.Kind
		if kind == "" {
			kind = lang.KindScript
		}
		return nil, lang.Errorf(kind, "", "", "your function %s failed:\n%s", f.name, reply.Error)
	}
	v, err := Decode(reply.Value)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read its result %q: %v", f.name, reply.Value, err)
	}
	return v, nil
}
