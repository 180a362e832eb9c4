package keys

import (
	"context"
	"fmt"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/pkg/keysecret"
)

// listKeys reads the key Secrets of namespace through r and resolves them
// with pkg/keysecret.
func listKeys(ctx context.Context, r client.Reader, namespace string) (keysecret.Set, error) {
	var list corev1.SecretList
	if err := r.List(ctx, &list, keysecret.ListOptions(namespace)...); err != nil {
		return keysecret.Set{}, fmt.Errorf("listing key secrets in %s: %w", namespace, err)
	}
	return keysecret.ParseAll(list.Items), nil
}

// report logs and counts what loading set found wrong. Invalid Secrets are
// left out, never fatal: one bad import must not stop unsealing with the
// others.
func report(set keysecret.Set, log logr.Logger) {
	for _, err := range set.Invalid {
		log.Error(err, "ignoring invalid key secret")
		keyLoadErrors.Inc()
	}
	for _, d := range set.Duplicates {
		log.Info("key found in two secrets; using the more restrictive state", "duplicate", d)
	}
	if len(set.Demoted) > 0 {
		log.Info("several active keys; the newest is active, the others are treated as retained",
			"active", set.Active().ID, "demoted", set.Demoted)
	}
}
