package lab

// A fifo is a queue that keeps its array: what is taken from the front
// leaves room that later pushes reuse, so a steady flow of packets through
// a link's queue, or of streams through its transmitter's round, costs no
// allocation.
type fifo[T any] struct {
	buf  []T
	head int
}

// items is the queue, front first; it is valid until the next push.
func (q *fifo[T]) items() []T { return q.buf[q.head:] }

func (q *fifo[T]) len() int { return len(q.buf) - q.head }

func (q *fifo[T]) push(x T) {
	// Move the items down once the front's room is at least half the
	// array, so that each item moves a bounded number of times.
	if len(q.buf) == cap(q.buf) && q.head > 0 && q.head >= len(q.buf)/2 {
		k := copy(q.buf, q.buf[q.head:])
		clear(q.buf[k:])
		q.buf, q.head = q.buf[:k], 0
	}
	q.buf = append(q.buf, x)
}

// pop removes the first k items.
func (q *fifo[T]) pop(k int) {
	clear(q.buf[q.head : q.head+k])
	q.head += k
	if q.head == len(q.buf) {
		q.buf, q.head = q.buf[:0], 0
	}
}

// A freeList keeps records done with, for the next ones: fresh memory for
// each would cost a page fault every few dozen packets.
type freeList[T any] []*T

// get returns a zero record, reused if one is free.
func (l *freeList[T]) get() *T {
	if k := len(*l); k > 0 {
		x := (*l)[k-1]
		*l = (*l)[:k-1]
		return x
	}
	return new(T)
}

// put zeroes x and keeps it; nothing may refer to it any more.
func (l *freeList[T]) put(x *T) {
	var zero T
	*x = zero
	*l = append(*l, x)
}
