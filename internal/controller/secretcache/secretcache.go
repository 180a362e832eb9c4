// Package secretcache decides what seal-controller's cache keeps of a
// Secret. The cache holds every Secret labelled sealkit.dev/managed-by, and
// anyone who may create a Secret can add that label: so outside the
// controller's own namespace it keeps a bounded summary instead of the
// object. The reconciler needs no more to tell whether a Secret it owns is
// intact; it reads the full Secret from the API server before writing.
//
// The summary keeps the identity of the object (name, namespace, UID,
// resourceVersion, deletion), its controller reference, type and
// mutability, the reconciler's bookkeeping annotations when they are short,
// and two digests in place of everything else: one of the data, one of the
// labels and annotations. Its cost is a few hundred bytes whatever the
// Secret holds.
package secretcache

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"maps"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
)

// Annotations the reconciler puts on the Secrets it writes. The summary
// keeps them in clear.
const (
	// AnnotationSourceHash is the SHA-256 of what the Secret was made from:
	// the SealedSecret's encrypted values, template and the keys that opened
	// them. Equal hash, intact Secret: nothing to decrypt.
	AnnotationSourceHash = "sealkit.dev/source-hash"
	// AnnotationKeyIDs lists, comma separated, the keys that opened the
	// values the Secret holds.
	AnnotationKeyIDs = "sealkit.dev/key-ids"
	// AnnotationDataMAC is a MAC of the Secret's data (of its DataDigest)
	// under a key derived from the first identity of AnnotationKeyIDs: it
	// tells an edited Secret from an intact one without decrypting
	// anything, and, being keyed, says nothing about low-entropy values. It
	// is left out of the metadata digest.
	AnnotationDataMAC = "sealkit.dev/data-mac"
)

// Keys of the summary's annotations. They exist only in the cache (the
// transform overwrites whatever a Secret carries under these names); no
// Secret is ever written with them.
const (
	annotationDataDigest = "cache.sealkit.dev/data-digest"
	annotationMetaDigest = "cache.sealkit.dev/metadata-digest"
	annotationSummary    = "cache.sealkit.dev/summary"
)

// summaryKey authenticates summaries made by this process. An informer may
// hand the transform an object it has already transformed (on a relist),
// which must then be kept as it is; a Secret from the API server carrying
// look-alike annotations must not be mistaken for one, or its author could
// choose the digests the cache compares.
var summaryKey = func() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic(err) // crypto/rand does not fail
	}
	return k
}()

// maxKept bounds a bookkeeping annotation kept in the summary: ours are a
// hex digest or a few key IDs.
const maxKept = 256

// Transform returns the cache transform of Secrets. In controllerNamespace
// (keys, the webhook certificate; only administrators write there) Secrets
// are kept whole but for managed fields; elsewhere as a summary.
func Transform(controllerNamespace string) toolscache.TransformFunc {
	return func(obj any) (any, error) {
		s, ok := obj.(*corev1.Secret)
		if !ok {
			return obj, nil
		}
		s.ManagedFields = nil
		if s.Namespace == controllerNamespace || isSummary(s) {
			return s, nil
		}
		return summarize(s), nil
	}
}

func summarize(s *corev1.Secret) *corev1.Secret {
	out := &corev1.Secret{
		TypeMeta: s.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name:              s.Name,
			Namespace:         s.Namespace,
			UID:               s.UID,
			ResourceVersion:   s.ResourceVersion,
			CreationTimestamp: s.CreationTimestamp,
			DeletionTimestamp: s.DeletionTimestamp,
			Annotations: map[string]string{
				annotationDataDigest: DataDigest(s.Data),
				annotationMetaDigest: MetadataDigest(s.Labels, s.Annotations),
			},
		},
		Type:      s.Type,
		Immutable: s.Immutable,
	}
	if ref := metav1.GetControllerOfNoCopy(s); ref != nil {
		// Owner handlers map a Secret to its SealedSecret through this.
		out.OwnerReferences = []metav1.OwnerReference{*ref}
	}
	for _, k := range []string{AnnotationSourceHash, AnnotationKeyIDs, AnnotationDataMAC} {
		if v, ok := s.Annotations[k]; ok && len(v) <= maxKept {
			out.Annotations[k] = v
		}
	}
	out.Annotations[annotationSummary] = summaryMAC(out)
	return out
}

// summaryMAC authenticates what a summary's comparisons rest on.
func summaryMAC(s *corev1.Secret) string {
	m := hmac.New(sha256.New, summaryKey)
	for _, f := range []string{string(s.UID), s.ResourceVersion, s.Annotations[annotationDataDigest], s.Annotations[annotationMetaDigest],
		s.Annotations[AnnotationSourceHash], s.Annotations[AnnotationKeyIDs], s.Annotations[AnnotationDataMAC]} {
		writeField(m, f)
	}
	return hex.EncodeToString(m.Sum(nil))
}

func isSummary(s *corev1.Secret) bool {
	mac, ok := s.Annotations[annotationSummary]
	return ok && s.Data == nil && hmac.Equal([]byte(mac), []byte(summaryMAC(s)))
}

// Digests returns the data and metadata digests of a summary, and false
// for a Secret that is not one (the controller namespace's).
func Digests(s *corev1.Secret) (data, metadata string, ok bool) {
	if !isSummary(s) {
		return "", "", false
	}
	return s.Annotations[annotationDataDigest], s.Annotations[annotationMetaDigest], true
}

// DataDigest is the SHA-256 of a Secret's data, every key and value
// length-prefixed in key order.
func DataDigest(data map[string][]byte) string {
	h := sha256.New()
	writeField(h, "sealkit secret data v1")
	for _, k := range slices.Sorted(maps.Keys(data)) {
		writeField(h, k)
		writeField(h, string(data[k]))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// MetadataDigest is the SHA-256 of labels and annotations, but for
// AnnotationDataMAC.
func MetadataDigest(labels, annotations map[string]string) string {
	h := sha256.New()
	writeField(h, "sealkit secret metadata v1")
	for _, m := range []map[string]string{labels, annotations} {
		keys := slices.DeleteFunc(slices.Sorted(maps.Keys(m)), func(k string) bool { return k == AnnotationDataMAC })
		writeField(h, strconv.Itoa(len(keys)))
		for _, k := range keys {
			writeField(h, k)
			writeField(h, m[k])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// writeField writes s length-prefixed, so that field boundaries are part of
// what is hashed.
func writeField(h hash.Hash, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}
