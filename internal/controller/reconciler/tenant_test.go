package reconciler

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/sealkit/sealkit/internal/controller/ctrltest"
	"github.com/sealkit/sealkit/internal/controller/policy"
	"github.com/sealkit/sealkit/internal/kubeseal"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/bitnami"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/keysecret"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// These tests take the view of someone who may create SealedSecrets in one
// namespace: each checks a thing they must not be able to do with them.

// readyMessage is the message of ns/name's Ready condition.
func readyMessage(t *testing.T, env *testenv.Env, ns, name string) string {
	t.Helper()
	c := meta.FindStatusCondition(getSS(t, env, ns, name).Status.Conditions, v1alpha1.ConditionReady)
	if c == nil {
		return ""
	}
	return c.Message
}

// unchanged fails the test if the Secret is not exactly before any more.
func unchanged(t *testing.T, env *testenv.Env, before *corev1.Secret) {
	t.Helper()
	after, err := getSecret(env, before.Namespace, before.Name)
	if err != nil || after.UID != before.UID || after.ResourceVersion != before.ResourceVersion {
		t.Fatalf("Secret %s/%s was changed (err %v)", before.Namespace, before.Name, err)
	}
}

// TestAdoptionNeedsOwnerConsent: the SealedSecret's author cannot consent
// for the Secret's owner. sealkit.dev/overwrite on the SealedSecret is no
// longer honoured; sealkit.dev/managed on the Secret is.
func TestAdoptionNeedsOwnerConsent(t *testing.T) {
	env := testenv.Shared(t)
	ctx := context.Background()
	ns := env.Namespace(t)
	c := startController(t, env, ctrlOpts{namespace: env.Namespace(t), watch: []string{ns}})
	create(t, env, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"}, Data: map[string][]byte{"password": []byte("theirs")}})
	theirs, _ := getSecret(env, ns, "db")

	ss := c.sealedSecret(t, ns, "db", map[string]string{"password": "ours"}, v1alpha1.SecretTemplate{Type: corev1.SecretTypeBasicAuth})
	ss.Annotations = map[string]string{v1alpha1.AnnotationOverwrite: "true"}
	create(t, env, ss)
	waitReason(t, env, ns, "db", v1alpha1.ReasonSecretConflict)
	if msg := readyMessage(t, env, ns, "db"); !strings.Contains(msg, `sealkit.dev/managed="true"`) || !strings.Contains(msg, "sealkit.dev/overwrite is no longer honoured") {
		t.Errorf("conflict message %q should say how the owner consents and that the old annotation is ignored", msg)
	}
	unchanged(t, env, theirs)

	// The owner consents: the Secret is adopted, type and all.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		s, err := getSecret(env, ns, "db")
		if err != nil {
			return err
		}
		s.Annotations = map[string]string{v1alpha1.AnnotationManaged: "true"}
		return env.Client.Update(ctx, s)
	}); err != nil {
		t.Fatal(err)
	}
	s := waitData(t, env, ns, "db", "password", "ours")
	if ref := metav1.GetControllerOf(s); ref == nil || ref.UID != getSS(t, env, ns, "db").UID || s.Type != corev1.SecretTypeBasicAuth {
		t.Errorf("adopted Secret: owner %+v, type %s", ref, s.Type)
	}
	waitReason(t, env, ns, "db", v1alpha1.ReasonUnsealed)
}

// TestAnotherControllersSecretNeverTaken: a Secret controlled by another
// controller (here a cert-manager Certificate) is never taken over, even
// carrying the consent annotation, and is never replaced.
func TestAnotherControllersSecretNeverTaken(t *testing.T) {
	env := testenv.Shared(t)
	ns := env.Namespace(t)
	c := startController(t, env, ctrlOpts{namespace: env.Namespace(t), watch: []string{ns}})
	create(t, env, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web-tls",
			Annotations: map[string]string{v1alpha1.AnnotationManaged: "true"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "cert-manager.io/v1", Kind: "Certificate",
				Name: "web", UID: types.UID("c0ffee00-0000-4000-8000-000000000001"), Controller: ptr.To(true)}}},
		Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": []byte("cert"), "tls.key": []byte("key")},
	})
	before, _ := getSecret(env, ns, "web-tls")
	create(t, env, c.sealedSecret(t, ns, "web-tls", map[string]string{"token": "ours"}, v1alpha1.SecretTemplate{}))
	waitReason(t, env, ns, "web-tls", v1alpha1.ReasonSecretConflict)
	if msg := readyMessage(t, env, ns, "web-tls"); !strings.Contains(msg, "controlled by Certificate") {
		t.Errorf("conflict message %q should name the controller", msg)
	}
	unchanged(t, env, before)
}

// TestOnlyAnEarlierSameNameSealedSecretsSecretIsTaken: a SealedSecret
// takes over the Secret an earlier SealedSecret of its name made (test/faults
// TestRecreatedBeforeGarbageCollection), and nothing that merely resembles
// one: a Secret claiming a SealedSecret of another name as its controller,
// or claiming one of this name without the managed-by label seal-controller
// puts on what it makes.
func TestOnlyAnEarlierSameNameSealedSecretsSecretIsTaken(t *testing.T) {
	env := testenv.Shared(t)
	ns := env.Namespace(t)
	c := startController(t, env, ctrlOpts{namespace: env.Namespace(t), watch: []string{ns}})
	claim := func(name, controller string, labels map[string]string) *corev1.Secret {
		create(t, env, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: v1alpha1.GroupVersion.String(), Kind: "SealedSecret",
					Name: controller, UID: types.UID("c0ffee00-0000-4000-8000-000000000002"), Controller: ptr.To(true)}}},
			Data: map[string][]byte{"password": []byte("theirs")},
		})
		s, _ := getSecret(env, ns, name)
		return s
	}
	managed := map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByController}
	otherName := claim("other-name", "someone-else", managed)
	unlabelled := claim("unlabelled", "unlabelled", nil)
	earlier := claim("earlier", "earlier", managed)
	for _, name := range []string{"other-name", "unlabelled", "earlier"} {
		create(t, env, c.sealedSecret(t, ns, name, map[string]string{"password": "ours"}, v1alpha1.SecretTemplate{}))
	}
	waitReason(t, env, ns, "other-name", v1alpha1.ReasonSecretConflict)
	waitReason(t, env, ns, "unlabelled", v1alpha1.ReasonSecretConflict)
	unchanged(t, env, otherName)
	unchanged(t, env, unlabelled)
	s := waitData(t, env, ns, "earlier", "password", "ours")
	if ref := metav1.GetControllerOf(s); ref == nil || ref.UID != getSS(t, env, ns, "earlier").UID || earlier.UID != s.UID {
		t.Errorf("the earlier SealedSecret's Secret: owner %+v, want the new SealedSecret, updated in place", ref)
	}
}

// TestDeletedSealedSecretReadLateTakesNothing: a reconcile working on a
// SealedSecret that has since been deleted and created again (a copy read
// before the delete) must not take the Secret its successor now controls,
// though that Secret is, from the stale copy's view, an earlier same-name
// SealedSecret's.
func TestDeletedSealedSecretReadLateTakesNothing(t *testing.T) {
	env := testenv.Shared(t)
	ctx := context.Background()
	ns := env.Namespace(t)
	c := startController(t, env, ctrlOpts{namespace: env.Namespace(t), watch: []string{ns}})
	create(t, env, c.sealedSecret(t, ns, "db", map[string]string{"password": "first"}, v1alpha1.SecretTemplate{}))
	waitData(t, env, ns, "db", "password", "first")
	stale := getSS(t, env, ns, "db")
	if err := env.Client.Delete(ctx, stale); err != nil {
		t.Fatal(err)
	}
	create(t, env, c.sealedSecret(t, ns, "db", map[string]string{"password": "second"}, v1alpha1.SecretTemplate{}))
	s := waitData(t, env, ns, "db", "password", "second")

	r := &Reconciler{reader: env.Client, opts: Options{Policy: policy.Policy{ControllerNamespace: "elsewhere"}}}
	o := &outcome{ss: stale, secret: s}
	done, err := r.judgeForeign(ctx, o)
	if !done || err != nil || o.reason != "" {
		t.Errorf("judging the successor's Secret for the deleted SealedSecret: done %v, err %v, reason %q; want done, nothing recorded", done, err, o.reason)
	}
}

// TestControllerNamespaceOffLimits: SealedSecrets in the controller's own
// namespace are not unsealed unless the operator allows it, and even then
// never into a key Secret or a name the controller keeps.
func TestControllerNamespaceOffLimits(t *testing.T) {
	env := testenv.Shared(t)
	cns := env.Namespace(t)
	c := startController(t, env, ctrlOpts{namespace: cns})
	active := c.keys.Active()
	keyName := keysecret.NamePrefix + string(active.KeyID())
	key, err := getSecret(env, cns, keyName)
	if err != nil {
		t.Fatal(err)
	}
	create(t, env, c.sealedSecret(t, cns, "app", map[string]string{"v": "1"}, v1alpha1.SecretTemplate{}))
	waitReason(t, env, cns, "app", v1alpha1.ReasonNamespaceNotAllowed)
	if _, err := getSecret(env, cns, "app"); !apierrors.IsNotFound(err) {
		t.Errorf("Secret made in the controller namespace: %v", err)
	}
	c.stop()

	// Imported Bitnami keys (decrypt-only legacy keys) are the controller's
	// too, under their own name or any other.
	rk, _ := kubeseal.KeyPair(t, 2048)
	bk, err := bitnami.KeyFromSecret(kubeseal.KeySecret(t, rk, "sealed-secrets-key", "kube-system", "active"))
	if err != nil {
		t.Fatal(err)
	}
	legacy := keysecret.NewLegacy(cns, bk, time.Now())
	renamed := keysecret.NewLegacy(cns, bk, time.Now())
	renamed.Name = "imported-by-hand"
	for _, s := range []*corev1.Secret{legacy, renamed} {
		if err := env.Client.Create(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}

	// Allowed by the operator: ordinary names work, the controller's own never.
	c = startController(t, env, ctrlOpts{namespace: cns, policy: policy.Policy{AllowControllerNamespace: true, ReservedNames: []string{"webhook-tls"}}})
	waitData(t, env, cns, "app", "v", "1")
	for _, name := range []string{keyName, keysecret.NamePrefix + "0000000000000000", "webhook-tls", legacy.Name, renamed.Name, keysecret.LegacyNamePrefix + "0"} {
		ss := c.sealedSecret(t, cns, name, map[string]string{keysecret.DataIdentity: "AGE-SECRET-KEY-PQ-1ATTACKER"}, v1alpha1.SecretTemplate{
			Metadata: v1alpha1.TemplateMetadata{Labels: map[string]string{"app": "x"}},
		})
		create(t, env, ss)
		waitReason(t, env, cns, name, v1alpha1.ReasonReservedMetadata)
	}
	unchanged(t, env, key)
	for _, s := range []*corev1.Secret{legacy, renamed} {
		unchanged(t, env, s)
	}
	if _, err := getSecret(env, cns, keysecret.NamePrefix+"0000000000000000"); !apierrors.IsNotFound(err) {
		t.Errorf("a Secret named like a key was made: %v", err)
	}
	if got := c.keys.Active(); got == nil || got.KeyID() != active.KeyID() {
		t.Error("the active key changed")
	}
}

// TestReservedTemplateMetadataRefused: a template may not make a Secret
// look like a key or a managed object.
func TestReservedTemplateMetadataRefused(t *testing.T) {
	env := testenv.Shared(t)
	ns := env.Namespace(t)
	c := startController(t, env, ctrlOpts{namespace: env.Namespace(t), watch: []string{ns}})
	for name, md := range map[string]v1alpha1.TemplateMetadata{
		"looks-like-a-key": {Labels: map[string]string{keysecret.LabelKey: "true", keysecret.LabelState: "active"}},
		"forged-hash":      {Annotations: map[string]string{AnnotationSourceHash: "0"}},
		"subdomain":        {Annotations: map[string]string{"team.sealkit.dev/owner": "x"}},
	} {
		create(t, env, c.sealedSecret(t, ns, name, map[string]string{"v": "1"}, v1alpha1.SecretTemplate{Metadata: md}))
		waitReason(t, env, ns, name, v1alpha1.ReasonReservedMetadata)
		if _, err := getSecret(env, ns, name); !apierrors.IsNotFound(err) {
			t.Errorf("%s: Secret made: %v", name, err)
		}
	}
}

// TestCredentialTypesRefused: a template may not mint a credential
// (service-account or bootstrap token) unless the operator allows its type.
func TestCredentialTypesRefused(t *testing.T) {
	env := testenv.Shared(t)
	ns := env.Namespace(t)
	cns := env.Namespace(t)
	c := startController(t, env, ctrlOpts{namespace: cns, watch: []string{ns}})
	saToken := v1alpha1.SecretTemplate{Type: corev1.SecretTypeServiceAccountToken,
		Metadata: v1alpha1.TemplateMetadata{Annotations: map[string]string{corev1.ServiceAccountNameKey: "default"}}}
	create(t, env, c.sealedSecret(t, ns, "sa", map[string]string{"extra": "1"}, saToken))
	create(t, env, c.sealedSecret(t, ns, "boot", map[string]string{"token-id": "abcdef"}, v1alpha1.SecretTemplate{Type: corev1.SecretTypeBootstrapToken}))
	for _, name := range []string{"sa", "boot"} {
		waitReason(t, env, ns, name, v1alpha1.ReasonSecretTypeNotAllowed)
		if _, err := getSecret(env, ns, name); !apierrors.IsNotFound(err) {
			t.Errorf("%s: credential Secret made: %v", name, err)
		}
	}
	c.stop()
	startController(t, env, ctrlOpts{namespace: cns, watch: []string{ns},
		policy: policy.Policy{AllowedTypes: []corev1.SecretType{corev1.SecretTypeServiceAccountToken}}})
	waitData(t, env, ns, "sa", "extra", "1")
	waitReason(t, env, ns, "boot", v1alpha1.ReasonSecretTypeNotAllowed)
}

// TestReplacementRejectedKeepsSecret: a replacement the API server refuses
// (a type change to kubernetes.io/tls without tls.crt) never costs the
// Secret in place, and the status says why.
func TestReplacementRejectedKeepsSecret(t *testing.T) {
	env := testenv.Shared(t)
	ns := env.Namespace(t)
	c := startController(t, env, ctrlOpts{namespace: env.Namespace(t), watch: []string{ns}})
	create(t, env, c.sealedSecret(t, ns, "web", map[string]string{"cert": "pem"}, v1alpha1.SecretTemplate{}))
	before := waitData(t, env, ns, "web", "cert", "pem")
	waitReason(t, env, ns, "web", v1alpha1.ReasonUnsealed)

	updateSS(t, env, ns, "web", func(ss *v1alpha1.SealedSecret) { ss.Spec.Template.Type = corev1.SecretTypeTLS })
	waitReason(t, env, ns, "web", v1alpha1.ReasonSecretRejected)
	if msg := readyMessage(t, env, ns, "web"); !strings.Contains(msg, "replace") || !strings.Contains(msg, "Invalid") {
		t.Errorf("message %q should say the replacement was refused as invalid", msg)
	}
	unchanged(t, env, before)
	if meta.IsStatusConditionTrue(getSS(t, env, ns, "web").Status.Conditions, v1alpha1.ConditionReady) {
		t.Error("Ready although the Secret could not be written")
	}
}

// TestCompromisedKey: values sealed only to a compromised key keep working
// where they were already unsealed (with a warning and a metric), and are
// refused in a SealedSecret that is new or changed.
func TestCompromisedKey(t *testing.T) {
	env := testenv.Shared(t)
	ctx := context.Background()
	ns, cns := env.Namespace(t), env.Namespace(t)
	c := startController(t, env, ctrlOpts{namespace: cns, watch: []string{ns}})
	leaked := c.keys.Active()
	create(t, env, c.sealedSecret(t, ns, "old", map[string]string{"v": "1"}, v1alpha1.SecretTemplate{}))
	create(t, env, c.sealedSecret(t, ns, "kept", map[string]string{"v": "2"}, v1alpha1.SecretTemplate{}))
	old := waitData(t, env, ns, "old", "v", "1")
	kept := waitData(t, env, ns, "kept", "v", "2")
	waitReason(t, env, ns, "old", v1alpha1.ReasonUnsealed)
	waitReason(t, env, ns, "kept", v1alpha1.ReasonUnsealed)

	ctrltest.SetKeyState(t, env, cns, leaked.KeyID(), keyring.StateCompromised)
	testenv.Eventually(t, "a new active key", func() bool { a := c.keys.Active(); return a != nil && a.KeyID() != leaked.KeyID() })
	testenv.Eventually(t, "the KeyCompromised warning", func() bool {
		ss := getSS(t, env, ns, "old")
		return meta.IsStatusConditionTrue(ss.Status.Conditions, v1alpha1.ConditionKeyCompromised) &&
			meta.IsStatusConditionTrue(ss.Status.Conditions, v1alpha1.ConditionReady)
	})
	unchanged(t, env, old)
	testenv.Eventually(t, "the compromised gauge", func() bool { return gauge(t, "sealkit_sealedsecrets_compromised_key") >= 2 })

	// Drift of an unchanged SealedSecret is healed: no outage.
	if err := env.Client.Delete(ctx, kept); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the deleted Secret re-created", func() bool {
		s, err := getSecret(env, ns, "kept")
		return err == nil && s.UID != kept.UID && string(s.Data["v"]) == "2"
	})

	// New, sealed with an outdated keyring naming the leaked key: refused.
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "new"}, Data: map[string][]byte{"v": []byte("3")}}
	fresh, err := sealed.Seal(s, sealed.SealOptions{Scope: crypto.ScopeStrict, Recipients: []*crypto.Recipient{leaked.Recipient()}})
	if err != nil {
		t.Fatal(err)
	}
	create(t, env, fresh)
	waitReason(t, env, ns, "new", v1alpha1.ReasonCompromisedKey)
	if _, err := getSecret(env, ns, "new"); !apierrors.IsNotFound(err) {
		t.Errorf("Secret made from a value sealed to a compromised key: %v", err)
	}

	// Changed: refused too, and the Secret in place stays as it was.
	updateSS(t, env, ns, "old", func(ss *v1alpha1.SealedSecret) {
		ss.Spec.Template.Metadata.Labels = map[string]string{"edited": "yes"}
	})
	waitReason(t, env, ns, "old", v1alpha1.ReasonCompromisedKey)
	unchanged(t, env, old)
}

// TestForgedManagedLabelCachesSummary: anyone may label a Secret
// sealkit.dev/managed-by; the controller's cache then holds a bounded
// summary of it, not its data.
func TestForgedManagedLabelCachesSummary(t *testing.T) {
	env := testenv.Shared(t)
	ns := env.Namespace(t)
	c := startController(t, env, ctrlOpts{namespace: env.Namespace(t), watch: []string{ns}})
	big := strings.Repeat("x", 512<<10)
	create(t, env, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ballast",
			Labels:      map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByController},
			Annotations: map[string]string{"filler": big[:200<<10]}},
		Data: map[string][]byte{"k": []byte(big)},
	})
	var cached corev1.Secret
	testenv.Eventually(t, "the Secret in the cache", func() bool {
		return c.rec.client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "ballast"}, &cached) == nil
	})
	if cached.Data != nil || cached.Annotations["filler"] != "" || len(cached.String()) > 4096 {
		t.Errorf("the cache holds %d bytes of a Secret anyone could label", len(cached.String()))
	}
}

func gauge(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.Metric) > 0 {
			return mf.Metric[0].GetGauge().GetValue()
		}
	}
	return 0
}
