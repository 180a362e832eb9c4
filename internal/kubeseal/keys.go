package kubeseal

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// LabelSealingKey is the label of Bitnami's key Secrets (pkg/bitnami has
// the same constant; this package stays free of the code it tests).
const LabelSealingKey = "sealedsecrets.bitnami.com/sealed-secrets-key"

// KeySecret is a Bitnami key Secret as Bitnami's controller makes one: a
// kubernetes.io/tls Secret labelled with the key's state (active or
// compromised), the PKCS#1 private key in tls.key and its self-signed
// certificate in tls.crt.
func KeySecret(t testing.TB, key *rsa.PrivateKey, name, namespace, state string) *corev1.Secret {
	t.Helper()
	certPEM := certificate(t, key)
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{LabelSealingKey: state}},
		Type:       corev1.SecretTypeTLS,
		Data: map[string][]byte{
			corev1.TLSPrivateKeyKey: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
			corev1.TLSCertKey:       certPEM,
		},
	}
}

// KeyBackup is key Secrets as users back them up:
// kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml
func KeyBackup(t testing.TB, secrets ...*corev1.Secret) []byte {
	t.Helper()
	items := make([]any, len(secrets))
	for i, s := range secrets {
		items[i] = s
	}
	b, err := yaml.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
