package reconciler

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash"
	"maps"
	"slices"
	"strings"

	"github.com/sealkit/sealkit/internal/controller/secretcache"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// The reconciler's bookkeeping annotations on the Secrets it writes; see
// secretcache, which keeps them when it summarizes a Secret.
const (
	AnnotationSourceHash = secretcache.AnnotationSourceHash
	AnnotationKeyIDs     = secretcache.AnnotationKeyIDs
	AnnotationDataMAC    = secretcache.AnnotationDataMAC
)

// sourceHash is the value of AnnotationSourceHash. Each value enters as
// "sha256:<hex>" of itself, as it has since the cache held such digests, so
// the hashes on existing Secrets stay valid.
func sourceHash(ss *v1alpha1.SealedSecret, keyIDs []string) string {
	h := sha256.New()
	writeField(h, "sealkit source v1")
	writeField(h, ss.Spec.Scope)
	for _, k := range slices.Sorted(maps.Keys(ss.Spec.EncryptedData)) {
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

// macVersion prefixes AnnotationDataMAC. Version 2 is a MAC of the data's
// digest (secretcache.DataDigest), so that the cache, which keeps only that
// digest of a Secret, can tell an intact Secret from an edited one. A
// Secret written with an earlier MAC is simply written again once.
const macVersion = "v2:"

// dataMAC is the value of AnnotationDataMAC for data whose digest is
// digest, under identity id.
func dataMAC(id *crypto.Identity, digest string) string {
	k := sha256.Sum256([]byte("sealkit.dev/data-mac\x00" + id.String()))
	m := hmac.New(sha256.New, k[:])
	writeField(m, "sealkit data mac v2")
	writeField(m, digest)
	return macVersion + hex.EncodeToString(m.Sum(nil))
}

// writeField writes s length-prefixed, so that field boundaries are part of
// what is hashed.
func writeField(h hash.Hash, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

// splitKeyIDs parses AnnotationKeyIDs.
func splitKeyIDs(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
