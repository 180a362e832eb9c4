package testenv

import (
	"testing"
	"time"
)

// EventuallyTimeout bounds [Eventually]. It is a limit for a condition to hold,
// not a measured duration: on a loaded two-core machine a controller may need
// seconds to react, and a slower reaction is not a failure worth reporting.
const EventuallyTimeout = 30 * time.Second

// Eventually polls cond until it holds and fails the test, naming what it
// waited for, if it still does not after [EventuallyTimeout]. It is how a test
// waits for a controller or an API server to catch up; it asserts nothing
// about how long that takes.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if !poll(EventuallyTimeout, 50*time.Millisecond, cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// poll calls cond every interval until it holds (true) or timeout has passed
// (false). cond is always called at least once and once more after the
// deadline, so a slow poll never fails a condition that came true meanwhile.
func poll(timeout, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return cond()
		}
		time.Sleep(interval)
	}
	return true
}

// EventuallyWithin is [Eventually] with a limit of the caller's, for work
// that is large on purpose (thousands of objects); it polls every second.
func EventuallyWithin(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	if !poll(limit, time.Second, cond) {
		t.Fatalf("timed out after %s waiting for %s", limit, what)
	}
}
