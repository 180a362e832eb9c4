package reconciler

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sealkit/sealkit/internal/scrape"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
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
	compromisedDesc = prometheus.NewDesc("sealkit_sealedsecrets_compromised_key",
		"SealedSecrets whose values open only with a key marked compromised (condition KeyCompromised): their Secrets keep working; re-seal them.",
		nil, nil)
	byKeyDesc = prometheus.NewDesc("sealkit_sealedsecrets_by_key",
		"SealedSecrets whose values were opened by each key ID (status.keyIDs); a retained key still counted here is still needed.",
		[]string{"key_id"}, nil)
)

// keyUsage tracks which keys opened each SealedSecret, for
// sealkit_sealedsecrets_by_key, and which of them carry the KeyCompromised
// warning. It is fed by the reconciler (the leader), so only the leader
// reports the gauges.
type keyUsage struct {
	mu   sync.Mutex
	used map[types.NamespacedName]usage
}

type usage struct {
	keyIDs      []string
	compromised bool // the KeyCompromised condition is set
}

func newKeyUsage() *keyUsage {
	return &keyUsage{used: map[types.NamespacedName]usage{}}
}

func (u *keyUsage) set(nn types.NamespacedName, keyIDs []string, compromised bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(keyIDs) == 0 {
		delete(u.used, nn)
		return
	}
	u.used[nn] = usage{keyIDs: keyIDs, compromised: compromised}
}

// affectedByKeys reports whether a key change may concern nn: it is not
// unsealed (a new or imported key may open it; SealedSecrets not yet looked
// at are queued anyway), a key that opened it is no longer loaded, or its
// KeyCompromised warning no longer matches the states of its keys.
func (u *keyUsage) affectedByKeys(nn types.NamespacedName, state func(crypto.KeyID) keyring.State) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	used, ok := u.used[nn]
	if !ok {
		return true
	}
	compromised := false
	for _, id := range used.keyIDs {
		switch state(crypto.KeyID(id)) {
		case "", keyring.StateRetired:
			return true
		case keyring.StateCompromised:
			compromised = true
		}
	}
	return compromised != used.compromised
}

// counts returns how many SealedSecrets each key opened, and how many carry
// the KeyCompromised warning.
func (u *keyUsage) counts() (byKey map[string]int, compromised int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	byKey = map[string]int{}
	for _, used := range u.used {
		for _, id := range used.keyIDs {
			byKey[id]++
		}
		if used.compromised {
			compromised++
		}
	}
	return byKey, compromised
}

type usageCollector struct{ scrape.Latest[keyUsage] }

var usageMetrics usageCollector

// registerReconcilerMetrics registers the reconciler's metrics and points
// the gauge at u.
func registerReconcilerMetrics(u *keyUsage) {
	usageMetrics.Set(u, &usageMetrics, unsealTotal, decryptOps, secretWrites)
}

func (c *usageCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- byKeyDesc
	ch <- compromisedDesc
}

func (c *usageCollector) Collect(ch chan<- prometheus.Metric) {
	u := c.Load()
	if u == nil {
		return
	}
	byKey, compromised := u.counts()
	for id, n := range byKey {
		ch <- prometheus.MustNewConstMetric(byKeyDesc, prometheus.GaugeValue, float64(n), id)
	}
	ch <- prometheus.MustNewConstMetric(compromisedDesc, prometheus.GaugeValue, float64(compromised))
}
