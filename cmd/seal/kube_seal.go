package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/sealkit/sealkit/pkg/keyring"
)

// fetchForSealing reads the cluster's public keyring, for sealing with
// neither --keys nor --recipient nor a .sealkit.yaml rule giving keys, and
// says on stderr which cluster it came from: sealing to the wrong
// cluster's keys makes values nobody can open.
func (o *kubeOptions) fetchForSealing(errOut io.Writer) (loadedKeyring, error) {
	ctx, cancel := kubeContext()
	defer cancel()
	kr, _, err := o.fetchKeyring(ctx)
	var ce *cliError
	if errors.As(err, &ce) && ce.code == ExitUsage {
		return loadedKeyring{}, withHint(usageErrorf("no recipients: no --keys or --recipient given, and no kubeconfig to fetch the cluster's keys with"),
			"give --keys FILE (a public keyring) or --recipient age1pq1…, or --kubeconfig FILE to seal to the cluster's keys")
	}
	if err != nil {
		return loadedKeyring{}, withHint(fmt.Errorf("no --keys or --recipient given, and fetching the cluster's keys failed: %w", err),
			"give --keys FILE (a public keyring, 'seal keys fetch' writes one) or --recipient age1pq1…, or check --kubeconfig/--context")
	}
	where := fmt.Sprintf("%s, configmap %s/%s", o.describe(), o.controllerNamespace, keyring.KeyringConfigMap)
	fmt.Fprintf(errOut, "seal: sealing to the keys of %s\n", where)
	return loadedKeyring{keyringRef{origin: "the cluster's keyring: " + where}, kr}, nil
}
