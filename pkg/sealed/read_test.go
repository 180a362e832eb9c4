package sealed

import (
	"fmt"
	"strings"
	"testing"
)

func kinds(docs []Document) string {
	var s []string
	for _, d := range docs {
		s = append(s, d.APIVersion+"/"+d.Kind)
	}
	return strings.Join(s, ",")
}

func TestReadManifests(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"yaml single", "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n", "v1/Secret"},
		{"yaml multi with empty docs and comments", "---\n# leading\napiVersion: v1\nkind: Secret\n---\n---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\n", "v1/Secret,v1/ConfigMap"},
		{"json object", `{"apiVersion":"v1","kind":"Secret"}`, "v1/Secret"},
		{"json stream", "{\"apiVersion\":\"v1\",\"kind\":\"Secret\"}\n{\"apiVersion\":\"sealkit.dev/v1alpha1\",\"kind\":\"SealedSecret\"}", "v1/Secret,sealkit.dev/v1alpha1/SealedSecret"},
		{"json list", `{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Secret"},{"apiVersion":"v1","kind":"ConfigMap"}]}`, "v1/Secret,v1/ConfigMap"},
		{"yaml list", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n", "v1/Secret"},
		{"typed list", `{"apiVersion":"v1","kind":"SecretList","items":[{"apiVersion":"v1","kind":"Secret"}]}`, "v1/Secret"},
		{"empty list then object", "apiVersion: v1\nkind: List\nitems: []\n---\napiVersion: v1\nkind: Secret\n", "v1/Secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := ReadManifests(strings.NewReader(tt.in), "in.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if got := kinds(docs); got != tt.want {
				t.Errorf("kinds = %s, want %s", got, tt.want)
			}
			for i, d := range docs {
				if d.Index != i+1 || d.Source != "in.yaml" {
					t.Errorf("document %d: index %d source %q", i+1, d.Index, d.Source)
				}
			}
		})
	}
}

func TestReadManifestsErrors(t *testing.T) {
	const secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n"
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "stdin: no objects found"},
		{"blank", "\n  \n", "stdin: no objects found"},
		{"only comments", "# nothing\n---\n", "stdin: no objects found"},
		{"scalar", "hello " + canary + "\n", "stdin: document 1: not an object but a string"},
		{"yaml list at top", "- a\n- b\n", "stdin: document 1: not an object but a list"},
		{"json array", `[{"kind":"Secret"}]`, "stdin: document 1: not an object but a list"},
		{"second document bad", secret + "---\n42\n", "stdin: document 2: not an object but a scalar"},
		{"no kind", "apiVersion: v1\nmetadata: {}\n", "stdin: document 1: object has no kind"},
		{"no apiVersion", "kind: Secret\n", "stdin: document 1: Secret has no apiVersion"},
		{"invalid yaml", secret + "---\nkey: [unclosed\n", "stdin: document 2: invalid YAML"},
		{"invalid json", `{"apiVersion":"v1","kind":"Secret"} {"kind":`, "stdin: document 2: invalid JSON"},
		{"list item not object", `{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Secret"},"x"]}`, "stdin: document 2: not an object"},
		{"nested list", `{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"List","items":[]}]}`, "stdin: document 1: a list inside a list"},
		{"complex map key", "apiVersion: v1\nkind: Secret\n? {a: " + canary + "}\n: b\n", "stdin: document 1: invalid YAML: a key or value that cannot be"},
		{"mistyped value", "apiVersion: v1\nkind: Secret\nstringData: {a: !!int " + canary + "}\n", "stdin: document 1: invalid YAML: a key or value that cannot be"},
		{"too large", secret + "# " + strings.Repeat("x", MaxManifestSize), "stdin: input exceeds 8 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadManifests(strings.NewReader(tt.in), "stdin")
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %q, want prefix %q", err, tt.want)
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("error quotes the input: %q", err)
			}
		})
	}
}

func TestDocumentDecode(t *testing.T) {
	in := `apiVersion: v1
kind: Secret
metadata: {name: db, namespace: shop}
data: {a: aGVsbG8=}
stringData: {b: world}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
---
apiVersion: v1
kind: Secret
metadata: {name: typo}
stringdata: {b: ` + canary + `}
---
apiVersion: v1
kind: Secret
metadata: {name: badbase64}
data: {a: "` + canary + `"}
---
apiVersion: sealkit.dev/v1alpha1
kind: SealedSecret
metadata: {name: db, namespace: shop}
spec: {encryptedData: {a: x}}
---
apiVersion: v2
kind: Secret
`
	docs, err := ReadManifests(strings.NewReader(in), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := docs[0].Secret()
	if err != nil || string(s.Data["a"]) != "hello" || s.StringData["b"] != "world" || s.Namespace != "shop" {
		t.Errorf("Secret() = %+v, %v", s, err)
	}
	ss, err := docs[4].SealedSecret()
	if err != nil || ss.Spec.EncryptedData["a"] != "x" {
		t.Errorf("SealedSecret() = %+v, %v", ss, err)
	}
	errs := []struct {
		err  error
		want string
	}{
		{second(docs[1].Secret()), "f.yaml: document 2 is a ConfigMap, not a Secret"},
		{second(docs[2].Secret()), `f.yaml: document 3: invalid Secret: unknown field "stringdata"`},
		{second(docs[3].Secret()), "f.yaml: document 4: invalid Secret"},
		{second(docs[0].SealedSecret()), "f.yaml: document 1 is a Secret, not a SealedSecret"},
		{second(docs[5].Secret()), "f.yaml: document 6 is a Secret of apiVersion v2, not v1"},
	}
	for _, e := range errs {
		if e.err == nil || !strings.HasPrefix(e.err.Error(), e.want) {
			t.Errorf("error %v, want prefix %q", e.err, e.want)
		}
		if e.err != nil && strings.Contains(e.err.Error(), canary) {
			t.Errorf("error quotes a value: %q", e.err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func FuzzReadManifests(f *testing.F) {
	f.Add("apiVersion: v1\nkind: Secret\nmetadata: {name: a}\ndata: {k: dg==}\n---\napiVersion: v1\nkind: ConfigMap\n")
	f.Add(`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Secret","stringData":{"a":"b"}}]}`)
	f.Add(`{"apiVersion":"v1","kind":"Secret"}{"apiVersion":"v1","kind":"Secret"}`)
	f.Add("- 1\n")
	f.Fuzz(func(t *testing.T, in string) {
		docs, err := ReadManifests(strings.NewReader(in), "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz: ") {
				t.Fatalf("error does not name the source: %v", err)
			}
			return
		}
		if len(docs) == 0 {
			t.Fatal("no documents and no error")
		}
		for i, d := range docs {
			if d.Index != i+1 || d.Kind == "" || d.APIVersion == "" {
				t.Fatalf("document %d: %+v", i+1, d)
			}
			// Decoding may fail but must not panic.
			_, _ = d.Secret()
			_, _ = d.SealedSecret()
		}
	})
}

// TestReadManifestsPositions: every object says which document of the
// stream it came from and which List item, as internal/manifest numbers
// them, so that it can be edited in place.
func TestReadManifestsPositions(t *testing.T) {
	in := "# only a comment\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: a}}\n- {apiVersion: v1, kind: Secret, metadata: {name: b}}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: c}\n"
	docs, err := ReadManifests(strings.NewReader(in), "in.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range docs {
		got = append(got, fmt.Sprintf("%d:%d:%d:%v", d.Index, d.Stream, d.Item, d.Path("spec")))
	}
	want := "1:1:0:[items 0 spec] 2:1:1:[items 1 spec] 3:2:-1:[spec]"
	if strings.Join(got, " ") != want {
		t.Fatalf("got %s, want %s", strings.Join(got, " "), want)
	}
}
