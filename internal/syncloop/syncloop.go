// Package syncloop runs a leader's housekeeping pass (key management,
// webhook certificate rotation) again and again: when the pass asks, when
// woken, at least every resync period, and after a failure with backoff.
package syncloop

import (
	"context"
	"time"

	"k8s.io/utils/clock"
)

// Loop runs Sync, then again when it asks, when woken, at least every
// Resync, and after a failure with backoff from one second up to Resync.
type Loop struct {
	// Sync does one pass and returns how long until it is next due.
	Sync   func(context.Context) (time.Duration, error)
	Clock  clock.PassiveClock
	Resync time.Duration
	Wake   <-chan struct{} // optional
	Failed func(err error, retryIn time.Duration)
}

// Run loops until ctx ends; it always returns nil.
func (l Loop) Run(ctx context.Context) error {
	resync := time.NewTicker(l.Resync)
	defer resync.Stop()
	backoff := time.Second
	for {
		next, err := l.Sync(ctx)
		var wait <-chan time.Time
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			l.Failed(err, backoff)
			wait = time.After(backoff)
			backoff = min(2*backoff, l.Resync)
		} else {
			wait = l.after(next)
			backoff = time.Second
		}
		select {
		case <-ctx.Done():
			return nil
		case <-l.Wake:
		case <-wait:
		case <-resync.C:
		}
	}
}

// after returns a channel fired after d on the loop's clock when it can make
// timers (so tests step a fake clock), else in real time.
func (l Loop) after(d time.Duration) <-chan time.Time {
	if d <= 0 {
		// A fake clock fires its timers only when stepped, even due ones.
		ch := make(chan time.Time, 1)
		ch <- l.Clock.Now()
		return ch
	}
	if c, ok := l.Clock.(clock.Clock); ok {
		return c.After(d)
	}
	return time.After(d)
}
