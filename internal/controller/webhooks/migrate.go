package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"gomodules.xyz/jsonpatch/v2"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/sealkit/sealkit/internal/controller/policy"
	"github.com/sealkit/sealkit/pkg/bitnami"
	"github.com/sealkit/sealkit/pkg/migrate"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// msgNoLegacyKeys is the denial when seal-controller holds no Bitnami key.
const msgNoLegacyKeys = "seal-controller holds no Bitnami keys to migrate with: import them with 'seal keys import-bitnami', or run seal-controller with --bitnami-namespace"

// migrate is the online migration behind `seal migrate`: a server-side
// dry-run of a SealedSecret whose values are still Bitnami's, marked
// [v1alpha1.AnnotationMigrate], comes back with every value opened with
// Bitnami's keys and sealed to the active key and the recovery recipients,
// and without the marker. Each value is opened where the object is: the
// OAEP label comes from the request's namespace and name and spec.scope,
// so a Bitnami value copied elsewhere does not open, and nobody gains a
// value they could not already have had Bitnami's controller unseal there.
// The plaintext never leaves the controller; the validating webhook then
// checks the result as any SealedSecret.
func (r *resealer) migrate(ctx context.Context, req admission.Request, ss *v1alpha1.SealedSecret, from string) admission.Response {
	if from != v1alpha1.MigrateFromBitnami {
		return r.deny(req, fmt.Sprintf("annotation %s is %s: the only migration source is %q", v1alpha1.AnnotationMigrate, policy.Quote(from), v1alpha1.MigrateFromBitnami))
	}
	if _, both := ss.Annotations[v1alpha1.AnnotationReseal]; both {
		return r.deny(req, "a request cannot both migrate and re-seal")
	}
	to := r.keys.Recipients()
	if len(to) == 0 {
		return admission.Errored(http.StatusServiceUnavailable, errors.New("seal-controller has no active key loaded yet; try again"))
	}
	to = append(slices.Clone(to), r.recovery...)
	if r.legacy == nil {
		return r.deny(req, msgNoLegacyKeys)
	}
	keys, err := r.legacy.LegacyKeys(ctx)
	if err != nil {
		r.log.Error(err, "reading bitnami keys")
		return admission.Errored(http.StatusServiceUnavailable, errors.New("seal-controller could not read the Bitnami keys; see its log"))
	}
	if len(keys) == 0 {
		return r.deny(req, msgNoLegacyKeys)
	}
	values, used, err := migrate.SealBitnamiValues(ss, keys, to)
	if err != nil {
		// pkg/bitnami's and pkg/sealed's errors name the object and data
		// key, never a value.
		return r.deny(req, "migrate: "+err.Error())
	}
	patches := []jsonpatch.JsonPatchOperation{
		{Operation: "remove", Path: "/metadata/annotations/" + escapeJSONPointer(v1alpha1.AnnotationMigrate)},
		{Operation: "replace", Path: "/spec/encryptedData", Value: values},
	}
	r.log.V(1).Info("migrated", "namespace", ss.Namespace, "name", ss.Name, "user", req.UserInfo.Username,
		"values", len(values), "bitnamiKeys", fingerprints(used))
	return admission.Patched("", patches...).WithWarnings(compromisedWarnings(used)...)
}

func fingerprints(keys []*bitnami.PrivateKey) string {
	fs := make([]string, len(keys))
	for i, k := range keys {
		fs[i] = k.Fingerprint()
	}
	return strings.Join(fs, ",")
}

// compromisedWarnings tell the caller when a value opened only with a
// Bitnami key marked compromised: migrating does not make it secret again.
func compromisedWarnings(used []*bitnami.PrivateKey) []string {
	var w []string
	for _, k := range used {
		if k.State == bitnami.KeyCompromised {
			w = append(w, fmt.Sprintf("sealkit: opened with Bitnami key %s, labelled compromised: change these values at their source", k.Fingerprint()))
		}
	}
	return w
}
