package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/sealkit/sealkit/internal/controller/webhooks"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// webhookCalls is how many requests seal-controller's webhook server has
// answered on path, as controller-runtime counts them.
func webhookCalls(t *testing.T, path string) int {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0.0
	for _, f := range families {
		if f.GetName() != "controller_runtime_webhook_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "webhook" && l.GetValue() == path {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return int(n)
}

// callsDuring runs step and returns how many calls each webhook answered
// meanwhile: validating, mutating.
func callsDuring(t *testing.T, step func()) (int, int) {
	t.Helper()
	v0, m0 := webhookCalls(t, webhooks.ValidatePath), webhookCalls(t, webhooks.MutatePath)
	step()
	return webhookCalls(t, webhooks.ValidatePath) - v0, webhookCalls(t, webhooks.MutatePath) - m0
}

// TestWebhooksOnlyWhenNeeded: with manifests/webhook as shipped (failure
// policy Fail here, so that a call that should happen cannot be skipped
// silently), the API server calls the mutating webhook only for re-seal
// dry-runs, and the validating webhook for dry-runs, for requests carrying
// the re-seal marker, and for real writes only in namespaces labelled
// sealkit.dev/validate-on-apply.
func TestWebhooksOnlyWhenNeeded(t *testing.T) {
	env := testenv.New(t, testenv.Options{Webhooks: webhookOptions(t)})
	ctrlNS := newNamespace(t, env, "sealkit-system")
	plain := newNamespace(t, env, "plain")
	checked := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "checked", Labels: map[string]string{"sealkit.dev/validate-on-apply": "true"}}}
	ctx := context.Background()
	if err := env.Client.Create(ctx, checked); err != nil {
		t.Fatal(err)
	}
	startController(t, env, ctrlNS)
	flags := onlineFlags(env, ctrlNS)
	dir := t.TempDir()

	// good opens where it is; bad has a value moved to another data key.
	sealedFor := func(ns, name string) *v1alpha1.SealedSecret {
		writeFile(t, filepath.Join(dir, "in.yaml"), secretYAML(ns, name, "password", "s3cret"))
		out := mustSeal(t, args(flags, "-f", filepath.Join(dir, "in.yaml"))...)
		docs, err := sealed.ReadManifests(strings.NewReader(out), "out")
		if err != nil {
			t.Fatal(err)
		}
		ss, err := docs[0].SealedSecret()
		if err != nil {
			t.Fatal(err)
		}
		return ss
	}
	bad := func(ns string) *v1alpha1.SealedSecret {
		ss := sealedFor(ns, "bad")
		ss.Spec.EncryptedData["pass"] = ss.Spec.EncryptedData["password"]
		delete(ss.Spec.EncryptedData, "password")
		return ss
	}
	writeObj := func(path string, ss *v1alpha1.SealedSecret) {
		var b bytes.Buffer
		if err := sealed.WriteManifests(&b, []runtime.Object{ss}, "yaml"); err != nil {
			t.Fatal(err)
		}
		writeFile(t, path, b.String())
	}

	// A real create in an unlabelled namespace: no webhook is called, not
	// even for a value that does not open (the reconciler reports it).
	v, m := callsDuring(t, func() {
		if err := env.Client.Create(ctx, sealedFor(plain, "good")); err != nil {
			t.Fatal(err)
		}
		if err := env.Client.Create(ctx, bad(plain)); err != nil {
			t.Fatalf("real create of a bad object in %s: %v", plain, err)
		}
	})
	if v != 0 || m != 0 {
		t.Fatalf("real creates: %d validating and %d mutating calls, want none", v, m)
	}

	// In a labelled namespace the real create is validated, and refused.
	v, m = callsDuring(t, func() {
		err := env.Client.Create(ctx, bad(checked.Name))
		if err == nil || !strings.Contains(err.Error(), `data key "pass"`) {
			t.Fatalf("real create of a bad object in %s: %v", checked.Name, err)
		}
	})
	if v != 1 || m != 0 {
		t.Fatalf("real create in a labelled namespace: %d validating and %d mutating calls, want 1 and 0", v, m)
	}

	// seal verify (a dry-run) is validated, in any namespace.
	writeObj(filepath.Join(dir, "bad", "bad.yaml"), bad(plain))
	v, m = callsDuring(t, func() {
		out, _, code := runSeal(t, args(flags, "verify", filepath.Join(dir, "bad"))...)
		if code != ExitError || !strings.HasPrefix(out, `FAIL plain/bad: data key "pass": `) {
			t.Fatalf("verify: exit %d, %q", code, out)
		}
	})
	if v != 1 || m != 0 {
		t.Fatalf("verify: %d validating and %d mutating calls, want 1 and 0", v, m)
	}

	// A real write carrying the re-seal marker is validated, and denied.
	v, m = callsDuring(t, func() {
		var cur v1alpha1.SealedSecret
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: plain, Name: "good"}, &cur); err != nil {
			t.Fatal(err)
		}
		// A patch, not an update: the controller's status writes would
		// make an update of the version read conflict now and then.
		orig := cur.DeepCopy()
		cur.Annotations = map[string]string{v1alpha1.AnnotationReseal: "true"}
		err := env.Client.Patch(ctx, &cur, client.MergeFrom(orig))
		if err == nil || !strings.Contains(err.Error(), "valid only on a server-side dry-run") {
			t.Fatalf("real update with the marker: %v", err)
		}
	})
	if v != 1 || m != 0 {
		t.Fatalf("real write with the marker: %d validating and %d mutating calls, want 1 and 0", v, m)
	}
	// So is one carrying the migrate marker.
	v, m = callsDuring(t, func() {
		var cur v1alpha1.SealedSecret
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: plain, Name: "good"}, &cur); err != nil {
			t.Fatal(err)
		}
		// A patch, not an update: the controller's status writes would
		// make an update of the version read conflict now and then.
		orig := cur.DeepCopy()
		cur.Annotations = map[string]string{v1alpha1.AnnotationMigrate: v1alpha1.MigrateFromBitnami}
		err := env.Client.Patch(ctx, &cur, client.MergeFrom(orig))
		if err == nil || !strings.Contains(err.Error(), "valid only on a server-side dry-run (seal migrate)") {
			t.Fatalf("real update with the migrate marker: %v", err)
		}
	})
	if v != 1 || m != 0 {
		t.Fatalf("real write with the migrate marker: %d validating and %d mutating calls, want 1 and 0", v, m)
	}

	// seal reseal: the dry-run carries the marker: the re-seal webhook is
	// called; the validating one is not, once the re-seal webhook answered
	// (it checked every value itself).
	writeObj(filepath.Join(dir, "good", "good.yaml"), sealedFor(plain, "good"))
	v, m = callsDuring(t, func() {
		mustSeal(t, args(flags, "reseal", filepath.Join(dir, "good"))...)
	})
	if v != 0 || m != 1 {
		t.Fatalf("reseal: %d validating and %d mutating calls, want 0 and 1", v, m)
	}
	// A re-seal of a value moved to another data key is refused by the
	// re-seal webhook itself.
	writeObj(filepath.Join(dir, "bad", "bad.yaml"), bad(plain))
	v, m = callsDuring(t, func() {
		_, errOut, code := runSeal(t, args(flags, "reseal", filepath.Join(dir, "bad"))...)
		if code == 0 || !strings.Contains(errOut, `sealedsecret plain/bad: data key "pass": value is sealed for key "password"`) {
			t.Fatalf("reseal of a moved value: exit %d, %q", code, errOut)
		}
	})
	if v != 0 || m != 1 {
		t.Fatalf("refused reseal: %d validating and %d mutating calls, want 0 and 1", v, m)
	}
	// A dry-run that claims to have been re-sealed is not validated, and so
	// seal verify does not report it verified.
	claimed := bad(plain)
	claimed.Annotations = map[string]string{v1alpha1.AnnotationResealed: "true"}
	writeObj(filepath.Join(dir, "claimed", "bad.yaml"), claimed)
	v, _ = callsDuring(t, func() {
		out, _, code := runSeal(t, args(flags, "verify", filepath.Join(dir, "claimed"))...)
		if code != ExitUsage || !strings.Contains(out, "UNCHECKED plain/bad: the controller did not answer") {
			t.Fatalf("verify of a dry-run claiming a re-seal: exit %d, %q", code, out)
		}
	})
	if v != 0 {
		t.Fatalf("verify of a dry-run claiming a re-seal: %d validating calls", v)
	}
	if _, err := os.Stat(filepath.Join(dir, "good", "good.yaml")); err != nil {
		t.Fatal(err)
	}
}
