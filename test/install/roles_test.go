package install

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/release"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

var userRoles = []string{"sealkit-view", "sealkit-edit"}

// TestUserRoles works as a developer bound to the built-in edit role in one
// namespace, and as a viewer bound to view: what the aggregated sealkit roles
// let them do on the API server, and what they do not. Before the roles are
// installed, the same developer cannot create a SealedSecret: the roles are
// what grants it.
func TestUserRoles(t *testing.T) {
	env := testenv.Shared(t)
	ctx := t.Context()
	base := renderBase(t)
	apply(t, env, base, func(o *unstructured.Unstructured) bool { return !slices.Contains(userRoles, o.GetName()) })
	aggregate(t, env)

	ns, other := env.Namespace(t), env.Namespace(t)
	bind(t, env, ns, "dev", "edit")
	bind(t, env, ns, "viewer", "view")
	dev, viewer := userClient(t, env, "dev"), userClient(t, env, "viewer")

	if err := dev.Create(ctx, sealedSecret(t, ns, "before")); !apierrors.IsForbidden(err) {
		t.Fatalf("without sealkit's roles, edit may create a SealedSecret (err %v): the test proves nothing", err)
	}

	apply(t, env, base, func(o *unstructured.Unstructured) bool { return slices.Contains(userRoles, o.GetName()) })
	aggregate(t, env)

	// edit: create, read, update, delete, and the server-side dry-runs of
	// seal verify and seal reseal.
	ss := sealedSecret(t, ns, "db")
	mustAllow(t, "edit: create", dev.Create(ctx, ss))
	mustAllow(t, "edit: get", dev.Get(ctx, client.ObjectKeyFromObject(ss), &v1alpha1.SealedSecret{}))
	mustAllow(t, "edit: list", dev.List(ctx, &v1alpha1.SealedSecretList{}, client.InNamespace(ns)))
	ss.Spec.Template.Metadata.Labels = map[string]string{"app": "shop"}
	mustAllow(t, "edit: update", dev.Update(ctx, ss))
	verify := sealedSecret(t, ns, "verify-me")
	mustAllow(t, "edit: dry-run create (seal verify)", dev.Create(ctx, verify, client.DryRunAll))
	reseal := ss.DeepCopy()
	reseal.Annotations = map[string]string{"sealkit.dev/reseal": "true"}
	mustAllow(t, "edit: dry-run update (seal reseal)", dev.Update(ctx, reseal, client.DryRunAll))
	var cm corev1.ConfigMap
	mustAllow(t, "edit: fetch the public keyring", dev.Get(ctx, types.NamespacedName{Namespace: keyring.DefaultNamespace, Name: keyring.KeyringConfigMap}, &cm), apierrors.IsNotFound)
	mustAllow(t, "edit: delete", dev.Delete(ctx, ss))

	// Only in its namespace; never the controller's keys.
	mustForbid(t, "edit: create in another namespace", dev.Create(ctx, sealedSecret(t, other, "db")))
	mustForbid(t, "edit: list key Secrets", dev.List(ctx, &corev1.SecretList{}, client.InNamespace(keyring.DefaultNamespace)))

	// view: read, nothing else.
	kept := sealedSecret(t, ns, "kept")
	mustAllow(t, "admin: create", env.Client.Create(ctx, kept))
	mustAllow(t, "view: get", viewer.Get(ctx, client.ObjectKeyFromObject(kept), &v1alpha1.SealedSecret{}))
	mustAllow(t, "view: list", viewer.List(ctx, &v1alpha1.SealedSecretList{}, client.InNamespace(ns)))
	mustForbid(t, "view: create", viewer.Create(ctx, sealedSecret(t, ns, "nope")))
	mustForbid(t, "view: dry-run create (seal verify)", viewer.Create(ctx, sealedSecret(t, ns, "nope"), client.DryRunAll))
	mustForbid(t, "view: delete", viewer.Delete(ctx, kept))
	mustForbid(t, "view: get Secrets", viewer.Get(ctx, client.ObjectKeyFromObject(kept), &corev1.Secret{}))
}

// mustAllow fails unless err is nil or, authorization having passed, an
// error accepted: e.g. NotFound for an object nobody created.
func mustAllow(t *testing.T, what string, err error, accepted ...func(error) bool) {
	t.Helper()
	if err == nil || len(accepted) > 0 && !apierrors.IsForbidden(err) && accepted[0](err) {
		return
	}
	t.Errorf("%s: %v", what, err)
}

func mustForbid(t *testing.T, what string, err error) {
	t.Helper()
	if !apierrors.IsForbidden(err) {
		t.Errorf("%s: want forbidden, got %v", what, err)
	}
}

func renderBase(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	objs, err := release.RenderKustomize(filepath.Join(repoRoot(t), "manifests"))
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// apply server-side applies the objects keep selects, as admin.
func apply(t *testing.T, env *testenv.Env, objs []*unstructured.Unstructured, keep func(*unstructured.Unstructured) bool) {
	t.Helper()
	for _, o := range objs {
		if !keep(o) {
			continue
		}
		o = o.DeepCopy()
		if err := env.Client.Apply(t.Context(), client.ApplyConfigurationFromUnstructured(o), client.ForceOwnership, client.FieldOwner("install-test")); err != nil {
			t.Fatalf("applying %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
}

// aggregate does what kube-controller-manager's clusterrole-aggregation
// controller does, which envtest does not run: every ClusterRole with an
// aggregationRule gets the rules of the ClusterRoles its selectors match,
// repeated until nothing changes (view is aggregated into edit, edit into
// admin). The selectors are the API server's own bootstrap ones.
func aggregate(t *testing.T, env *testenv.Env) {
	t.Helper()
	ctx := context.Background()
	for range 10 {
		var roles rbacv1.ClusterRoleList
		if err := env.Client.List(ctx, &roles); err != nil {
			t.Fatal(err)
		}
		changed := false
		for i := range roles.Items {
			r := &roles.Items[i]
			if r.AggregationRule == nil {
				continue
			}
			var rules []rbacv1.PolicyRule
			for _, sel := range r.AggregationRule.ClusterRoleSelectors {
				s, err := metav1.LabelSelectorAsSelector(&sel)
				if err != nil {
					t.Fatal(err)
				}
				for _, src := range roles.Items {
					if src.Name == r.Name || !s.Matches(labels.Set(src.Labels)) {
						continue
					}
					for _, rule := range src.Rules {
						if !slices.ContainsFunc(rules, func(x rbacv1.PolicyRule) bool { return reflect.DeepEqual(x, rule) }) {
							rules = append(rules, rule)
						}
					}
				}
			}
			if reflect.DeepEqual(rules, r.Rules) {
				continue
			}
			r.Rules = rules
			if err := env.Client.Update(ctx, r); err != nil {
				t.Fatal(err)
			}
			changed = true
		}
		if !changed {
			return
		}
	}
	t.Fatal("cluster role aggregation did not settle")
}

func bind(t *testing.T, env *testenv.Env, ns, user, clusterRole string) {
	t.Helper()
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: user + "-" + clusterRole},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: user}},
	}
	if err := env.Client.Create(t.Context(), rb); err != nil {
		t.Fatal(err)
	}
}

func userClient(t *testing.T, env *testenv.Env, name string) client.Client {
	t.Helper()
	cfg, _ := env.User(name)
	return testenv.NewClient(t, cfg)
}

// sealedSecret is a valid SealedSecret ns/name, sealed to a throw-away key.
func sealedSecret(t *testing.T, ns, name string) *v1alpha1.SealedSecret {
	t.Helper()
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	ss, err := sealed.Seal(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		StringData: map[string]string{"password": "hunter2"},
	}, sealed.SealOptions{Recipients: []*crypto.Recipient{id.Recipient()}})
	if err != nil {
		t.Fatal(err)
	}
	return ss
}
