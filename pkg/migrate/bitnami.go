package migrate

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/sealkit/sealkit/pkg/bitnami"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// Result is one migrated object.
type Result struct {
	SealedSecret *v1alpha1.SealedSecret
	// Notes tell the user what the migration could not carry over or what
	// they should do next, one line each; they never hold a value.
	Notes []string
	// OpenedWith are the Bitnami keys that opened the values. Kubeseal seals
	// a repository's objects mostly to the same key and a wrong key costs an
	// RSA decryption, so a caller converting many objects does well to try
	// these first for the next one.
	OpenedWith []*bitnami.PrivateKey
}

// FromBitnami converts a Bitnami SealedSecret into a sealkit one: same name,
// namespace and template, scope mapped (strict to strict, namespace-wide to
// namespace, cluster-wide to cluster), every value opened with keys and
// sealed to recipients in a frame that binds its data key. The plaintext is
// cleared before FromBitnami returns.
//
// A SealedSecret that cannot be migrated faithfully is refused with an
// error wrapping [bitnami.ErrTemplateData] or [bitnami.ErrLegacyData].
func FromBitnami(ss *bitnami.SealedSecret, keys []*bitnami.PrivateKey, recipients []*crypto.Recipient) (*Result, error) {
	scope, err := ss.Scope().Sealkit()
	if err != nil {
		return nil, err
	}
	secret, used, err := ss.Unseal(keys)
	if err != nil {
		return nil, err
	}
	defer clearSecret(secret)
	var notes []string
	secret.Annotations, notes = withoutBitnami(secret.Annotations, "spec.template", notes)
	notes = append(notes, droppedTemplateFields(ss)...)
	out, err := sealed.Seal(secret, sealed.SealOptions{Scope: scope, Recipients: recipients})
	if err != nil {
		return nil, fmt.Errorf("bitnami sealedsecret %s: %w", ss.ObjectName(), err)
	}
	out.Labels = maps.Clone(ss.Labels)
	out.Annotations, notes = withoutBitnami(ss.Annotations, "metadata", notes)
	delete(out.Annotations, corev1.LastAppliedConfigAnnotation)
	if len(out.Annotations) == 0 {
		out.Annotations = nil
	}
	for _, k := range used {
		if k.State == bitnami.KeyCompromised {
			notes = append(notes, fmt.Sprintf("opened with %s, labelled compromised: change these values at their source, migrating does not make them secret again", k.Source))
		}
	}
	return &Result{SealedSecret: out, Notes: notes, OpenedWith: used}, nil
}

// withoutBitnami returns annotations without Bitnami's. The scope
// annotations are carried by spec.scope; any other has no sealkit meaning
// and gets a note.
func withoutBitnami(annotations map[string]string, where string, notes []string) (map[string]string, []string) {
	var out map[string]string
	for _, k := range slices.Sorted(maps.Keys(annotations)) {
		switch {
		case k == bitnami.AnnotationNamespaceWide || k == bitnami.AnnotationClusterWide:
		case strings.HasPrefix(k, bitnami.AnnotationPrefix):
			notes = append(notes, fmt.Sprintf("%s annotation %s has no meaning to sealkit: dropped", where, k))
		default:
			if out == nil {
				out = make(map[string]string, len(annotations))
			}
			out[k] = annotations[k]
		}
	}
	return out, notes
}

// droppedTemplateFields notes template metadata a sealkit template does not
// carry. Name and namespace are the object's own; labels and annotations
// are carried.
func droppedTemplateFields(ss *bitnami.SealedSecret) []string {
	m := ss.Spec.Template.Metadata
	var notes []string
	for field, set := range map[string]bool{
		"finalizers":      len(m.Finalizers) > 0,
		"ownerReferences": len(m.OwnerReferences) > 0,
		"generateName":    m.GenerateName != "",
	} {
		if set {
			notes = append(notes, fmt.Sprintf("spec.template.metadata.%s is not carried by a sealkit template: dropped", field))
		}
	}
	slices.Sort(notes)
	return notes
}

func clearSecret(s *corev1.Secret) {
	for _, v := range s.Data {
		clear(v)
	}
}
