package testenv

import (
	"os"
	"path/filepath"
	"testing"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/yaml"
)

// ShippedWebhooks reads the webhook configurations of manifests/webhook as
// they ship, strictly, for a test to adjust (failure policy, selector,
// address) and install.
func ShippedWebhooks(t testing.TB) (*admissionv1.ValidatingWebhookConfiguration, *admissionv1.MutatingWebhookConfiguration) {
	t.Helper()
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	var v admissionv1.ValidatingWebhookConfiguration
	var m admissionv1.MutatingWebhookConfiguration
	for file, into := range map[string]any{"validating.yaml": &v, "mutating.yaml": &m} {
		b, err := os.ReadFile(filepath.Join(root, "manifests", "webhook", file))
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.UnmarshalStrict(b, into); err != nil {
			t.Fatalf("manifests/webhook/%s: %v", file, err)
		}
	}
	return &v, &m
}
