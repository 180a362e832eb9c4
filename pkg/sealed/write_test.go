package sealed

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

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
