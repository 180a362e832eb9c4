package sealed

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/sealkit/sealkit/pkg/crypto"
)

// BenchmarkResealUpToDate is what re-sealing an object of 5 values costs
// when its values are already sealed to the active key, for a re-sealer
// holding that key and five older ones (seal-controller after five
// rotations): every value is checked against the header, not the hints.
func BenchmarkResealUpToDate(b *testing.B) {
	ids := make([]*crypto.Identity, 6)
	for i := range ids {
		id, err := crypto.GenerateIdentity()
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = id
	}
	active := ids[len(ids)-1]
	s := testSecret()
	s.Type, s.Data = corev1.SecretTypeOpaque, nil
	s.StringData = map[string]string{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5"}
	ss, err := Seal(s, SealOptions{Recipients: []*crypto.Recipient{active.Recipient()}})
	if err != nil {
		b.Fatal(err)
	}
	to := []*crypto.Recipient{active.Recipient()}
	for b.Loop() {
		if changed, err := Reseal(ss, ids, to); err != nil || changed {
			b.Fatalf("changed %v, err %v", changed, err)
		}
	}
}
