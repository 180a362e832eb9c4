package keys

import (
	"context"
	"fmt"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/pkg/keyring"
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
	var list corev1.SecretList
	err := l.client.List(ctx, &list, client.InNamespace(l.namespace), client.MatchingLabels{keyring.LabelKey: "true"})
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("listing key secrets in %s: %w", l.namespace, err)
	}
	keys := parseKeySecrets(l.log, list.Items)
	l.store.set(keys)
	return ctrl.Result{}, nil
}
