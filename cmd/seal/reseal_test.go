package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
)

// resealFiles are files as people write them. {{ns/name/key}} stands for a
// value sealed for that place.
var resealFiles = map[string]string{
	"comments.yaml": `# Database credentials for the shop.
# Rotate with: seal reseal -i admin.key clusters/
apiVersion: sealkit.dev/v1alpha1
kind: SealedSecret
metadata:
    namespace: shop   # not default
    name: db
spec:
    scope: strict
    # the values, in the order the app reads them
    encryptedData:
        user: "{{shop/db/user}}"   # quoted on purpose
        password: '{{shop/db/password}}'
        url: {{shop/db/url}}

    template:
        type: Opaque
`,
	"anchors.yaml": `apiVersion: sealkit.dev/v1alpha1
kind: SealedSecret
metadata: &meta
  name: api
  namespace: shop
  labels: &labels {app: api, tier: backend}
spec:
  encryptedData:
    token: &tok {{shop/api/token}}
  template:
    metadata:
      labels: *labels
`,
	"flow.yaml": `{apiVersion: sealkit.dev/v1alpha1, kind: SealedSecret, metadata: {name: flow, namespace: shop},
  spec: {encryptedData: {a: "{{shop/flow/a}}", b: "{{shop/flow/b}}"}}}
`,
	"crlf.yaml": "apiVersion: sealkit.dev/v1alpha1\r\nkind: SealedSecret\r\nmetadata:\r\n  name: crlf\r\n  namespace: shop\r\nspec:\r\n  encryptedData:\r\n    password: {{shop/crlf/password}}   # windows\r\n",
	"mixed.yaml": `# the app and its secrets
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data:
  color: blue   # a comment in another document
---
# nothing but a comment
---
apiVersion: v1
kind: List
items:
- apiVersion: sealkit.dev/v1alpha1
  kind: SealedSecret
  metadata: {name: one, namespace: shop}
  spec:
    encryptedData:
      k: {{shop/one/k}}
- apiVersion: sealkit.dev/v1alpha1
  kind: SealedSecret
  metadata: {name: two, namespace: shop}
  spec:
    encryptedData: {k: "{{shop/two/k}}"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: shop}
spec: {replicas: 2}
`,
	"sealed.json": `{
    "kind": "SealedSecret",
    "apiVersion": "sealkit.dev/v1alpha1",
    "metadata": {"name": "js", "namespace": "shop"},
    "spec": {
        "encryptedData": {
            "z": "{{shop/js/z}}",
            "a": "{{shop/js/a}}"
        }
    }
}
`,
}

// fillSealed replaces every {{ns/name/key}} of text with a value sealed to
// to for that place.
func fillSealed(t *testing.T, text string, to *crypto.Recipient) string {
	t.Helper()
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			return text
		}
		j := strings.Index(text[i:], "}}") + i
		parts := strings.Split(text[i+2:j], "/")
		f := crypto.Frame{Scope: crypto.ScopeStrict, Namespace: parts[0], Name: parts[1], Key: parts[2]}
		v, err := crypto.Seal([]*crypto.Recipient{to}, f, []byte("value of "+parts[2]))
		if err != nil {
			t.Fatal(err)
		}
		text = text[:i] + v + text[j+2:]
	}
}

// TestResealInPlace: an offline re-seal replaces the values and nothing
// else: with the values blanked out, every file is byte for byte what it
// was, and every value now opens with the new key only.
func TestResealInPlace(t *testing.T) {
	dir := t.TempDir()
	oldID, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	newID, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	oldKey := filepath.Join(dir, "old.key")
	writeFile(t, oldKey, oldID.String()+"\n")
	before := map[string]string{}
	for name, text := range resealFiles {
		before[name] = fillSealed(t, text, oldID.Recipient())
		writeFile(t, filepath.Join(dir, "repo", name), before[name])
	}
	if err := os.Chmod(filepath.Join(dir, "repo", "crlf.yaml"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := mustSeal(t, "reseal", "-i", oldKey, "--recipient", newID.Recipient().String(), filepath.Join(dir, "repo"))
	if !strings.HasPrefix(out, "resealed 11 values in 7 objects, 6 files changed, 0 unchanged\n") {
		t.Fatalf("summary: %q", out)
	}
	for name := range resealFiles {
		path := filepath.Join(dir, "repo", name)
		after, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := sealedValue.ReplaceAllString(string(after), "SEALED"), sealedValue.ReplaceAllString(before[name], "SEALED"); got != want {
			t.Errorf("%s changed beyond its values:\n%s\nwant:\n%s", name, got, want)
		}
		if string(after) == before[name] {
			t.Errorf("%s: no value changed", name)
		}
		for _, ss := range readSealed(t, path) {
			for k, v := range ss.Spec.EncryptedData {
				if ids, _ := crypto.KeyIDs(v); !slices.Equal(ids, []crypto.KeyID{newID.KeyID()}) {
					t.Errorf("%s: %s/%s: %s sealed to %v", name, ss.Namespace, ss.Name, k, ids)
				}
				got, _, err := crypto.Open(v, sealed.FrameFor(ss, k), []*crypto.Identity{newID})
				if err != nil || string(got) != "value of "+k {
					t.Errorf("%s: %s/%s: %s: %q, %v", name, ss.Namespace, ss.Name, k, got, err)
				}
			}
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "repo", "crlf.yaml")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("crlf.yaml lost its mode: %v %v", fi.Mode(), err)
	}
	// Again: nothing to do, nothing written.
	out = mustSeal(t, "reseal", "-i", oldKey, "--recipient", newID.Recipient().String(), filepath.Join(dir, "repo"))
	if !strings.HasPrefix(out, "resealed 0 values in 0 objects, 0 files changed, 6 unchanged\n") {
		t.Fatalf("second reseal: %q", out)
	}
}

// TestResealCannotEdit: a value the in-place editor cannot reach (here,
// encryptedData through an alias) is an error naming the file; the file is
// left as it was, and the other files are still done.
func TestResealCannotEdit(t *testing.T) {
	dir := t.TempDir()
	oldID, _ := crypto.GenerateIdentity()
	newID, _ := crypto.GenerateIdentity()
	oldKey := filepath.Join(dir, "old.key")
	writeFile(t, oldKey, oldID.String()+"\n")
	text := fillSealed(t, "apiVersion: sealkit.dev/v1alpha1\nkind: SealedSecret\n"+
		"metadata: {name: x, namespace: shop, annotations: &v {k: {{shop/x/k}}}}\nspec:\n  encryptedData: *v\n", oldID.Recipient())
	path := filepath.Join(dir, "a", "x.yaml")
	writeFile(t, path, text)
	other := filepath.Join(dir, "b", "y.yaml")
	writeFile(t, other, fillSealed(t, "apiVersion: sealkit.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: other, namespace: shop}\nspec: {encryptedData: {k: {{shop/other/k}}}}\n", oldID.Recipient()))
	out, errOut, code := runSeal(t, "reseal", "-i", oldKey, "--recipient", newID.Recipient().String(), dir)
	after, _ := os.ReadFile(path)
	if code != ExitError || !strings.Contains(errOut, "seal: error: "+path+": document 1: spec.encryptedData.k: spec.encryptedData is an alias") ||
		!strings.Contains(errOut, "seal: error: 1 files could not be changed in place; they were left unchanged") || string(after) != text {
		t.Fatalf("exit %d, stderr %q, file changed: %v", code, errOut, string(after) != text)
	}
	if !strings.HasPrefix(out, "resealed 1 values in 1 objects, 1 files changed, 1 unchanged\n") {
		t.Fatalf("the other file was not re-sealed: %q", out)
	}
}
