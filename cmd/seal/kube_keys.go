package main

import (
	"bytes"
	"context"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/keysecret"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// fetchKeyring reads the public keyring ConfigMap seal-controller publishes
// and checks that it parses. It returns the parsed keyring and the file as
// published.
func (o *kubeOptions) fetchKeyring(ctx context.Context) (*keyring.Keyring, []byte, error) {
	c, err := o.connect()
	if err != nil {
		return nil, nil, err
	}
	where := o.controllerNamespace + "/" + keyring.KeyringConfigMap
	var cm corev1.ConfigMap
	err = c.Get(ctx, client.ObjectKey{Namespace: o.controllerNamespace, Name: keyring.KeyringConfigMap}, &cm)
	if apierrors.IsNotFound(err) {
		return nil, nil, withHint(fmt.Errorf("configmap %s not found", where),
			"is seal-controller installed and running? give --controller-namespace if it runs elsewhere")
	}
	if err != nil {
		return nil, nil, kubeError(fmt.Errorf("reading configmap %s: %w", where, err))
	}
	data, ok := cm.Data[keyring.KeyringDataKey]
	if !ok {
		return nil, nil, fmt.Errorf("configmap %s has no key %q", where, keyring.KeyringDataKey)
	}
	kr, err := keyring.Parse(bytes.NewReader([]byte(data)))
	if err != nil {
		return nil, nil, fmt.Errorf("configmap %s: keyring: %w", where, err)
	}
	return kr, []byte(data), nil
}

// activeKeyID is the first active key of kr, or "".
func activeKeyID(kr *keyring.Keyring) crypto.KeyID {
	for _, k := range kr.Keys {
		if k.State == keyring.StateActive || k.State == "" {
			return k.ID
		}
	}
	return ""
}

// keySet lists and parses the key Secrets of the controller namespace with
// pkg/keysecret, as seal-controller does. A Secret that cannot be read is
// named in a warning on errOut and left out, never fatal: one bad import
// must not stop `seal keys rotate --compromised` during an incident.
// Reading them needs the rights of an administrator of seal-controller.
func (o *kubeOptions) keySet(ctx context.Context, errOut io.Writer) (keysecret.Set, error) {
	c, err := o.connect()
	if err != nil {
		return keysecret.Set{}, err
	}
	var list corev1.SecretList
	if err := c.List(ctx, &list, keysecret.ListOptions(o.controllerNamespace)...); err != nil {
		return keysecret.Set{}, kubeError(fmt.Errorf("listing key secrets in namespace %s: %w", o.controllerNamespace, err))
	}
	set := keysecret.ParseAll(list.Items)
	for _, err := range set.Invalid {
		fmt.Fprintf(errOut, "seal: warning: ignoring %s\n", oneLine(err.Error()))
	}
	return set, nil
}

// findKey is set.Find with a hint.
func findKey(set keysecret.Set, id string) (keysecret.Key, error) {
	k, err := set.Find(id)
	if err != nil {
		return k, withHint(err, "'seal keys list' shows the cluster's keys")
	}
	return k, nil
}

// eachSealedSecret lists every SealedSecret the caller may list in all
// namespaces, a page at a time.
func (o *kubeOptions) eachSealedSecret(ctx context.Context, fn func(*v1alpha1.SealedSecret)) error {
	c, err := o.connect()
	if err != nil {
		return err
	}
	cont := ""
	for {
		var list v1alpha1.SealedSecretList
		if err := c.List(ctx, &list, client.Limit(500), client.Continue(cont)); err != nil {
			return kubeError(fmt.Errorf("listing sealedsecrets in all namespaces: %w", err))
		}
		for i := range list.Items {
			fn(&list.Items[i])
		}
		cont = list.Continue
		if cont == "" {
			return nil
		}
	}
}

// patchKeySecret applies a merge patch (keysecret.Key.StatePatch or
// RotatePatch) to a key Secret.
func (o *kubeOptions) patchKeySecret(ctx context.Context, k keysecret.Key, patch []byte) error {
	c, err := o.connect()
	if err != nil {
		return err
	}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: k.Namespace, Name: k.Name}}
	if err := c.Patch(ctx, s, client.RawPatch(types.MergePatchType, patch)); err != nil {
		if apierrors.IsConflict(err) {
			return withHint(fmt.Errorf("key secret %s/%s (key %s) changed while seal was looking at it", k.Namespace, k.Name, k.ID),
				"run the command again")
		}
		return kubeError(fmt.Errorf("updating key secret %s/%s (key %s): %w", k.Namespace, k.Name, k.ID, err))
	}
	return nil
}
