package keys

import (
	"context"
	"slices"
	"testing"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/controller/ctrltest"
	"github.com/sealkit/sealkit/internal/kubeseal"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/bitnami"
)

// TestBitnamiNamespaceRBAC applies examples/migrate-bitnami and reads
// Bitnami's keys in kube-system as the controller's ServiceAccount. Bound
// per namespace (no ClusterRoleBinding, as examples/namespaced installs
// it), the overlay's Role is what lets it: without it the read is
// forbidden.
func TestBitnamiNamespaceRBAC(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	ctx := context.Background()
	ctrltest.ApplyKustomization(t, env, "examples/migrate-bitnami")
	crb := &rbacv1.ClusterRoleBinding{}
	crb.Name = "seal-controller"
	if err := env.Client.Delete(ctx, crb); err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ctrltest.Namespace, Name: "seal-controller"}, &d); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(d.Spec.Template.Spec.Containers[0].Args, "--bitnami-namespace=kube-system") {
		t.Errorf("args %v", d.Spec.Template.Spec.Containers[0].Args)
	}
	key, _ := kubeseal.KeyPair(t, 2048)
	ks := kubeseal.KeySecret(t, key, "sealed-secrets-keyrbac", "kube-system", "active")
	if err := env.Client.Create(ctx, ks); err != nil {
		t.Fatal(err)
	}
	want, err := bitnami.KeyFromSecret(ks)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := env.User(ctrltest.User, "system:serviceaccounts", "system:serviceaccounts:"+ctrltest.Namespace)
	sa, err := client.New(cfg, client.Options{Scheme: env.Client.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	var got []*bitnami.PrivateKey
	testenv.Eventually(t, "the ServiceAccount to read Bitnami's keys", func() bool {
		got, err = (&bitnamiKeys{reader: sa, namespace: "kube-system", log: logr.Discard()}).keys(ctx)
		return err == nil && slices.ContainsFunc(got, func(k *bitnami.PrivateKey) bool { return k.Fingerprint() == want.Fingerprint() })
	})

	binding := &rbacv1.RoleBinding{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "kube-system", Name: "sealkit-read-bitnami-keys"}, binding); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(ctx, binding); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the read to be forbidden without the overlay's Role", func() bool {
		_, err := (&bitnamiKeys{reader: sa, namespace: "kube-system", log: logr.Discard()}).keys(ctx)
		return apierrors.IsForbidden(err)
	})
}
