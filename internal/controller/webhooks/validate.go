package webhooks

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/sealkit/sealkit/internal/controller/policy"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// validator is the validating webhook: a SealedSecret is admitted only if
// this cluster can open each of its values where it is applied. A
// server-side dry-run without the re-seal marker is `seal verify`.
type validator struct {
	keys    KeySource
	policy  policy.Policy
	decoder admission.Decoder
	log     logr.Logger
}

func (v *validator) Handle(_ context.Context, req admission.Request) admission.Response {
	return onWrite(v.decoder, req, v.handle)
}

func (v *validator) handle(req admission.Request, ss *v1alpha1.SealedSecret) admission.Response {
	dryRun := isDryRun(req)
	if _, marked := ss.Annotations[v1alpha1.AnnotationReseal]; marked && !dryRun {
		return v.deny(req, fmt.Sprintf("annotation %q is a re-seal request, valid only on a server-side dry-run (seal reseal)", v1alpha1.AnnotationReseal))
	}
	if ss.DeletionTimestamp != nil {
		return admission.Allowed("") // let finalizers go, whatever the values
	}
	ids := v.keys.Identities()
	if len(ids) == 0 {
		// Readiness keeps a Service from routing here before keys load;
		// a real write is never blocked for it (as with failurePolicy
		// Ignore), a dry-run asking for an answer gets none.
		if dryRun {
			return admission.Errored(http.StatusServiceUnavailable, errors.New("seal-controller has no keys loaded yet; try again"))
		}
		return admission.Allowed("").WithWarnings("seal-controller has no keys loaded yet; values not verified")
	}
	var old *v1alpha1.SealedSecret
	if req.Operation == admissionv1.Update && !dryRun {
		var err error
		if old, err = decodeOld(v.decoder, req); err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
	}
	if viol := v.policy.Check(ss); viol != nil {
		return v.deny(req, viol.Message)
	}
	if msg := verifyValues(ss, old, ids, v.keys.State); msg != "" {
		return v.deny(req, msg)
	}
	if dryRun {
		return admission.Allowed("").WithWarnings(v1alpha1.WarningVerified)
	}
	return admission.Allowed("")
}

func (v *validator) deny(req admission.Request, msg string) admission.Response {
	// msg names data keys and key IDs, never a value.
	v.log.Info("denied", "namespace", req.Namespace, "name", req.Name, "user", req.UserInfo.Username, "reason", msg)
	return admission.Denied(msg)
}

// verifyValues opens every value of ss (the plaintext is dropped at once)
// and returns one `data key "<k>": <reason>` per value that does not open,
// for at most a few values, or "" when all open. With old (a real update),
// values that did not change, under an unchanged scope, are not checked
// again: keys retired since must not make an object impossible to edit or
// delete. With state, a value that opens only with a key marked
// compromised is refused too: new values must be sealed to the active key.
func verifyValues(ss, old *v1alpha1.SealedSecret, ids []*crypto.Identity, state func(crypto.KeyID) keyring.State) string {
	if _, err := crypto.ParseScope(string(sealed.FrameFor(ss, "").Scope)); err != nil {
		return "spec.scope must be strict, namespace or cluster"
	}
	var problems []string
	for _, k := range slices.Sorted(maps.Keys(ss.Spec.EncryptedData)) {
		enc := ss.Spec.EncryptedData[k]
		if old != nil && old.Spec.Scope == ss.Spec.Scope && old.Spec.EncryptedData[k] == enc {
			continue
		}
		value, opened, err := crypto.Open(enc, sealed.FrameFor(ss, k), ids)
		clear(value)
		switch {
		case err != nil:
			problems = append(problems, valueProblem(k, err))
		case state != nil && state(opened) == keyring.StateCompromised:
			problems = append(problems, fmt.Sprintf("data key %s: opens only with key %s, marked compromised: re-seal it to the active key (seal reseal)", policy.Quote(k), opened))
		}
	}
	return joinProblems(problems)
}

// maxProblems is how many values a denial names; the rest are counted.
const maxProblems = 5

func joinProblems(problems []string) string {
	if len(problems) > maxProblems {
		problems = append(problems[:maxProblems:maxProblems], fmt.Sprintf("and %d more values", len(problems)-maxProblems))
	}
	return strings.Join(problems, "; ")
}

// valueProblem is the contract's message for one value. crypto errors name
// key IDs and frame fields, never the value.
func valueProblem(key string, err error) string {
	if ve, ok := errors.AsType[*sealed.ValueError](err); ok {
		key, err = ve.Key, ve.Err
	} else if key == "" {
		return err.Error()
	}
	return fmt.Sprintf("data key %s: %v", policy.Quote(key), err)
}

func isDryRun(req admission.Request) bool { return req.DryRun != nil && *req.DryRun }

// onWrite is the front of both webhooks: requests other than a create or
// an update pass, and handle gets the decoded SealedSecret.
func onWrite(d admission.Decoder, req admission.Request, handle func(admission.Request, *v1alpha1.SealedSecret) admission.Response) admission.Response {
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return admission.Allowed("")
	}
	ss, err := decodeSealedSecret(d, req)
	if err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	return handle(req, ss)
}

// decodeSealedSecret decodes the request's object, filling in the name and
// namespace from the request when the object leaves them out.
func decodeSealedSecret(d admission.Decoder, req admission.Request) (*v1alpha1.SealedSecret, error) {
	ss := &v1alpha1.SealedSecret{}
	if err := d.Decode(req, ss); err != nil {
		return nil, fmt.Errorf("decoding sealedsecret: %w", err)
	}
	if ss.Namespace == "" {
		ss.Namespace = req.Namespace
	}
	if ss.Name == "" {
		ss.Name = req.Name
	}
	return ss, nil
}

func decodeOld(d admission.Decoder, req admission.Request) (*v1alpha1.SealedSecret, error) {
	old := &v1alpha1.SealedSecret{}
	if err := d.DecodeRaw(req.OldObject, old); err != nil {
		return nil, fmt.Errorf("decoding old sealedsecret: %w", err)
	}
	return old, nil
}
