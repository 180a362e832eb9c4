package reconciler

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// finish is the deferred end of every reconcile that got as far as the
// steps: it patches the status when it changed (observedGeneration, Ready,
// keyIDs), records metrics and emits an event when something changed. A
// transient error before any verdict leaves the status alone.
func (r *Reconciler) finish(ctx context.Context, o *outcome, res ctrl.Result, err error) (ctrl.Result, error) {
	if o.reason == "" {
		return res, err
	}
	obj := o.ss
	before := obj.Status.DeepCopy()
	prev := meta.FindStatusCondition(before.Conditions, v1alpha1.ConditionReady)

	status := metav1.ConditionFalse
	if o.reason == v1alpha1.ReasonUnsealed {
		status = metav1.ConditionTrue
	}
	meta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{
		Type:               v1alpha1.ConditionReady,
		Status:             status,
		Reason:             o.reason,
		Message:            o.message,
		ObservedGeneration: obj.Generation,
	})
	if len(o.compromised) > 0 && status == metav1.ConditionTrue {
		meta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{
			Type:               v1alpha1.ConditionKeyCompromised,
			Status:             metav1.ConditionTrue,
			Reason:             v1alpha1.ReasonCompromisedKey,
			Message:            fmt.Sprintf("values open only with key(s) %s, marked compromised: the Secret keeps working, but whoever holds the leaked key can read them from Git; re-seal them (seal reseal)", joinComma(o.compromised)),
			ObservedGeneration: obj.Generation,
		})
	} else {
		meta.RemoveStatusCondition(&obj.Status.Conditions, v1alpha1.ConditionKeyCompromised)
	}
	obj.Status.ObservedGeneration = obj.Generation
	obj.Status.KeyIDs = o.keyIDs
	if !equality.Semantic.DeepEqual(*before, obj.Status) {
		if perr := r.patchStatus(ctx, obj); perr != nil {
			// Not terminal: the verdict must reach the status.
			return ctrl.Result{}, fmt.Errorf("patching status: %w", perr)
		}
	}

	if o.attempts || o.reason != v1alpha1.ReasonUnsealed {
		unsealTotal.WithLabelValues(o.reason).Inc()
	}
	r.usage.set(client.ObjectKeyFromObject(obj), o.keyIDs, len(o.compromised) > 0 && status == metav1.ConditionTrue)
	r.event(obj, o, prev, status)

	if o.reason == v1alpha1.ReasonSecretConflict {
		// Foreign Secrets are not watched: look again later.
		return ctrl.Result{RequeueAfter: orDefault(r.opts.ConflictRetry, time.Minute)}, nil
	}
	// A terminal error is not retried: the SealedSecret or a key change
	// brings it back.
	return res, err
}

// patchStatus writes the whole status of ss as a merge patch (a list is
// replaced by a merge patch, and a field cleared is sent as null), through
// the metadata client: the response is the object's metadata, not the
// object, so neither the API server nor the controller encodes or decodes
// the ciphertexts again, and no patch is computed by diffing two copies of
// them.
func (r *Reconciler) patchStatus(ctx context.Context, ss *v1alpha1.SealedSecret) error {
	st := ss.Status
	patch, err := json.Marshal(map[string]any{"status": map[string]any{
		"observedGeneration": st.ObservedGeneration,
		"conditions":         st.Conditions,
		"keyIDs":             st.KeyIDs,
	}})
	if err != nil {
		return err
	}
	m := sealedSecretMetadata()
	m.Namespace, m.Name = ss.Namespace, ss.Name
	return r.client.Status().Patch(ctx, m, client.RawPatch(types.MergePatchType, patch))
}

// event tells about changes only, and spends no write on the common case:
// a Secret created is visible in the status (Ready, Unsealed), so it emits
// nothing; an existing Secret updated or replaced emits a Normal event (its
// consumers may see new values); a failure verdict emits a Warning when it
// is new. An unchanged SealedSecret on resync or restart emits nothing.
func (r *Reconciler) event(obj *v1alpha1.SealedSecret, o *outcome, prev *metav1.Condition, status metav1.ConditionStatus) {
	switch {
	case o.write == "update" || o.write == "replace":
		r.recorder.Eventf(obj, nil, corev1.EventTypeNormal, o.reason, capitalize(o.write)+"Secret", "%s", o.message)
	case status != metav1.ConditionTrue && (prev == nil || prev.Reason != o.reason || prev.Status != status):
		r.recorder.Eventf(obj, nil, corev1.EventTypeWarning, o.reason, "Unseal", "%s", o.message)
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
