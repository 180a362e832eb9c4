package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealkit/sealkit/internal/sopstest"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
)

// TestMigrateFromSOPS replaces SOPS files the real SOPS library encrypted
// with SealedSecrets that unseal to the same values: the plaintext is never
// written, a file no key opens is named and left as it was, files that are
// not SOPS-encrypted Secrets are skipped, and -w writes beside the SOPS file.
func TestMigrateFromSOPS(t *testing.T) {
	const canary = "CANARY-sops-9f2c"
	sopsID, other, id := newIdentity(t), newIdentity(t), newIdentity(t)
	dir := t.TempDir()
	idFile := filepath.Join(t.TempDir(), "sops.key")
	writeFile(t, idFile, sopsID.String()+"\n")
	plain := "# the shop's database\n" + secretYAML("shop", "db", "password", canary, "user", "admin") + "---\n" + secretYAML("", "api", "token", canary+"-2")
	files := map[string]string{
		"db.enc.yaml":     string(sopstest.Encrypt(t, plain, false, sopsID.Recipient().String(), "^(data|stringData)$")),
		"values.enc.yaml": string(sopstest.Encrypt(t, "password: "+canary+"\n", false, sopsID.Recipient().String(), "")),
		"other.enc.json":  string(sopstest.Encrypt(t, `{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "o", "namespace": "shop"}, "stringData": {"k": "v"}}`, true, other.Recipient().String(), "")),
		"plain.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n",
	}
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content)
	}
	stdout, stderr, code := runSeal(t, "migrate", "--from-sops", "-i", idFile, "--recipient", id.Recipient().String(), "-n", "shop", dir)
	if code != ExitError || !strings.Contains(stdout, "migrated 2 Secrets from 1 SOPS files; 1 files refused") {
		t.Fatalf("exit %d, stdout %q", code, stdout)
	}
	if !strings.Contains(stderr, filepath.Join(dir, "other.enc.json")+": no key decrypts the SOPS data key") || strings.Contains(stderr+stdout, canary) {
		t.Errorf("stderr %q", stderr)
	}
	for _, name := range []string{"values.enc.yaml", "other.enc.json", "plain.yaml"} {
		if b, _ := os.ReadFile(filepath.Join(dir, name)); string(b) != files[name] {
			t.Errorf("%s changed", name)
		}
	}
	migrated, err := os.ReadFile(filepath.Join(dir, "db.enc.yaml"))
	if err != nil || bytes.Contains(migrated, []byte(canary)) || bytes.Contains(migrated, []byte("sops:")) {
		t.Fatalf("db.enc.yaml holds plaintext or SOPS data (%v):\n%s", err, migrated)
	}
	want := map[string]string{"db/password": canary, "db/user": "admin", "api/token": canary + "-2"}
	got := map[string]string{}
	for _, ss := range readSealed(t, filepath.Join(dir, "db.enc.yaml")) {
		s, _, err := sealed.Unseal(ss, []*crypto.Identity{id})
		if err != nil || ss.Namespace != "shop" || ss.Spec.Scope != "strict" {
			t.Fatalf("%s/%s (scope %s): %v", ss.Namespace, ss.Name, ss.Spec.Scope, err)
		}
		for k, v := range s.Data {
			got[ss.Name+"/"+k] = string(v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d values, want %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s does not unseal to its original value", k)
		}
	}

	// -w: the SealedSecrets go to another file; the SOPS file stays.
	src := filepath.Join(t.TempDir(), "one.enc.yaml")
	writeFile(t, src, files["db.enc.yaml"])
	out := filepath.Join(filepath.Dir(src), "one.sealed.yaml")
	if _, _, code := runSeal(t, "migrate", "--from-sops", "-i", idFile, "--recipient", id.Recipient().String(), "--scope", "namespace", "-n", "shop", "-w", out, src); code != 0 {
		t.Fatalf("-w: exit %d", code)
	}
	if b, _ := os.ReadFile(src); string(b) != files["db.enc.yaml"] {
		t.Error("-w changed the SOPS file")
	}
	for _, ss := range readSealed(t, out) {
		if _, _, err := sealed.Unseal(ss, []*crypto.Identity{id}); err != nil || ss.Spec.Scope != "namespace" {
			t.Errorf("-w: %s (scope %s): %v", ss.Name, ss.Spec.Scope, err)
		}
	}

	// A Secret that names no namespace, without -n: refused with a hint.
	writeFile(t, src, files["db.enc.yaml"])
	_, stderr, code = runSeal(t, "migrate", "--from-sops", "-i", idFile, "--recipient", id.Recipient().String(), src)
	if code != ExitError || !strings.Contains(stderr, "secret api has no namespace") || !strings.Contains(stderr, "give -n NAMESPACE") {
		t.Errorf("no namespace: exit %d, stderr %q", code, stderr)
	}
	if b, _ := os.ReadFile(src); string(b) != files["db.enc.yaml"] {
		t.Error("a refused SOPS file changed")
	}
}
