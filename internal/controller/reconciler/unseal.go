package reconciler

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/sealkit/sealkit/internal/controller/policy"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// unseal opens every value of the SealedSecret, which Reconcile has read in
// full. A value that opens only with a key marked compromised is accepted
// for a SealedSecret unchanged since it was last unsealed (its Secret keeps
// working, with a warning), and refused for one that is new or changed.
func (r *Reconciler) unseal(_ context.Context, o *outcome) (bool, error) {
	o.attempts = true
	decryptOps.Add(float64(len(o.ss.Spec.EncryptedData)))
	s, opened, err := sealed.Unseal(o.ss, o.ids)
	if err != nil {
		return o.fail(reasonFor(err), boundedError(err))
	}
	// opened is sorted and unique, and nothing before this step set keyIDs.
	o.keyIDs = make([]string, len(opened))
	for i, id := range opened {
		o.keyIDs[i] = string(id)
	}
	if o.compromised = r.compromisedOf(o.keyIDs); len(o.compromised) > 0 && !unchangedSinceUnsealed(o.ss) {
		clear(s.Data)
		o.keyIDs = nil
		return o.fail(v1alpha1.ReasonCompromisedKey, fmt.Sprintf(
			"values open only with key(s) %s, marked compromised: whoever holds the leaked key can read them from Git; re-seal them to the active key (seal reseal) and rotate the secrets themselves",
			joinComma(o.compromised)))
	}
	o.data = s.Data
	return false, nil
}

// unchangedSinceUnsealed reports whether ss was unsealed at its current
// generation: the status says so, and only seal-controller writes status.
func unchangedSinceUnsealed(ss *v1alpha1.SealedSecret) bool {
	c := meta.FindStatusCondition(ss.Status.Conditions, v1alpha1.ConditionReady)
	return c != nil && c.Reason == v1alpha1.ReasonUnsealed && c.ObservedGeneration == ss.Generation &&
		ss.Status.ObservedGeneration == ss.Generation
}

// reasonFor maps an opening error to the Ready reason.
func reasonFor(err error) string {
	var mismatch *crypto.FrameMismatchError
	var noKey *crypto.NoKeyMatchError
	switch {
	case errors.As(err, &mismatch):
		return v1alpha1.ReasonScopeMismatch
	case errors.As(err, &noKey):
		return v1alpha1.ReasonNoKey
	default:
		return v1alpha1.ReasonDecryptFailed
	}
}

// boundedError is the message of an opening error: crypto errors name key
// IDs and frame fields (bounded by Kubernetes' limits), never a value, and
// the data key is quoted to a bounded length.
func boundedError(err error) string {
	if ve, ok := errors.AsType[*sealed.ValueError](err); ok {
		return fmt.Sprintf("key %s: %v", policy.Quote(ve.Key), ve.Err)
	}
	return err.Error()
}
