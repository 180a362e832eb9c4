package reconciler

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash"
	"slices"
	"strings"

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
)

// sourceHash is the value of AnnotationSourceHash. Each value enters as
// "sha256:<hex>" of itself, as it has since the cache held such digests, so
// the hashes on existing Secrets stay valid.
func sourceHash(ss *v1alpha1.SealedSecret, keyIDs []string) string {
	h := sha256.New()
	writeField(h, "sealkit source v1")
	writeField(h, ss.Spec.Scope)
	for _, k := range sortedKeys(ss.Spec.EncryptedData) {
		writeField(h, k)
		sum := sha256.Sum256([]byte(ss.Spec.EncryptedData[k]))
		writeField(h, "sha256:"+hex.EncodeToString(sum[:]))
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
