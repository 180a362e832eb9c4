package controller

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// Annotations the reconciler puts on the Secrets it writes.
const (
	// AnnotationSourceHash is the SHA-256 of what the Secret was made from:
	// the SealedSecret's encrypted values, template and the keys that opened
	// them. Equal hash, intact Secret: nothing to decrypt.
	AnnotationSourceHash = "sealkit.dev/source-hash"
	// AnnotationKeyIDs lists, comma separated, the keys that opened the
	// values the Secret holds.
	AnnotationKeyIDs = "sealkit.dev/key-ids"
	// AnnotationDataMAC is an HMAC-SHA256 of the Secret's data under a key
	// derived from the first identity of AnnotationKeyIDs: it tells an
	// edited Secret from an intact one without decrypting anything, and,
	// being keyed, says nothing about low-entropy values.
	AnnotationDataMAC = "sealkit.dev/data-mac"
	// AnnotationLastApplied is kubectl's copy of the applied object; on a
	// SealedSecret it holds every ciphertext a second time.
	AnnotationLastApplied = "kubectl.kubernetes.io/last-applied-configuration"
)

// digestPrefix marks an encrypted value the cache replaced by its digest.
const digestPrefix = "sha256:"

func valueDigest(v string) string {
	if strings.HasPrefix(v, digestPrefix) {
		return v
	}
	sum := sha256.Sum256([]byte(v))
	return digestPrefix + hex.EncodeToString(sum[:])
}

// hasDigests reports whether ss came from the cache with its ciphertexts
// replaced by digests, so it must be read in full before opening.
func hasDigests(ss *v1alpha1.SealedSecret) bool {
	for _, v := range ss.Spec.EncryptedData {
		if strings.HasPrefix(v, digestPrefix) {
			return true
		}
	}
	return false
}

// TransformSealedSecret is the cache transform of SealedSecrets: each
// encrypted value (2-3 KiB with a post-quantum key) becomes its SHA-256, and
// managed fields and kubectl's last-applied copy are dropped. Ten thousand
// SealedSecrets of five values thus cost a few MiB of cache instead of over a
// hundred; the reconciler reads the full object only to decrypt it.
func TransformSealedSecret(obj any) (any, error) {
	ss, ok := obj.(*v1alpha1.SealedSecret)
	if !ok {
		// Metadata only (the reconciler's cache): kubectl's copy would
		// still carry every ciphertext.
		if m, ok := obj.(metav1.Object); ok {
			if a := m.GetAnnotations(); a[AnnotationLastApplied] != "" {
				delete(a, AnnotationLastApplied)
			}
		}
		return stripManagedFields(obj)
	}
	ss.ManagedFields = nil
	delete(ss.Annotations, AnnotationLastApplied)
	for k, v := range ss.Spec.EncryptedData {
		ss.Spec.EncryptedData[k] = valueDigest(v)
	}
	return ss, nil
}

// stripManagedFields drops managed fields, which nothing here reads.
func stripManagedFields(obj any) (any, error) {
	if o, ok := obj.(metav1.Object); ok {
		o.SetManagedFields(nil)
	}
	return obj, nil
}

// sourceHash is the value of AnnotationSourceHash. It hashes value digests,
// so the cache's copy and the full object give the same hash.
func sourceHash(ss *v1alpha1.SealedSecret, keyIDs []string) string {
	h := sha256.New()
	writeField(h, "sealkit source v1")
	writeField(h, ss.Spec.Scope)
	for _, k := range sortedKeys(ss.Spec.EncryptedData) {
		writeField(h, k)
		writeField(h, valueDigest(ss.Spec.EncryptedData[k]))
	}
	tmpl, _ := json.Marshal(ss.Spec.Template) // maps marshal in key order
	writeField(h, string(tmpl))
	ids := slices.Sorted(slices.Values(keyIDs))
	writeField(h, strings.Join(ids, ","))
	return hex.EncodeToString(h.Sum(nil))
}

// dataMAC is the value of AnnotationDataMAC for data under identity id.
func dataMAC(id *crypto.Identity, data map[string][]byte) string {
	k := sha256.Sum256([]byte("sealkit.dev/data-mac\x00" + id.String()))
	m := hmac.New(sha256.New, k[:])
	for _, key := range sortedKeys(data) {
		writeField(m, key)
		writeField(m, string(data[key]))
	}
	return hex.EncodeToString(m.Sum(nil))
}

// writeField writes s length-prefixed, so that field boundaries are part of
// what is hashed.
func writeField(h hash.Hash, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// splitKeyIDs parses AnnotationKeyIDs.
func splitKeyIDs(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
