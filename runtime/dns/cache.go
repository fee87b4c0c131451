package dns

import (
	"container/list"
	"sort"
	"sync"
	"time"

	md "github.com/miekg/dns"
	"github.com/netplay-dev/netplay/runtime/stack"
)

// Cache holds record sets and negative answers until their TTL runs out
// in the stack's clock. TTLs are capped as BIND caps them (a week for
// answers, three hours for negative answers), and past MaxEntries the
// least recently used entry goes, so a flood of names cannot grow it
// without bound.
type Cache struct {
	clock stack.Clock
	// MaxTTL and MaxNegativeTTL cap the time an entry is kept, whatever
	// TTL the server sent; MaxEntries bounds the entries.
	MaxTTL, MaxNegativeTTL uint32
	MaxEntries             int

	mu      sync.Mutex
	entries map[cacheKey]*cacheEntry
	lru     *list.List // of cacheKey, most recent at the front
}

// BIND's max-cache-ttl and max-ncache-ttl.
const (
	DefaultMaxTTL         = 7 * 24 * 3600
	DefaultMaxNegativeTTL = 3 * 3600
	DefaultMaxEntries     = 10000
)

type cacheKey struct {
	name  string
	qtype uint16 // 0 for an NXDOMAIN, which covers every type
}

type cacheEntry struct {
	rrs      []md.RR // the record set; for a negative entry, the SOA if any
	negative bool
	rcode    int
	stored   time.Time
	expires  time.Time
	el       *list.Element
}

// CacheEntry is one cached record set, for showing the cache.
type CacheEntry struct {
	Name     string
	Type     uint16 // 0: NXDOMAIN
	Negative bool
	Rcode    int
	TTL      uint32 // seconds left
	Records  []md.RR
}

// NewCache returns an empty cache on clock.
func NewCache(clock stack.Clock) *Cache {
	return &Cache{clock: clock, MaxTTL: DefaultMaxTTL, MaxNegativeTTL: DefaultMaxNegativeTTL, MaxEntries: DefaultMaxEntries,
		entries: map[cacheKey]*cacheEntry{}, lru: list.New()}
}

// put stores e under k (c.mu held), making room first.
func (c *Cache) put(k cacheKey, e *cacheEntry) {
	if old := c.entries[k]; old != nil {
		c.lru.Remove(old.el)
		delete(c.entries, k)
	}
	for c.MaxEntries > 0 && len(c.entries) >= c.MaxEntries {
		back := c.lru.Back()
		c.lru.Remove(back)
		delete(c.entries, back.Value.(cacheKey))
	}
	e.el = c.lru.PushFront(k)
	c.entries[k] = e
}

// drop removes the entry under k (c.mu held).
func (c *Cache) drop(k cacheKey) {
	if e := c.entries[k]; e != nil {
		c.lru.Remove(e.el)
		delete(c.entries, k)
	}
}

// Len is the number of entries, negative ones included (some may have
// expired but not yet been dropped).
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// Put caches a record set for the smallest TTL among its records.
func (c *Cache) Put(name string, qtype uint16, rrs []md.RR) {
	if len(rrs) == 0 {
		return
	}
	ttl := rrs[0].Header().Ttl
	cp := make([]md.RR, len(rrs))
	for i, rr := range rrs {
		if rr.Header().Ttl < ttl {
			ttl = rr.Header().Ttl
		}
		cp[i] = md.Copy(rr)
	}
	if c.MaxTTL > 0 && ttl > c.MaxTTL {
		ttl = c.MaxTTL
	}
	now := c.clock.Now()
	c.mu.Lock()
	c.put(cacheKey{md.CanonicalName(name), qtype}, &cacheEntry{rrs: cp, stored: now, expires: now.Add(time.Duration(ttl) * time.Second)})
	c.mu.Unlock()
}

// PutNegative caches an NXDOMAIN (for every type of name) or a NODATA
// (for qtype) for the negative TTL of soa (RFC 2308), or 60 seconds
// without one.
func (c *Cache) PutNegative(name string, qtype uint16, rcode int, soa md.RR) {
	ttl := uint32(60)
	var rrs []md.RR
	if s, ok := soa.(*md.SOA); ok {
		ttl = s.Hdr.Ttl
		if s.Minttl < ttl {
			ttl = s.Minttl
		}
		rrs = []md.RR{md.Copy(s)}
	}
	if rcode == md.RcodeNameError {
		qtype = 0
	}
	if c.MaxNegativeTTL > 0 && ttl > c.MaxNegativeTTL {
		ttl = c.MaxNegativeTTL
	}
	now := c.clock.Now()
	c.mu.Lock()
	c.put(cacheKey{md.CanonicalName(name), qtype}, &cacheEntry{rrs: rrs, negative: true, rcode: rcode, stored: now, expires: now.Add(time.Duration(ttl) * time.Second)})
	c.mu.Unlock()
}

// Get returns a live entry for name and type (an NXDOMAIN for the name
// answers every type), with TTLs lowered by the time spent in the cache.
func (c *Cache) Get(name string, qtype uint16) (rrs []md.RR, negative bool, rcode int, ok bool) {
	name = md.CanonicalName(name)
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range []cacheKey{{name, 0}, {name, qtype}} {
		e := c.entries[k]
		if e == nil {
			continue
		}
		if !now.Before(e.expires) {
			c.drop(k)
			continue
		}
		c.lru.MoveToFront(e.el)
		return aged(e.rrs, now.Sub(e.stored)), e.negative, e.rcode, true
	}
	return nil, false, 0, false
}

func aged(rrs []md.RR, d time.Duration) []md.RR {
	out := make([]md.RR, len(rrs))
	sec := uint32(d / time.Second)
	for i, rr := range rrs {
		c := md.Copy(rr)
		if c.Header().Ttl > sec {
			c.Header().Ttl -= sec
		} else {
			c.Header().Ttl = 0
		}
		out[i] = c
	}
	return out
}

// Flush empties the cache.
func (c *Cache) Flush() {
	c.mu.Lock()
	c.entries = map[cacheKey]*cacheEntry{}
	c.lru.Init()
	c.mu.Unlock()
}

// Entries lists the live entries, sorted by name and type.
func (c *Cache) Entries() []CacheEntry {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []CacheEntry
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			c.drop(k)
			continue
		}
		out = append(out, CacheEntry{Name: k.name, Type: k.qtype, Negative: e.negative, Rcode: e.rcode,
			TTL: uint32(e.expires.Sub(now) / time.Second), Records: aged(e.rrs, now.Sub(e.stored))})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Type < out[j].Type
	})
	return out
}
