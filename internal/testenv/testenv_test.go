package testenv_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{}) }

func TestStart(t *testing.T) {
	env := testenv.Shared(t)
	t.Logf("control plane from %s started in %s", env.AssetsDir, env.StartDuration)
	var list v1alpha1.SealedSecretList
	if err := env.Client.List(context.Background(), &list); err != nil {
		t.Fatalf("listing SealedSecrets (is the CRD installed?): %v", err)
	}
}

// TestRBACEnforced shows that the API server authorizes with RBAC: a user
// without a binding is forbidden, the admin and a user once bound are not.
func TestRBACEnforced(t *testing.T) {
	env := testenv.Shared(t)
	ctx := context.Background()
	ns := env.Namespace(t)

	cfg, kubeconfig := env.User("alice", "developers")
	alice, err := client.New(cfg, client.Options{Scheme: env.Client.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	var secrets corev1.SecretList
	err = alice.List(ctx, &secrets, client.InNamespace(ns))
	if !apierrors.IsForbidden(err) {
		t.Fatalf("alice without RBAC listing secrets: got %v, want forbidden", err)
	}
	out, err := env.KubectlAs(kubeconfig, "get", "sealedsecrets", "-n", ns).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "forbidden") {
		t.Fatalf("kubectl as alice without RBAC: err %v, output %s; want forbidden", err, out)
	}
	if err := env.Client.List(ctx, &secrets, client.InNamespace(ns)); err != nil {
		t.Fatalf("admin listing secrets: %v", err)
	}

	grant(t, env, ns, "developers")
	// The API server's authorizer learns of the binding through its own
	// informer: under load that takes a moment.
	testenv.Eventually(t, "alice to list secrets once granted", func() bool {
		return alice.List(ctx, &secrets, client.InNamespace(ns)) == nil
	})
	if out, err := env.KubectlAs(kubeconfig, "get", "sealedsecrets", "-n", ns).CombinedOutput(); err != nil {
		t.Fatalf("kubectl as alice with RBAC: %v\n%s", err, out)
	}
	other := env.Namespace(t)
	if err := alice.List(ctx, &secrets, client.InNamespace(other)); !apierrors.IsForbidden(err) {
		t.Fatalf("alice listing secrets in a namespace she has no binding in: got %v, want forbidden", err)
	}
}

// grant lets group read Secrets and SealedSecrets in ns.
func grant(t *testing.T, env *testenv.Env, ns, group string) {
	t.Helper()
	ctx := context.Background()
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "reader", Namespace: ns},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list"}},
			{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"sealedsecrets"}, Verbs: []string{"get", "list"}},
		},
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "reader", Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "reader"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: group}},
	}
	for _, obj := range []client.Object{role, binding} {
		if err := env.Client.Create(ctx, obj); err != nil {
			t.Fatalf("creating %T: %v", obj, err)
		}
	}
}

func TestKubectlAdmin(t *testing.T) {
	env := testenv.Shared(t)
	out, err := env.Kubectl("get", "crd", "sealedsecrets.sealkit.dev", "-o", "name").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl get crd: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "customresourcedefinition.apiextensions.k8s.io/sealedsecrets.sealkit.dev" {
		t.Fatalf("kubectl get crd printed %q", got)
	}
}
