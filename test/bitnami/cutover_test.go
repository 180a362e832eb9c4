package bitnami

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/kubeseal"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/bitnami"
	"github.com/sealkit/sealkit/pkg/migrate"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// TestCutOver hands running Secrets over from Bitnami's real controller to
// seal-controller with the real garbage collector (kube-controller-manager)
// doing what it does on an orphan deletion: each Secret a migrated Bitnami
// SealedSecret controlled is adopted by the sealkit SealedSecret of the
// same name, keeping its UID and data, and is never deleted, not even for a
// moment. Secrets that do not belong to migrated objects are never touched:
// one still controlled by a Bitnami SealedSecret that was not migrated, and
// one that a Bitnami SealedSecret of its name does not control.
func TestCutOver(t *testing.T) {
	env := testenv.Shared(t)
	ctx := context.Background()
	startController(t, env)
	startGarbageCollector(t, env)
	recipients := startSealkit(t, env, env.Namespace(t))

	keys, cert := bitnamiKeys(t, env)
	ns := env.Namespace(t)
	// A Secret nobody controls, which a Bitnami SealedSecret "decoy" then
	// claims: Bitnami's controller refuses to manage it.
	decoy := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "decoy", Namespace: ns}, StringData: map[string]string{"own": "data"}}
	if err := env.Client.Create(ctx, decoy); err != nil {
		t.Fatal(err)
	}
	input := kubeseal.SampleSecrets(ns) + "---\n" + secret(ns, "untouched", "k", "v") + "---\n" + secret(ns, "decoy", "k", "v")
	manifest := kubeseal.Seal(t, cert, []byte(input))
	kubectl(t, env, manifest, "apply", "-f", "-")
	made := map[string]corev1.Secret{}
	for _, name := range []string{"db", "api", "registry", "untouched"} {
		var s corev1.Secret
		testenv.Eventually(t, "bitnami's controller to make secret "+name, func() bool {
			return env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &s) == nil && metav1.GetControllerOf(&s) != nil
		})
		made[name] = s
	}
	deleted := watchDeletions(t, env, ns)

	// The migrated SealedSecrets go in first: each waits, in conflict,
	// while a Bitnami SealedSecret controls its Secret.
	docs, err := sealed.ReadManifests(bytes.NewReader(manifest), "sealed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		b, err := bitnami.Decode(d)
		if err != nil {
			t.Fatal(err)
		}
		if b.Name == "untouched" {
			continue
		}
		res, err := migrate.FromBitnami(b, keys, recipients)
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Client.Create(ctx, res.SealedSecret); err != nil {
			t.Fatal(err)
		}
	}
	var db v1alpha1.SealedSecret
	testenv.Eventually(t, "seal-controller to report the conflict", func() bool {
		return env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "db"}, &db) == nil && ready(&db) == v1alpha1.ReasonSecretConflict
	})
	if msg := readyMessage(&db); !strings.Contains(msg, "seal migrate --cut-over") {
		t.Errorf("conflict message does not name the cut-over: %q", msg)
	}

	// HandOver for two; the documented kubectl commands for the third.
	for _, name := range []string{"db", "api"} {
		if out, err := migrate.HandOver(ctx, env.Client, ns, name, migrate.HandOverOptions{Wait: 2 * time.Minute}); err != nil || out != migrate.HandedOver {
			t.Fatalf("HandOver %s: %s, %v", name, out, err)
		}
	}
	kubectl(t, env, nil, "annotate", "secret", "-n", ns, "registry", v1alpha1.AnnotationManaged+"=true")
	kubectl(t, env, nil, "delete", "sealedsecrets.bitnami.com", "-n", ns, "registry", "--cascade=orphan")
	// The decoy is refused, and nothing of it changes.
	if out, err := migrate.HandOver(ctx, env.Client, ns, "decoy", migrate.HandOverOptions{}); err == nil || !strings.Contains(err.Error(), "not controlled by the Bitnami SealedSecret") {
		t.Errorf("decoy: %s, %v", out, err)
	}

	for _, name := range []string{"db", "api", "registry"} {
		var s corev1.Secret
		testenv.EventuallyWithin(t, 2*time.Minute, "seal-controller to adopt secret "+name, func() bool {
			if env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &s) != nil {
				return false
			}
			ref := metav1.GetControllerOf(&s)
			return ref != nil && ref.APIVersion == v1alpha1.GroupVersion.String()
		})
		if s.UID != made[name].UID || !maps.EqualFunc(s.Data, made[name].Data, bytes.Equal) || s.Labels[v1alpha1.LabelManagedBy] == "" {
			t.Errorf("secret %s: uid %s (was %s), data equal %v, labels %v", name, s.UID, made[name].UID,
				maps.EqualFunc(s.Data, made[name].Data, bytes.Equal), s.Labels)
		}
		if len(s.OwnerReferences) != 1 {
			t.Errorf("secret %s: owners %v", name, s.OwnerReferences)
		}
	}
	var untouched, decoyNow corev1.Secret
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "untouched"}, &untouched); err != nil {
		t.Fatal(err)
	}
	if ref := metav1.GetControllerOf(&untouched); ref == nil || ref.APIVersion != "bitnami.com/v1alpha1" || untouched.Annotations[v1alpha1.AnnotationManaged] != "" {
		t.Errorf("untouched: controller %v, annotations %v", ref, untouched.Annotations)
	}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "decoy"}, &decoyNow); err != nil {
		t.Fatal(err)
	}
	if decoyNow.ResourceVersion != decoy.ResourceVersion || decoyNow.Annotations[v1alpha1.AnnotationManaged] != "" || string(decoyNow.Data["own"]) != "data" {
		t.Errorf("decoy changed: %v %v", decoyNow.Annotations, decoyNow.Data)
	}
	b := &unstructured.Unstructured{}
	b.SetGroupVersionKind(migrate.BitnamiGVK)
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "decoy"}, b); err != nil {
		t.Errorf("the decoy's Bitnami SealedSecret was deleted: %v", err)
	}
	if d := deleted(); len(d) > 0 {
		t.Errorf("secrets deleted during the cut-over: %v", d)
	}
}

// bitnamiKeys are the keys of Bitnami's controller, exported as users back
// them up, and the certificate kubeseal seals to.
func bitnamiKeys(t *testing.T, env *testenv.Env) ([]*bitnami.PrivateKey, string) {
	t.Helper()
	var list corev1.SecretList
	testenv.Eventually(t, "bitnami's controller to make its key", func() bool {
		return env.Client.List(context.Background(), &list, client.InNamespace(controllerNamespace), client.HasLabels{bitnami.LabelSealingKey}) == nil && len(list.Items) > 0
	})
	backup := kubectl(t, env, nil, "get", "secret", "-n", controllerNamespace, "-l", bitnami.LabelSealingKey, "-o", "yaml")
	keys, err := bitnami.ParsePrivateKeys(bytes.NewReader(backup), "backup.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cert := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(cert, list.Items[0].Data[corev1.TLSCertKey], 0o600); err != nil {
		t.Fatal(err)
	}
	return keys, cert
}

// watchDeletions records every Secret deleted in ns from now on.
func watchDeletions(t *testing.T, env *testenv.Env, ns string) func() []string {
	t.Helper()
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	w, err := cs.CoreV1().Secrets(ns).Watch(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var deleted []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			if s, ok := ev.Object.(*corev1.Secret); ok && ev.Type == watch.Deleted {
				mu.Lock()
				deleted = append(deleted, s.Name)
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { w.Stop(); <-done })
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), deleted...)
	}
}

func ready(ss *v1alpha1.SealedSecret) string {
	for _, c := range ss.Status.Conditions {
		if c.Type == v1alpha1.ConditionReady {
			return c.Reason
		}
	}
	return ""
}

func readyMessage(ss *v1alpha1.SealedSecret) string {
	for _, c := range ss.Status.Conditions {
		if c.Type == v1alpha1.ConditionReady {
			return c.Message
		}
	}
	return ""
}

func secret(ns, name, k, v string) string {
	return "apiVersion: v1\nkind: Secret\nmetadata: {name: " + name + ", namespace: " + ns + "}\nstringData: {" + k + ": " + v + "}\n"
}
