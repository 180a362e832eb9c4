// Package parallel runs independent steps of a command on all cores and
// hands their results back in input order, so that what the command prints
// or writes, and the first error it reports, do not depend on scheduling.
package parallel

import (
	"runtime"
	"sync"
)

// minWindow is the least number of results Ordered lets wait.
const minWindow = 64

// Workers is how many goroutines [Ordered] uses when asked for zero: one
// per CPU Go may use.
func Workers() int { return runtime.GOMAXPROCS(0) }

// Ordered calls work(i) for every i in [0, n) on up to workers goroutines
// (zero: [Workers]) and emit(i, result) for each, in order of i, from the
// calling goroutine, as soon as the results before it have been emitted.
// When emit returns false, no further work starts and Ordered returns once
// the work under way has finished; its results are dropped. A loop that
// stops at its first failure therefore reports the same failure, whatever
// the scheduling.
//
// Work runs a bounded number of steps ahead of emit (a few per worker, at
// least 64), so the results held at once stay bounded however large n is.
func Ordered[R any](n, workers int, work func(i int) R, emit func(i int, r R) bool) {
	if workers <= 0 {
		workers = Workers()
	}
	workers = min(workers, n)
	if workers <= 1 {
		for i := range n {
			if !emit(i, work(i)) {
				return
			}
		}
		return
	}
	// Ahead of the emitter by a few steps per worker, and at least 64: a
	// worker the OS deschedules for a while (a loaded machine) holds up the
	// emitter, and the others keep going meanwhile.
	window := max(4*workers, minWindow)
	var (
		mu      sync.Mutex
		next    int  // the next index a worker takes
		stopped bool // emit returned false
		wg      sync.WaitGroup
	)
	results := make([]R, n)
	done := make(chan int, window)
	// A worker takes an index only with a token; the emitter hands one
	// back per result emitted, so no more than window results wait.
	tokens := make(chan struct{}, window)
	for range window {
		tokens <- struct{}{}
	}
	take := func() (int, bool) {
		<-tokens
		mu.Lock()
		defer mu.Unlock()
		if stopped || next >= n {
			return 0, false
		}
		next++
		return next - 1, true
	}
	wg.Add(workers)
	for range workers {
		go func() {
			defer wg.Done()
			for {
				i, ok := take()
				if !ok {
					return
				}
				results[i] = work(i)
				done <- i
			}
		}()
	}
	ready := make([]bool, n)
	emitted := 0
	for emitted < n {
		ready[<-done] = true
		for emitted < n && ready[emitted] {
			r := results[emitted]
			var zero R
			results[emitted] = zero
			if !emit(emitted, r) {
				mu.Lock()
				stopped = true
				mu.Unlock()
				// Wake workers waiting for a token, and let those
				// finishing a step deliver it.
				close(tokens)
				go func() {
					for range done { //nolint:revive // drained only
					}
				}()
				wg.Wait()
				close(done)
				return
			}
			emitted++
			tokens <- struct{}{}
		}
	}
	wg.Wait()
}

// Each calls f(i) for every i in [0, n) on up to workers goroutines (zero:
// [Workers]) and returns the error of the lowest i that failed, or nil; no
// further work starts once that failure is known.
func Each(n, workers int, f func(i int) error) error {
	var first error
	Ordered(n, workers, f, func(_ int, err error) bool {
		first = err
		return err == nil
	})
	return first
}
