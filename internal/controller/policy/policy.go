// Package policy is the tenant boundary of seal-controller: what a
// SealedSecret may make the controller write, whoever wrote it. Someone who
// may create SealedSecrets in one namespace gains nothing beyond the
// Secret of that name there: not the controller's keys or namespace, not
// another owner's Secret, not a credential the cluster would mint.
//
// The reconciler checks a SealedSecret with [Policy.Check] before it opens
// anything, and an existing Secret with [Policy.CheckExisting] before it
// writes over it; the validating webhook uses the same checks to refuse
// such objects at apply time.
package policy

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/sealkit/sealkit/pkg/keysecret"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// ReservedDomain is the label and annotation prefix the controller keeps
// for itself: on a Secret, these say "a key" or "managed by sealkit".
const ReservedDomain = "sealkit.dev"

// CredentialTypes are the Secret types the API server or a controller turns
// into a credential: the token controller fills a service-account-token
// Secret with a token for the ServiceAccount it names, and a bootstrap
// token Secret in kube-system lets a node join the cluster. A SealedSecret
// may make one only if the operator allows its type.
var CredentialTypes = []corev1.SecretType{
	corev1.SecretTypeServiceAccountToken,
	corev1.SecretTypeBootstrapToken,
}

// Policy is the operator's configuration of the boundary.
type Policy struct {
	// ControllerNamespace is the controller's own namespace (keys, the
	// keyring, the webhook certificate).
	ControllerNamespace string
	// AllowControllerNamespace lets SealedSecrets in ControllerNamespace be
	// unsealed; even then never into a key Secret or a reserved name.
	AllowControllerNamespace bool
	// AllowedTypes are the CredentialTypes the operator allows.
	AllowedTypes []corev1.SecretType
	// ReservedNames are Secrets of ControllerNamespace the controller keeps
	// for itself besides keys, such as the webhook certificate.
	ReservedNames []string
}

// Violation is why a SealedSecret may not be unsealed: a Ready reason and
// a message that quotes at most a bounded part of the object.
type Violation struct {
	Reason, Message string
}

func (v *Violation) Error() string { return v.Message }

// Check returns why ss may not be unsealed, or nil.
func (p Policy) Check(ss *v1alpha1.SealedSecret) *Violation {
	if ss.Namespace == p.ControllerNamespace {
		if !p.AllowControllerNamespace {
			return &Violation{v1alpha1.ReasonNamespaceNotAllowed, fmt.Sprintf(
				"SealedSecrets in the controller's namespace %s are not unsealed (seal-controller --allow-controller-namespace)", p.ControllerNamespace)}
		}
		if strings.HasPrefix(ss.Name, keysecret.NamePrefix) || strings.HasPrefix(ss.Name, keysecret.LegacyNamePrefix) || slices.Contains(p.ReservedNames, ss.Name) {
			return &Violation{v1alpha1.ReasonReservedMetadata, fmt.Sprintf(
				"Secret %s is reserved for seal-controller in its namespace", Quote(ss.Name))}
		}
	}
	t := ss.Spec.Template
	if bad := reservedKeys(t.Metadata.Labels, t.Metadata.Annotations); len(bad) > 0 {
		return &Violation{v1alpha1.ReasonReservedMetadata, fmt.Sprintf(
			"template sets %s: labels and annotations in %s are reserved for seal-controller", QuoteList(bad), ReservedDomain)}
	}
	if slices.Contains(CredentialTypes, t.Type) && !slices.Contains(p.AllowedTypes, t.Type) {
		return &Violation{v1alpha1.ReasonSecretTypeNotAllowed, fmt.Sprintf(
			"template type %s mints a credential: not allowed unless the operator allows it (seal-controller --allow-secret-type)", t.Type)}
	}
	return nil
}

// CheckExisting returns why the existing Secret s must never be written
// by a SealedSecret, whatever it consents to, or nil.
func (p Policy) CheckExisting(s *corev1.Secret) *Violation {
	if s.Namespace == p.ControllerNamespace && (keysecret.IsKey(s) || keysecret.IsLegacy(s) || slices.Contains(p.ReservedNames, s.Name)) {
		return &Violation{v1alpha1.ReasonReservedMetadata, fmt.Sprintf(
			"Secret %s is seal-controller's own: never written from a SealedSecret", Quote(s.Name))}
	}
	return nil
}

// Adoption is whether, and why, a SealedSecret may take an existing Secret
// it does not control.
type Adoption int

const (
	// Refused means the Secret is not the SealedSecret's to take.
	Refused Adoption = iota
	// Consented means the Secret's owner annotated it v1alpha1.AnnotationManaged.
	Consented
	// FromEarlier means seal-controller made the Secret for an earlier
	// SealedSecret of the same name (see [earlierIncarnation]); only the
	// live SealedSecret of that name may take it, never a deleted one read
	// late, which would take its successor's Secret.
	FromEarlier
)

// Adoptable reports whether the existing Secret s, which ss does not
// control, may be adopted by ss: only with its owner's consent (the
// annotation v1alpha1.AnnotationManaged, "true", on the Secret) and never
// from another controller, unless that controller is an earlier
// SealedSecret of the same name. When it is Refused, the message says why.
func Adoptable(ss *v1alpha1.SealedSecret, s *corev1.Secret) (Adoption, string) {
	if ref := metav1.GetControllerOf(s); ref != nil {
		if earlierIncarnation(ss, s, ref) {
			return FromEarlier, ""
		}
		msg := fmt.Sprintf("Secret %s exists and is controlled by %s %s: it is never taken over",
			Quote(s.Name), ref.Kind, Quote(ref.Name))
		if strings.HasPrefix(ref.APIVersion, "bitnami.com/") {
			msg += " while that Bitnami SealedSecret exists; hand it over with 'seal migrate --cut-over'"
		}
		return Refused, msg
	}
	if s.Annotations[v1alpha1.AnnotationManaged] == "true" {
		return Consented, ""
	}
	msg := fmt.Sprintf("Secret %s exists and is not managed by this SealedSecret; its owner may let it be adopted by annotating the Secret %s=\"true\"",
		Quote(s.Name), v1alpha1.AnnotationManaged)
	if _, ok := ss.Annotations[v1alpha1.AnnotationOverwrite]; ok {
		msg += fmt.Sprintf(" (the SealedSecret's annotation %s is no longer honoured: consent must come from the Secret's owner)",
			v1alpha1.AnnotationOverwrite)
	}
	return Refused, msg
}

// earlierIncarnation reports whether s is a Secret seal-controller made for
// an earlier SealedSecret of ss's name: controlled by a SealedSecret of that
// name but another UID, and labelled managed-by. Names are unique, so that
// SealedSecret is gone: deleted, and its Secret not yet garbage collected
// (deleting and creating a SealedSecret again, as a GitOps tool replacing
// it does, races the garbage collector; a reconcile still working on the
// deleted one may even write its Secret after the delete). The new
// SealedSecret carries the same name's authority and takes the Secret
// over, as it would create it; refusing would leave it in a conflict until
// the garbage collector runs, forever where none runs.
func earlierIncarnation(ss *v1alpha1.SealedSecret, s *corev1.Secret, ref *metav1.OwnerReference) bool {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	return err == nil && gv.Group == v1alpha1.GroupVersion.Group && ref.Kind == "SealedSecret" &&
		ref.Name == ss.Name && ref.UID != ss.UID &&
		s.Labels[v1alpha1.LabelManagedBy] == v1alpha1.ManagedByController
}

// reservedKeys returns the label and annotation keys in ReservedDomain or a
// subdomain of it, sorted.
func reservedKeys(maps ...map[string]string) []string {
	var bad []string
	for _, m := range maps {
		for k := range m {
			prefix, _, ok := strings.Cut(k, "/")
			if ok && (prefix == ReservedDomain || strings.HasSuffix(prefix, "."+ReservedDomain)) {
				bad = append(bad, k)
			}
		}
	}
	slices.Sort(bad)
	return slices.Compact(bad)
}
