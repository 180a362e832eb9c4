package migrate

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/sealkit/sealkit/internal/kubeseal"
	"github.com/sealkit/sealkit/internal/manifest"
	"github.com/sealkit/sealkit/pkg/bitnami"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// TestRewriteKubesealFiles migrates, in place, files the real kubeseal
// wrote (YAML with comments and other documents, JSON, a List), and checks
// that only the migrated documents changed, byte for byte, that they
// unseal to the original values, and that a Go template is refused by name
// while the rest of its file is migrated.
func TestRewriteKubesealFiles(t *testing.T) {
	key, cert := kubeseal.KeyPair(t, 2048)
	keys := parseKeys(t, keySecretList(t, key, bitnami.KeyActive))
	ids, recipients := identities(t, 1)
	sealedYAML := kubeseal.Seal(t, cert, []byte(secretsYAML))
	templated := strings.Replace(string(kubeseal.Seal(t, cert, []byte(secretYAML("dsn", "username", "admin")))),
		"  template:\n", "  template:\n    data:\n      dsn: 'postgres://{{ index . \"username\" }}@db'\n", 1)
	jsonOut := kubeseal.Run(t, []byte(secretYAML("json-app", "token", "t0k3n")), "--cert", cert, "-o", "json")

	files := map[string]string{
		"repo.yaml": "# managed by the platform team\n" + string(sealedYAML) +
			"---\n# not a secret\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: b}  # keep me\n" +
			templated,
		"app.json":  string(jsonOut),
		"list.yaml": "apiVersion: v1\nkind: List\n# one item\nitems:\n- " + strings.TrimSpace(string(jsonOut)) + "\n",
	}
	want := originals(t, secretsYAML)
	want["json-app"] = originals(t, secretYAML("json-app", "token", "t0k3n"))["json-app"]
	for name, content := range files {
		t.Run(name, func(t *testing.T) {
			f, err := ReadFile(name, []byte(content))
			if err != nil {
				t.Fatal(err)
			}
			converted := map[*Object]*v1alpha1.SealedSecret{}
			for _, o := range f.Objects {
				if o.Refused != nil {
					if !errors.Is(o.Refused, bitnami.ErrTemplateData) || o.Name() != "bitnami sealedsecret shop/dsn" {
						t.Errorf("%s refused: %v", o.Name(), o.Refused)
					}
					continue
				}
				res, err := FromBitnami(o.Bitnami, keys, recipients)
				if err != nil {
					t.Fatal(err)
				}
				converted[o] = res.SealedSecret
			}
			out, err := f.Rewrite(converted)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("migrated %s:\n%s", name, out)
			onlyMigratedChanged(t, []byte(content), out, converted)
			docs := readDocs(t, out, name)
			migrated := 0
			for _, d := range docs {
				if bitnami.Is(d) {
					if b, _ := bitnami.Decode(d); b.Name != "dsn" {
						t.Errorf("%s left as a Bitnami SealedSecret", b.Name)
					}
					continue
				}
				if d.Kind != "SealedSecret" {
					continue
				}
				ss, err := d.SealedSecret()
				if err != nil {
					t.Fatal(err)
				}
				got, _, err := sealed.Unseal(ss, ids)
				if err != nil || !sameData(got.Data, want[ss.Name].Data) {
					t.Errorf("%s does not unseal to the original values: %v", ss.Name, err)
				}
				migrated++
			}
			if migrated != len(converted) {
				t.Errorf("%d migrated objects read back, want %d", migrated, len(converted))
			}
		})
	}
	out, err := mustRead(t, "repo.yaml", files["repo.yaml"]).Rewrite(nil)
	if err != nil || string(out) != files["repo.yaml"] {
		t.Errorf("rewriting nothing changed the file: %v", err)
	}
}

func mustRead(t *testing.T, name, content string) *File {
	t.Helper()
	f, err := ReadFile(name, []byte(content))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func secretYAML(name, key, value string) string {
	return "apiVersion: v1\nkind: Secret\nmetadata: {name: " + name + ", namespace: shop}\nstringData: {" + key + ": " + value + "}\n"
}

// onlyMigratedChanged: the documents not migrated, and the text between
// documents, are byte for byte as they were; a migrated document keeps its
// comments.
func onlyMigratedChanged(t *testing.T, before, after []byte, converted map[*Object]*v1alpha1.SealedSecret) {
	t.Helper()
	_, bd, err := manifest.Split(before)
	if err != nil {
		t.Fatal(err)
	}
	_, ad, err := manifest.Split(after)
	if err != nil || len(ad) != len(bd) {
		t.Fatalf("documents: %d before, %d after (%v)", len(bd), len(ad), err)
	}
	changed := map[int]bool{}
	for o := range converted {
		changed[o.doc.Stream] = true
	}
	prevB, prevA := 0, 0
	for i := range bd {
		if !bytes.Equal(before[prevB:bd[i].Start], after[prevA:ad[i].Start]) {
			t.Errorf("the text before document %d changed", i+1)
		}
		b, a := before[bd[i].Start:bd[i].End], after[ad[i].Start:ad[i].End]
		if !changed[i] && !bytes.Equal(a, b) {
			t.Errorf("document %d changed though nothing in it was migrated:\n%s\n---\n%s", i+1, b, a)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "#") && !bytes.Contains(a, []byte(l)) {
				t.Errorf("document %d lost the comment %q", i+1, l)
			}
		}
		prevB, prevA = bd[i].End, ad[i].End
	}
	if !bytes.Equal(before[prevB:], after[prevA:]) {
		t.Error("the end of the file changed")
	}
}

// TestRewriteRefusesWhatDoesNotReadBack: an edit that would not read back as
// the migrated object is an error, and nothing is returned.
func TestRewriteRefusesWhatDoesNotReadBack(t *testing.T) {
	in := "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: a, namespace: n}\nspec:\n  encryptedData: {k: AgB}\n"
	f := mustRead(t, "a.yaml", in)
	out := &v1alpha1.SealedSecret{}
	out.APIVersion, out.Kind, out.Name, out.Namespace = v1alpha1.GroupVersion.String(), "SealedSecret", "a", "n"
	out.Spec.Scope = string(crypto.ScopeStrict)
	out.Spec.EncryptedData = map[string]string{"k": "sealkit:v1:x:y", "extra": "v"}
	out.Labels = map[string]string{"never": "added"}
	if got, err := f.Rewrite(map[*Object]*v1alpha1.SealedSecret{f.Objects[0]: out}); err == nil || got != nil {
		t.Fatalf("got %q, %v", got, err)
	}
}
