// Package modules is the one registry of what a netplay script sees
// without loading anything: netplay's builtins and its modules, each with
// the capability class a sandbox can switch off as a family. It and
// cmd/netplay are the only packages that import every module; lang knows
// none of them (see docs/architecture.md).
package modules

import (
	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/runtime/dash/dashmod"
	"github.com/netplay-dev/netplay/runtime/dns/dnsmod"
	"github.com/netplay-dev/netplay/runtime/http/httpmod"
	"github.com/netplay-dev/netplay/runtime/imap/imapmod"
	"github.com/netplay-dev/netplay/runtime/lab/labmod"
	"github.com/netplay-dev/netplay/runtime/mail/mailmod"
	"github.com/netplay-dev/netplay/runtime/pop3/pop3mod"
	"github.com/netplay-dev/netplay/runtime/smtp/smtpmod"
	"github.com/netplay-dev/netplay/runtime/socket/socketmod"
	"github.com/netplay-dev/netplay/runtime/stack"
	"github.com/netplay-dev/netplay/runtime/torrent/torrentmod"
	"github.com/netplay-dev/netplay/stdlib/json"
	"github.com/netplay-dev/netplay/stdlib/math"
	"github.com/netplay-dev/netplay/stdlib/random"
	"github.com/netplay-dev/netplay/stdlib/sys"
	nptime "github.com/netplay-dev/netplay/stdlib/time"
	"go.starlark.net/starlark"
)

// Class is what a module or builtin may reach.
type Class string

const (
	Pure       Class = "pure"       // computation only
	Clock      Class = "clock"      // reads the time, waits
	Network    Class = "network"    // opens connections and listens
	FileSystem Class = "filesystem" // reads and writes files
	Process    Class = "process"    // stdin, arguments, exit
)

// Env is what modules are built for: the network and the command line.
type Env struct {
	Stack stack.Stack
	Argv  []string

	// hosts builds a lab host's modules. Universe sets it to Hosts: the lab
	// entry cannot name Hosts itself, which reads Entries.
	hosts labmod.HostModules
}

// An Entry is one predeclared name.
type Entry struct {
	Name  string
	Class Class
	New   func(Env) starlark.Value
}

func fixed(v starlark.Value) func(Env) starlark.Value { return func(Env) starlark.Value { return v } }

func builtin(name string) func(Env) starlark.Value { return fixed(lang.Builtins()[name]) }

// Entries lists every predeclared name, in the order the reference documents them.
var Entries = []Entry{
	{"socket", Network, func(e Env) starlark.Value { return socketmod.New(e.Stack) }},
	{"http", Network, func(e Env) starlark.Value { return httpmod.New(e.Stack) }},
	{"dns", Network, func(e Env) starlark.Value { return dnsmod.New(e.Stack) }},
	{"spawn", Pure, builtin("spawn")},
	{"catch", Pure, builtin("catch")},
	{"sleep", Clock, builtin("sleep")},
	{"input", Process, builtin("input")},
	{"open", FileSystem, builtin("open")},
	{"help", Pure, builtin("help")},
	{"round", Pure, builtin("round")},
	{"sum", Pure, builtin("sum")},
	{"format", Pure, builtin("format")},
	{"struct", Pure, builtin("struct")},
	{"sys", Process, func(e Env) starlark.Value { return sys.New(e.Argv) }},
	{"time", Clock, fixed(nptime.Module)},
	{"json", Pure, fixed(json.Module)},
	{"math", Pure, fixed(math.Module)},
	{"random", Pure, fixed(random.Module)},
	{"mail", Network, func(e Env) starlark.Value { return mailmod.New(e.Stack) }},
	{"smtp", Network, func(e Env) starlark.Value { return smtpmod.New(e.Stack) }},
	{"pop3", Network, func(e Env) starlark.Value { return pop3mod.New(e.Stack) }},
	{"imap", Network, func(e Env) starlark.Value { return imapmod.New(e.Stack) }},
	{"dash", Network, func(e Env) starlark.Value { return dashmod.New(e.Stack) }},
	{"torrent", Network, func(e Env) starlark.Value { return torrentmod.New(e.Stack) }},
	{"lab", Network, func(e Env) starlark.Value { return labmod.New(e.hosts) }},
}

// Universe returns the predeclared environment for a script.
func Universe(env Env) starlark.StringDict {
	if env.Stack == nil {
		env.Stack = stack.OS
	}
	env.hosts = Hosts
	d := make(starlark.StringDict, len(Entries))
	for _, e := range Entries {
		d[e.Name] = e.New(env)
	}
	return d
}

// Hosts builds the modules on a stack (a lab host's), for h.socket and
// the like: the network modules only.
func Hosts(st stack.Stack) starlark.StringDict {
	d := starlark.StringDict{}
	for _, e := range Entries {
		if e.Class == Network {
			d[e.Name] = e.New(Env{Stack: st})
		}
	}
	return d
}
