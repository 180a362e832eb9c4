package migrate

import (
	"bytes"
	"testing"

	"github.com/sealkit/sealkit/internal/manifest"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// FuzzRewrite: whatever a file holds, rewriting its Bitnami SealedSecrets
// (reshaped, with stand-in values: no key is needed to test the edit)
// never panics, and when it succeeds the documents that were not migrated
// and the text between documents keep every byte, and every migrated
// document reads back as its sealkit form (Rewrite checks that itself).
func FuzzRewrite(f *testing.F) {
	f.Add("# c\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  annotations:\n    sealedsecrets.bitnami.com/namespace-wide: \"true\"\n  name: a\n  namespace: n\nspec:\n  encryptedData:\n    k: AgB # v\n  template:\n    metadata:\n      annotations: {sealedsecrets.bitnami.com/namespace-wide: \"true\", x: y}\n      name: a\n      creationTimestamp: null\n---\nkind: ConfigMap\napiVersion: v1\n")
	f.Add(`{"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "metadata": {"name": "a", "namespace": "n"}, "spec": {"encryptedData": {"k": "x"}, "template": {"metadata": {"name": "a"}, "type": "Opaque"}}, "status": {}}`)
	f.Add("apiVersion: v1\nkind: List\nitems:\n- apiVersion: bitnami.com/v1alpha1\n  kind: SealedSecret\n  metadata: {name: a, annotations: {sealedsecrets.bitnami.com/cluster-wide: \"true\"}}\n  spec: {encryptedData: {k: v}}\n")
	f.Fuzz(func(t *testing.T, in string) {
		file, err := ReadFile("f.yaml", []byte(in))
		if err != nil {
			return
		}
		converted := map[*Object]*v1alpha1.SealedSecret{}
		streams := map[int]bool{}
		for _, o := range file.Objects {
			if o.Refused != nil {
				continue
			}
			out, _, err := Reshape(o.Bitnami)
			if err != nil {
				t.Fatalf("Reshape refused what Check accepted: %v", err)
			}
			for k := range out.Spec.EncryptedData {
				out.Spec.EncryptedData[k] = "sealkit:v1:0123456789abcdef:QUJD"
			}
			converted[o] = out
			streams[o.doc.Stream] = true
		}
		out, err := file.Rewrite(converted)
		if err != nil {
			return
		}
		_, before, _ := manifest.Split([]byte(in))
		_, after, err := manifest.Split(out)
		if err != nil || len(after) != len(before) {
			t.Fatalf("documents moved: %v", err)
		}
		prevB, prevA := 0, 0
		for i := range before {
			if !bytes.Equal([]byte(in[prevB:before[i].Start]), out[prevA:after[i].Start]) {
				t.Fatalf("text before document %d changed", i+1)
			}
			if !streams[i] && in[before[i].Start:before[i].End] != string(out[after[i].Start:after[i].End]) {
				t.Fatalf("document %d changed", i+1)
			}
			prevB, prevA = before[i].End, after[i].End
		}
	})
}
