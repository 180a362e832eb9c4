package sopsfile

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/sealkit/sealkit/internal/sopstest"
	"github.com/sealkit/sealkit/pkg/crypto"
)

const canary = "CANARY-sops-plaintext-71c2"

// A repository's SOPS-encrypted Secrets, before encryption: comments,
// stringData and data, several documents.
const plainYAML = `# database credentials, rotated quarterly
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: shop
  labels:
    app: shop # inline comment
type: kubernetes.io/basic-auth
stringData:
  # the admin account
  username: admin
  password: ` + canary + `
---
apiVersion: v1
kind: Secret
metadata:
  name: tls-extra
  namespace: shop
data:
  blob: AAECA/8=
`

func identity(t testing.TB, postQuantum bool) *crypto.Identity {
	t.Helper()
	if postQuantum {
		id, err := crypto.GenerateIdentity()
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	x, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	id, err := crypto.ParseIdentity(x.String())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestDecryptSecrets(t *testing.T) {
	for _, tc := range []struct {
		name        string
		postQuantum bool
		regex       string
	}{
		{"post-quantum, data and stringData encrypted", true, "^(data|stringData)$"},
		{"classic, everything encrypted", false, ""},
	} {
		id := identity(t, tc.postQuantum)
		enc := sopstest.Encrypt(t, plainYAML, false, id.Recipient().String(), tc.regex)
		if bytes.Contains(enc, []byte(canary)) {
			t.Fatalf("%s: SOPS left the canary in clear", tc.name)
		}
		secrets, err := DecryptSecrets(enc, "secrets.enc.yaml", Options{Identities: []*crypto.Identity{identity(t, true), id}, OnlyIdentities: true})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(secrets) != 2 {
			t.Fatalf("%s: %d secrets, want 2", tc.name, len(secrets))
		}
		db, extra := secrets[0], secrets[1]
		if db.Name != "db" || db.Namespace != "shop" || db.Labels["app"] != "shop" || db.Type != "kubernetes.io/basic-auth" ||
			db.StringData["username"] != "admin" || db.StringData["password"] != canary {
			t.Errorf("%s: db decrypted to %+v", tc.name, db)
		}
		if extra.Name != "tls-extra" || string(extra.Data["blob"]) != "\x00\x01\x02\x03\xff" {
			t.Errorf("%s: tls-extra decrypted to %+v", tc.name, extra)
		}
	}
}

func TestDecryptSecretsJSON(t *testing.T) {
	id := identity(t, true)
	plain := `{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "api", "namespace": "shop"}, "stringData": {"token": "` + canary + `"}}`
	secrets, err := DecryptSecrets(sopstest.Encrypt(t, plain, true, id.Recipient().String(), ""), "api.enc.json", Options{Identities: []*crypto.Identity{id}, OnlyIdentities: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets) != 1 || secrets[0].StringData["token"] != canary {
		t.Fatalf("got %+v", secrets)
	}
}

// TestDecryptSecretsRefuses: the wrong key, a tampered value, an edit
// without sops, a plain file, a non-Secret; no error holds a value.
func TestDecryptSecretsRefuses(t *testing.T) {
	id := identity(t, true)
	regex := "^(data|stringData)$"
	enc := string(sopstest.Encrypt(t, plainYAML, false, id.Recipient().String(), regex))
	ciphertext := enc[strings.Index(enc, "password: ENC[")+len("password: ENC[") : strings.Index(enc, "password: ENC[")+len("password: ENC[")+40]
	dataField := ciphertext[strings.Index(ciphertext, "data:")+len("data:"):]
	tampered := strings.Replace(enc, dataField, strings.Repeat("A", 4)+dataField[4:], 1)
	configMap := sopstest.Encrypt(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: "+canary+"}\n", false, id.Recipient().String(), "")
	only := Options{Identities: []*crypto.Identity{id}, OnlyIdentities: true}
	for _, tc := range []struct {
		name, in string
		opts     Options
		want     string
	}{
		{"wrong identity", enc, Options{Identities: []*crypto.Identity{identity(t, true)}, OnlyIdentities: true}, "no key decrypts the SOPS data key (tried 1 age identities)"},
		{"no identity", enc, Options{OnlyIdentities: true}, "no key decrypts the SOPS data key"},
		{"tampered value", tampered, only, "a value does not decrypt"},
		{"renamed without sops", strings.Replace(enc, "name: db", "name: dbx", 1), only, "MAC does not match"},
		{"plain", plainYAML, only, "not encrypted with SOPS"},
		{"config map", string(configMap), only, "document 1 is a ConfigMap, not a Secret"},
		{"not yaml", "a: [b", only, "reading the SOPS file"},
	} {
		_, err := DecryptSecrets([]byte(tc.in), "secrets.enc.yaml", tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "secrets.enc.yaml: ") {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), canary) {
			t.Errorf("%s: error holds the plaintext: %v", tc.name, err)
		}
		if tc.name == "plain" && !errors.Is(err, ErrNotEncrypted) {
			t.Errorf("plain: %v is not ErrNotEncrypted", err)
		}
	}
}

// TestDecryptSecretsOwnKeySources finds the identity where SOPS itself looks
// (here SOPS_AGE_KEY) when none is given, unless told not to.
func TestDecryptSecretsOwnKeySources(t *testing.T) {
	id := identity(t, false)
	enc := sopstest.Encrypt(t, plainYAML, false, id.Recipient().String(), "")
	if !bytes.Contains(enc, []byte("name: ENC[")) {
		t.Fatalf("metadata left in clear:\n%s", enc)
	}
	t.Setenv("SOPS_AGE_KEY", id.String())
	if _, err := DecryptSecrets(enc, "secrets.enc.yaml", Options{}); err != nil {
		t.Errorf("SOPS's own key sources: %v", err)
	}
	if _, err := DecryptSecrets(enc, "secrets.enc.yaml", Options{OnlyIdentities: true}); err == nil {
		t.Error("decrypted with SOPS's own key sources left out")
	}
}
