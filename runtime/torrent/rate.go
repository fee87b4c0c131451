package torrent

import (
	"context"
	"sync"
	"time"

	"github.com/netplay-dev/netplay/runtime/stack"
)

// meter measures a byte rate over a rolling window, in one-second buckets
// of the stack's clock (so it measures lab time on the lab).
type meter struct {
	start   time.Time
	buckets [20]int64
	last    int64 // second (since start) of the newest bucket
	total   int64
}

func newMeter(now time.Time) *meter { return &meter{start: now} }

func (m *meter) advance(now time.Time) int64 {
	sec := int64(now.Sub(m.start) / time.Second)
	for m.last < sec {
		m.last++
		m.buckets[m.last%int64(len(m.buckets))] = 0
		if sec-m.last > int64(len(m.buckets)) {
			clear(m.buckets[:])
			m.last = sec
		}
	}
	return sec
}

func (m *meter) add(now time.Time, n int) {
	sec := m.advance(now)
	m.buckets[sec%int64(len(m.buckets))] += int64(n)
	m.total += int64(n)
}

// rate is bytes per second over the last 20 s (or since the meter
// started, when that is shorter).
func (m *meter) rate(now time.Time) float64 {
	m.advance(now)
	var sum int64
	for _, b := range m.buckets {
		sum += b
	}
	span := now.Sub(m.start)
	if span > RateWindow {
		span = RateWindow
	}
	if span < time.Second {
		span = time.Second
	}
	return float64(sum) / span.Seconds()
}

// limiter is a token bucket on the stack's clock: wait(n) returns when n
// more bytes fit under rate bytes per second.
type limiter struct {
	mu     sync.Mutex
	clock  stack.Clock
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newLimiter(clock stack.Clock, rate float64) *limiter {
	if rate <= 0 {
		return nil
	}
	// A burst of one block keeps the rate smooth at the block scale.
	return &limiter{clock: clock, rate: rate, burst: BlockSize, tokens: BlockSize, last: clock.Now()}
}

func (l *limiter) wait(ctx context.Context, n int) error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	now := l.clock.Now()
	l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	l.last = now
	l.tokens -= float64(n)
	deficit := -l.tokens
	l.mu.Unlock()
	if deficit <= 0 {
		return nil
	}
	return l.clock.Sleep(ctx, time.Duration(deficit/l.rate*float64(time.Second)))
}
