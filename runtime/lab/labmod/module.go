// Package labmod is the Starlark module lab: a thin binding over the
// emulated network in runtime/lab (lab.network and its hosts, routers and
// links, lab.plot). A host's modules (h.http, h.dns …) come from the
// HostModules factory the registry passes to New.
package labmod

import (
	"fmt"
	"math"
	"net"
	"sort"
	"strconv"
	"time"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/runtime/lab"
	"github.com/netplay-dev/netplay/runtime/stack"
	nptime "github.com/netplay-dev/netplay/stdlib/time"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// HostModules builds the network modules (socket, http, dns, smtp …) on a
// stack: a lab host's. The registry (package modules) passes it to New,
// since it imports this package and so cannot be imported by it.
type HostModules func(stack.Stack) starlark.StringDict

const moduleDoc = `The emulated network: hosts, routers and links inside netplay, with a
rate, a propagation delay, loss and a queue on every link, shortest-path
routing and a virtual clock. Every module runs on a lab host unchanged
(h.http, h.dns, h.socket …); the lab never sends a real packet. While a lab
network is open, sleep() and time follow lab time. See docs/lab.md.

    net = lab.network()
    client, server = net.host("client"), net.host("server")
    net.link(client, server, rate="1Mbps", delay="50ms")
    srv = server.http.serve(":80", handler=lambda req: "hello")
    r = client.http.get("http://server/")
    print(r.timing.total)    # 0.1 + transmission: lab seconds`

// New returns the lab module; hosts get their modules from hostModules.
func New(hostModules HostModules) *lang.Module {
	return lang.NewModule("lab", moduleDoc, starlark.StringDict{
		"network": lang.Func("lab.network", `network(timescale=0, seed=1, tcp="ideal", sndbuf="256KiB", procs=1) -> lab.network

A new emulated network, empty until you add hosts, routers and links. Its
clock is virtual: lab time advances to the next packet arrival or timer
whenever every goroutine of netplay is waiting, so results do not depend on
the machine's speed and repeat exactly. timescale=0 (the default) runs as
fast as the protocols allow; timescale=1 paces the clock to real time, 0.1
(or 10) ten times faster than real time. seed fixes the random losses.
While the network is open, sleep() and time.now() follow lab time; close()
it (or let the script end) to stop it.

tcp chooses how streams send. "ideal" (the default) is the course's
formulas: everything written leaves at once, paced only by the links, no
slow start, no acknowledgements. "reno" is window-based TCP: every segment
is acknowledged by a 40-byte ACK on the way back, and the congestion window
follows slow start, congestion avoidance, fast retransmit after three
duplicate ACKs, NewReno fast recovery and a retransmission timeout that
backs off; full queues (link queue=) drop segments, so flows through one
bottleneck share it. net.flows() shows each connection's window.

sndbuf is each stream's send buffer (bytes, or "256KiB"): a write blocks
while it is full, in lab time, until the link has taken most of it (with
tcp="reno" it holds unacknowledged data too, and grows to twice the window
as Linux's autotuning does), so a later message never waits behind more
than a buffer's worth. At least 5840 bytes (four segments).

procs is how many processors netplay uses while this is its only open
network. The clock hands every packet to the task it wakes and waits for
it, several times faster when both run on one processor, so the default is
1 (unless the GOMAXPROCS environment variable is set); lab times are the
same either way. On one processor the garbage collector also waits until
the heap reaches 256 MiB, or twice what was live after its last run,
unless GOGC, GOMEMLIMIT or --max-memory say otherwise. procs=None leaves
the processors and the collector alone, for a script that also computes
heavily off the lab.

    net = lab.network()
    a, b = net.host("a"), net.host("b")
    net.link(a, b, rate="10Mbps", delay="20ms")
    reno = lab.network(tcp="reno", sndbuf="1MiB")
    print(reno.tcp, reno.sndbuf)    # reno 1048576`, networkBuiltin(hostModules)),
		"plot":       plotBuiltin,
		"load_trace": loadTraceBuiltin,
	}, networkMethods, hostMethods, routerType, linkMethods, captureMethods)
}

// ---- network ----

type networkValue struct {
	n       *lab.Network
	seed    uint64
	scale   float64
	tcp     lab.TCPModel
	sndbuf  int
	hosts   map[string]*hostValue
	untrack func()
	unwatch func()
	in      *lang.Interp
	modules HostModules
}

func networkBuiltin(hostModules HostModules) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		return newNetwork(th, b, args, kwargs, hostModules)
	}
}

func newNetwork(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, hostModules HostModules) (starlark.Value, error) {
	var scaleV starlark.Value = starlark.MakeInt(0)
	var sndbufV starlark.Value = starlark.MakeInt(lab.DefaultSndBuf)
	seed := 1
	tcpName := "ideal"
	var procsV starlark.Value = starlark.MakeInt(1)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "timescale?", &scaleV, "seed?", &seed, "tcp?", &tcpName, "sndbuf?", &sndbufV, "procs?", &procsV); err != nil {
		return nil, err
	}
	procs := -1 // None: leave GOMAXPROCS alone
	if procsV != starlark.None {
		if v, err := starlark.AsInt32(procsV); err != nil || v != 1 {
			return nil, fmt.Errorf("%s: for parameter procs: got %s, want 1 or None", b.Name(), procsV.String())
		}
		procs = 0 // one, unless the environment says otherwise
	}
	model, err := lab.ParseTCPModel(tcpName)
	if err != nil {
		return nil, fmt.Errorf("%s: for parameter tcp: %v", b.Name(), err)
	}
	sndbuf, err := lang.Size(sndbufV)
	if err != nil {
		return nil, fmt.Errorf("%s: for parameter sndbuf: %v", b.Name(), err)
	}
	if sndbuf < lab.MinSndBuf || sndbuf > 1<<30 {
		return nil, fmt.Errorf("%s: for parameter sndbuf: got %d bytes, want %d to %d", b.Name(), sndbuf, lab.MinSndBuf, 1<<30)
	}
	scale, ok := starlark.AsFloat(scaleV)
	if !ok || scale < 0 || math.IsNaN(scale) || math.IsInf(scale, 0) {
		return nil, fmt.Errorf("%s: for parameter timescale: got %s, want a number >= 0", b.Name(), scaleV.String())
	}
	if hostModules == nil {
		return nil, fmt.Errorf("%s: the lab was built without the modules its hosts run", b.Name())
	}
	in := lang.InterpOf(th)
	// The clock waits for the script's threads: while one computes or waits
	// for the interpreter lock, lab time stands still.
	n := lab.NewNetwork(lab.Options{TimeScale: scale, Seed: uint64(seed), Busy: in.Runnable,
		Warn: func(msg string) { in.Fprintf("%s\n", msg) }, TCP: model, SndBuf: int(sndbuf), Procs: procs})
	nv := &networkValue{n: n, seed: uint64(seed), scale: scale, tcp: model, sndbuf: int(sndbuf),
		hosts: map[string]*hostValue{}, in: in, modules: hostModules}
	nv.unwatch = in.Watch(func(runnable int64) {
		if runnable == 0 {
			n.Kick()
		}
	})
	nv.untrack = in.Track(nv)
	in.SetClock(nv.n)
	return nv, nil
}

// Close stops the network and gives sleep and time back the real clock.
func (nv *networkValue) Close() error {
	nv.unwatch()
	nv.n.Close()
	if nv.in.Clock() == stack.Clock(nv.n) {
		nv.in.SetClock(nil)
	}
	nv.untrack()
	return nil
}

var networkMethods = lang.NewMethods("lab.network", `lab.network

An emulated network made by lab.network(): add nodes with host() and
router(), join them with link(); now() is lab time. Attributes: hosts (dict
name -> lab.host), timescale, seed, tcp ("ideal" or "reno"), sndbuf
(bytes).`,
	lang.Method("lab.network.host", `host(name, resolver=None, spoof=False) -> lab.host

Adds a host: a machine with its own lab address (10.0.x.y) that runs the
netplay modules (h.socket, h.http, h.dns, h.smtp, h.pop3, h.imap, h.mail)
on the lab network. Its name resolves to its address on every lab host.

resolver (a lab.host, a lab name or address, "addr:port" or (addr, port);
port 53 unless given) makes this host resolve every name — in
h.http.get("http://video.example/"), h.socket.gethostbyname, every module —
by real DNS queries over the lab to that name server (RD set, CNAMEs
followed, no cache on the host), instead of from the lab's table of host
names. A lookup costs its round trips in lab time, and the server's log
shows it.

spoof=True makes an attacker: its datagram sockets may send with any
source address, s.sendto(data, addr, source=(ip, port)).

    server = net.host("server")
    print(server.addr)    # 10.0.0.2
    ns = net.host("ns")
    client = net.host("client", resolver=ns)
    mallory = net.host("mallory", spoof=True)`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		nv, _ := lang.Receiver[*networkValue](b)
		var name string
		var resolverV starlark.Value = starlark.None
		spoof := false
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "resolver?", &resolverV, "spoof?", &spoof); err != nil {
			return nil, err
		}
		server, err := resolverArg(b.Name(), resolverV)
		if err != nil {
			return nil, err
		}
		h, err := nv.n.NewHost(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		if err := h.SetResolver(server); err != nil {
			return nil, fmt.Errorf("%s: for parameter resolver: %v", b.Name(), err)
		}
		h.SetSpoof(spoof)
		hv := &hostValue{h: h, nv: nv}
		nv.hosts[name] = hv
		return hv, nil
	}),
	lang.Method("lab.network.router", `router(name) -> lab.router

Adds a router: a node that forwards packets between its links (hosts do
not forward). Each link out of a router has its own queue.

    r = net.router("r")
    net.link(a, r, rate="100Mbps", delay="1ms")
    net.link(r, b, rate="1.54Mbps", delay="10ms")`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		nv, _ := lang.Receiver[*networkValue](b)
		var name string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name); err != nil {
			return nil, err
		}
		nm, addr, err := nv.n.NewRouter(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		return &routerValue{name: nm, addr: addr.String()}, nil
	}),
	lang.Method("lab.network.link", `link(a, b, rate, delay, loss=0, queue=None) -> lab.link

Joins nodes a and b (lab.host, lab.router or their names) with a
full-duplex link: rate in bits per second ("1.54Mbps", 1e6) for both
directions, or a pair (a_to_b, b_to_a) giving each its own (a peer's
upload and download), delay the one-way propagation delay ("50ms", 0.05),
loss the probability that a packet is lost, queue how many packets may wait
in each direction (None: no limit; a full queue drops arrivals,
drop-tail). Every packet pays size/rate to be transmitted on every link,
store-and-forward. link.set and link.trace change a link while it runs.

    net.link(client, server, rate="1Mbps", delay="100ms", loss=0.01, queue=50)
    peer = net.host("peer")
    net.link(peer, "r", rate=("8Mbps", "20Mbps"), delay="5ms")   # upload, download`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		nv, _ := lang.Receiver[*networkValue](b)
		var av, bv, rateV, delayV starlark.Value
		var lossV starlark.Value = starlark.MakeInt(0)
		var queueV starlark.Value = starlark.None
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &av, "b", &bv, "rate", &rateV, "delay", &delayV, "loss?", &lossV, "queue?", &queueV); err != nil {
			return nil, err
		}
		an, err := nodeName(b.Name(), "a", av)
		if err != nil {
			return nil, err
		}
		bn, err := nodeName(b.Name(), "b", bv)
		if err != nil {
			return nil, err
		}
		rate, rateBA, err := linkRates(b.Name(), rateV, false)
		if err != nil {
			return nil, err
		}
		delay, err := lang.Duration(delayV)
		if err != nil {
			return nil, fmt.Errorf("%s: for parameter delay: %v", b.Name(), err)
		}
		loss, ok := starlark.AsFloat(lossV)
		if !ok {
			return nil, fmt.Errorf("%s: for parameter loss: got %s, want a probability", b.Name(), lossV.Type())
		}
		queue, err := queueArg(b.Name(), queueV)
		if err != nil {
			return nil, err
		}
		l, err := nv.n.Connect(an, bn, lab.LinkConfig{Rate: rate, RateBA: rateBA, Delay: delay, Loss: loss, Queue: queue})
		if err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		return &linkValue{l: l}, nil
	}),
	lang.Method("lab.network.stats", `stats() -> struct

The scheduler's counters: events (packet arrivals and timers run), forced
(clock steps taken although a goroutine using the lab kept running at one
lab instant for seconds; results may then vary between runs, and a warning
line goes to stderr at the first), and now (lab seconds).

    s = net.stats()
    print(s.events > 0, s.forced)    # True 0`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		nv, _ := lang.Receiver[*networkValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		steps, forced := nv.n.SchedStats()
		return starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
			"events": starlark.MakeUint64(steps),
			"forced": starlark.MakeUint64(forced),
			"now":    starlark.Float(nv.n.Elapsed().Seconds()),
		}), nil
	}),
	lang.Method("lab.network.flows", `flows(host=None) -> list

The open stream connections, one struct per end (of every host, or of
host: a lab.host or its name), sorted by host and local port: host, local
and remote ("addr:port"), tcp ("ideal" or "reno"), cwnd (the congestion
window in segments; None for "ideal"), ssthresh (segments; None before the
first loss or with "ideal"), in_flight (segments sent and not
acknowledged), srtt and rto (seconds), recovering (in fast recovery),
buffered (bytes in the send buffer), bytes_sent (payload put on the wire,
retransmissions included), bytes_acked, bytes_received (payload received in
order), retransmits, fast_retransmits and timeouts. Call it every few
milliseconds of lab time to follow a window.

    net = lab.network(tcp="reno")
    a, b, r = net.host("a"), net.host("b"), net.router("r")
    net.link(a, r, rate="100Mbps", delay="1ms")
    net.link(r, b, rate="10Mbps", delay="20ms", queue=20)
    ln = b.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ln.bind(("", 5001))
    ln.listen(1)
    c = a.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.connect(("b", 5001))
    c.sendall(b"x" * 2000000)    # returns once the last 256 KiB are buffered
    f = net.flows(a)[0]
    print(f.tcp, int(f.cwnd), f.ssthresh, f.fast_retransmits)    # reno 35 5.0 4`, networkFlows),
	lang.Method("lab.network.now", `now() -> float

Lab time in seconds since the network was made.

    t0 = net.now()
    client.http.get("http://server/")
    print(net.now() - t0)`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		nv, _ := lang.Receiver[*networkValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		return starlark.Float(nv.n.Elapsed().Seconds()), nil
	}),
	lang.Method("lab.network.sleep", `sleep(seconds)

Waits for seconds of lab time ("2s", 0.5), letting the network run.

    net.sleep(10)    # ten lab seconds of traffic`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		nv, _ := lang.Receiver[*networkValue](b)
		return sleep(th, b, args, kwargs, nv.n)
	}),
	lang.Method("lab.network.capture", `capture(path, links=None) -> lab.capture

Starts writing the network's packets to a pcap file at path (inside the
script's folder unless --allow-fs allows more) that tshark and Wireshark
read: every packet once, as its host sends it, or with links (a list of
lab.link), every packet entering one of those links. The headers are
synthetic (Ethernet, IPv4, TCP or UDP, with sequence and acknowledgement
numbers that follow the bytes, SYN and FIN handshakes) around the real
payloads, so Wireshark decodes HTTP, DNS, SMTP, POP3 and IMAP and follows
each stream; timestamps are lab time (the lab's clock starts on
2000-01-01). cap.stop() (or net.close(), or the script's end) finishes the
file. Attributes: path, packets (written so far).

    cap = net.capture("page.pcap")
    client.http.get("http://server/")
    cap.stop()
    # tshark -r page.pcap -Y http`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		nv, _ := lang.Receiver[*networkValue](b)
		var path string
		var linksV starlark.Value = starlark.None
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &path, "links?", &linksV); err != nil {
			return nil, err
		}
		var links []*lab.Link
		if linksV != starlark.None {
			it, ok := linksV.(starlark.Iterable)
			if !ok {
				return nil, fmt.Errorf("%s: for parameter links: got %s, want a list of lab.link", b.Name(), linksV.Type())
			}
			iter := it.Iterate()
			var x starlark.Value
			for iter.Next(&x) {
				lv, ok := x.(*linkValue)
				if !ok {
					iter.Done()
					return nil, fmt.Errorf("%s: for parameter links: got %s, want lab.link", b.Name(), x.Type())
				}
				links = append(links, lv.l)
			}
			iter.Done()
			if links == nil {
				links = []*lab.Link{}
			}
		}
		f, err := lang.CreateFile(th, b.Name(), path)
		if err != nil {
			return nil, err
		}
		c, err := nv.n.Capture(f, links)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v", b.Name(), path, err)
		}
		return &captureValue{c: c, path: path}, nil
	}),
	lang.Method("lab.network.close", `close()

Stops the network: its hosts' sockets close, its clock stops, and sleep()
and time follow the real clock again. Tasks and server handlers still
blocked on its sockets end quietly, without a traceback: the blocked call
fails with kind "closed", which a task that is joined reports.

    net.close()`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		nv, _ := lang.Receiver[*networkValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		lang.Unlocked(th, func() { nv.Close() })
		return starlark.None, nil
	}),
)

// sleep is net.sleep(seconds) and host.sleep(seconds): a wait in n's time.
func sleep(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, n *lab.Network) (starlark.Value, error) {
	var dV starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "seconds", &dV); err != nil {
		return nil, err
	}
	d, err := lang.Duration(dV)
	if err != nil {
		return nil, fmt.Errorf("%s: for parameter seconds: %v", b.Name(), err)
	}
	return sleepOn(th, b.Name(), n, d)
}

func sleepOn(th *starlark.Thread, op string, n *lab.Network, d time.Duration) (starlark.Value, error) {
	var err error
	lang.Unlocked(th, func() { err = n.Sleep(lang.Context(th), d) })
	if err != nil {
		return nil, lang.NetError(op, "", err, 0)
	}
	return starlark.None, nil
}

// resolverArg reads net.host's resolver=: a host, a name or address, with
// an optional port.
func resolverArg(fn string, v starlark.Value) (string, error) {
	switch v := v.(type) {
	case starlark.NoneType:
		return "", nil
	case *hostValue:
		return v.h.Hostname(), nil
	case starlark.String:
		if v == "" {
			return "", fmt.Errorf("%s: for parameter resolver: empty name", fn)
		}
		return string(v), nil
	case starlark.Tuple:
		host, port, err := lang.AddrTuple(fn+": for parameter resolver", v)
		if err != nil {
			return "", err
		}
		if port > 0 { // a name server is never on port 0
			return net.JoinHostPort(host, strconv.Itoa(port)), nil
		}
	}
	return "", fmt.Errorf("%s: for parameter resolver: got %s, want lab.host, a name or address, \"addr:port\" or (addr, port)", fn, v.String())
}

func nodeName(fn, param string, v starlark.Value) (string, error) {
	switch v := v.(type) {
	case *hostValue:
		return v.h.Hostname(), nil
	case *routerValue:
		return v.name, nil
	case starlark.String:
		return string(v), nil
	}
	return "", fmt.Errorf("%s: for parameter %s: got %s, want lab.host, lab.router or a name", fn, param, v.Type())
}

func (nv *networkValue) String() string {
	return fmt.Sprintf("<lab.network %d hosts, t=%.6fs>", len(nv.hosts), nv.n.Elapsed().Seconds())
}
func (nv *networkValue) Type() string          { return "lab.network" }
func (nv *networkValue) Freeze()               {}
func (nv *networkValue) Truth() starlark.Bool  { return true }
func (nv *networkValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: lab.network") }
func (nv *networkValue) AttrNames() []string {
	return append(networkMethods.Names(), "hosts", "seed", "sndbuf", "tcp", "timescale")
}
func (nv *networkValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "hosts":
		d := starlark.NewDict(len(nv.hosts))
		names := make([]string, 0, len(nv.hosts))
		for k := range nv.hosts {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			d.SetKey(starlark.String(k), nv.hosts[k])
		}
		return d, nil
	case "seed":
		return starlark.MakeUint64(nv.seed), nil
	case "timescale":
		return starlark.Float(nv.scale), nil
	case "tcp":
		return starlark.String(nv.tcp.String()), nil
	case "sndbuf":
		return starlark.MakeInt(nv.sndbuf), nil
	}
	return networkMethods.Attr(nv, name), nil
}

// ---- hosts and routers ----

type hostValue struct {
	h    *lab.Host
	nv   *networkValue
	mods starlark.StringDict
}

var hostMethods = lang.NewMethods("lab.host", `lab.host

A lab host made by net.host(name). Attributes: name, addr (its lab address),
resolver (the name server it asks, "name:port", or None), spoof,
and the netplay modules running on it — socket, http, dns, smtp, pop3, imap,
mail — with the same API as on the real network, plus time (lab time).

    srv = server.http.serve(":80", handler=lambda req: "hi")
    print(client.http.get("http://server/").timing.total)`,
	lang.Method("lab.host.sleep", `sleep(seconds)

Waits for seconds of lab time, like net.sleep.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		hv, _ := lang.Receiver[*hostValue](b)
		return sleep(th, b, args, kwargs, hv.h.Network())
	}),
)

func (hv *hostValue) modules() starlark.StringDict {
	if hv.mods == nil {
		hv.mods = hv.nv.modules(hv.h)
		delete(hv.mods, "lab")
		hv.mods["time"] = nptime.Module
	}
	return hv.mods
}

func (hv *hostValue) String() string {
	return fmt.Sprintf("<lab.host %s %s>", hv.h.Hostname(), hv.h.Addr())
}
func (hv *hostValue) Type() string          { return "lab.host" }
func (hv *hostValue) Freeze()               {}
func (hv *hostValue) Truth() starlark.Bool  { return true }
func (hv *hostValue) Hash() (uint32, error) { return starlark.String(hv.h.Hostname()).Hash() }
func (hv *hostValue) AttrNames() []string {
	names := append(hostMethods.Names(), "addr", "name", "resolver", "spoof")
	for k := range hv.modules() {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
func (hv *hostValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "name":
		return starlark.String(hv.h.Hostname()), nil
	case "addr":
		return starlark.String(hv.h.Addr().String()), nil
	case "resolver":
		if r := hv.h.Resolver(); r != "" {
			return starlark.String(r), nil
		}
		return starlark.None, nil
	case "spoof":
		return starlark.Bool(hv.h.Spoof()), nil
	}
	if m, ok := hv.modules()[name]; ok {
		return m, nil
	}
	return hostMethods.Attr(hv, name), nil
}

type routerValue struct{ name, addr string }

var (
	routerType = lang.Document("lab.router", `lab.router

A router made by net.router(name): it forwards packets between its links
and runs nothing. Attributes: name, addr.`)
)

func (r *routerValue) String() string        { return fmt.Sprintf("<lab.router %s %s>", r.name, r.addr) }
func (r *routerValue) Type() string          { return "lab.router" }
func (r *routerValue) Freeze()               {}
func (r *routerValue) Truth() starlark.Bool  { return true }
func (r *routerValue) Hash() (uint32, error) { return starlark.String(r.name).Hash() }
func (r *routerValue) AttrNames() []string   { return []string{"addr", "name"} }
func (r *routerValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "name":
		return starlark.String(r.name), nil
	case "addr":
		return starlark.String(r.addr), nil
	}
	return nil, nil
}

// ---- links ----

type linkValue struct{ l *lab.Link }

var linkMethods = lang.NewMethods("lab.link", `lab.link

A link made by net.link(a, b, ...). Attributes: a, b (node names), rate
(bits/s; a pair (a_to_b, b_to_a) when the directions differ), delay
(seconds), loss, queue (None: unlimited), all as they are now.`,
	lang.Method("lab.link.set", `set(rate=, delay=, loss=, queue=)

Changes the link at the current lab time; parameters left out stay as they
are. rate is one rate or a pair (a_to_b, b_to_a), and may be 0 (the link
is out: packets wait); the packet being transmitted sends its remaining
bits at the new rate and those queued behind it follow. A new delay applies
to packets that leave from now on, loss and queue to packets that arrive
from now on. Setting the rate stops a trace running on the link.

    access = net.link(client, server, rate="10Mbps", delay="20ms")
    access.set(rate="1Mbps")                  # a sudden drop
    access.set(rate=("1Mbps", "5Mbps"), delay="50ms", loss=0.01, queue=20)`, linkSet),
	lang.Method("lab.link.trace", `trace(steps, loop=False, direction=None)

Replays a bandwidth trace on the link from now: steps is a list of
(seconds, rate) tuples, each rate (bits/s, 0 for an outage) holding for
its seconds, then the next; a third item, (seconds, rate, delay), sets the
delay too. After the last step the link keeps its last rate, or starts the
trace again with loop=True. direction is "a_to_b", "b_to_a" or None (both).
lab.load_trace reads Mahimahi, Sabre and Pensieve files into steps. A new
trace, or link.set(rate=), replaces a running one.

    access.trace([(10, "5Mbps"), (5, "500kbps"), (10, "5Mbps")])
    access.trace([(1, 2e6), (1, 0)], loop=True, direction="b_to_a")`, linkTrace),
	lang.Method("lab.link.stats", `stats(start=None, end=None, interval=None) -> struct

What the link carried: bytes, packets, drops (full queue), lost (random
loss), utilisation (fraction of time transmitting: over the busy window from
the first arrival to the last departure, or over [start, end) in lab
seconds when given; interval=(start, end) says the same), busy (seconds
transmitting), queue_delay (mean seconds
a packet waited in the queue) and max_queue_delay. The totals add both
directions, utilisation and queueing are those of the busier direction, and
a_to_b and b_to_a hold each direction's own figures.

    s = access.stats()
    print("utilisation %.2f, mean queueing %.3fs" % (s.utilisation, s.queue_delay))`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		lv, _ := lang.Receiver[*linkValue](b)
		var startV, endV, intervalV starlark.Value = starlark.None, starlark.None, starlark.None
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "start?", &startV, "end?", &endV, "interval?", &intervalV); err != nil {
			return nil, err
		}
		if intervalV != starlark.None {
			iv, ok := intervalV.(starlark.Tuple)
			if !ok || len(iv) != 2 || startV != starlark.None || endV != starlark.None {
				return nil, fmt.Errorf("%s: for parameter interval: want a (start, end) tuple of lab seconds, and no start= or end=", b.Name())
			}
			startV, endV = iv[0], iv[1]
		}
		ab, ba, spans, now := lv.l.Stats()
		from, to := time.Duration(-1), time.Duration(-1)
		if startV != starlark.None {
			d, err := lang.Duration(startV)
			if err != nil {
				return nil, fmt.Errorf("%s: for parameter start: %v", b.Name(), err)
			}
			from, to = d, now
		}
		if endV != starlark.None {
			d, err := lang.Duration(endV)
			if err != nil {
				return nil, fmt.Errorf("%s: for parameter end: %v", b.Name(), err)
			}
			to = d
			if from < 0 {
				from = 0
			}
		}
		da := dirStruct(ab, spans[0], from, to)
		db := dirStruct(ba, spans[1], from, to)
		busier := da
		if util(ba, spans[1], from, to) > util(ab, spans[0], from, to) {
			busier = db
		}
		get := func(s *starlarkstruct.Struct, k string) starlark.Value { v, _ := s.Attr(k); return v }
		return starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
			"bytes":           starlark.MakeInt64(ab.Bytes + ba.Bytes),
			"packets":         starlark.MakeInt64(ab.Packets + ba.Packets),
			"drops":           starlark.MakeInt64(ab.Drops + ba.Drops),
			"lost":            starlark.MakeInt64(ab.Lost + ba.Lost),
			"busy":            get(busier, "busy"),
			"utilisation":     get(busier, "utilisation"),
			"utilization":     get(busier, "utilisation"),
			"queue_delay":     get(busier, "queue_delay"),
			"max_queue_delay": get(busier, "max_queue_delay"),
			"a_to_b":          da,
			"b_to_a":          db,
		}), nil
	}),
	lang.Method("lab.link.close", `close()

Takes the link down: routes are recomputed without it.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		lv, _ := lang.Receiver[*linkValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		lv.l.Close()
		return starlark.None, nil
	}),
)

func util(s lab.DirStats, spans [][2]time.Duration, from, to time.Duration) float64 {
	if from < 0 {
		if s.Packets == 0 || s.Last <= s.First {
			return 0
		}
		return float64(s.Busy) / float64(s.Last-s.First)
	}
	if to <= from {
		return 0
	}
	return float64(lab.BusyIn(spans, from, to)) / float64(to-from)
}

func dirStruct(s lab.DirStats, spans [][2]time.Duration, from, to time.Duration) *starlarkstruct.Struct {
	busy := s.Busy
	if from >= 0 {
		busy = lab.BusyIn(spans, from, to)
	}
	mean := 0.0
	if s.Packets > 0 {
		mean = (s.QueueDelay / time.Duration(s.Packets)).Seconds()
	}
	u := util(s, spans, from, to)
	return starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
		"bytes":           starlark.MakeInt64(s.Bytes),
		"packets":         starlark.MakeInt64(s.Packets),
		"drops":           starlark.MakeInt64(s.Drops),
		"lost":            starlark.MakeInt64(s.Lost),
		"busy":            starlark.Float(busy.Seconds()),
		"utilisation":     starlark.Float(u),
		"utilization":     starlark.Float(u),
		"queue_delay":     starlark.Float(mean),
		"max_queue_delay": starlark.Float(s.MaxQueueDelay.Seconds()),
	})
}

func (lv *linkValue) String() string {
	c := lv.l.Config()
	rate := fmt.Sprintf("%gbps", c.Rate)
	if c.RateBA != c.Rate {
		rate = fmt.Sprintf("%g/%gbps", c.Rate, c.RateBA)
	}
	return fmt.Sprintf("<lab.link %s-%s %s %s>", lv.l.A, lv.l.B, rate, lang.FormatDuration(c.Delay))
}
func (lv *linkValue) Type() string          { return "lab.link" }
func (lv *linkValue) Freeze()               {}
func (lv *linkValue) Truth() starlark.Bool  { return true }
func (lv *linkValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: lab.link") }
func (lv *linkValue) AttrNames() []string {
	return append(linkMethods.Names(), "a", "b", "delay", "loss", "queue", "rate")
}
func (lv *linkValue) Attr(name string) (starlark.Value, error) {
	c := lv.l.Config()
	switch name {
	case "a":
		return starlark.String(lv.l.A), nil
	case "b":
		return starlark.String(lv.l.B), nil
	case "rate":
		return rateValue(c), nil
	case "delay":
		return starlark.Float(c.Delay.Seconds()), nil
	case "loss":
		return starlark.Float(c.Loss), nil
	case "queue":
		if c.Queue < 0 {
			return starlark.None, nil
		}
		return starlark.MakeInt(c.Queue), nil
	}
	return linkMethods.Attr(lv, name), nil
}

// ---- captures ----

type captureValue struct {
	c    *lab.Capture
	path string
}

var captureMethods = lang.NewMethods("lab.capture", `lab.capture

A packet capture made by net.capture(path). Attributes: path, packets.`,
	lang.Method("lab.capture.stop", `stop()

Stops capturing and finishes the file; stopping twice is harmless.

    cap = net.capture("lab.pcap")
    cap.stop()
    print(cap.packets, "packets in", cap.path)`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, _ := lang.Receiver[*captureValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		if err := cv.c.Stop(); err != nil {
			return nil, fmt.Errorf("%s: %s: %v", b.Name(), cv.path, err)
		}
		return starlark.None, nil
	}),
)

func (cv *captureValue) String() string {
	return fmt.Sprintf("<lab.capture %s %d packets>", cv.path, cv.c.Packets())
}
func (cv *captureValue) Type() string          { return "lab.capture" }
func (cv *captureValue) Freeze()               {}
func (cv *captureValue) Truth() starlark.Bool  { return true }
func (cv *captureValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: lab.capture") }
func (cv *captureValue) AttrNames() []string {
	return append(captureMethods.Names(), "packets", "path")
}
func (cv *captureValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "path":
		return starlark.String(cv.path), nil
	case "packets":
		return starlark.MakeInt(cv.c.Packets()), nil
	}
	return captureMethods.Attr(cv, name), nil
}
