package keysecret

import (
	"slices"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// NeedsKey reports whether ss still needs key id: the controller opened it
// with id (status.keyIDs), or one of its values says it is sealed to id.
// Both are hints an author can edit, so this errs towards "needed": it is
// what stops a key still in use from being retired.
func NeedsKey(ss *v1alpha1.SealedSecret, id crypto.KeyID) bool {
	if slices.Contains(ss.Status.KeyIDs, string(id)) {
		return true
	}
	for _, v := range ss.Spec.EncryptedData {
		hints, err := crypto.KeyIDs(v)
		if err == nil && slices.Contains(hints, id) {
			return true
		}
	}
	return false
}
