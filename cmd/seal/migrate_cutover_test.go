package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/kubeseal"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/migrate"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// TestMigrateCutOverRefuses runs `seal migrate --cut-over` where nothing
// may be handed over: an object with no Bitnami SealedSecret in the cluster
// is reported and left, and a Secret that the Bitnami SealedSecret of its
// name does not control is refused (exit 1) with nothing changed. The hand
// over itself, with Bitnami's controller and the garbage collector, is
// TestCutOver in test/bitnami.
func TestMigrateCutOverRefuses(t *testing.T) {
	crds, err := testenv.CRDDir()
	if err != nil {
		t.Fatal(err)
	}
	env := testenv.New(t, testenv.Options{CRDDirs: []string{crds, filepath.Join(kubeseal.Dir(), "crd")}})
	ctx := context.Background()
	ns := newNamespace(t, env, "shop")
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "decoy", Namespace: ns}, StringData: map[string]string{"own": "data"}}
	if err := env.Client.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	b := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": "decoy", "namespace": ns},
		"spec":     map[string]any{"encryptedData": map[string]any{"k": "AgB"}},
	}}
	b.SetGroupVersionKind(migrate.BitnamiGVK)
	if err := env.Client.Create(ctx, b); err != nil {
		t.Fatal(err)
	}
	id := newIdentity(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "in.yaml"), secretYAML(ns, "decoy", "k", "v")+"---\n"+secretYAML(ns, "fresh", "k", "v"))
	mustSeal(t, "--recipient", id.Recipient().String(), "-f", filepath.Join(dir, "in.yaml"), "-w", filepath.Join(dir, "sealed.yaml"))

	stdout, stderr, code := runSeal(t, "migrate", "--cut-over", "--kubeconfig", env.Kubeconfig, filepath.Join(dir, "sealed.yaml"))
	if code != ExitError || !strings.Contains(stdout, ns+"/fresh: no Bitnami SealedSecret in the cluster, nothing to hand over") ||
		!strings.Contains(stdout, "handed over 0 Secrets; 1 failed") ||
		!strings.Contains(stderr, "sealedsecret "+ns+"/decoy: secret "+ns+"/decoy: not controlled by the Bitnami SealedSecret of the same name") {
		t.Fatalf("exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
	var now corev1.Secret
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(secret), &now); err != nil || now.ResourceVersion != secret.ResourceVersion || now.Annotations[v1alpha1.AnnotationManaged] != "" {
		t.Errorf("the decoy Secret changed: %v %v", err, now.Annotations)
	}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(b), b); err != nil {
		t.Errorf("the Bitnami SealedSecret is gone: %v", err)
	}
	if _, stderr, code := runSeal(t, "migrate", "--cut-over", "--kubeconfig", env.Kubeconfig, filepath.Join(dir, "in.yaml")); code != ExitError || !strings.Contains(stderr, "migrate the files first") {
		t.Errorf("no SealedSecrets: exit %d, %q", code, stderr)
	}
}
