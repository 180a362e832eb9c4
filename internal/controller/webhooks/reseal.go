package webhooks

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/go-logr/logr"
	"gomodules.xyz/jsonpatch/v2"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// resealer is the mutating webhook behind `seal reseal`: a server-side
// dry-run carrying [v1alpha1.AnnotationReseal] comes back with every value
// re-sealed to the active key and the recovery recipients, same frames, and
// without the marker. Being a dry-run, nothing is stored, and the API server
// has already checked that the caller may create SealedSecrets in the
// namespace. Every other request passes unchanged.
type resealer struct {
	keys     KeySource
	recovery []*crypto.Recipient
	decoder  admission.Decoder
	log      logr.Logger
}

func (r *resealer) Handle(_ context.Context, req admission.Request) admission.Response {
	return onWrite(r.decoder, req, r.handle)
}

func (r *resealer) handle(req admission.Request, ss *v1alpha1.SealedSecret) admission.Response {
	if _, marked := ss.Annotations[v1alpha1.AnnotationReseal]; !marked || !isDryRun(req) {
		return admission.Allowed("") // the validating webhook denies a marked real write
	}
	to := r.keys.Recipients()
	if len(to) == 0 {
		return admission.Errored(http.StatusServiceUnavailable, errors.New("seal-controller has no active key loaded yet; try again"))
	}
	to = append(slices.Clone(to), r.recovery...)
	ids := r.keys.Identities()
	// Every value must open here, frame checked: Reseal leaves values that
	// are already sealed to the right keys alone without opening them, and
	// a ciphertext copied from another namespace must be refused, not
	// handed back as if it were fine.
	if msg := verifyValues(ss, nil, ids, nil); msg != "" {
		return r.deny(req, msg)
	}
	changed, err := sealed.Reseal(ss, ids, to)
	if err != nil {
		if errors.Is(err, crypto.ErrMixedRecipients) {
			return r.deny(req, "re-seal: the active key and the recovery recipients mix classic and post-quantum keys, which age cannot seal to together")
		}
		return r.deny(req, valueProblem("", err))
	}
	patches := []jsonpatch.JsonPatchOperation{{
		Operation: "remove",
		Path:      "/metadata/annotations/" + escapeJSONPointer(v1alpha1.AnnotationReseal),
	}}
	if changed {
		patches = append(patches, jsonpatch.JsonPatchOperation{
			Operation: "replace", Path: "/spec/encryptedData", Value: ss.Spec.EncryptedData,
		})
	}
	r.log.V(1).Info("re-sealed", "namespace", ss.Namespace, "name", ss.Name, "user", req.UserInfo.Username,
		"values", len(ss.Spec.EncryptedData), "changed", changed)
	return admission.Patched("", patches...)
}

func (r *resealer) deny(req admission.Request, msg string) admission.Response {
	r.log.Info("re-seal refused", "namespace", req.Namespace, "name", req.Name, "user", req.UserInfo.Username, "reason", msg)
	return admission.Denied(msg)
}

// escapeJSONPointer escapes one reference token (RFC 6901).
func escapeJSONPointer(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}
