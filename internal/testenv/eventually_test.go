package testenv

import (
	"testing"
	"time"
)

func TestPoll(t *testing.T) {
	calls := 0
	if !poll(time.Minute, time.Millisecond, func() bool { calls++; return calls == 3 }) {
		t.Fatal("poll gave up on a condition that came true on the third call")
	}
	if calls != 3 {
		t.Fatalf("poll called cond %d times after it held, want 3", calls)
	}
	if poll(0, time.Millisecond, func() bool { return false }) {
		t.Fatal("poll reported a condition that never held as met")
	}
}
