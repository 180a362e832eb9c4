package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
)

// keysRotateOptions is `seal keys rotate`: ask seal-controller for a new
// active key now, or mark a key compromised.
type keysRotateOptions struct {
	Streams
	kube        kubeOptions
	compromised string
	wait        time.Duration
	poll        time.Duration
	Now         func() time.Time
}

func newKeysRotateCmd(s Streams) *cobra.Command {
	o := &keysRotateOptions{Streams: s, Now: time.Now, poll: 250 * time.Millisecond}
	cmd := &cobra.Command{
		Use:   "rotate [--compromised ID] [--wait DURATION]",
		Short: "Rotate the active key now, or mark a key compromised",
		Long: `rotate asks seal-controller for a new active key by annotating the active
key Secret (sealkit.dev/rotate); the old key is retained and keeps opening
existing SealedSecrets. With --compromised ID it labels that key
compromised instead: it is never sealed to again, and if it was the active
key the controller rotates at once.

rotate then waits (--wait, 0 to not wait) until the public keyring shows
the new active key and prints it. Re-seal with 'seal reseal' afterwards.
It needs the rights to patch Secrets in the controller namespace.`,
		Example: `  seal keys rotate
  seal keys rotate --compromised 52011f555e885a36`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	cmd.Flags().StringVar(&o.compromised, "compromised", "", "mark key `ID` compromised (rotates at once when it is the active key)")
	cmd.Flags().DurationVar(&o.wait, "wait", 30*time.Second, "how long to wait for the new active key (0: do not wait)")
	o.kube.addFlags(cmd.Flags(), false)
	return cmd
}

// Complete has nothing to resolve.
func (o *keysRotateOptions) Complete(*cobra.Command, []string) error { return nil }

// Validate checks --wait.
func (o *keysRotateOptions) Validate() error {
	if o.wait < 0 {
		return usageErrorf("--wait %s: must not be negative", o.wait)
	}
	return nil
}

// Run patches the key Secret and waits for the keyring to change.
func (o *keysRotateOptions) Run() error {
	ctx, cancel := kubeContext()
	defer cancel()
	set, err := o.kube.keySet(ctx, o.ErrOut)
	if err != nil {
		return err
	}
	active := set.Active()
	target := active
	if o.compromised != "" {
		k, err := findKey(set, o.compromised)
		if err != nil {
			return err
		}
		target = &k
	}
	if target == nil {
		return withHint(fmt.Errorf("no active key in namespace %s", o.kube.controllerNamespace),
			"is seal-controller running? it creates the first key when it starts")
	}
	if o.compromised != "" {
		if err := o.kube.patchKeySecret(ctx, *target, target.StatePatch(keyring.StateCompromised)); err != nil {
			return err
		}
		fmt.Fprintf(o.Out, "key %s marked compromised\n", target.ID)
		if active == nil || target.ID != active.ID {
			return nil // not the active key: no rotation follows
		}
	} else {
		if err := o.kube.patchKeySecret(ctx, *target, target.RotatePatch(o.Now())); err != nil {
			return err
		}
		fmt.Fprintf(o.Out, "rotation of key %s requested\n", target.ID)
	}
	if o.wait == 0 {
		return nil
	}
	id, err := o.waitForNewActive(ctx, active.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "new active key %s (was %s)\n", id, active.ID)
	return nil
}

// waitForNewActive polls the public keyring until its active key is no
// longer old, for at most --wait.
func (o *keysRotateOptions) waitForNewActive(ctx context.Context, old crypto.KeyID) (crypto.KeyID, error) {
	ctx, cancel := context.WithTimeout(ctx, o.wait)
	defer cancel()
	tick := time.NewTicker(o.poll)
	defer tick.Stop()
	for {
		kr, _, err := o.kube.fetchKeyring(ctx)
		if err == nil {
			if id := activeKeyID(kr); id != "" && id != old {
				return id, nil
			}
		}
		select {
		case <-ctx.Done():
			return "", withHint(fmt.Errorf("no new active key in the public keyring after %s", o.wait),
				"is seal-controller running? check its logs, then 'seal keys list'")
		case <-tick.C:
		}
	}
}
