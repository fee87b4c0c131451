package lab

import (
	"context"

	"github.com/netplay-dev/netplay/runtime/stack"
)

// labWake is a stack.Wake on the lab: its wake-ups queue with the lab's
// own (wakeNext), so a goroutine that signals several others at one
// instant (a BitTorrent peer telling every connection's writer about a
// new piece) has them run one after another, in the order it signalled,
// once it has finished, in every run alike.
type labWake struct {
	n   *Network
	w   waiter
	set bool // work signalled and not yet taken by Wait
}

// NewWake returns a stack.Wake whose wake-ups the lab orders.
func (h *Host) NewWake() stack.Wake {
	return &labWake{n: h.n}
}

func (k *labWake) Signal() {
	n := k.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.touch()
	k.set = true
	n.signal(&k.w)
}

func (k *labWake) Wait(ctx context.Context) error {
	n := k.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.touch()
	for !k.set {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !n.blockUntil(&k.w, ctx.Done()) {
			if err := ctx.Err(); err != nil {
				return err
			}
			return errNetClosed
		}
	}
	k.set = false
	return nil
}
