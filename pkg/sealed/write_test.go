package sealed

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/sealkit/sealkit/pkg/crypto"

	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/sealed")

const goldenDir = "../../testdata/sealed"

// goldenObjects are fixed objects (sealing is randomised, so the values are
// placeholders) covering what WriteManifests must get right.
func goldenObjects() []runtime.Object {
	immutable := true
	ss := &v1alpha1.SealedSecret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "sealkit.dev/v1alpha1", Kind: "SealedSecret"},
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "shop"},
		Spec: v1alpha1.SealedSecretSpec{
			Scope: "strict",
			EncryptedData: map[string]string{
				"username": "sealkit:v1:52011f555e885a36:YWdlLWVuY3J5cHRpb24ub3JnL3YxCg==",
				"password": "sealkit:v1:52011f555e885a36:YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IA==",
			},
			Template: v1alpha1.SecretTemplate{
				Metadata: v1alpha1.TemplateMetadata{
					Labels:      map[string]string{"app": "shop"},
					Annotations: map[string]string{"note": "<a & b>"},
				},
				Type:      corev1.SecretTypeOpaque,
				Immutable: &immutable,
			},
		},
	}
	// No TypeMeta and no template: apiVersion and kind come from the scheme,
	// and no empty template, status or creationTimestamp is written.
	bare := &v1alpha1.SealedSecret{
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "shop"},
		Spec:       v1alpha1.SealedSecretSpec{Scope: "cluster", EncryptedData: map[string]string{"token": "sealkit:v1:52011f555e885a36:AAAA"}},
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "shop"},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{"password": []byte("hunter2")},
	}
	return []runtime.Object{ss, bare, secret}
}

func TestWriteManifestsGolden(t *testing.T) {
	objs := goldenObjects()
	tests := []struct {
		file   string
		objs   []runtime.Object
		format string
	}{
		{"one.yaml", objs[:1], "yaml"},
		{"one.json", objs[:1], "json"},
		{"several.yaml", objs, "yaml"},
		{"several.json", objs, "json"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteManifests(&b, tt.objs, tt.format); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(goldenDir, tt.file)
			if *update {
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if b.String() != string(want) {
				t.Errorf("output differs from %s (go test -run Golden -update to rewrite):\n%s", path, b.String())
			}
			for _, noise := range []string{"creationTimestamp", "status", "\\u003c"} {
				if strings.Contains(b.String(), noise) {
					t.Errorf("output contains %q", noise)
				}
			}

			// What is written reads back as the same objects.
			docs, err := ReadManifests(&b, tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != len(tt.objs) {
				t.Fatalf("read back %d documents, want %d", len(docs), len(tt.objs))
			}
			for _, d := range docs {
				var err error
				if d.Kind == "Secret" {
					_, err = d.Secret()
				} else {
					_, err = d.SealedSecret()
				}
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestWriteManifestsDeterministic(t *testing.T) {
	var first bytes.Buffer
	if err := WriteManifests(&first, goldenObjects(), "yaml"); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		var b bytes.Buffer
		if err := WriteManifests(&b, goldenObjects(), "yaml"); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b.Bytes(), first.Bytes()) {
			t.Fatal("output differs between runs")
		}
	}
}

func TestWriteManifestsErrors(t *testing.T) {
	if err := WriteManifests(&bytes.Buffer{}, goldenObjects(), "xml"); err == nil || !strings.Contains(err.Error(), `"xml"`) {
		t.Errorf("unknown format: err = %v", err)
	}
	if err := WriteManifests(&bytes.Buffer{}, []runtime.Object{&appsv1.Deployment{}}, "yaml"); err == nil {
		t.Error("object of an unknown kind: no error")
	}
}

// TestRenderManifestWritesValuesAsTheEncodersWould: values of the sealed
// form are put in place of placeholders; the bytes must be those of
// rendering every field through the encoders, whatever else the object
// holds (the placeholder tag itself included).
func TestRenderManifestWritesValuesAsTheEncodersWould(t *testing.T) {
	id := newIdentity(t)
	s := testSecret()
	s.Labels = map[string]string{"tag": placeholderTag + "0"}
	s.Annotations = map[string]string{"note": "sealkit:v1:" + placeholderTag + "1", "a": "sealkit:v1", "b": "x: y", "multi": "line one\nline two"}
	ss, err := Seal(s, SealOptions{Recipients: []*crypto.Recipient{id.Recipient()}})
	if err != nil {
		t.Fatal(err)
	}
	tagless := ss.DeepCopy()
	tagless.Spec.Template.Metadata = v1alpha1.TemplateMetadata{}
	odd := ss.DeepCopy()
	odd.Spec.EncryptedData["odd"] = "sealkit:v1:0123456789abcdef: not sealed"
	odd.Spec.EncryptedData["colon"] = "sealkit:"
	for _, obj := range []*v1alpha1.SealedSecret{ss, tagless, odd} {
		for _, format := range []string{"yaml", "json"} {
			got, err := RenderManifest(obj, format)
			if err != nil {
				t.Fatal(err)
			}
			want, err := render(obj, format)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: RenderManifest differs from the encoders:\n%s\nwant:\n%s", format, got, want)
			}
		}
	}
}

// TestJoinManifestsJSONIsTheEncodersList: several objects become the List
// json.Encoder writes, whatever their number.
func TestJoinManifestsJSONIsTheEncodersList(t *testing.T) {
	objs := goldenObjects()
	for n := range len(objs) + 1 {
		docs := make([][]byte, n)
		items := make([]map[string]any, n)
		for i, obj := range objs[:n] {
			var err error
			if docs[i], err = RenderManifest(obj, "json"); err != nil {
				t.Fatal(err)
			}
			if items[i], err = toMap(obj); err != nil {
				t.Fatal(err)
			}
		}
		var v any = map[string]any{"apiVersion": "v1", "kind": "List", "items": items}
		if n == 1 {
			v = items[0]
		}
		want, err := indentedJSON(v)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := JoinManifests(&got, docs, "json"); err != nil {
			t.Fatal(err)
		}
		if got.String() != string(want) {
			t.Errorf("%d objects:\n%s\nwant:\n%s", n, got.String(), want)
		}
	}
}

// FuzzVerbatim: a value Verbatim accepts is written unchanged by both
// encoders, and read back unchanged from a plain YAML scalar.
func FuzzVerbatim(f *testing.F) {
	for _, s := range []string{"sealkit:v1:52011f555e885a36:YWdl+/==", "sealkit:", "sealkit:v1:a:b:", "sealkit:true", "sealkit::", "sealkit:1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if !Verbatim(v) {
			return
		}
		y, err := yaml.Marshal(map[string]any{"k": v})
		if err != nil {
			t.Fatal(err)
		}
		if string(y) != "k: "+v+"\n" {
			t.Errorf("YAML writes %q as %q", v, y)
		}
		j, err := indentedJSON(v)
		if err != nil {
			t.Fatal(err)
		}
		if string(j) != `"`+v+"\"\n" {
			t.Errorf("JSON writes %q as %q", v, j)
		}
		// And reads it back (seal lint takes such values out before parsing).
		var back map[string]any
		if err := yaml.Unmarshal([]byte("k: "+v+"\n"), &back); err != nil || back["k"] != v {
			t.Errorf("YAML reads %q back as %v (%v)", v, back["k"], err)
		}
	})
}

// FuzzMarshalYAML: marshalYAML writes any object decoded from JSON as
// sigs.k8s.io/yaml does.
func FuzzMarshalYAML(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":1.5,"c":-0,"d":1e3,"e":12345678901234567890,"f":"1","g":true,"h":null}`,
		`{"k10":"x","k9":"y","K":"<&>","u":"\u2028é\ud83d\ude00","n":[1,"2",{"x":[]}],"e":{}}`,
		`{"status":{"observedGeneration":3,"conditions":[{"type":"Ready","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}`,
		`{"s":"yes","t":"~","u":"2001-12-14","v":"0x1F","w":"1_000","x":"-.inf","y":"- a","z":"a: b"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		dec := json.NewDecoder(strings.NewReader(in))
		dec.UseNumber()
		var m map[string]any
		if dec.Decode(&m) != nil || m == nil {
			return
		}
		want, wantErr := yaml.Marshal(m)
		got, err := marshalYAML(m)
		switch {
		case err != nil:
			if wantErr == nil {
				t.Fatalf("error %v, sigs.k8s.io/yaml: none", err)
			}
		case wantErr != nil:
			// sigs.k8s.io/yaml refuses some keys that YAML can hold
			// escaped (a DEL, say); what marshalYAML writes then must
			// still read back as the object.
			if back, orig := normalJSON(t, got, true), normalJSON(t, mustJSON(t, m), false); !reflect.DeepEqual(back, orig) {
				t.Errorf("%s: sigs.k8s.io/yaml refuses it (%v), and marshalYAML's\n%s\nreads back as %v", in, wantErr, got, back)
			}
		case !bytes.Equal(got, want):
			t.Errorf("%s:\n%s\nsigs.k8s.io/yaml:\n%s", in, got, want)
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// normalJSON decodes data (YAML when fromYAML) as plain JSON values.
func normalJSON(t *testing.T, data []byte, fromYAML bool) any {
	t.Helper()
	if fromYAML {
		j, err := yaml.YAMLToJSON(data)
		if err != nil {
			t.Fatalf("does not read back: %v", err)
		}
		data = j
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}
