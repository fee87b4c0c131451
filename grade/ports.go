package grade

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// Ports allots loopback ports to tests. It tries First, First+1, … in
// order, so an uncontended run gets the same ports every time (a
// submission that prints its port prints the same results file), and it
// holds a lock file per port so that parallel tests — in this process or
// in another grader on the machine — never get the same one.
type Ports struct {
	First, Last int    // the range; 0: 21000..29999, below Linux's ephemeral ports
	Dir         string // the lock files' folder; "": a folder in os.TempDir()

	mu   sync.Mutex
	held map[int]bool
}

var defaultPorts = &Ports{}

func (o *Options) ports() *Ports {
	if o.Ports != nil {
		return o.Ports
	}
	return defaultPorts
}

type portLease struct {
	port int
	lock *os.File
	p    *Ports
}

func (p *Ports) lease() (*portLease, error) {
	first, last := p.First, p.Last
	if first == 0 {
		first, last = 21000, 29999
	}
	dir := p.Dir
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "netplay-grade-ports")
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, fmt.Errorf("allotting a port: %v", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held == nil {
		p.held = map[int]bool{}
	}
	for port := first; port <= last; port++ {
		if p.held[port] {
			continue
		}
		f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(port)), os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			continue
		}
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
			f.Close()
			continue
		}
		if !portFree(port) {
			f.Close()
			continue
		}
		p.held[port] = true
		return &portLease{port: port, lock: f, p: p}, nil
	}
	return nil, fmt.Errorf("no free loopback port in %d..%d", first, last)
}

func (l *portLease) release() {
	l.p.mu.Lock()
	delete(l.p.held, l.port)
	l.p.mu.Unlock()
	l.lock.Close() // drops the lock
}

// portFree reports whether both TCP and UDP can bind port on loopback now.
func portFree(port int) bool {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		return false
	}
	ln.Close()
	pc, err := net.ListenPacket("udp4", addr)
	if err != nil {
		return false
	}
	pc.Close()
	return true
}
