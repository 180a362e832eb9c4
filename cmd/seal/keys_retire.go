package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/keysecret"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// retireExamples is how many of the SealedSecrets still needing a key a
// refusal names.
const retireExamples = 5

// keysRetireOptions is `seal keys retire ID`: a key stops opening anything.
type keysRetireOptions struct {
	Streams
	kube  kubeOptions
	force bool
	id    string
}

func newKeysRetireCmd(s Streams) *cobra.Command {
	o := &keysRetireOptions{Streams: s}
	cmd := &cobra.Command{
		Use:   "retire ID [--force]",
		Short: "Retire a key: it no longer opens anything",
		Long: `retire labels key ID retired: seal-controller stops opening values with it.
It is refused while a SealedSecret in the cluster still needs the key (the
controller opened it with the key, status.keyIDs, or one of its values is
sealed to it): re-seal those first ('seal reseal'), or give --force to
retire anyway, leaving them unopenable. The active key cannot be retired;
rotate first.`,
		Example: `  seal keys retire 52011f555e885a36`,
		Args:    exactArgs(1, "one key ID"),
		RunE:    runE(o),
	}
	cmd.Flags().BoolVar(&o.force, "force", false, "retire even though SealedSecrets still need the key")
	o.kube.addFlags(cmd.Flags(), false)
	return cmd
}

// Complete takes the key ID.
func (o *keysRetireOptions) Complete(_ *cobra.Command, args []string) error {
	o.id = args[0]
	return nil
}

// Validate has nothing to check offline.
func (o *keysRetireOptions) Validate() error { return nil }

// Run checks the key is unused, then relabels it.
func (o *keysRetireOptions) Run() error {
	ctx, cancel := kubeContext()
	defer cancel()
	set, err := o.kube.keySet(ctx, o.ErrOut)
	if err != nil {
		return err
	}
	k, err := findKey(set, o.id)
	if err != nil {
		return err
	}
	switch k.State {
	case keyring.StateActive:
		return withHint(fmt.Errorf("key %s is the active key: not retiring it", k.ID),
			"rotate first ('seal keys rotate'), re-seal, then retire the old key")
	case keyring.StateRetired:
		fmt.Fprintf(o.Out, "key %s is already retired\n", k.ID)
		return nil
	}
	var users []string
	err = o.kube.eachSealedSecret(ctx, func(ss *v1alpha1.SealedSecret) {
		if keysecret.NeedsKey(ss, k.ID) {
			users = append(users, ss.Namespace+"/"+ss.Name)
		}
	})
	if err != nil {
		return err
	}
	if len(users) > 0 && !o.force {
		named := users
		if len(named) > retireExamples {
			named = append(named[:retireExamples:retireExamples], "…")
		}
		return withHint(fmt.Errorf("key %s is still needed by %d SealedSecrets (%s): not retiring it",
			k.ID, len(users), strings.Join(named, ", ")),
			"re-seal them to the active key first ('seal reseal PATH'), or give --force to leave them unopenable")
	}
	if err := o.kube.patchKeySecret(ctx, k, k.StatePatch(keyring.StateRetired)); err != nil {
		return err
	}
	if len(users) > 0 {
		fmt.Fprintf(o.ErrOut, "seal: warning: %d SealedSecrets still needed key %s and can no longer be opened\n", len(users), k.ID)
	}
	fmt.Fprintf(o.Out, "key %s retired\n", k.ID)
	return nil
}
