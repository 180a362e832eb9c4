package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// dryRun sends ss to the API server as a server-side dry-run create, or, if
// an object of that name exists, a dry-run update of it: the admission
// webhooks of seal-controller see it exactly as a real apply, and RBAC
// decides whether the caller may. With reseal, the request carries the
// re-seal marker and the returned object holds the re-sealed values.
// Nothing is stored.
func (o *kubeOptions) dryRun(ctx context.Context, ss *v1alpha1.SealedSecret, reseal bool) (*v1alpha1.SealedSecret, error) {
	if reseal {
		return o.dryRunMarked(ctx, ss, v1alpha1.AnnotationReseal, "true")
	}
	return o.dryRunMarked(ctx, ss, "", "")
}

// dryRunMarked is dryRun with the request marked by annotation marker set
// to value (none for ""): the re-seal or the migrate marker, which
// seal-controller's mutating webhook acts on and removes.
func (o *kubeOptions) dryRunMarked(ctx context.Context, ss *v1alpha1.SealedSecret, marker, value string) (*v1alpha1.SealedSecret, error) {
	reseal := marker != ""
	c, err := o.connect()
	if err != nil {
		return nil, err
	}
	obj := &v1alpha1.SealedSecret{
		TypeMeta:   ss.TypeMeta,
		ObjectMeta: *ss.ObjectMeta.DeepCopy(),
		Spec:       *ss.Spec.DeepCopy(),
	}
	obj.ResourceVersion, obj.UID = "", ""
	if obj.Namespace == "" {
		obj.Namespace = o.defaultNS
	}
	// The API server hands this request's warnings to the sink: the
	// caller's, if its context has one, so that it can read them too.
	sink, ok := ctx.Value(warningSinkKey{}).(*warningSink)
	if !ok {
		sink = &warningSink{}
		ctx = context.WithValue(ctx, warningSinkKey{}, sink)
	}
	if reseal {
		if obj.Annotations == nil {
			obj.Annotations = map[string]string{}
		}
		obj.Annotations[marker] = value
	}
	if err = o.submit(ctx, c, obj); err != nil {
		return nil, kubeError(admissionError(err))
	}
	// The webhooks fail open (failurePolicy Ignore), so a controller that is
	// down lets the dry-run through untouched: the marker is still there,
	// and no answer came back.
	if reseal && !answered(obj, marker) {
		return nil, withHint(fmt.Errorf("%s/%s: %w the %s request", obj.Namespace, obj.Name, errUnanswered, requestName(marker)),
			"check that seal-controller is running and its webhook is reachable, or re-seal offline with -i")
	}
	if !reseal && !sink.has(v1alpha1.WarningVerified) {
		// verify prints it after the object's name.
		return nil, withHint(errNoAnswer,
			"check that seal-controller is running and its webhook is reachable; its webhooks fail open, so the API server admitted the object unchecked")
	}
	return obj, nil
}

// errUnanswered: a marked dry-run came back unprocessed.
var errUnanswered = errors.New("the controller did not answer")

// answered reports whether the mutating webhook answered a dry-run marked
// with marker: a re-seal answer carries AnnotationResealed (which spares
// it the validating webhook), a migration answer comes back without its
// marker (and is then validated as any SealedSecret).
func answered(obj *v1alpha1.SealedSecret, marker string) bool {
	if marker == v1alpha1.AnnotationReseal {
		_, ok := obj.Annotations[v1alpha1.AnnotationResealed]
		return ok
	}
	_, marked := obj.Annotations[marker]
	return !marked
}

// submit sends obj as a dry-run: an update of the version listed when the
// object exists, else a create, turned into an update of the current
// version when the object turns out to exist (or a stale version into
// a create).
func (o *kubeOptions) submit(ctx context.Context, c client.Client, obj *v1alpha1.SealedSecret) error {
	key := client.ObjectKeyFromObject(obj)
	if rv, ok := o.versions.rv[key]; ok {
		obj.ResourceVersion = rv
		err := c.Update(ctx, obj, client.DryRunAll)
		if !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			return err
		}
		obj.ResourceVersion = ""
	}
	err := c.Create(ctx, obj, client.DryRunAll)
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	var cur v1alpha1.SealedSecret
	if err := c.Get(ctx, key, &cur); err != nil {
		return err
	}
	obj.ResourceVersion = cur.ResourceVersion
	return c.Update(ctx, obj, client.DryRunAll)
}

// errNoAnswer: the API server admitted a verify dry-run that
// seal-controller's webhook did not check.
var errNoAnswer = errors.New("the controller did not answer the verify request")

// warningSinkKey is the context key of a request's warningSink.
type warningSinkKey struct{}

// warningSink collects the warnings of the requests made with its context.
type warningSink struct {
	mu   sync.Mutex
	msgs []string
}

// messages are the warnings received so far.
func (s *warningSink) messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

func (s *warningSink) has(msg string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.msgs, msg)
}

// sinkWarnings is the client's warning handler: it hands each warning to
// the sink of the request's context; warnings of other requests are
// dropped, as they were before (seal logs nothing through client-go).
type sinkWarnings struct{}

func (sinkWarnings) HandleWarningHeaderWithContext(ctx context.Context, _ int, _, text string) {
	if s, ok := ctx.Value(warningSinkKey{}).(*warningSink); ok {
		s.mu.Lock()
		s.msgs = append(s.msgs, text)
		s.mu.Unlock()
	}
}

// deniedPrefix starts the message of a request an admission webhook denied.
const deniedPrefix = "denied the request: "

// admissionError reduces a webhook's denial to the webhook's own message,
// e.g. `data key "password": value is sealed for namespace "shop", not
// "prod"`; other API errors keep their message.
func admissionError(err error) error {
	var se apierrors.APIStatus
	if !errors.As(err, &se) {
		return err
	}
	msg := se.Status().Message
	if i := strings.Index(msg, deniedPrefix); i >= 0 {
		return &deniedError{msg: msg[i+len(deniedPrefix):], err: err}
	}
	if apierrors.IsForbidden(err) {
		return withHint(fmt.Errorf("%s", msg), "verify and re-seal need the right to create SealedSecrets in the namespace")
	}
	return err
}

// deniedError is a webhook's denial.
type deniedError struct {
	msg string
	err error
}

func (e *deniedError) Error() string { return e.msg }
func (e *deniedError) Unwrap() error { return e.err }

// requestName names the request a marker makes, for messages.
func requestName(marker string) string {
	if marker == v1alpha1.AnnotationMigrate {
		return "migrate"
	}
	return "re-seal"
}

// defaultConcurrency is how many dry-runs verify and reseal have under way
// at once: enough to keep a round trip through the webhook from being the
// bound, few enough for the API server's fairness limits (a user's
// requests share a priority level's seats).
const defaultConcurrency = 16

// addConcurrencyFlag adds --concurrency, the bound on dry-runs under way.
func addConcurrencyFlag(fs *pflag.FlagSet, p *int, what string) {
	fs.IntVar(p, "concurrency", defaultConcurrency, fmt.Sprintf("how many objects to %s at once through the API server (`N` dry-runs under way; requests stay within seal's client rate limit)", what))
	markKubeFlag(fs.Lookup("concurrency"))
}

func validateConcurrency(n int) error {
	if n < 1 {
		return usageErrorf("--concurrency %d: want at least 1", n)
	}
	return nil
}

// versions are the resourceVersions of the SealedSecrets that exist in the
// namespaces listed, by namespace/name: a dry-run of an object that exists
// is then one update, rather than a create refused, a get and an update.
type versions struct {
	listed map[string]bool
	rv     map[types.NamespacedName]string
}

// listVersions lists the SealedSecrets' metadata in each namespace, in
// pages. A namespace that cannot be listed (RBAC may allow create but not
// list) is left out: its objects take the create-first path.
func (o *kubeOptions) listVersions(ctx context.Context, namespaces []string) {
	o.versions = versions{listed: map[string]bool{}, rv: map[types.NamespacedName]string{}}
	for _, ns := range namespaces {
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("SealedSecretList"))
		opts := []client.ListOption{client.InNamespace(ns), client.Limit(500)}
		ok := true
		for {
			if err := o.client.List(ctx, list, opts...); err != nil {
				ok = false
				break
			}
			for _, item := range list.Items {
				o.versions.rv[types.NamespacedName{Namespace: ns, Name: item.Name}] = item.ResourceVersion
			}
			if list.Continue == "" {
				break
			}
			opts = []client.ListOption{client.InNamespace(ns), client.Limit(500), client.Continue(list.Continue)}
		}
		if ok {
			o.versions.listed[ns] = true
		}
	}
}

// namespacesOf are the namespaces of the SealedSecrets of files, sorted.
func namespacesOf(files []*manifestFile, defaultNS string) []string {
	seen := map[string]bool{}
	for _, f := range files {
		for _, d := range f.sealed {
			ns := d.obj.Namespace
			if ns == "" {
				ns = defaultNS
			}
			seen[ns] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}
