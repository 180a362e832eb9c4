// Package e2e holds tests against a real kube-apiserver that cut across packages.
package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// TestCRDValidation installs manifests/crd the way a user does (kubectl with
// its kustomization) and shows that the API server itself, through the CRD's
// OpenAPI schema, accepts a well-formed SealedSecret and refuses malformed ones.
func TestCRDValidation(t *testing.T) {
	env := testenv.New(t, testenv.Options{NoCRDs: true})
	crdDir, err := testenv.CRDDir()
	if err != nil {
		t.Fatal(err)
	}
	kubectl(t, env, "apply", "-k", crdDir)
	kubectl(t, env, "wait", "--for=condition=Established", "--timeout=60s", "crd/sealedsecrets.sealkit.dev")
	ns := env.Namespace(t)
	ctx := context.Background()

	valid := &v1alpha1.SealedSecret{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns},
		Spec: v1alpha1.SealedSecretSpec{
			EncryptedData: map[string]string{"password": "sealkit:v1:not-checked-by-the-api-server"},
		},
	}
	if err := env.Client.Create(ctx, valid); err != nil {
		t.Fatalf("creating a valid SealedSecret: %v", err)
	}
	if valid.Spec.Scope != v1alpha1.ScopeStrict {
		t.Errorf("scope defaulted to %q, want %q", valid.Spec.Scope, v1alpha1.ScopeStrict)
	}

	for _, tc := range []struct {
		name string
		spec map[string]any
		want string // in the API server's message
	}{
		{"unknown scope", map[string]any{"scope": "galaxy", "encryptedData": map[string]any{"k": "v"}}, `spec.scope: Unsupported value: "galaxy"`},
		{"no encryptedData", map[string]any{"scope": "strict"}, "spec.encryptedData: Required value"},
		{"non-string value", map[string]any{"encryptedData": map[string]any{"k": 1}}, "spec.encryptedData.k: Invalid value"},
		{"empty encryptedData", map[string]any{"encryptedData": map[string]any{}}, "spec.encryptedData: Invalid value"},
		{"bad data key", map[string]any{"encryptedData": map[string]any{"ok": "v", "no/slash": "v"}}, "a data key must be at most 253 characters"},
		{"long data key", map[string]any{"encryptedData": map[string]any{strings.Repeat("k", 254): "v"}}, "a data key must be at most 253 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": v1alpha1.GroupVersion.String(),
				"kind":       "SealedSecret",
				"metadata":   map[string]any{"name": "bad", "namespace": ns},
				"spec":       tc.spec,
			}}
			err := env.Client.Create(ctx, u)
			if !apierrors.IsInvalid(err) {
				t.Fatalf("got %v, want the API server to reject it as invalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}

	// kubectl reports the same refusal to a user applying a bad manifest.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	writeFile(t, bad, "apiVersion: sealkit.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: bad, namespace: "+ns+"}\nspec: {scope: galaxy, encryptedData: {k: v}}\n")
	out, err := env.Kubectl("apply", "-f", bad).CombinedOutput()
	if err == nil || !strings.Contains(string(out), `Unsupported value: "galaxy"`) {
		t.Fatalf("kubectl apply of an unknown scope: err %v, output %s; want it refused", err, out)
	}
}
