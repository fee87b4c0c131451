package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/netplay-dev/netplay/grade"
	"github.com/netplay-dev/netplay/lang"
	"go.starlark.net/starlark"
	"golang.org/x/sys/unix"
)

// The limits `netplay grade` puts on the children that run a submission,
// as flags of `netplay run`, so the child is an ordinary netplay:
//
//	--allow-ports P1,P2   network only on loopback and on these ports
//	--max-memory SIZE     the script ends when it uses more memory
//	--max-cpu D           the script ends when it used D of CPU time
//	--calls               after the script, serve calls of its functions
//	                      to the grader on fds 4 and 5 (t.load)
//	--bound-fd N          tell the grader on fd N when an allotted port is
//	                      bound (t.wait_port), so it need not poll

type portsFlag struct{ o *options }

func (p portsFlag) String() string { return "" }
func (p portsFlag) Set(v string) error {
	ports := []int{}
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("want port numbers separated by commas")
		}
		ports = append(ports, n)
	}
	p.o.allowPorts = &ports
	return nil
}

type sizeFlag struct{ n *int64 }

func (s sizeFlag) String() string { return "" }
func (s sizeFlag) Set(v string) error {
	var x starlark.Value = starlark.String(v)
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		x = starlark.MakeInt64(n)
	}
	n, err := lang.Size(x)
	if err != nil || n <= 0 {
		return fmt.Errorf("want a size such as 256MiB")
	}
	*s.n = n
	return nil
}

// applyLimits puts the memory and CPU limits on this process for the
// script in: past them the script ends with a message naming the limit.
// The address-space limit is a backstop for one huge allocation; the
// watchdog ends a growing script cleanly before it is reached.
func applyLimits(o *options, in *lang.Interp) (stop func()) {
	stops := []func(){}
	if o.maxCPU > 0 {
		secs := uint64((o.maxCPU + time.Second - 1) / time.Second)
		unix.Setrlimit(unix.RLIMIT_CPU, &unix.Rlimit{Cur: secs, Max: secs + 2})
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, unix.SIGXCPU)
		go func() {
			if _, ok := <-ch; ok {
				in.Abort(lang.Errorf(lang.KindLimit, "", "", "script exceeded its CPU time limit (--max-cpu %s)", lang.FormatDuration(o.maxCPU)))
			}
		}()
		stops = append(stops, func() { signal.Stop(ch); close(ch) })
	}
	// --max-memory is applied once for the whole process, by
	// withMemoryLimit (memory.go), before the script starts.
	return func() {
		for _, f := range stops {
			f()
		}
	}
}

func formatSize(n int64) string {
	switch {
	case n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// serveCalls is the child side of t.load: it tells the grader the script's
// globals, then runs the functions it is asked to call, one at a time,
// until the grader closes the pipe.
func serveCalls(in *lang.Interp, globals starlark.StringDict, loadErr error) int {
	reqs := os.NewFile(4, "calls")
	replies := os.NewFile(5, "replies")
	if reqs == nil || replies == nil {
		fmt.Fprintln(os.Stderr, "netplay: --calls needs the grader's pipes on fds 4 and 5")
		return 2
	}
	enc := json.NewEncoder(replies)
	if loadErr != nil {
		enc.Encode(grade.CallReply{Error: lang.FormatError(loadErr), Kind: lang.ErrorKind(loadErr)})
		return 1
	}
	names := map[string]string{}
	for name, v := range globals {
		if strings.HasPrefix(name, "_") {
			continue
		}
		if _, ok := v.(starlark.Callable); ok {
			names[name] = "function"
		} else if grade.Plain(v) == nil {
			names[name] = v.String()
		}
	}
	enc.Encode(grade.CallReply{OK: true, Names: names})
	sc := bufio.NewScanner(reqs)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		var req grade.CallRequest
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			enc.Encode(grade.CallReply{Error: "bad request: " + err.Error()})
			continue
		}
		enc.Encode(call(in, globals, &req))
	}
	return 0
}

func call(in *lang.Interp, globals starlark.StringDict, req *grade.CallRequest) grade.CallReply {
	f, ok := globals[req.Func].(starlark.Callable)
	if !ok {
		return grade.CallReply{Error: "no function " + req.Func, Kind: lang.KindArgument}
	}
	args, err := grade.Decode(req.Args)
	if err != nil {
		return grade.CallReply{Error: "bad arguments: " + err.Error(), Kind: lang.KindArgument}
	}
	kw, err := grade.Decode(req.Kwargs)
	if err != nil {
		return grade.CallReply{Error: "bad arguments: " + err.Error(), Kind: lang.KindArgument}
	}
	var kwargs []starlark.Tuple
	if d, ok := kw.(*starlark.Dict); ok {
		kwargs = d.Items()
	}
	tuple, _ := args.(starlark.Tuple)
	v, err := in.Call(req.Func, f, tuple, kwargs)
	if err != nil {
		return grade.CallReply{Error: lang.FormatError(err), Kind: lang.ErrorKind(err)}
	}
	if err := grade.Plain(v); err != nil {
		return grade.CallReply{Error: fmt.Sprintf("%s returned something that cannot be copied back: %v", req.Func, err), Kind: lang.KindArgument}
	}
	return grade.CallReply{OK: true, Value: v.String()}
}

// boundNotifier writes a line to fd for each allotted port bound.
func boundNotifier(fd int) func(network string, port int) {
	if fd <= 2 {
		return nil
	}
	f := os.NewFile(uintptr(fd), "bound")
	if f == nil {
		return nil
	}
	var mu sync.Mutex
	return func(network string, port int) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(f, "%s %d\n", network, port)
	}
}
