// Package keysecret is the one home of a cluster key at rest: a private key
// of seal-controller, stored as a Secret in the controller's namespace.
//
// Everything that reads or writes such a Secret goes through this package:
// seal-controller (which generates, rotates and loads keys) and every
// `seal keys` command (which lists, rotates, retires, backs up and restores
// them). It owns the Secret's name, labels and annotations ([New]), how one
// is read ([Parse]: an invalid Secret is reported and skipped, never fatal),
// how a set of them resolves into one active key ([ParseAll]), which
// Secrets are keys ([IsKey], [ListOptions]), when a key is still needed
// ([NeedsKey]) and the encrypted backup format ([EncryptBackup],
// [DecryptBackup]).
//
// # The Secret
//
//	metadata:
//	  name: sealkit-key-<key ID>
//	  labels: {sealkit.dev/key: "true", sealkit.dev/key-state: active}
//	  annotations: {sealkit.dev/key-id: <key ID>, sealkit.dev/created: <RFC 3339>}
//	immutable: true
//	data: {identity: <age identity>}
//
// Operators change the state label and the rotate annotation of key
// Secrets, nothing else; a key's material never changes.
//
// # Legacy keys
//
// Bitnami Sealed Secrets' private keys, imported for an online migration,
// live here too, as decrypt-only legacy keys ([NewLegacy], [ParseLegacy]):
// a kind of their own that nothing ever seals to or publishes.
package keysecret

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
)

const (
	// LabelKey marks a Secret of the controller namespace as a sealkit
	// key when set to LabelKeyValue. Any other value does not.
	LabelKey = "sealkit.dev/key"
	// LabelKeyValue is the value of LabelKey on a key Secret.
	LabelKeyValue = "true"
	// LabelState is the key's state: one of the keyring.State constants. A
	// key Secret without it (e.g. one imported by hand) counts as retained.
	LabelState = "sealkit.dev/key-state"
	// AnnotationKeyID is the key ID, informational: the ID is always
	// recomputed from the identity.
	AnnotationKeyID = "sealkit.dev/key-id"
	// AnnotationCreated is the key's creation time in RFC 3339; it drives
	// rotation and ordering. Missing, the Secret's creationTimestamp is used.
	AnnotationCreated = "sealkit.dev/created"
	// AnnotationRotate requests a rotation now, when set to any non-empty
	// value on the active key Secret. The annotation stays on the key, which is
	// retained after the rotation, so the request is handled exactly once.
	AnnotationRotate = "sealkit.dev/rotate"
	// AnnotationBackupCreated keeps, on a restored key, the creation time
	// its backup claimed: shown, never used for rotation.
	AnnotationBackupCreated = "sealkit.dev/backup-created"
	// DataIdentity is the data key holding the age identity string.
	DataIdentity = "identity"
	// NamePrefix prefixes the names of key Secrets; the key ID follows.
	// Keys imported by hand may have any name.
	NamePrefix = "sealkit-key-"
)

// Key is one key Secret, parsed.
type Key struct {
	ID       crypto.KeyID
	Identity *crypto.Identity
	// Created is the parsed creation time: the annotation, else the
	// Secret's creationTimestamp.
	Created time.Time
	// State is the effective state: the label, unless a newer active key
	// demoted this one to retained (see [ParseAll]).
	State keyring.State
	// Labelled is the state label as found on the Secret.
	Labelled keyring.State
	// Namespace and Name are the Secret's; ResourceVersion is the version
	// parsed, so that a relabelling never overwrites a concurrent change.
	Namespace, Name, ResourceVersion string
	// Rotate is the value of AnnotationRotate.
	Rotate string
}

// New returns the Secret of a key: named after its key ID, labelled with
// state, immutable (its material never changes; only labels do).
func New(namespace string, id *crypto.Identity, created time.Time, state keyring.State) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      NamePrefix + string(id.KeyID()),
			Namespace: namespace,
			Labels:    map[string]string{LabelKey: LabelKeyValue, LabelState: string(state)},
			Annotations: map[string]string{
				AnnotationKeyID:   string(id.KeyID()),
				AnnotationCreated: created.UTC().Format(time.RFC3339Nano),
			},
		},
		Type:      corev1.SecretTypeOpaque,
		Immutable: ptr.To(true),
		Data:      map[string][]byte{DataIdentity: []byte(id.String() + "\n")},
	}
}

// IsKey reports whether obj, a Secret of the controller namespace, is a key
// Secret: labelled LabelKey=LabelKeyValue.
func IsKey(obj metav1.Object) bool { return obj.GetLabels()[LabelKey] == LabelKeyValue }

// ListOptions select the key Secrets of namespace.
func ListOptions(namespace string) []client.ListOption {
	return []client.ListOption{client.InNamespace(namespace), client.MatchingLabels{LabelKey: LabelKeyValue}}
}

// Parse reads a key Secret. Errors name the Secret, never its data.
func Parse(s *corev1.Secret) (Key, error) {
	where := "key secret " + s.Namespace + "/" + s.Name
	if !IsKey(s) {
		return Key{}, fmt.Errorf("%s: label %s is not %q", where, LabelKey, LabelKeyValue)
	}
	raw, ok := s.Data[DataIdentity]
	if !ok {
		return Key{}, fmt.Errorf("%s: no %q data key", where, DataIdentity)
	}
	id, err := crypto.ParseIdentity(string(raw))
	if err != nil {
		return Key{}, fmt.Errorf("%s: %w", where, err) // crypto never echoes the input
	}
	k := Key{
		ID:              id.KeyID(),
		Identity:        id,
		Created:         s.CreationTimestamp.UTC(),
		Namespace:       s.Namespace,
		Name:            s.Name,
		ResourceVersion: s.ResourceVersion,
		Rotate:          s.Annotations[AnnotationRotate],
	}
	if c, ok := s.Annotations[AnnotationCreated]; ok {
		// RFC 3339 parsing accepts fractional seconds, so both forms ever
		// written (seconds, nanoseconds) compare by time, never by text.
		t, err := time.Parse(time.RFC3339, c)
		if err != nil {
			return Key{}, fmt.Errorf("%s: invalid %s annotation (want an RFC 3339 time)", where, AnnotationCreated)
		}
		k.Created = t.UTC()
	}
	switch st := s.Labels[LabelState]; st {
	case "":
		// A key imported without a state opens old values but is not
		// sealed to until someone says so.
		k.Labelled = keyring.StateRetained
	default:
		parsed, err := keyring.ParseState(st)
		if err != nil {
			return Key{}, fmt.Errorf("%s: label %s: %w", where, LabelState, err)
		}
		k.Labelled = parsed
	}
	k.State = k.Labelled
	return k, nil
}

// StatePatch is the merge patch that labels k's Secret with state to. It
// carries the resourceVersion k was parsed at, so a concurrent edit (say,
// an operator marking the key compromised) is never overwritten: the patch
// fails and the caller decides again.
func (k Key) StatePatch(to keyring.State) []byte {
	return fmt.Appendf(nil, `{"metadata":{"resourceVersion":%q,"labels":{%q:%q}}}`, k.ResourceVersion, LabelState, to)
}

// RotatePatch is the merge patch that requests a rotation of k, the active
// key, at now.
func (k Key) RotatePatch(now time.Time) []byte {
	return fmt.Appendf(nil, `{"metadata":{"resourceVersion":%q,"annotations":{%q:%q}}}`,
		k.ResourceVersion, AnnotationRotate, now.UTC().Format(time.RFC3339Nano))
}
