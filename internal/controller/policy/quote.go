package policy

import (
	"fmt"
	"strings"
)

// Bounds of what a message repeats of user input: Kubernetes names fit,
// anything longer is cut.
const (
	maxQuoted = 253
	maxListed = 3
)

// Quote returns s quoted, cut to a bounded length: status messages and
// errors never echo more than that of anything a user supplied.
func Quote(s string) string {
	if len(s) > maxQuoted {
		s = strings.ToValidUTF8(s[:maxQuoted], "") + "…"
	}
	return fmt.Sprintf("%q", s)
}

// QuoteList quotes the first few items of list and counts the rest.
func QuoteList(list []string) string {
	n := min(len(list), maxListed)
	q := make([]string, n)
	for i := range n {
		q[i] = Quote(list[i])
	}
	s := strings.Join(q, ", ")
	if len(list) > n {
		s += fmt.Sprintf(" and %d more", len(list)-n)
	}
	return s
}
