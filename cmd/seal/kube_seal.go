package main

import (
	"fmt"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/sealkit/sealkit/pkg/crypto"
)

// fetchRecipients returns a function fetching the active keys of the
// cluster's public keyring, for sealing with neither --keys nor --recipient
// nor a .sealkit.yaml rule giving keys. ruleContext is the kube context a
// .sealkit.yaml rule names; --context wins over it. Without any kubeconfig
// it adds nothing, and sealing fails as offline with nothing to seal to.
func (o *kubeOptions) fetchRecipients(ruleContext string) func() ([]*crypto.Recipient, error) {
	return func() ([]*crypto.Recipient, error) {
		if o.context == "" {
			o.context = ruleContext
		}
		if _, err := o.loader().ClientConfig(); clientcmd.IsEmptyConfig(err) {
			return nil, nil // no kubeconfig at all: offline, as before
		}
		ctx, cancel := kubeContext()
		defer cancel()
		kr, _, err := o.fetchKeyring(ctx)
		if err != nil {
			return nil, withHint(fmt.Errorf("no --keys or --recipient given, and fetching the cluster's keys failed: %w", err),
				"give --keys FILE (a public keyring, 'seal keys fetch' writes one) or --recipient age1pq1…, or check --kubeconfig/--context")
		}
		rs, err := kr.SealingRecipients()
		if err != nil {
			return nil, fmt.Errorf("the cluster's public keyring: %w", err)
		}
		if len(rs) == 0 {
			return nil, fmt.Errorf("the cluster's public keyring has no active key")
		}
		return rs, nil
	}
}
