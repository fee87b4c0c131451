package lang

import (
	"fmt"
	"io"
	"os"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// Builtins are the global functions netplay adds to Starlark's own.
func Builtins() starlark.StringDict {
	d := starlark.StringDict{}
	for _, b := range globals() {
		d[b.Name()] = b.Builtin
	}
	return d
}

func globals() []*Builtin {
	return []*Builtin{spawnBuiltin, catchBuiltin, sleepBuiltin, inputBuiltin, helpBuiltin,
		openBuiltin, roundBuiltin, sumBuiltin, formatBuiltin, structBuiltin}
}

// BuiltinDocs returns an index of the docs of the global functions
// (Builtins) and of the types of the values they return (task, result,
// error, file): what every script can reach before its modules.
func BuiltinDocs() *Docs {
	d := NewDocs(taskMethods, resultDoc, errorDoc, fileMethods)
	for _, b := range globals() {
		d.Add(b)
	}
	return d
}

var inputBuiltin = Func("input", `input(prompt="") -> str

Prints prompt and reads a line from standard input, without its newline, as
Python's input() (the course's raw_input()). Fails with kind "closed" at the
end of input.

    sentence = input("Input lowercase sentence: ")`, input)

func input(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	prompt := ""
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "prompt?", &prompt); err != nil {
		return nil, err
	}
	in := InterpOf(th)
	if prompt != "" {
		in.out.Write([]byte(prompt))
	}
	var line string
	var err error
	ctx := Context(th)
	Unlocked(th, func() { line, err = in.ReadLine(ctx) })
	if err == io.EOF {
		return nil, Errorf(KindClosed, "input", "", "end of input")
	}
	if err != nil {
		return nil, err
	}
	return starlark.String(line), nil
}

// helpBuiltin is made in init: help reads the docs, which include its own.
var helpBuiltin *Builtin

func init() { helpBuiltin = Func("help", helpDoc, help) }

const helpDoc = `help(x)

Prints the documentation of x: a module (help(socket)), a function
(help(socket.socket)), a method (help(s.recv)), a value's type, or a name
given as a string (help("socket.socket.recv")).`

func help(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value = starlark.None
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0, &v); err != nil {
		return nil, err
	}
	if v == starlark.None {
		InterpOf(th).out.Println(overview(InterpOf(th)))
		return starlark.None, nil
	}
	InterpOf(th).out.Println(InterpOf(th).Docs().Help(v))
	return starlark.None, nil
}

func overview(in *Interp) string {
	var b strings.Builder
	b.WriteString("netplay: Starlark with network protocols. help(x) documents x.\n\nModules and builtins:\n")
	for _, name := range in.predeclared.Keys() {
		if d, ok := in.Docs().Doc(name); ok {
			fmt.Fprintf(&b, "  %-10s %s\n", name, summary(name, d))
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

var openBuiltin = Func("open", `open(path, mode="r") -> file

Opens a file as Python does: mode "r" or "rb" to read, "w" or "wb" to
write, "a" or "ab" to append. Text modes read str, binary modes bytes.
Paths are relative to the script's folder, and files outside it may be
opened only when allowed with --allow-fs PATH.

    f = open("index.html")
    page = f.read()
    f.close()`, open)

func open(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path, mode string = "", "r"
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &path, "mode?", &mode); err != nil {
		return nil, err
	}
	flags := 0
	switch strings.TrimSuffix(mode, "b") {
	case "r":
		flags = os.O_RDONLY
	case "w":
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	case "a":
		flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	default:
		return nil, fmt.Errorf("open: mode %q: want \"r\", \"w\", \"a\", or one of them with \"b\"", mode)
	}
	f, err := OpenFile(th, "open", path, flags, 0o644)
	if err != nil {
		return nil, err
	}
	in := InterpOf(th)
	in.OnClose(func() { f.Close() })
	return &File{f: f, name: path, binary: strings.HasSuffix(mode, "b")}, nil
}

// File is an open file.
type File struct {
	f      *os.File
	name   string
	binary bool
	closed bool
}

var fileMethods = NewMethods("file", `file

An open file, from open(path, mode).`,
	Method("file.read", `read(n=-1) -> str or bytes

Reads n bytes, or everything up to the end of the file.`, fileRead),
	Method("file.readline", `readline() -> str or bytes

Reads a line, with its newline; "" at the end of the file.`, fileReadline),
	Method("file.write", `write(data) -> int

Writes data (str or bytes) and returns the number of bytes written.`, fileWrite),
	Method("file.close", `close()

Closes the file.`, fileClose),
)

func (f *File) String() string        { return fmt.Sprintf("<file %q>", f.name) }
func (f *File) Type() string          { return "file" }
func (f *File) Freeze()               {}
func (f *File) Truth() starlark.Bool  { return true }
func (f *File) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: file") }
func (f *File) AttrNames() []string   { return append(fileMethods.Names(), "name") }
func (f *File) Attr(name string) (starlark.Value, error) {
	if name == "name" {
		return starlark.String(f.name), nil
	}
	return fileMethods.Attr(f, name), nil
}

func (f *File) value(p []byte) starlark.Value {
	if f.binary {
		return starlark.Bytes(p)
	}
	return starlark.String(p)
}

func fileRead(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	f, _ := Receiver[*File](b)
	n := -1
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "n?", &n); err != nil {
		return nil, err
	}
	var p []byte
	var err error
	Unlocked(th, func() {
		if n < 0 {
			p, err = io.ReadAll(f.f)
		} else {
			// Grow as the file yields, so read(10**12) on a short file
			// does not allocate a terabyte first.
			p, err = io.ReadAll(io.LimitReader(f.f, int64(n)))
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v", b.Name(), f.name, err)
	}
	return f.value(p), nil
}

func fileReadline(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	f, _ := Receiver[*File](b)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	var line []byte
	var err error
	Unlocked(th, func() {
		one := make([]byte, 1)
		for {
			var n int
			n, err = f.f.Read(one)
			if n == 1 {
				line = append(line, one[0])
				if one[0] == '\n' {
					break
				}
			}
			if err != nil {
				if err == io.EOF {
					err = nil
				}
				break
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v", b.Name(), f.name, err)
	}
	return f.value(line), nil
}

func fileWrite(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	f, _ := Receiver[*File](b)
	var data starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &data); err != nil {
		return nil, err
	}
	p, err := BytesOf(b.Name(), "data", data)
	if err != nil {
		return nil, err
	}
	var n int
	Unlocked(th, func() { n, err = f.f.Write(p) })
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v", b.Name(), f.name, err)
	}
	return starlark.MakeInt(n), nil
}

func fileClose(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	f, _ := Receiver[*File](b)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	f.f.Close()
	return starlark.None, nil
}

// BytesOf accepts a str or bytes argument named param of builtin fn.
func BytesOf(fn, param string, v starlark.Value) ([]byte, error) {
	switch v := v.(type) {
	case starlark.String:
		return []byte(v), nil
	case starlark.Bytes:
		return []byte(v), nil
	}
	return nil, fmt.Errorf("%s: for parameter %s: got %s, want str or bytes", fn, param, v.Type())
}

// summary is a doc's first line if it is a signature, or else its first
// sentence, cut to fit a line.
func summary(name, doc string) string {
	first, _, _ := strings.Cut(doc, "\n")
	if strings.HasPrefix(first, name+"(") {
		return first
	}
	para, _, _ := strings.Cut(doc, "\n\n")
	para = strings.Join(strings.Fields(para), " ")
	if i := strings.Index(para, ". "); i >= 0 {
		para = para[:i+1]
	}
	if r := []rune(para); len(r) > 66 {
		para = strings.TrimSpace(string(r[:65])) + "…"
	}
	return para
}

var structBuiltin = Func("struct", `struct(**fields) -> struct

A value with the given fields, read as attributes: what a small Python
class holds, without the class.

    server = struct(host="127.0.0.1", port=12000)
    print(server.host, server.port)`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) > 0 {
		return nil, fmt.Errorf("struct: unexpected positional arguments: write struct(name=value, ...)")
	}
	return starlarkstruct.FromKeywords(starlarkstruct.Default, kwargs), nil
})
