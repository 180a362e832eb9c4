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
	legacy   LegacyKeySource
	recovery []*crypto.Recipient
	decoder  admission.Decoder
	log      logr.Logger
}

func (r *resealer) Handle(ctx context.Context, req admission.Request) admission.Response {
	return onWrite(r.decoder, req, func(req admission.Request, ss *v1alpha1.SealedSecret) admission.Response {
		if from, marked := ss.Annotations[v1alpha1.AnnotationMigrate]; marked && isDryRun(req) {
			return r.migrate(ctx, req, ss, from)
		}
		return r.handle(req, ss)
	})
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
	if _, err := crypto.ParseScope(string(sealed.FrameFor(ss, "").Scope)); err != nil {
		return r.deny(req, "spec.scope must be strict, namespace or cluster")
	}
	// Every value must open here, frame checked, even one already sealed
	// to the right keys: a ciphertext copied from another namespace must
	// be refused, not handed back as if it were fine. ResealVerified opens
	// each value once, for both.
	changed, failed, err := sealed.ResealVerified(ss, ids, to)
	if len(failed) > 0 {
		problems := make([]string, len(failed))
		for i, f := range failed {
			problems[i] = valueProblem(f.Key, f.Err)
		}
		return r.deny(req, joinProblems(problems))
	}
	if err != nil {
		if errors.Is(err, crypto.ErrMixedRecipients) {
			return r.deny(req, "re-seal: the active key and the recovery recipients mix classic and post-quantum keys, which age cannot seal to together")
		}
		return r.deny(req, valueProblem("", err))
	}
	// The marker goes and AnnotationResealed says the request was answered:
	// the validating webhook need not open the values again.
	patches := []jsonpatch.JsonPatchOperation{{
		Operation: "remove",
		Path:      "/metadata/annotations/" + escapeJSONPointer(v1alpha1.AnnotationReseal),
	}, {
		Operation: "add",
		Path:      "/metadata/annotations/" + escapeJSONPointer(v1alpha1.AnnotationResealed),
		Value:     "true",
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
