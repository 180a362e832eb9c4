package sealed

import (
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// ValueError is a failure to open or seal one value. It names the data key;
// Err is never about the value's content (see [crypto.Open]).
type ValueError struct {
	Key string
	Err error
}

func (e *ValueError) Error() string { return fmt.Sprintf("key %q: %v", e.Key, e.Err) }

func (e *ValueError) Unwrap() error { return e.Err }

// FrameFor is the frame a value under key must carry to be used in ss.
func FrameFor(ss *v1alpha1.SealedSecret, key string) crypto.Frame {
	return crypto.Frame{Scope: scopeOf(ss), Namespace: ss.Namespace, Name: ss.Name, Key: key}
}

// scopeOf is the spec's scope, strict when unset as the CRD defaults it.
func scopeOf(ss *v1alpha1.SealedSecret) crypto.Scope {
	if ss.Spec.Scope == "" {
		return crypto.ScopeStrict
	}
	return crypto.Scope(ss.Spec.Scope)
}

// checkSpec reports problems with ss itself, as opposed to one of its values.
func checkSpec(ss *v1alpha1.SealedSecret) error {
	if ss.Name == "" {
		return fmt.Errorf("sealedsecret has no name")
	}
	if _, err := crypto.ParseScope(string(scopeOf(ss))); err != nil {
		return fmt.Errorf("sealedsecret %s: %w", objectName(ss.Namespace, ss.Name), err)
	}
	return nil
}

// Unseal opens every value of ss with ids and returns the Secret it stands
// for (name, namespace, template and data; no owner), with the sorted IDs of
// the keys that opened its values. A value that does not open gives a
// [*ValueError]; a SealedSecret with no name or an unknown scope gives a
// plain error.
func Unseal(ss *v1alpha1.SealedSecret, ids []*crypto.Identity) (*corev1.Secret, []crypto.KeyID, error) {
	if err := checkSpec(ss); err != nil {
		return nil, nil, err
	}
	s := &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        ss.Name,
			Namespace:   ss.Namespace,
			Labels:      maps.Clone(ss.Spec.Template.Metadata.Labels),
			Annotations: maps.Clone(ss.Spec.Template.Metadata.Annotations),
		},
		Type: ss.Spec.Template.Type,
		Data: make(map[string][]byte, len(ss.Spec.EncryptedData)),
	}
	if ss.Spec.Template.Immutable != nil {
		s.Immutable = ptr.To(*ss.Spec.Template.Immutable)
	}
	var opened []crypto.KeyID
	for _, key := range slices.Sorted(maps.Keys(ss.Spec.EncryptedData)) {
		value, id, err := crypto.Open(ss.Spec.EncryptedData[key], FrameFor(ss, key), ids)
		if err != nil {
			return nil, nil, &ValueError{Key: key, Err: err}
		}
		s.Data[key] = value
		opened = append(opened, id)
	}
	return s, sortedUnique(opened), nil
}

// Reseal re-seals every value of ss to the recipients to, with the same
// frame, opening it with ids. Values already sealed to exactly the keys of
// to are left as they are (see [sealedToExactly]), so re-sealing a
// repository twice changes nothing the second time; changed reports whether
// any value was replaced. On error ss is unchanged.
func Reseal(ss *v1alpha1.SealedSecret, ids []*crypto.Identity, to []*crypto.Recipient) (changed bool, err error) {
	changed, failed, err := reseal(ss, ids, to, false)
	if len(failed) > 0 {
		return false, failed[0]
	}
	return changed, err
}

// ResealVerified is [Reseal] for a re-sealer that vouches for every value
// it hands back (seal-controller's re-seal webhook): every value is
// opened, its frame checked, whether or not it needs re-sealing, and one
// that does is not opened again to be re-sealed. When values fail to open,
// it returns each failure in the order of the data keys, and ss is
// unchanged.
func ResealVerified(ss *v1alpha1.SealedSecret, ids []*crypto.Identity, to []*crypto.Recipient) (changed bool, failed []*ValueError, err error) {
	return reseal(ss, ids, to, true)
}

// reseal is Reseal, opening every value when openAll (and then going on
// past a value that fails, to report them all) or only those to re-seal.
func reseal(ss *v1alpha1.SealedSecret, ids []*crypto.Identity, to []*crypto.Recipient, openAll bool) (bool, []*ValueError, error) {
	if err := checkSpec(ss); err != nil {
		return false, nil, err
	}
	want := make([]crypto.KeyID, len(to))
	for i, r := range to {
		want[i] = r.KeyID()
	}
	want = sortedUnique(want)
	var failed []*ValueError
	resealed := make(map[string]string)
	for _, key := range slices.Sorted(maps.Keys(ss.Spec.EncryptedData)) {
		enc := ss.Spec.EncryptedData[key]
		if !openAll && sealedToExactly(enc, want, ids) {
			continue
		}
		f := FrameFor(ss, key)
		value, openedBy, err := crypto.Open(enc, f, ids)
		if err != nil {
			failed = append(failed, &ValueError{Key: key, Err: err})
			if !openAll {
				break
			}
			continue
		}
		// A key that is not wanted opened it: it needs re-sealing, and
		// sealedToExactly would only say so after more decapsulations.
		current := openAll && slices.Contains(want, openedBy) && sealedToExactly(enc, want, ids)
		if len(failed) > 0 || current {
			clear(value)
			continue
		}
		resealed[key], err = crypto.Seal(to, f, value)
		clear(value)
		if err != nil {
			return false, nil, &ValueError{Key: key, Err: err}
		}
	}
	if len(failed) > 0 {
		return false, failed, nil
	}
	maps.Copy(ss.Spec.EncryptedData, resealed)
	return len(resealed) > 0, nil, nil
}

// sealedToExactly reports whether enc needs no re-seal to the keys want
// (sorted, unique). The key ID hints must say so, but they are only a
// filter: anyone can edit them. The header decides: it must have one
// stanza per wanted key, every identity of ids that opens it must be
// wanted, and every wanted key ids holds must open it. A stanza for a
// wanted key whose identity ids does not hold can only be counted, not
// checked: seal-controller holds every cluster key, so its re-seal checks
// them all; an offline re-seal by a recovery key holder relies on the
// count and the hints for the cluster keys.
//
// The wanted keys ids holds are tried first. When they open as many
// stanzas as the header has, the others need no trying: a stanza is
// wrapped to one recipient, and no other key unwraps it, so an unwanted
// key could only have opened a stanza a wanted one already opened. Each
// try is a post-quantum decapsulation; an up-to-date repository re-sealed
// by the controller (which holds every key it ever had) would otherwise pay
// one per key per value.
func sealedToExactly(enc string, want []crypto.KeyID, ids []*crypto.Identity) bool {
	hints, err := crypto.KeyIDs(enc)
	if err != nil || len(want) == 0 || !slices.Equal(sortedUnique(hints), want) {
		return false
	}
	var held, others []*crypto.Identity
	seen := map[crypto.KeyID]bool{}
	for _, id := range ids {
		switch {
		case seen[id.KeyID()]:
		case slices.Contains(want, id.KeyID()):
			held = append(held, id)
		default:
			others = append(others, id)
		}
		seen[id.KeyID()] = true
	}
	n, opens, err := crypto.SealedTo(enc, held)
	if err != nil || n != len(want) || len(opens) != len(held) {
		return false // a stanza too many or too few, or a wanted key that does not open it
	}
	if len(held) == n {
		return true
	}
	_, opens, err = crypto.SealedTo(enc, others)
	return err == nil && len(opens) == 0 // else sealed to a key of ours that is not wanted: an old one
}

func sortedUnique(ids []crypto.KeyID) []crypto.KeyID {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return slices.Compact(ids)
}
