// Package scrape lets a Prometheus collector report, at scrape time, from
// the latest instance set up: one per process in production, several in
// tests, while the collector itself is registered once.
package scrape

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Latest holds the source a collector reports from.
type Latest[T any] struct {
	src  atomic.Pointer[T]
	once sync.Once
}

// Set points the collector at src and, the first time, registers
// collectors with controller-runtime's registry.
func (l *Latest[T]) Set(src *T, collectors ...prometheus.Collector) {
	l.src.Store(src)
	l.once.Do(func() { metrics.Registry.MustRegister(collectors...) })
}

// Load returns the latest source, or nil before the first Set.
func (l *Latest[T]) Load() *T { return l.src.Load() }
