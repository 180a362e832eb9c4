package keys

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/controller/ctrltest"
	kscheme "github.com/sealkit/sealkit/internal/scheme"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/keysecret"
)

func counterValue(t *testing.T, c interface{ Write(*dto.Metric) error }) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// TestManifestsKeysRBAC applies manifests/ to the API server, runs the key
// machinery as the controller's ServiceAccount (so with exactly the generated
// RBAC), checks what an ordinary user may read, then takes a permission away.
func TestManifestsKeysRBAC(t *testing.T) {
	env := testenv.Shared(t)
	ctx := context.Background()
	ctrltest.ApplyManifests(t, env)

	var d appsv1.Deployment
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ctrltest.Namespace, Name: "seal-controller"}, &d); err != nil {
		t.Fatal(err)
	}
	c := d.Spec.Template.Spec.Containers[0]
	if *d.Spec.Replicas != 2 || d.Spec.Template.Spec.ServiceAccountName != "seal-controller" ||
		!*c.SecurityContext.ReadOnlyRootFilesystem || c.SecurityContext.Capabilities.Drop[0] != "ALL" {
		t.Errorf("deployment not as specified: %+v", d.Spec)
	}

	cfg, _ := env.User(ctrltest.User, "system:serviceaccounts", "system:serviceaccounts:"+ctrltest.Namespace)
	kc := startKeys(t, env, ctrltest.Namespace, keysOpts{cfg: cfg, leaderElection: true})
	testenv.Eventually(t, "an active key, as the ServiceAccount", func() bool { return kc.store.Active() != nil })
	first := activeID(kc.store)
	testenv.Eventually(t, "the published keyring", func() bool {
		return published(t, env, ctrltest.Namespace)[first] == keyring.StateActive
	})

	t.Run("authenticated user reads the keyring and nothing else", func(t *testing.T) {
		other := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ctrltest.Namespace, Name: "other"}}
		if err := env.Client.Create(ctx, other); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		userCfg, _ := env.User("alice")
		alice, err := client.New(userCfg, client.Options{Scheme: env.Client.Scheme()})
		if err != nil {
			t.Fatal(err)
		}
		var cm corev1.ConfigMap
		if err := alice.Get(ctx, client.ObjectKey{Namespace: ctrltest.Namespace, Name: keyring.KeyringConfigMap}, &cm); err != nil {
			t.Fatalf("getting the keyring as an authenticated user: %v", err)
		}
		denied := map[string]error{
			"get another configmap": alice.Get(ctx, client.ObjectKeyFromObject(other), &corev1.ConfigMap{}),
			"list configmaps":       alice.List(ctx, &corev1.ConfigMapList{}, client.InNamespace(ctrltest.Namespace)),
			"list secrets":          alice.List(ctx, &corev1.SecretList{}, client.InNamespace(ctrltest.Namespace)),
			"get a key secret": alice.Get(ctx, client.ObjectKey{Namespace: ctrltest.Namespace,
				Name: keysecret.NamePrefix + string(first)}, &corev1.Secret{}),
		}
		for what, err := range denied {
			if !apierrors.IsForbidden(err) {
				t.Errorf("%s: %v, want forbidden", what, err)
			}
		}
	})

	t.Run("a removed permission fails visibly", func(t *testing.T) {
		var role rbacv1.Role
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ctrltest.Namespace, Name: "seal-controller"}, &role); err != nil {
			t.Fatal(err)
		}
		n := len(role.Rules)
		role.Rules = slices.DeleteFunc(role.Rules, func(r rbacv1.PolicyRule) bool {
			return slices.Contains(r.ResourceNames, keyring.KeyringConfigMap)
		})
		if len(role.Rules) != n-1 {
			t.Fatalf("generated Role has no rule for the keyring ConfigMap: %+v", role.Rules)
		}
		if err := env.Client.Update(ctx, &role); err != nil {
			t.Fatal(err)
		}
		errorsBefore := counterValue(t, keyManagerErrors)

		ctrltest.PatchKey(t, env, ctrltest.Namespace, first, fmt.Sprintf(`{"metadata":{"annotations":{%q:"1"}}}`, keysecret.AnnotationRotate))
		testenv.Eventually(t, "the rotation", func() bool { a := activeID(kc.store); return a != "" && a != first })
		second := activeID(kc.store)
		testenv.Eventually(t, "the publishing error logged and counted", func() bool {
			return kc.logs.contains("is forbidden") && counterValue(t, keyManagerErrors) > errorsBefore
		})
		if published(t, env, ctrltest.Namespace)[second] != "" {
			t.Fatal("keyring updated without the permission")
		}

		ctrltest.ApplyManifests(t, env) // restores the Role
		testenv.Eventually(t, "the keyring published once permitted again", func() bool {
			p := published(t, env, ctrltest.Namespace)
			return p[second] == keyring.StateActive && p[first] == keyring.StateRetained
		})
	})
}

// TestManifestsDecodeStrictly decodes every object of manifests/ (but the
// generated CRD) as its typed Go object, rejecting unknown or duplicate
// fields: a check that needs no API server. The apply test above is the real one.
func TestManifestsDecodeStrictly(t *testing.T) {
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	scheme, err := kscheme.New()
	if err != nil {
		t.Fatal(err)
	}
	ser := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme, kjson.SerializerOptions{Yaml: true, Strict: true})
	files, _ := filepath.Glob(filepath.Join(root, "manifests", "*.yaml"))
	more, _ := filepath.Glob(filepath.Join(root, "manifests", "rbac", "*.yaml"))
	kinds := map[string]bool{}
	for _, f := range append(files, more...) {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for doc := range strings.SplitSeq(string(b), "\n---\n") {
			if strings.TrimSpace(strings.TrimPrefix(doc, "---")) == "" {
				continue
			}
			_, gvk, err := ser.Decode([]byte(doc), nil, nil)
			if err != nil {
				t.Errorf("%s: %v", f, err)
				continue
			}
			kinds[gvk.Kind] = true
		}
	}
	for _, k := range []string{"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Deployment", "Service", "NetworkPolicy"} {
		if !kinds[k] {
			t.Errorf("no %s in manifests/", k)
		}
	}
}
