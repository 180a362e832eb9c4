package install

import (
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	releasev1 "helm.sh/helm/v4/pkg/release/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/keysecret"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// helmConfig is what `helm --kubeconfig K -n NS` sets up: the SDK's action
// configuration against a real API server, releases stored as Secrets.
func helmConfig(t *testing.T, env *testenv.Env) *action.Configuration {
	t.Helper()
	flags := genericclioptions.NewConfigFlags(false)
	kcfg, ns := env.Kubeconfig, chartNamespace
	flags.KubeConfig, flags.Namespace = &kcfg, &ns
	cfg := action.NewConfiguration()
	if err := cfg.Init(flags, chartNamespace, "secret"); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestChartInstallUpgradeUninstall installs the chart with the Helm SDK into
// a fresh control plane (no CRD installed beforehand), upgrades it with new
// values, and uninstalls it: the CRD, the SealedSecrets and the controller's
// key Secrets survive the uninstall.
func TestChartInstallUpgradeUninstall(t *testing.T) {
	env := testenv.New(t, testenv.Options{NoCRDs: true})
	ctx := t.Context()
	cfg := helmConfig(t, env)

	in := action.NewInstall(cfg)
	in.ReleaseName, in.Namespace, in.CreateNamespace = "sealkit", chartNamespace, true
	// No kubelet runs here: wait for nothing but hooks (the chart has none).
	in.WaitStrategy, in.Timeout = kube.HookOnlyStrategy, 2*time.Minute
	rel, err := in.RunWithContext(ctx, loadChart(t), nil)
	if err != nil {
		t.Fatalf("helm install: %v", err)
	}
	if r := rel.(*releasev1.Release); r.Info.Status != "deployed" || r.Version != 1 {
		t.Fatalf("release %s revision %d", r.Info.Status, r.Version)
	}

	var dep appsv1.Deployment
	get(t, env, chartNamespace, "seal-controller", &dep)
	if *dep.Spec.Replicas != 2 || dep.Spec.Template.Spec.Containers[0].Image != "ghcr.io/sealkit/seal-controller:"+loadChart(t).Metadata.AppVersion {
		t.Errorf("installed Deployment: %d replicas of %s", *dep.Spec.Replicas, dep.Spec.Template.Spec.Containers[0].Image)
	}
	crd := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "apiextensions.k8s.io/v1", Kind: "CustomResourceDefinition"}}
	get(t, env, "", "sealedsecrets.sealkit.dev", crd)
	get(t, env, "", "sealkit-edit", &rbacv1.ClusterRole{})

	// What the controller and users create: a key Secret and a SealedSecret.
	testenv.Eventually(t, "the CRD to be served", func() bool {
		return env.Client.List(ctx, &v1alpha1.SealedSecretList{}) == nil
	})
	keySecret := keySecret(t)
	ns := env.Namespace(t)
	ss := sealedSecret(t, ns, "db")
	for _, o := range []client.Object{keySecret, ss} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}

	up := action.NewUpgrade(cfg)
	up.Namespace, up.WaitStrategy, up.Timeout = chartNamespace, kube.HookOnlyStrategy, 2*time.Minute
	rel, err = up.RunWithContext(ctx, "sealkit", loadChart(t), map[string]any{
		"replicas":      3,
		"image":         map[string]any{"tag": "v0.1.1"},
		"networkPolicy": map[string]any{"enabled": true},
	})
	if err != nil {
		t.Fatalf("helm upgrade: %v", err)
	}
	if r := rel.(*releasev1.Release); r.Info.Status != "deployed" || r.Version != 2 {
		t.Fatalf("upgraded release %s revision %d", r.Info.Status, r.Version)
	}
	get(t, env, chartNamespace, "seal-controller", &dep)
	if *dep.Spec.Replicas != 3 || dep.Spec.Template.Spec.Containers[0].Image != "ghcr.io/sealkit/seal-controller:v0.1.1" {
		t.Errorf("upgraded Deployment: %d replicas of %s", *dep.Spec.Replicas, dep.Spec.Template.Spec.Containers[0].Image)
	}
	get(t, env, chartNamespace, "seal-controller", &networkingv1.NetworkPolicy{})

	un := action.NewUninstall(cfg)
	un.WaitStrategy, un.Timeout = kube.HookOnlyStrategy, 2*time.Minute
	if _, err := un.Run("sealkit"); err != nil {
		t.Fatalf("helm uninstall: %v", err)
	}
	for _, gone := range []client.Object{
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: chartNamespace, Name: "seal-controller"}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "seal-controller"}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "sealkit-edit"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: chartNamespace, Name: "seal-controller-webhook"}},
	} {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(gone), gone); !apierrors.IsNotFound(err) {
			t.Errorf("%T %s after uninstall: %v", gone, gone.GetName(), err)
		}
	}
	// Kept: the CRD (resource policy keep), hence every SealedSecret, and the
	// keys, which Helm never owned.
	get(t, env, "", "sealedsecrets.sealkit.dev", crd)
	if crd.DeletionTimestamp != nil {
		t.Error("the CRD is being deleted")
	}
	get(t, env, ns, "db", &v1alpha1.SealedSecret{})
	get(t, env, chartNamespace, keySecret.Name, &corev1.Secret{})
}

func get(t *testing.T, env *testenv.Env, ns, name string, obj client.Object) {
	t.Helper()
	if err := env.Client.Get(t.Context(), types.NamespacedName{Namespace: ns, Name: name}, obj); err != nil {
		t.Errorf("%T %s/%s: %v", obj, ns, name, err)
	}
}

// keySecret is a key Secret as the controller stores one.
func keySecret(t *testing.T) *corev1.Secret {
	t.Helper()
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return keysecret.New(chartNamespace, id, time.Now(), keyring.StateActive)
}
