package audit

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// NewCanary is a fresh canary: 24 bytes, so its base64 is a fixed prefix
// of the base64 of every value that starts with it.
func NewCanary() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "CANARY-" + hex.EncodeToString(b[:])[:17]
}

// Values are the plaintext of one SealedSecret: a value starting with the
// canary and a random one.
func Values(canary, name string) map[string][]byte {
	r := make([]byte, 16)
	_, _ = rand.Read(r)
	return map[string][]byte{
		"password": []byte(canary + "-" + name + "-" + hex.EncodeToString(r[:4])),
		"token":    r,
	}
}

// Want is what one Secret must hold.
type Want struct {
	Data map[string][]byte
	Type corev1.SecretType
}

// Ledger is what a test sealed into one namespace: what every Secret must
// hold in the end, and every data a Secret may show on its way (earlier
// versions, drift the test wrote). It is safe for concurrent use.
type Ledger struct {
	mu       sync.Mutex
	expected map[string]Want
	accepted map[string][]map[string][]byte
}

// NewLedger is an empty ledger.
func NewLedger() *Ledger {
	return &Ledger{expected: map[string]Want{}, accepted: map[string][]map[string][]byte{}}
}

// Seal seals data as the Secret ns/name, edited by edit (type,
// immutability), and records it as expected.
func (l *Ledger) Seal(rs []*crypto.Recipient, ns, name string, data map[string][]byte, edit func(*corev1.Secret)) (*v1alpha1.SealedSecret, error) {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data, Type: corev1.SecretTypeOpaque}
	if edit != nil {
		edit(s)
	}
	ss, err := sealed.Seal(s, sealed.SealOptions{Scope: crypto.ScopeStrict, Recipients: rs})
	if err != nil {
		return nil, err
	}
	l.Expect(name, Want{Data: data, Type: s.Type})
	return ss, nil
}

// Expect records that name's Secret must hold w (and may on its way).
func (l *Ledger) Expect(name string, w Want) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w.Data = maps.Clone(w.Data)
	l.expected[name] = w
	l.accepted[name] = append(l.accepted[name], maps.Clone(w.Data))
}

// Accept records data name's Secret may show on its way (drift the test
// wrote), without expecting it in the end.
func (l *Ledger) Accept(name string, data map[string][]byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.accepted[name] = append(l.accepted[name], maps.Clone(data))
}

// Forget drops name: nothing is expected of it (a dry-run stored nothing).
func (l *Ledger) Forget(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.expected, name)
	delete(l.accepted, name)
}

// Accepts reports whether name's Secret may hold data at some moment.
func (l *Ledger) Accepts(name string, data map[string][]byte) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.ContainsFunc(l.accepted[name], func(d map[string][]byte) bool { return maps.EqualFunc(d, data, bytes.Equal) })
}

// Len is how many Secrets are expected.
func (l *Ledger) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.expected)
}

// Compare checks the namespace's Secrets against the ledger: the names of
// expected Secrets that are missing, and of those holding other data or
// another type, each sorted; a wrong one is named with its type and the
// type expected ("name (Opaque, want kubernetes.io/tls)").
func (l *Ledger) Compare(secrets []corev1.Secret) (lost, wrong []string) {
	have := map[string]*corev1.Secret{}
	for i := range secrets {
		have[secrets[i].Name] = &secrets[i]
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for name, e := range l.expected {
		s, ok := have[name]
		switch {
		case !ok:
			lost = append(lost, name)
		case !maps.EqualFunc(s.Data, e.Data, bytes.Equal) || s.Type != e.Type:
			wrong = append(wrong, fmt.Sprintf("%s (%s, want %s)", name, s.Type, e.Type))
		}
	}
	sort.Strings(lost)
	sort.Strings(wrong)
	return lost, wrong
}
