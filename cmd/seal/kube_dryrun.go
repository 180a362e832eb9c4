package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
	// The API server hands this request's warnings to the sink.
	sink := &warningSink{}
	ctx = context.WithValue(ctx, warningSinkKey{}, sink)
	if reseal {
		if obj.Annotations == nil {
			obj.Annotations = map[string]string{}
		}
		obj.Annotations[v1alpha1.AnnotationReseal] = "true"
	}
	err = c.Create(ctx, obj, client.DryRunAll)
	if apierrors.IsAlreadyExists(err) {
		var cur v1alpha1.SealedSecret
		if err = c.Get(ctx, client.ObjectKeyFromObject(obj), &cur); err == nil {
			obj.ResourceVersion = cur.ResourceVersion
			err = c.Update(ctx, obj, client.DryRunAll)
		}
	}
	if err != nil {
		return nil, kubeError(admissionError(err))
	}
	// The webhooks fail open (failurePolicy Ignore), so a controller that is
	// down lets the dry-run through untouched: the re-seal marker is still
	// there, and no verification warning came back.
	if _, marked := obj.Annotations[v1alpha1.AnnotationReseal]; reseal && marked {
		return nil, withHint(fmt.Errorf("%s/%s: the controller did not answer the re-seal request", obj.Namespace, obj.Name),
			"check that seal-controller is running and its webhook is reachable, or re-seal offline with -i")
	}
	if !reseal && !sink.has(v1alpha1.WarningVerified) {
		// verify prints it after the object's name.
		return nil, withHint(errNoAnswer,
			"check that seal-controller is running and its webhook is reachable; its webhooks fail open, so the API server admitted the object unchecked")
	}
	return obj, nil
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
