package keys

import (
	"context"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// keyLoader reloads the Store from the cached key Secrets. Whichever key
// Secret an event is about, it reloads all of them: there are few, and the
// states only make sense together (one active key).
type keyLoader struct {
	client    client.Reader
	namespace string
	store     *Store
	log       logr.Logger
}

func (l *keyLoader) Reconcile(ctx context.Context, _ ctrl.Request) (ctrl.Result, error) {
	set, err := listKeys(ctx, l.client, l.namespace)
	if err != nil {
		return ctrl.Result{}, err
	}
	report(set, l.log)
	l.store.set(set.Keys)
	return ctrl.Result{}, nil
}
