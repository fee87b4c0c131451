package lang

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// Every builtin's documentation is written once, beside its code, by
// creating the builtin with Func (or a method with Method, a module with
// NewModule, a type with Type). help(), `netplay doc` and docs/reference.md
// are all generated from this registry.
//
// A doc's first line is the signature, Python style:
//
//	recv(bufsize) -> bytes
//
// followed by a blank line and the description.

var docs struct {
	sync.Mutex
	byName map[string]string
	alias  map[string]string            // a method's builtin name -> its doc key
	funcs  map[string]*starlark.Builtin // doc key -> the builtin, for tests of the docs
}

func registerFunc(key string, b *starlark.Builtin) {
	docs.Lock()
	defer docs.Unlock()
	if docs.funcs == nil {
		docs.funcs = map[string]*starlark.Builtin{}
	}
	if _, ok := docs.funcs[key]; !ok {
		docs.funcs[key] = b
	}
}

// AllBuiltins returns every documented builtin and method by its doc key
// ("socket.socket.recv"), for tests that check the docs against the code.
func AllBuiltins() map[string]*starlark.Builtin {
	docs.Lock()
	defer docs.Unlock()
	out := make(map[string]*starlark.Builtin, len(docs.funcs))
	for k, v := range docs.funcs {
		out[k] = v
	}
	return out
}

func register(name, doc string) {
	docs.Lock()
	defer docs.Unlock()
	if docs.byName == nil {
		docs.byName = map[string]string{}
	}
	doc = strings.TrimSpace(doc)
	old, ok := docs.byName[name]
	switch {
	case !ok:
		docs.byName[name] = doc
	case isSignature(name, doc) && !isSignature(name, old):
		// A constructor and the type it makes share a name (http.client):
		// its signature comes first, then what the type is.
		docs.byName[name] = doc + "\n\n" + typeBody(old)
	case isSignature(name, old) && !isSignature(name, doc) && !strings.Contains(old, typeBody(doc)):
		docs.byName[name] = old + "\n\n" + typeBody(doc)
	}
}

// isSignature reports whether doc starts with a call signature of name
// ("client(persistent=True) -> http.client" for http.client).
func isSignature(name, doc string) bool {
	short := name[strings.LastIndex(name, ".")+1:]
	return strings.HasPrefix(doc, short+"(") || strings.HasPrefix(doc, name+"(")
}

// typeBody is a type's doc without the line naming the type.
func typeBody(doc string) string {
	first, rest, _ := strings.Cut(doc, "\n")
	if strings.ContainsAny(first, " (") {
		return doc
	}
	return strings.TrimSpace(rest)
}

// Doc returns the documentation of a builtin, method, module or type by its
// qualified name ("socket.recv", "socket", "spawn").
func Doc(name string) (string, bool) {
	docs.Lock()
	defer docs.Unlock()
	d, ok := docs.byName[name]
	if !ok {
		d, ok = docs.byName[docs.alias[name]]
	}
	return d, ok
}

// DocNames returns the documented names inside a module or type (those
// starting with prefix + "."), sorted.
func DocNames(prefix string) []string {
	docs.Lock()
	defer docs.Unlock()
	var names []string
	for n := range docs.byName {
		if rest, ok := strings.CutPrefix(n, prefix+"."); ok && !strings.Contains(rest, ".") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// Func returns a builtin named name ("socket.gethostbyname": the module and
// the function, so every argument error names both) documented by doc.
func Func(name, doc string, fn func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error)) *starlark.Builtin {
	register(name, doc)
	b := starlark.NewBuiltin(name, fn)
	registerFunc(name, b)
	return b
}

// Document records the documentation of a member that is not a function
// (a constant, a type).
func Document(name, doc string) { register(name, doc) }

// NewModule returns a module documented by doc. Its members must each be
// documented under "name.member".
func NewModule(name, doc string, members starlark.StringDict) *starlarkstruct.Module {
	register(name, doc)
	return &starlarkstruct.Module{Name: name, Members: members}
}

// Methods are the methods of a Starlark type.
type Methods map[string]*starlark.Builtin

// A MethodDoc is a method and its documentation, made by Method.
type MethodDoc struct {
	b   *starlark.Builtin
	doc string
}

// Method returns a method named name ("socket.recv": how argument errors
// will name it) documented by doc. NewMethods files the doc under its type.
func Method(name, doc string, fn func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error)) MethodDoc {
	return MethodDoc{starlark.NewBuiltin(name, fn), doc}
}

// NewMethods documents a type (typeName is what its Type() returns, such as
// "socket.socket") and returns its method table; each method's doc is filed
// as "typeName.method".
func NewMethods(typeName, doc string, methods ...MethodDoc) Methods {
	register(typeName, doc)
	m := Methods{}
	for _, md := range methods {
		name := md.b.Name()
		short := name[strings.LastIndex(name, ".")+1:]
		key := typeName + "." + short
		register(key, md.doc)
		registerFunc(key, md.b)
		docs.Lock()
		if docs.alias == nil {
			docs.alias = map[string]string{}
		}
		if k, ok := docs.alias[name]; ok && k != key {
			docs.Unlock()
			panic(fmt.Sprintf("lang: method name %s documented as both %s and %s", name, k, key))
		}
		docs.alias[name] = key
		docs.Unlock()
		m[short] = md.b
	}
	return m
}

// Attr returns method name bound to recv, or nil.
func (m Methods) Attr(recv starlark.Value, name string) starlark.Value {
	if b, ok := m[name]; ok {
		return b.BindReceiver(recv)
	}
	return nil
}

// Names lists the methods, sorted.
func (m Methods) Names() []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Receiver returns b's receiver as a T, or an error naming the method.
func Receiver[T starlark.Value](b *starlark.Builtin) (T, error) {
	r, ok := b.Receiver().(T)
	if !ok {
		var zero T
		return zero, fmt.Errorf("%s: unbound method", b.Name())
	}
	return r, nil
}

// Help returns the help text for a value: a builtin's doc, a module's doc and
// members, a type's doc and methods.
func Help(v starlark.Value) string {
	switch v := v.(type) {
	case *starlark.Builtin:
		if d, ok := Doc(v.Name()); ok {
			return d
		}
		return v.Name() + ": a Starlark built-in function; see the Starlark language spec."
	case *starlarkstruct.Module:
		return helpGroup(v.Name, v.Name+" module")
	case starlark.String:
		if d, ok := Doc(string(v)); ok {
			if names := DocNames(string(v)); len(names) > 0 {
				return helpGroup(string(v), string(v))
			}
			return d
		}
		return fmt.Sprintf("no documentation for %q", string(v))
	case *starlark.Function:
		if d := v.Doc(); d != "" {
			return v.Name() + "\n\n" + d
		}
		return fmt.Sprintf("%s: a function defined at %s", v.Name(), v.Position())
	}
	if _, ok := Doc(v.Type()); ok {
		return helpGroup(v.Type(), v.Type())
	}
	return fmt.Sprintf("%s: a value of type %s", v.String(), v.Type())
}

func helpGroup(name, title string) string {
	var b strings.Builder
	d, _ := Doc(name)
	if first, _, _ := strings.Cut(d, "\n"); first == name || first == title {
		fmt.Fprintf(&b, "%s\n", d) // a type's doc already starts with its name
	} else {
		fmt.Fprintf(&b, "%s\n\n%s\n", title, d)
	}
	names := DocNames(name)
	if len(names) > 0 {
		b.WriteString("\n")
	}
	for _, n := range names {
		d, _ := Doc(n)
		first, _, _ := strings.Cut(d, "\n")
		fmt.Fprintf(&b, "  %s\n", first)
	}
	return strings.TrimRight(b.String(), "\n")
}

// Adopt returns the members of one of go.starlark.net's own modules with
// each builtin renamed "module.member" (so its errors and help() name the
// module) and documented by docs[member]. Members missing from docs fail
// the documentation test.
func Adopt(module string, members starlark.StringDict, docs map[string]string) starlark.StringDict {
	out := starlark.StringDict{}
	for name, v := range members {
		qual := module + "." + name
		if b, ok := v.(*starlark.Builtin); ok {
			v = Func(qual, docs[name], func(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
				return b.CallInternal(th, args, kwargs)
			})
		} else {
			Document(qual, docs[name])
		}
		out[name] = v
	}
	return out
}

// AllDocs returns every registered doc by name, for tests that check them.
func AllDocs() map[string]string {
	docs.Lock()
	defer docs.Unlock()
	out := make(map[string]string, len(docs.byName))
	for k, v := range docs.byName {
		out[k] = v
	}
	return out
}
