package reconciler

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sealkit/sealkit/internal/scrape"
)

// Reconciler metrics, served with controller-runtime's own (reconcile counts,
// durations, queue depth) on the metrics endpoint. Labels carry reasons and
// key IDs, which are public; never values, data keys or object names.
var (
	unsealTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sealkit_unseal_total",
		Help: "SealedSecrets evaluated (decrypted or failed), by result: the Ready reason (Unsealed, DecryptFailed, ScopeMismatch, NoKey, SecretConflict, InvalidSpec).",
	}, []string{"result"})
	decryptOps = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sealkit_decrypt_operations_total",
		Help: "Values the reconciler tried to open; stays flat while nothing changes, restarts included.",
	})
	secretWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sealkit_secret_writes_total",
		Help: "Secrets written by the reconciler, by operation (create, update, replace).",
	}, []string{"operation"})
	byKeyDesc = prometheus.NewDesc("sealkit_sealedsecrets_by_key",
		"SealedSecrets whose values were opened by each key ID (status.keyIDs); a retained key still counted here is still needed.",
		[]string{"key_id"}, nil)
)

// keyUsage tracks which keys opened each SealedSecret, for
// sealkit_sealedsecrets_by_key. It is fed by the reconciler (the leader), so
// only the leader reports the gauge.
type keyUsage struct {
	mu   sync.Mutex
	used map[types.NamespacedName][]string
}

func newKeyUsage() *keyUsage {
	return &keyUsage{used: map[types.NamespacedName][]string{}}
}

func (u *keyUsage) set(nn types.NamespacedName, keyIDs []string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(keyIDs) == 0 {
		delete(u.used, nn)
		return
	}
	u.used[nn] = keyIDs
}

// affectedByKeys reports whether a key change may concern nn: it is not
// unsealed (a new or imported key may open it; SealedSecrets not yet looked
// at are queued anyway) or a key that opened it is no longer loaded.
func (u *keyUsage) affectedByKeys(nn types.NamespacedName, loaded map[string]bool) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	ids, ok := u.used[nn]
	if !ok {
		return true
	}
	for _, id := range ids {
		if !loaded[id] {
			return true
		}
	}
	return false
}

func (u *keyUsage) counts() map[string]int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := map[string]int{}
	for _, ids := range u.used {
		for _, id := range ids {
			n[id]++
		}
	}
	return n
}

type usageCollector struct{ scrape.Latest[keyUsage] }

var usageMetrics usageCollector

// registerReconcilerMetrics registers the reconciler's metrics and points
// the gauge at u.
func registerReconcilerMetrics(u *keyUsage) {
	usageMetrics.Set(u, &usageMetrics, unsealTotal, decryptOps, secretWrites)
}

func (c *usageCollector) Describe(ch chan<- *prometheus.Desc) { ch <- byKeyDesc }

func (c *usageCollector) Collect(ch chan<- prometheus.Metric) {
	u := c.Load()
	if u == nil {
		return
	}
	for id, n := range u.counts() {
		ch <- prometheus.MustNewConstMetric(byKeyDesc, prometheus.GaugeValue, float64(n), id)
	}
}
