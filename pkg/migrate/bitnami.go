package migrate

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

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
	out, notes, err := Reshape(ss)
	if err != nil {
		return nil, err
	}
	used, err := sealValues(ss, out, keys, recipients)
	if err != nil {
		return nil, err
	}
	return &Result{SealedSecret: out, Notes: append(notes, compromisedNotes(used)...), OpenedWith: used}, nil
}

// Reshape returns the sealkit SealedSecret ss becomes, its values still
// Bitnami's: same name, namespace, labels and template, annotations without
// Bitnami's and kubectl's last-applied copy, the scope in spec.scope. The
// notes say what was dropped. The online migration sends this to the
// cluster, whose controller seals the values ([SealBitnamiValues]); offline,
// [FromBitnami] seals them. What [bitnami.SealedSecret.Check] refuses is
// refused here too.
func Reshape(ss *bitnami.SealedSecret) (*v1alpha1.SealedSecret, []string, error) {
	if err := ss.Check(); err != nil {
		return nil, nil, err
	}
	scope, err := ss.Scope().Sealkit()
	if err != nil {
		return nil, nil, fmt.Errorf("bitnami sealedsecret %s: %w", ss.ObjectName(), err)
	}
	var notes []string
	out := &v1alpha1.SealedSecret{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "SealedSecret"},
		ObjectMeta: metav1.ObjectMeta{Name: ss.Name, Namespace: ss.Namespace, Labels: maps.Clone(ss.Labels)},
		Spec: v1alpha1.SealedSecretSpec{
			Scope:         string(scope),
			EncryptedData: maps.Clone(ss.Spec.EncryptedData),
		},
	}
	out.Annotations, notes = withoutBitnami(ss.Annotations, "metadata", notes)
	t := ss.Spec.Template
	out.Spec.Template.Metadata.Annotations, notes = withoutBitnami(t.Metadata.Annotations, "spec.template", notes)
	notes = append(notes, droppedTemplateFields(ss)...)
	if len(t.Metadata.Labels) > 0 {
		out.Spec.Template.Metadata.Labels = maps.Clone(t.Metadata.Labels)
	}
	out.Spec.Template.Type = t.Type
	if t.Immutable != nil {
		out.Spec.Template.Immutable = ptr.To(*t.Immutable)
	}
	return out, notes, nil
}

// SealBitnamiValues seals again the Bitnami values of ss, a SealedSecret as
// [Reshape] made it: each opened with keys where ss is (the scope of
// spec.scope chooses Bitnami's label from ss's namespace and name, so a
// value moved elsewhere does not open) and sealed to recipients in a frame
// binding its data key. It returns the sealed values and the keys that
// opened them; the plaintext is cleared. This is what seal-controller does
// for an online migration.
func SealBitnamiValues(ss *v1alpha1.SealedSecret, keys []*bitnami.PrivateKey, recipients []*crypto.Recipient) (map[string]string, []*bitnami.PrivateKey, error) {
	scope, err := bitnami.ScopeOfSealkit(crypto.Scope(ss.Spec.Scope))
	if err != nil {
		return nil, nil, err
	}
	bss := &bitnami.SealedSecret{
		ObjectMeta: metav1.ObjectMeta{Name: ss.Name, Namespace: ss.Namespace, Annotations: scope.Annotations()},
		Spec:       bitnami.Spec{EncryptedData: ss.Spec.EncryptedData},
	}
	out := ss.DeepCopy()
	used, err := sealValues(bss, out, keys, recipients)
	if err != nil {
		return nil, nil, err
	}
	return out.Spec.EncryptedData, used, nil
}

// sealValues opens the values of ss with keys and seals them to recipients
// into out.Spec.EncryptedData, with out's scope, name and namespace in
// their frames and out's template checked as seal checks a Secret's. It
// returns the keys that opened them.
func sealValues(ss *bitnami.SealedSecret, out *v1alpha1.SealedSecret, keys []*bitnami.PrivateKey, recipients []*crypto.Recipient) ([]*bitnami.PrivateKey, error) {
	secret, used, err := ss.Unseal(keys)
	if err != nil {
		return nil, err
	}
	defer clearSecret(secret)
	t := out.Spec.Template
	secret.Labels, secret.Annotations, secret.Type, secret.Immutable = t.Metadata.Labels, t.Metadata.Annotations, t.Type, t.Immutable
	sealedSS, err := sealed.Seal(secret, sealed.SealOptions{Scope: crypto.Scope(out.Spec.Scope), Recipients: recipients})
	if err != nil {
		return nil, fmt.Errorf("bitnami sealedsecret %s: %w", ss.ObjectName(), err)
	}
	out.Spec.EncryptedData = sealedSS.Spec.EncryptedData
	return used, nil
}

// compromisedNotes name the keys labelled compromised among used.
func compromisedNotes(used []*bitnami.PrivateKey) []string {
	var notes []string
	for _, k := range used {
		if k.State == bitnami.KeyCompromised {
			notes = append(notes, fmt.Sprintf("opened with %s, labelled compromised: change these values at their source, migrating does not make them secret again", k.Source))
		}
	}
	return notes
}

// withoutBitnami returns annotations without Bitnami's. The scope
// annotations are carried by spec.scope; any other has no sealkit meaning
// and gets a note.
func withoutBitnami(annotations map[string]string, where string, notes []string) (map[string]string, []string) {
	var out map[string]string
	for _, k := range slices.Sorted(maps.Keys(annotations)) {
		switch {
		case k == corev1.LastAppliedConfigAnnotation:
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
