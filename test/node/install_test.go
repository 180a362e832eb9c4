//go:build node

package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/sealkit/sealkit/internal/webhookcert"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/keysecret"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

const controllerNS = "sealkit-system"

// TestInstallRelease installs the release bundle as a user does: what `make
// release` builds (install.yaml with the image pinned by digest, the image's
// OCI archive, the seal archive), the archive imported into containerd and
// `kubectl apply --server-side -f install.yaml`. Both replicas of the
// Deployment become Ready under Pod Security "restricted" (the namespace's
// label), exactly one holds the leader Lease, and the leader publishes the
// cluster's public keys.
func TestInstallRelease(t *testing.T) {
	ctx := context.Background()
	b := releaseBundle(t)
	if err := kc.ImportArchive(ctx, b.Archive, b.Ref); err != nil {
		t.Fatal(err)
	}
	install := filepath.Join(b.Dist, "install.yaml")
	kubectl(t, "apply", "--server-side", "-f", install)
	t.Cleanup(func() {
		if t.Failed() {
			dumpNamespace(t, controllerNS)
			out, _ := kc.Kubectl("logs", "-n", controllerNS, "-l", "app.kubernetes.io/name=seal-controller", "--tail=30", "--prefix").CombinedOutput()
			t.Logf("controller logs:\n%s", out)
		}
		uninstall(t, install)
	})

	t0 := time.Now()
	kubectl(t, "rollout", "status", "-n", controllerNS, "deployment/seal-controller", "--timeout=4m")
	t.Logf("both replicas Ready %s after apply", time.Since(t0).Round(100*time.Millisecond))

	names := controllerPods(t)
	if len(names) != 2 {
		t.Fatalf("controller Pods %v, want 2", names)
	}
	checkImage(t, b.Ref)
	leader, _ := leaderPods(t)
	t.Logf("leader: %s of %v", leader, names)

	eventually(t, time.Minute, func() error {
		cm, err := kc.Client.CoreV1().ConfigMaps(controllerNS).Get(ctx, keyring.KeyringConfigMap, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if len(cm.Data) == 0 {
			return fmt.Errorf("ConfigMap %s is empty", cm.Name)
		}
		return nil
	})

	t.Run("seal through the webhook in the Pods", testSealThroughWebhook)
	t.Run("eviction respects the PodDisruptionBudget", testEvictionRespectsPDB)
	t.Run("deleting the leader during a backlog of 1,000 SealedSecrets", testLeaderHandover)
}

// testEvictionRespectsPDB: a drain evicts through the Eviction API; with both
// replicas Ready the PodDisruptionBudget allows one eviction and refuses the
// second until the Deployment has replaced the first Pod.
func testEvictionRespectsPDB(t *testing.T) {
	ctx := context.Background()
	eventually(t, time.Minute, func() error {
		pdb, err := kc.Client.PolicyV1().PodDisruptionBudgets(controllerNS).Get(ctx, "seal-controller", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if pdb.Status.ObservedGeneration != pdb.Generation || pdb.Status.DisruptionsAllowed != 1 {
			return fmt.Errorf("PodDisruptionBudget allows %d disruptions, want 1", pdb.Status.DisruptionsAllowed)
		}
		return nil
	})
	pods := controllerPods(t)
	if len(pods) != 2 {
		t.Fatalf("controller Pods %v, want 2", pods)
	}
	evict := func(name string) error {
		return kc.Client.PolicyV1().Evictions(controllerNS).Evict(ctx, &policyv1.Eviction{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: controllerNS},
		})
	}
	if err := evict(pods[0]); err != nil {
		t.Fatalf("evicting the first replica: %v", err)
	}
	err := evict(pods[1])
	if !apierrors.IsTooManyRequests(err) || !strings.Contains(err.Error(), "disruption budget") {
		t.Fatalf("evicting the second replica at once: %v; want 429 naming the disruption budget", err)
	}
	kubectl(t, "rollout", "status", "-n", controllerNS, "deployment/seal-controller", "--timeout=3m")
}

// testSealThroughWebhook: `seal` fetches the keys the Pods published, and
// `seal verify` is answered by the validating webhook in the Pods, which the
// API server reaches at the webhook Service's endpoints with the CA bundle the
// controller injected (a webhook not reached fails open, and verify says so);
// the leader unseals the applied SealedSecret.
func testSealThroughWebhook(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, "seal", nil)
	run := runSeal
	out, err := run("create", "db", "--from-literal=password=canary-node-7", "-n", ns)
	if err != nil {
		t.Fatalf("seal create: %v\n%s", err, out)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "db.yaml")
	if err := os.WriteFile(good, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run("verify", good); err != nil || !strings.Contains(out, "ok "+ns+"/db") {
		t.Fatalf("seal verify of a good SealedSecret: %v\n%s", err, out)
	}
	// The same values under another name: their frames name db, so the
	// webhook refuses them.
	moved := filepath.Join(dir, "other.yaml")
	if err := os.WriteFile(moved, []byte(strings.Replace(out, "name: db", "name: other", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run("verify", moved); err == nil || !strings.Contains(out, "FAIL "+ns+"/other") {
		t.Fatalf("seal verify of values moved to another name: %v, want FAIL\n%s", err, out)
	}
	kubectl(t, "apply", "-f", good)
	eventually(t, time.Minute, func() error {
		s, err := kc.Client.CoreV1().Secrets(ns).Get(ctx, "db", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if string(s.Data["password"]) != "canary-node-7" {
			return fmt.Errorf("secret %s/db has the wrong password", ns)
		}
		return nil
	})

	t.Run("rolling to a new image build keeps keys, Secrets and the webhook certificate", func(t *testing.T) {
		testRollout(t, ns, func() error {
			out, err := run("verify", good)
			if err != nil || !strings.Contains(out, "ok "+ns+"/db") {
				return fmt.Errorf("seal verify after the rollout: %w\n%s", err, out)
			}
			return nil
		})
	})
	t.Run("seal reseal through the webhook after seal keys rotate", func(t *testing.T) {
		testReseal(t, ns, good, run)
	})
}

// testRollout rolls the Deployment to another image build and checks that
// the key Secrets, the webhook serving certificate and the unsealed Secret
// ns/db are the same objects with the same data afterwards, and that verify
// (through the new Pods' webhook) still passes.
func testRollout(t *testing.T, ns string, verify func() error) {
	ctx := context.Background()
	snapshot := func() map[string]string {
		t.Helper()
		state := map[string]string{}
		keys, err := kc.Client.CoreV1().Secrets(controllerNS).List(ctx, metav1.ListOptions{LabelSelector: keysecret.LabelKey + "=" + keysecret.LabelKeyValue})
		if err != nil || len(keys.Items) == 0 {
			t.Fatalf("key Secrets: %v, %d", err, len(keys.Items))
		}
		for _, k := range keys.Items {
			state["key "+k.Name] = fmt.Sprint(k.UID, k.Data)
		}
		for _, ref := range [][2]string{{controllerNS, webhookcert.DefaultSecret}, {ns, "db"}} {
			s, err := kc.Client.CoreV1().Secrets(ref[0]).Get(ctx, ref[1], metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			state[ref[0]+"/"+ref[1]] = fmt.Sprint(s.UID, s.Data)
		}
		return state
	}
	before := snapshot()

	next, archive := buildImage(t, releaseBundle(t).Meta.Version+".2")
	if err := kc.ImportArchive(ctx, archive, next); err != nil {
		t.Fatal(err)
	}
	kubectl(t, "set", "image", "-n", controllerNS, "deployment/seal-controller", "seal-controller="+next)
	kubectl(t, "rollout", "status", "-n", controllerNS, "deployment/seal-controller", "--timeout=4m")
	checkImage(t, next)
	// The new Pods serve the webhook once Ready; verify until one answers.
	eventually(t, time.Minute, verify)
	after := snapshot()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed across the rollout", k)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("%s appeared across the rollout", k)
		}
	}
}

// testReseal: after `seal keys rotate`, `seal reseal` re-seals the file's
// value through the mutating webhook in the Pods (a server-side dry-run
// carrying sealkit.dev/reseal, the API server's real webhook path): the value
// changes, is sealed to the new key (the summary names it; after apply,
// status.keyIDs does), and the applied object still unseals to the same
// plaintext.
func testReseal(t *testing.T, ns, file string, run func(...string) (string, error)) {
	ctx := context.Background()
	out, err := run("keys", "rotate", "--wait=90s")
	m := regexp.MustCompile(`new active key (\S+) \(was (\S+)\)`).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("seal keys rotate: %v\n%s", err, out)
	}
	newID, oldID := m[1], m[2]
	t.Logf("rotated: %s -> %s", oldID, newID)
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	resealed := filepath.Join(t.TempDir(), "db.yaml")
	if err := os.WriteFile(resealed, before, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = run("reseal", resealed)
	if err != nil || !strings.Contains(out, "resealed 1 values in 1 objects, 1 files changed") || !strings.Contains(out, "sealed to "+newID) {
		t.Fatalf("seal reseal: %v; want 1 value re-sealed to %s\n%s", err, newID, out)
	}
	after, err := os.ReadFile(resealed)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := sealedValue(t, before), sealedValue(t, after); a == b || b == "" {
		t.Fatalf("the re-sealed value is unchanged or empty")
	}
	// The rest of the file is as it was.
	if strings.Count(string(after), "\n") != strings.Count(string(before), "\n") {
		t.Errorf("reseal changed more than the value:\n%s", after)
	}

	kubectl(t, "apply", "-f", resealed)
	eventually(t, time.Minute, func() error {
		var ss v1alpha1.SealedSecret
		if err := json.Unmarshal([]byte(kubectl(t, "get", "sealedsecret", "db", "-n", ns, "-o", "json")), &ss); err != nil {
			return err
		}
		c := meta.FindStatusCondition(ss.Status.Conditions, v1alpha1.ConditionReady)
		if ss.Status.ObservedGeneration != ss.Generation || c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != ss.Generation {
			return fmt.Errorf("SealedSecret %s/db generation %d: status %+v", ns, ss.Generation, ss.Status)
		}
		if !slices.Equal(ss.Status.KeyIDs, []string{newID}) {
			return fmt.Errorf("SealedSecret %s/db opened with keys %v, want %s", ns, ss.Status.KeyIDs, newID)
		}
		return nil
	})
	s, err := kc.Client.CoreV1().Secrets(ns).Get(ctx, "db", metav1.GetOptions{})
	if err != nil || string(s.Data["password"]) != "canary-node-7" {
		t.Fatalf("Secret %s/db after the re-sealed apply: %v (password changed: %t)", ns, err, err == nil)
	}
	if out, err := run("verify", resealed); err != nil || !strings.Contains(out, "ok "+ns+"/db") {
		t.Errorf("seal verify of the re-sealed file: %v\n%s", err, out)
	}
}

// sealedValue is the sealed password of a SealedSecret manifest.
func sealedValue(t *testing.T, manifest []byte) string {
	t.Helper()
	var ss v1alpha1.SealedSecret
	if err := yaml.Unmarshal(manifest, &ss); err != nil {
		t.Fatal(err)
	}
	return ss.Spec.EncryptedData["password"]
}

// runSeal runs the released seal binary against the cluster and returns its
// stdout, followed by its stderr when it fails.
func runSeal(args ...string) (string, error) {
	cmd := exec.Command(theBundle.Seal, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kc.Kubeconfig)
	out, err := cmd.Output()
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		return string(out) + string(ee.Stderr), err
	}
	return string(out), err
}

// uninstall deletes what install.yaml installed and waits until the
// namespace and the CRD are gone, so that the next install starts afresh.
func uninstall(t *testing.T, install string) {
	t.Helper()
	out, err := kc.Kubectl("delete", "-f", install, "--ignore-not-found", "--timeout=3m").CombinedOutput()
	if err != nil {
		t.Errorf("kubectl delete -f install.yaml: %v\n%s", err, out)
	}
}

// checkImage fails unless every live controller Pod runs image.
func checkImage(t *testing.T, image string) {
	t.Helper()
	pods, err := kc.Client.CoreV1().Pods(controllerNS).List(context.Background(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=seal-controller"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && p.Spec.Containers[0].Image != image {
			t.Errorf("Pod %s runs %s, want %s", p.Name, p.Spec.Containers[0].Image, image)
		}
	}
}

func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := kc.Kubectl(args...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// controllerPods names the controller's Pods that are not being deleted.
func controllerPods(t *testing.T) []string {
	t.Helper()
	pods, err := kc.Client.CoreV1().Pods(controllerNS).List(context.Background(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=seal-controller"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			names = append(names, p.Name)
		}
	}
	return names
}
