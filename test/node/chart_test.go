//go:build node

package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/kube"
	releasev1 "helm.sh/helm/v4/pkg/release/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/keysecret"
)

const crdName = "sealedsecrets.sealkit.dev"

// TestInstallChart installs charts/sealkit with the Helm SDK as docs/install.md
// says (helm install -n sealkit-system --create-namespace, then the Pod
// Security label), the image set to the release's, pinned by digest: both
// replicas become Ready, one leads, the namespace takes the "restricted"
// label without a warning about its Pods, and a SealedSecret made with the
// released seal is unsealed. Helm uninstall then removes the Deployment and
// keeps the CRD (and so the SealedSecret) and the key Secrets, which Helm never
// owned.
func TestInstallChart(t *testing.T) {
	ctx := context.Background()
	b := releaseBundle(t)
	if err := kc.ImportArchive(ctx, b.Archive, b.Ref); err != nil {
		t.Fatal(err)
	}
	repo, digest, _ := strings.Cut(b.Ref, "@")
	repo = repo[:strings.LastIndex(repo, ":")]
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	chart, err := loader.Load(filepath.Join(root, "charts", "sealkit"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := helmConfig(t)
	t.Cleanup(func() {
		if t.Failed() {
			dumpNamespace(t, controllerNS)
		}
		_, _ = action.NewUninstall(cfg).Run("sealkit")
		// What the uninstall keeps, removed so that the next install starts afresh.
		out, err := kc.Kubectl("delete", "crd/"+crdName, "namespace/"+controllerNS, "--ignore-not-found", "--timeout=3m").CombinedOutput()
		if err != nil {
			t.Errorf("deleting the CRD and the namespace: %v\n%s", err, out)
		}
	})

	in := action.NewInstall(cfg)
	in.ReleaseName, in.Namespace, in.CreateNamespace = "sealkit", controllerNS, true
	in.WaitStrategy, in.Timeout = kube.StatusWatcherStrategy, 4*time.Minute
	t0 := time.Now()
	rel, err := in.RunWithContext(ctx, chart, map[string]any{"image": map[string]any{"repository": repo, "digest": digest}})
	if err != nil {
		t.Fatalf("helm install: %v", err)
	}
	if r := rel.(*releasev1.Release); r.Info.Status != "deployed" {
		t.Fatalf("release %s", r.Info.Status)
	}
	t.Logf("helm install, waiting for every object to be ready: %s", time.Since(t0).Round(100*time.Millisecond))
	if out := kubectl(t, "label", "namespace", controllerNS, "pod-security.kubernetes.io/enforce=restricted"); strings.Contains(out, "Warning") {
		t.Errorf("labelling the namespace restricted: %s", out)
	}
	kubectl(t, "rollout", "status", "-n", controllerNS, "deployment/seal-controller", "--timeout=2m")
	checkImage(t, repo+"@"+digest)
	leader, other := leaderPods(t)
	t.Logf("leader %s, other replica %s", leader, other)

	ns := namespace(t, "chart", nil)
	unsealed(t, ns, "api", "canary-chart-3")

	keys, err := kc.Client.CoreV1().Secrets(controllerNS).List(ctx, metav1.ListOptions{LabelSelector: keysecret.LabelKey + "=" + keysecret.LabelKeyValue})
	if err != nil || len(keys.Items) == 0 {
		t.Fatalf("key Secrets: %v, %d", err, len(keys.Items))
	}
	un := action.NewUninstall(cfg)
	un.WaitStrategy, un.Timeout = kube.StatusWatcherStrategy, 3*time.Minute
	if _, err := un.Run("sealkit"); err != nil {
		t.Fatalf("helm uninstall: %v", err)
	}
	if _, err := kc.Client.AppsV1().Deployments(controllerNS).Get(ctx, "seal-controller", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the Deployment after helm uninstall: %v, want not found", err)
	}
	eventually(t, 2*time.Minute, func() error {
		if pods := controllerPods(t); len(pods) > 0 {
			return fmt.Errorf("controller Pods %v still run", pods)
		}
		return nil
	})
	out := kubectl(t, "get", "crd", crdName, "-o", "jsonpath={.metadata.deletionTimestamp}")
	if out != "" {
		t.Errorf("the CRD is being deleted (%s)", out)
	}
	kubectl(t, "get", "sealedsecret", "api", "-n", ns)
	for _, k := range keys.Items {
		s, err := kc.Client.CoreV1().Secrets(controllerNS).Get(ctx, k.Name, metav1.GetOptions{})
		if err != nil || s.UID != k.UID {
			t.Errorf("key Secret %s after helm uninstall: %v", k.Name, err)
		}
	}
}

// helmConfig is what `helm --kubeconfig K -n sealkit-system` sets up:
// releases stored as Secrets.
func helmConfig(t *testing.T) *action.Configuration {
	t.Helper()
	flags := genericclioptions.NewConfigFlags(false)
	kcfg, ns := kc.Kubeconfig, controllerNS
	flags.KubeConfig, flags.Namespace = &kcfg, &ns
	cfg := action.NewConfiguration()
	if err := cfg.Init(flags, controllerNS, "secret"); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// unsealed seals value as the Secret ns/name with the released seal and
// the keys the controller published, applies it, and waits for the Secret.
func unsealed(t *testing.T, ns, name, value string) {
	t.Helper()
	out, err := runSeal("create", name, "--from-literal=password="+value, "-n", ns)
	if err != nil {
		t.Fatalf("seal create: %v\n%s", err, out)
	}
	file := filepath.Join(t.TempDir(), name+".yaml")
	if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	kubectl(t, "apply", "-f", file)
	eventually(t, time.Minute, func() error {
		s, err := kc.Client.CoreV1().Secrets(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if string(s.Data["password"]) != value {
			return fmt.Errorf("secret %s/%s has the wrong password", ns, name)
		}
		return nil
	})
}
