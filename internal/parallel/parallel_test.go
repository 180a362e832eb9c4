package parallel

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// jitter makes later steps finish before earlier ones.
func jitter() { time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond) }

func TestOrderedEmitsInOrder(t *testing.T) {
	for _, workers := range []int{0, 1, 2, 7, 100} {
		var got []int
		Ordered(500, workers, func(i int) int { jitter(); return i * i }, func(i, r int) bool {
			if r != i*i {
				t.Fatalf("workers=%d: result of %d is %d", workers, i, r)
			}
			got = append(got, i)
			return true
		})
		if len(got) != 500 || !slices.IsSorted(got) {
			t.Fatalf("workers=%d: emitted %d results, in order: %v", workers, len(got), slices.IsSorted(got))
		}
	}
}

// TestOrderedStopsAtFirstFailure: whichever step finishes first, the
// emitter sees the failures in order and the first one stops the run.
func TestOrderedStopsAtFirstFailure(t *testing.T) {
	for range 20 {
		var started atomic.Int32
		var last int
		Ordered(1000, 4, func(i int) bool {
			started.Add(1)
			jitter()
			return i == 37 || i == 38 || i == 500
		}, func(i int, failed bool) bool {
			last = i
			return !failed
		})
		if last != 37 {
			t.Fatalf("stopped at %d, want 37", last)
		}
		// Work runs at most a window ahead of the emitter.
		if n := started.Load(); n > 37+1+minWindow {
			t.Fatalf("%d steps started after a failure at 37", n)
		}
	}
}

func TestOrderedBoundsWorkAhead(t *testing.T) {
	var running, ahead, maxAhead atomic.Int64
	Ordered(300, 3, func(int) int {
		running.Add(1)
		defer running.Add(-1)
		a := ahead.Add(1)
		for {
			m := maxAhead.Load()
			if a <= m || maxAhead.CompareAndSwap(m, a) {
				break
			}
		}
		jitter()
		return 0
	}, func(int, int) bool {
		time.Sleep(time.Millisecond) // a slow emitter: work runs ahead
		ahead.Add(-1)
		return true
	})
	if m := maxAhead.Load(); m > minWindow || m < minWindow/2 {
		t.Fatalf("up to %d results waited for the emitter, want up to %d", m, minWindow)
	}
	if running.Load() != 0 {
		t.Fatal("work still running after Ordered returned")
	}
}

func TestOrderedNothing(t *testing.T) {
	Ordered(0, 4, func(int) int { t.Fatal("work called"); return 0 }, func(int, int) bool { t.Fatal("emit called"); return true })
}

// TestEachReturnsTheFirstFailure: every step runs until one fails, and the
// failure of the lowest index is the one returned.
func TestEachReturnsTheFirstFailure(t *testing.T) {
	var ran atomic.Int32
	if err := Each(300, 8, func(int) error { jitter(); ran.Add(1); return nil }); err != nil || ran.Load() != 300 {
		t.Fatalf("Each of steps that succeed: %v, %d ran", err, ran.Load())
	}
	for range 20 {
		err := Each(1000, 4, func(i int) error {
			jitter()
			if i == 37 || i == 38 || i == 500 {
				return fmt.Errorf("step %d", i)
			}
			return nil
		})
		if err == nil || err.Error() != "step 37" {
			t.Fatalf("Each: %v, want step 37", err)
		}
	}
}
