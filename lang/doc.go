package lang

import (
	"fmt"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// Every builtin's documentation is written once, beside its code, by
// creating the builtin with Func (or a method with Method and its type's
// table with NewMethods, a constant or a plain type with Document), and
// travels with the value: NewModule keeps the docs of the module's members
// and of the types it lists. help(), `netplay doc` and docs/reference.md
// are all generated from the modules themselves.
//
// A doc's first line is the signature, Python style:
//
//	recv(bufsize) -> bytes
//
// followed by a blank line and the description.

// Docs is an index of documentation by qualified name, collected from the
// values that carry it: a module made by NewModule keeps the docs of its
// members, its types and their methods. There is no process-wide registry:
// an interpreter indexes what its script can reach (Interp.Docs), the
// registry in package modules what every script can (modules.Docs). An
// index is filled once, then only read (Add is not safe beside readers).
type Docs struct {
	byName map[string]string
	alias  map[string]string            // a method's builtin name -> its doc key
	funcs  map[string]*starlark.Builtin // doc key -> the builtin, for tests of the docs
}

// NewDocs returns an index holding the docs of ds.
func NewDocs(ds ...Documented) *Docs {
	d := &Docs{byName: map[string]string{}, alias: map[string]string{}, funcs: map[string]*starlark.Builtin{}}
	d.Add(ds...)
	return d
}

// Documented is what adds docs to an index: a module (NewModule), a
// builtin (Func), a type's method table (NewMethods) or a documented
// constant or plain type (Document).
type Documented interface {
	document(d *Docs)
}

// Add indexes the docs of ds.
func (d *Docs) Add(ds ...Documented) {
	for _, x := range ds {
		x.document(d)
	}
}

// Collect indexes the docs a script value carries: a module's (NewModule).
// The global builtins' are in BuiltinDocs; other values carry none.
func (d *Docs) Collect(v starlark.Value) {
	if m, ok := v.(*Module); ok {
		d.Add(m)
	}
}

func (d *Docs) addFunc(key string, b *starlark.Builtin) {
	if _, ok := d.funcs[key]; !ok {
		d.funcs[key] = b
	}
}

// AllBuiltins returns every documented builtin and method by its doc key
// ("socket.socket.recv"), for tests that check the docs against the code.
func (d *Docs) AllBuiltins() map[string]*starlark.Builtin {
	out := make(map[string]*starlark.Builtin, len(d.funcs))
	for k, v := range d.funcs {
		out[k] = v
	}
	return out
}

func (d *Docs) add(name, doc string) {
	doc = strings.TrimSpace(doc)
	old, ok := d.byName[name]
	switch {
	case !ok:
		d.byName[name] = doc
	case isSignature(name, doc) && !isSignature(name, old):
		// A constructor and the type it makes share a name (http.client):
		// its signature comes first, then what the type is.
		d.byName[name] = doc + "\n\n" + typeBody(old)
	case isSignature(name, old) && !isSignature(name, doc) && !strings.Contains(old, typeBody(doc)):
		d.byName[name] = old + "\n\n" + typeBody(doc)
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
func (d *Docs) Doc(name string) (string, bool) {
	s, ok := d.byName[name]
	if !ok {
		s, ok = d.byName[d.alias[name]]
	}
	return s, ok
}

// Names returns the documented names inside a module or type (those
// starting with prefix + "."), sorted.
func (d *Docs) Names(prefix string) []string {
	var names []string
	for n := range d.byName {
		if rest, ok := strings.CutPrefix(n, prefix+"."); ok && !strings.Contains(rest, ".") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// All returns every doc by name, for tests that check them.
func (d *Docs) All() map[string]string {
	out := make(map[string]string, len(d.byName))
	for k, v := range d.byName {
		out[k] = v
	}
	return out
}

// A Builtin is a builtin function and its documentation, made by Func.
// Scripts see only the *starlark.Builtin inside: NewModule and Builtins
// take it out and keep the doc with the module.
type Builtin struct {
	*starlark.Builtin
	doc string
}

func (b *Builtin) document(d *Docs) {
	d.add(b.Name(), b.doc)
	d.addFunc(b.Name(), b.Builtin)
}

// Func returns a builtin named name ("socket.gethostbyname": the module and
// the function, so every argument error names both) documented by doc.
func Func(name, doc string, fn func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error)) *Builtin {
	return &Builtin{starlark.NewBuiltin(name, fn), doc}
}

// A Note documents a member that is not a function (a constant) or a type
// without methods, made by Document.
type Note struct{ name, doc string }

func (n Note) document(d *Docs) { d.add(n.name, n.doc) }

// Document returns the documentation of a member that is not a function
// (a constant) or of a type without methods, for NewModule.
func Document(name, doc string) Note { return Note{name, doc} }

// A Module is a Starlark module that carries its documentation: its own,
// its members', and that of the types its functions return (and their
// methods), so help() and the reference need no registry.
type Module struct {
	starlarkstruct.Module
	doc   string
	types []Documented
	docs  []Documented // the members'
}

func (m *Module) document(d *Docs) {
	d.add(m.Name, m.doc)
	d.Add(m.docs...)
	d.Add(m.types...)
}

// NewModule returns a module documented by doc. Its members must each be
// documented under "name.member": functions made by Func carry their doc,
// other members (constants) and the types the module's functions return
// are documented by docs (Document, NewMethods).
func NewModule(name, doc string, members starlark.StringDict, docs ...Documented) *Module {
	m := &Module{Module: starlarkstruct.Module{Name: name, Members: starlark.StringDict{}}, doc: doc, types: docs}
	for k, v := range members {
		if b, ok := v.(*Builtin); ok {
			m.docs = append(m.docs, b)
			v = b.Builtin
		}
		m.Members[k] = v
	}
	return m
}

// Methods are the methods of a Starlark type, with the type's docs.
type Methods struct {
	typeName, doc string
	methods       map[string]*starlark.Builtin
	docs          []MethodDoc
}

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
// as "typeName.method". The module whose functions make the type lists it
// in NewModule.
func NewMethods(typeName, doc string, methods ...MethodDoc) Methods {
	m := Methods{typeName: typeName, doc: doc, methods: map[string]*starlark.Builtin{}, docs: methods}
	for _, md := range methods {
		name := md.b.Name()
		m.methods[name[strings.LastIndex(name, ".")+1:]] = md.b
	}
	return m
}

func (m Methods) document(d *Docs) {
	d.add(m.typeName, m.doc)
	for _, md := range m.docs {
		name := md.b.Name()
		key := m.typeName + "." + name[strings.LastIndex(name, ".")+1:]
		d.add(key, md.doc)
		d.addFunc(key, md.b)
		if k, ok := d.alias[name]; ok && k != key {
			panic(fmt.Sprintf("lang: method name %s documented as both %s and %s", name, k, key))
		}
		d.alias[name] = key
	}
}

// Attr returns method name bound to recv, or nil.
func (m Methods) Attr(recv starlark.Value, name string) starlark.Value {
	if b, ok := m.methods[name]; ok {
		return b.BindReceiver(recv)
	}
	return nil
}

// Bound keeps a value's most recently used methods bound to it, for a type
// whose methods a loop calls again and again (a socket's recvfrom and
// sendto): Methods.Attr allocates a bound method at every call. Only the
// value's Attr uses it, so under the interpreter lock as the value.
type Bound struct {
	names [4]string
	vals  [4]starlark.Value
	next  uint8
}

// Attr is m.Attr(recv, name), bound once while it stays among the four
// methods last used.
func (c *Bound) Attr(m Methods, recv starlark.Value, name string) starlark.Value {
	for i, n := range c.names {
		if n == name && c.vals[i] != nil {
			return c.vals[i]
		}
	}
	v := m.Attr(recv, name)
	if v != nil {
		i := c.next % uint8(len(c.names))
		c.names[i], c.vals[i] = name, v
		c.next++
	}
	return v
}

// Names lists the methods, sorted.
func (m Methods) Names() []string {
	names := make([]string, 0, len(m.methods))
	for n := range m.methods {
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
func (d *Docs) Help(v starlark.Value) string {
	switch v := v.(type) {
	case *starlark.Builtin:
		if s, ok := d.Doc(v.Name()); ok {
			return s
		}
		return v.Name() + ": a Starlark built-in function; see the Starlark language spec."
	case *Module:
		return d.helpGroup(v.Name, v.Name+" module")
	case starlark.String:
		if s, ok := d.Doc(string(v)); ok {
			if names := d.Names(string(v)); len(names) > 0 {
				return d.helpGroup(string(v), string(v))
			}
			return s
		}
		return fmt.Sprintf("no documentation for %q", string(v))
	case *starlark.Function:
		if s := v.Doc(); s != "" {
			return v.Name() + "\n\n" + s
		}
		return fmt.Sprintf("%s: a function defined at %s", v.Name(), v.Position())
	}
	if _, ok := d.Doc(v.Type()); ok {
		return d.helpGroup(v.Type(), v.Type())
	}
	return fmt.Sprintf("%s: a value of type %s", v.String(), v.Type())
}

func (d *Docs) helpGroup(name, title string) string {
	var b strings.Builder
	doc, _ := d.Doc(name)
	if first, _, _ := strings.Cut(doc, "\n"); first == name || first == title {
		fmt.Fprintf(&b, "%s\n", doc) // a type's doc already starts with its name
	} else {
		fmt.Fprintf(&b, "%s\n\n%s\n", title, doc)
	}
	names := d.Names(name)
	if len(names) > 0 {
		b.WriteString("\n")
	}
	for _, n := range names {
		doc, _ := d.Doc(n)
		first, _, _ := strings.Cut(doc, "\n")
		fmt.Fprintf(&b, "  %s\n", first)
	}
	return strings.TrimRight(b.String(), "\n")
}

// Adopt returns the members of one of go.starlark.net's own modules with
// each builtin renamed "module.member" (so its errors and help() name the
// module) and documented by docs[member], and the docs of the other
// members, for NewModule. Members missing from docs fail the documentation
// test.
func Adopt(module string, members starlark.StringDict, docs map[string]string) (starlark.StringDict, []Documented) {
	out := starlark.StringDict{}
	var notes []Documented
	for name, v := range members {
		qual := module + "." + name
		if b, ok := v.(*starlark.Builtin); ok {
			v = Func(qual, docs[name], func(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
				return b.CallInternal(th, args, kwargs)
			})
		} else {
			notes = append(notes, Document(qual, docs[name]))
		}
		out[name] = v
	}
	return out, notes
}
