package migrate

import (
	"strings"
	"testing"

	"github.com/sealkit/sealkit/internal/sopstest"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sopsfile"
)

// TestFromSOPS migrates Secrets the real SOPS library encrypted (comments,
// stringData and data, several documents) and checks that sealkit unseals
// them to exactly the original values and template.
func TestFromSOPS(t *testing.T) {
	sopsIDs, _ := identities(t, 1)
	ids, recipients := identities(t, 1)
	plain := strings.ReplaceAll(secretsYAML, "sealedsecrets.bitnami.com/", "example.com/")
	enc := sopstest.Encrypt(t, plain, false, sopsIDs[0].Recipient().String(), "^(data|stringData)$")
	migrated, err := FromSOPS(enc, "secrets.enc.yaml",
		sopsfile.Options{Identities: sopsIDs, OnlyIdentities: true},
		sealed.SealOptions{Scope: crypto.ScopeNamespace, Recipients: recipients})
	if err != nil {
		t.Fatal(err)
	}
	want := originals(t, plain)
	if len(migrated) != len(want) {
		t.Fatalf("%d sealedsecrets, want %d", len(migrated), len(want))
	}
	for _, ss := range roundTrip(t, migrated) {
		got, _, err := sealed.Unseal(ss, ids)
		if err != nil {
			t.Fatalf("%s: %v", ss.Name, err)
		}
		orig := want[ss.Name]
		if ss.Spec.Scope != "namespace" || !sameData(got.Data, orig.Data) || got.Type != orig.Type || got.Annotations["example.com/namespace-wide"] != orig.Annotations["example.com/namespace-wide"] {
			t.Errorf("%s: scope %s, type %s, annotations %v; data equal: %v", ss.Name, ss.Spec.Scope, got.Type, got.Annotations, sameData(got.Data, orig.Data))
		}
	}
}

// TestFromSOPSRefuses writes nothing and names the document when one Secret
// cannot be sealed.
func TestFromSOPSRefuses(t *testing.T) {
	sopsIDs, recipients := identities(t, 1)
	plain := "apiVersion: v1\nkind: Secret\nmetadata: {name: ok, namespace: shop}\nstringData: {a: b}\n---\n" +
		"apiVersion: v1\nkind: Secret\nmetadata: {name: bad, namespace: shop}\nstringData: {\"not/a/key\": b}\n"
	enc := sopstest.Encrypt(t, plain, false, sopsIDs[0].Recipient().String(), "")
	out, err := FromSOPS(enc, "s.enc.yaml", sopsfile.Options{Identities: sopsIDs, OnlyIdentities: true}, sealed.SealOptions{Recipients: recipients})
	if out != nil || err == nil || !strings.Contains(err.Error(), `s.enc.yaml: document 2: secret shop/bad: key "not/a/key" is not a valid data key`) {
		t.Errorf("got %v, %v", out, err)
	}
}
