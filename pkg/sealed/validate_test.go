package sealed

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// TestCheckAgreesWithTheAPIServer: what Check refuses, a real API server
// (with the CRD installed, and etcd behind it) refuses too; and an object
// Check accepts at the size limit is stored. So seal refuses early exactly
// what the cluster would refuse later, and never what it would accept
// (beyond the few KiB of headroom Check keeps for what the server adds).
func TestCheckAgreesWithTheAPIServer(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	ns := env.Namespace(t)
	ctx := context.Background()
	values := func(n, size int) map[string]string {
		m := map[string]string{}
		for i := range n {
			m[fmt.Sprintf("k%04d", i)] = strings.Repeat("x", size)
		}
		return m
	}
	object := func(name, namespace string, data map[string]string) *v1alpha1.SealedSecret {
		return &v1alpha1.SealedSecret{
			TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "SealedSecret"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
			Spec:       v1alpha1.SealedSecretSpec{EncryptedData: data},
		}
	}
	// Fill an object to just under the limit Check enforces.
	atLimit := object("at-limit", ns, values(400, 3000))
	for StoredSize(atLimit) < MaxStoredObject-8000 {
		atLimit.Spec.EncryptedData[fmt.Sprintf("k%04d", len(atLimit.Spec.EncryptedData))] = strings.Repeat("x", 3000)
	}
	atLimit.Spec.EncryptedData["last"] = strings.Repeat("x", MaxStoredObject-StoredSize(atLimit)-len(`"last":"",`)-len(`"f:last":{},`))
	if n := StoredSize(atLimit); n > MaxStoredObject || n < MaxStoredObject-16 {
		t.Fatalf("filled to %d bytes, want just under %d", n, MaxStoredObject)
	}
	if err := Check(atLimit); err != nil {
		t.Fatalf("Check refuses an object at its limit: %v", err)
	}
	if err := env.Client.Create(ctx, atLimit); err != nil {
		t.Fatalf("the API server refuses what Check accepts (%d KiB): %v", StoredSize(atLimit)>>10, err)
	}

	tests := []struct {
		name  string
		obj   *v1alpha1.SealedSecret
		check string // in Check's error
	}{
		{"name", object("DB_Main", ns, values(1, 1)), "is not valid"},
		{"namespace", object("db", "shop.prod", values(1, 1)), "is not valid"},
		{"no values", object("db", ns, map[string]string{}), "has no values"},
		{"1025 values", object("db", ns, values(1025, 1)), "a SealedSecret holds at most 1024"},
		{"data key", object("db", ns, map[string]string{"a/b": "x"}), "not a valid data key"},
		{"larger than etcd stores", object("db", ns, values(1000, 1600)), "over the 1536 KiB etcd stores"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Check(tt.obj); err == nil || !strings.Contains(err.Error(), tt.check) {
				t.Fatalf("Check: %v, want %q", err, tt.check)
			}
			if err := env.Client.Create(ctx, tt.obj.DeepCopy()); err == nil {
				t.Fatal("the API server accepted it")
			} else {
				t.Logf("the API server refuses it: %.200s", err)
			}
		})
	}

	// No namespace "shop.prod" can exist to hold it: the name is invalid.
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop.prod"}}); !apierrors.IsInvalid(err) {
		t.Fatalf("creating namespace shop.prod: %v, want invalid", err)
	}

	// The template: the SealedSecret is stored, but the Secret made from it
	// would be refused; Check refuses it up front.
	for _, tt := range []struct {
		name     string
		template v1alpha1.SecretTemplate
		data     map[string]string
	}{
		{"label value", v1alpha1.SecretTemplate{Metadata: v1alpha1.TemplateMetadata{Labels: map[string]string{"app": "a b"}}}, values(1, 1)},
		{"annotation key", v1alpha1.SecretTemplate{Metadata: v1alpha1.TemplateMetadata{Annotations: map[string]string{"a/b/c": "x"}}}, values(1, 1)},
		{"tls without its key", v1alpha1.SecretTemplate{Type: corev1.SecretTypeTLS}, map[string]string{"tls.crt": "x"}},
		{"ssh-auth without its key", v1alpha1.SecretTemplate{Type: corev1.SecretTypeSSHAuth}, map[string]string{"x": "x"}},
	} {
		t.Run("template "+tt.name, func(t *testing.T) {
			ss := object("db", ns, tt.data)
			ss.Spec.Template = tt.template
			if err := Check(ss); err == nil {
				t.Fatal("Check accepts it")
			}
			s := &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns,
					Labels: tt.template.Metadata.Labels, Annotations: tt.template.Metadata.Annotations},
				Type: tt.template.Type, Data: map[string][]byte{},
			}
			for k, v := range tt.data {
				s.Data[k] = []byte(v)
			}
			if err := env.Client.Create(ctx, s); err == nil {
				t.Fatal("the API server accepted the Secret")
			}
		})
	}
}

// TestStoredSizeCountsTheJSON: StoredSize adds the lengths of sealed values
// instead of marshalling them; the count is the object's JSON length all
// the same.
func TestStoredSizeCountsTheJSON(t *testing.T) {
	id := newIdentity(t)
	ss, err := Seal(testSecret(), SealOptions{Recipients: []*crypto.Recipient{id.Recipient()}})
	if err != nil {
		t.Fatal(err)
	}
	ss.Spec.EncryptedData["odd"] = "sealkit:v1:\"quoted\" <&>"
	j, err := json.Marshal(ss)
	if err != nil {
		t.Fatal(err)
	}
	want := len(j) + serverOverhead
	for _, m := range []map[string]string{ss.Spec.EncryptedData, ss.Spec.Template.Metadata.Labels, ss.Spec.Template.Metadata.Annotations} {
		for k := range m {
			want += len(k) + len(`"f:":{},`)
		}
	}
	if got := StoredSize(ss); got != want {
		t.Errorf("StoredSize = %d, want %d", got, want)
	}
}
