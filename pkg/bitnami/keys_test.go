package bitnami

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"strings"
	"testing"
)

func TestParsePrivateKeys(t *testing.T) {
	pkcs1 := testKeys(t, "key-pkcs1.pem")
	pkcs8 := testKeys(t, "key-pkcs8.pem")
	list := testKeys(t, "keys-list.yaml")
	if len(pkcs1) != 1 || len(pkcs8) != 1 || len(list) != 2 {
		t.Fatalf("got %d, %d and %d keys, want 1, 1 and 2", len(pkcs1), len(pkcs8), len(list))
	}
	if pkcs1[0].Fingerprint() != pkcs8[0].Fingerprint() || list[1].Fingerprint() != pkcs1[0].Fingerprint() {
		t.Errorf("one key, three fingerprints: %s %s %s", pkcs1[0].Fingerprint(), pkcs8[0].Fingerprint(), list[1].Fingerprint())
	}
	if list[0].State != KeyCompromised || list[1].State != KeyActive || pkcs1[0].State != "" {
		t.Errorf("states %q %q %q", list[0].State, list[1].State, pkcs1[0].State)
	}
	if list[0].Source != "secret kube-system/sealed-secrets-key8bc4x" || pkcs1[0].Source != "key-pkcs1.pem: PEM block 1" {
		t.Errorf("sources %q %q", list[0].Source, pkcs1[0].Source)
	}
}

// TestParsePrivateKeysForms reads the other forms users have: one Secret,
// JSON, a PEM file with the certificate and several keys, the same key twice.
func TestParsePrivateKeysForms(t *testing.T) {
	listYAML, err := os.ReadFile("testdata/keys-list.yaml")
	if err != nil {
		t.Fatal(err)
	}
	items := strings.SplitN(string(listYAML), "\n- ", 3)
	single := "apiVersion: v1\n" + strings.ReplaceAll(strings.TrimSuffix(items[2], "kind: List\nmetadata:\n  resourceVersion: \"\"\n"), "\n  ", "\n")
	pkcs1, _ := os.ReadFile("testdata/key-pkcs1.pem")
	pkcs8, _ := os.ReadFile("testdata/key-pkcs8.pem")
	cert, _ := os.ReadFile("testdata/cert.pem")
	k4096, _ := os.ReadFile("testdata/key-4096.pem")
	secret := map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
		"metadata": map[string]any{"name": "k", "namespace": "kube-system", "labels": map[string]string{LabelSealingKey: "active"}},
		"data":     map[string]string{"tls.key": base64.StdEncoding.EncodeToString(pkcs8), "tls.crt": base64.StdEncoding.EncodeToString(cert)},
	}
	asJSON, _ := json.Marshal(secret)
	for _, tc := range []struct {
		name, in string
		want     int
	}{
		{"one secret", single, 1},
		{"json", string(asJSON), 1},
		{"two documents", single + "---\n" + string(asJSON), 1}, // the same key twice
		{"pem with certificate and two keys", string(cert) + string(pkcs1) + string(k4096), 2},
		{"pem twice", string(pkcs1) + string(pkcs8), 1},
	} {
		keys, err := ParsePrivateKeys(strings.NewReader(tc.in), tc.name)
		if err != nil || len(keys) != tc.want {
			t.Errorf("%s: %d keys, %v; want %d", tc.name, len(keys), err, tc.want)
		}
	}
}

func TestParsePrivateKeysErrors(t *testing.T) {
	pkcs1, _ := os.ReadFile("testdata/key-pkcs1.pem")
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})
	keySecret := func(labels, data string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata:\n  name: k\n  namespace: kube-system\n" + labels + "type: kubernetes.io/tls\ndata:\n" + data
	}
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	label := "  labels:\n    " + LabelSealingKey + ": active\n"
	for _, tc := range []struct {
		name, in, want string
	}{
		{"unlabelled", keySecret("", "  tls.key: "+b64(pkcs1)+"\n"), "secret kube-system/k is not a bitnami sealing key: it has no " + LabelSealingKey + " label"},
		{"bad state", keySecret("  labels:\n    "+LabelSealingKey+": retired\n", "  tls.key: "+b64(pkcs1)+"\n"), `label ` + LabelSealingKey + ` is "retired", want active or compromised`},
		{"no tls.key", keySecret(label, "  tls.crt: "+b64(pkcs1)+"\n"), "secret kube-system/k has no tls.key"},
		{"not pem", keySecret(label, "  tls.key: "+b64([]byte("not a key"))+"\n"), "tls.key is not one PEM block"},
		{"ec key", keySecret(label, "  tls.key: "+b64(ecPEM)+"\n"), "a *ecdsa.PrivateKey private key, not RSA"},
		{"garbled pkcs1", "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", "PEM block 1: invalid PKCS#1 RSA private key"},
		{"encrypted", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", "is an encrypted private key"},
		{"certificate only", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "no private key found"},
		{"a configmap", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "is a ConfigMap, not a Secret"},
		{"too large", strings.Repeat("#", maxKeyFileSize+1), "key file exceeds 8 MiB"},
	} {
		_, err := ParsePrivateKeys(strings.NewReader(tc.in), "keys.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
			continue
		}
		// Key material never appears in an error.
		for _, secret := range []string{b64(pkcs1)[40:80], string(pkcs1[40:80])} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error quotes the key: %v", tc.name, err)
			}
		}
	}
}

// TestParsePrivateKeysTooBig refuses a key beyond maxKeyBits before parsing
// it, so that a crafted file cannot make every decryption attempt slow.
func TestParsePrivateKeysTooBig(t *testing.T) {
	der := make([]byte, maxKeyDERSize+1)
	_, err := ParsePrivateKeys(bytes.NewReader(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der})), "big.pem")
	if err == nil || !strings.Contains(err.Error(), "larger than a 16384-bit RSA key") {
		t.Fatalf("got %v, want the bound", err)
	}
}
