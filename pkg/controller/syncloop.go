package controller

import (
	"context"
	"time"

	"k8s.io/utils/clock"
)

// syncLoop is the loop of the leader's housekeepers (the key manager and the
// certificate rotator): run sync, then again when it asks, when woken, at
// least every resync, and after a failure with backoff from one second up to
// resync.
type syncLoop struct {
	// sync does one pass and returns how long until it is next due.
	sync   func(context.Context) (time.Duration, error)
	clock  clock.PassiveClock
	resync time.Duration
	wake   <-chan struct{} // optional
	failed func(err error, retryIn time.Duration)
}

func (l syncLoop) run(ctx context.Context) error {
	resync := time.NewTicker(l.resync)
	defer resync.Stop()
	backoff := time.Second
	for {
		next, err := l.sync(ctx)
		var wait <-chan time.Time
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			l.failed(err, backoff)
			wait = time.After(backoff)
			backoff = min(2*backoff, l.resync)
		} else {
			wait = l.after(next)
			backoff = time.Second
		}
		select {
		case <-ctx.Done():
			return nil
		case <-l.wake:
		case <-wait:
		case <-resync.C:
		}
	}
}

// after returns a channel fired after d on the loop's clock when it can make
// timers (so tests step a fake clock), else in real time.
func (l syncLoop) after(d time.Duration) <-chan time.Time {
	if d <= 0 {
		// A fake clock fires its timers only when stepped, even due ones.
		ch := make(chan time.Time, 1)
		ch <- l.clock.Now()
		return ch
	}
	if c, ok := l.clock.(clock.Clock); ok {
		return c.After(d)
	}
	return time.After(d)
}
