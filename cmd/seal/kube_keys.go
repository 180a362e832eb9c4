package main

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
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

// keySecret is one key Secret of the controller namespace.
type keySecret struct {
	secret   *corev1.Secret
	identity *crypto.Identity
	id       crypto.KeyID
	state    keyring.State
}

// keySecrets lists the key Secrets (label sealkit.dev/key) of the controller
// namespace, oldest first. Reading them needs the rights of an
// administrator of seal-controller.
func (o *kubeOptions) keySecrets(ctx context.Context) ([]keySecret, error) {
	c, err := o.connect()
	if err != nil {
		return nil, err
	}
	var list corev1.SecretList
	if err := c.List(ctx, &list, client.InNamespace(o.controllerNamespace),
		client.HasLabels{keyring.LabelKey}); err != nil {
		return nil, kubeError(fmt.Errorf("listing key secrets in namespace %s: %w", o.controllerNamespace, err))
	}
	out := make([]keySecret, 0, len(list.Items))
	for i := range list.Items {
		s := &list.Items[i]
		id, err := crypto.ParseIdentity(string(s.Data[keyring.KeyDataIdentity]))
		if err != nil {
			return nil, fmt.Errorf("key secret %s/%s: %w", s.Namespace, s.Name, err)
		}
		state := keyring.State(s.Labels[keyring.LabelKeyState])
		if state == "" {
			state = keyring.StateRetained
		}
		out = append(out, keySecret{secret: s, identity: id, id: id.KeyID(), state: state})
	}
	sort.SliceStable(out, func(i, j int) bool {
		return created(out[i].secret) < created(out[j].secret)
	})
	return out, nil
}

func created(s *corev1.Secret) string {
	if c := s.Annotations[keyring.AnnotationCreated]; c != "" {
		return c
	}
	return s.CreationTimestamp.UTC().Format("2006-01-02T15:04:05Z")
}

// findKey returns the key Secret of id; a unique prefix of the ID will do.
func findKey(keys []keySecret, id string) (keySecret, error) {
	var found []keySecret
	for _, k := range keys {
		if string(k.id) == id {
			return k, nil
		}
		if len(id) >= 4 && strings.HasPrefix(string(k.id), id) {
			found = append(found, k)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		ids := make([]string, len(keys))
		for i, k := range keys {
			ids[i] = string(k.id)
		}
		return keySecret{}, withHint(fmt.Errorf("no key %s among the cluster's keys", id),
			"the keys are: "+joinOr(ids, "none"))
	}
	return keySecret{}, fmt.Errorf("key ID %s is ambiguous: give more of it", id)
}

func joinOr(s []string, none string) string {
	if len(s) == 0 {
		return none
	}
	return strings.Join(s, ", ")
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

// needsKey reports whether ss still needs key id: the controller opened it
// with id (status.keyIDs), or one of its values is sealed to id.
func needsKey(ss *v1alpha1.SealedSecret, id crypto.KeyID) bool {
	if slices.Contains(ss.Status.KeyIDs, string(id)) {
		return true
	}
	for _, v := range ss.Spec.EncryptedData {
		hints, err := crypto.KeyIDs(v)
		if err == nil && slices.Contains(hints, id) {
			return true
		}
	}
	return false
}

// patchKeySecret applies a merge patch to a key Secret.
func (o *kubeOptions) patchKeySecret(ctx context.Context, k keySecret, patch string) error {
	c, err := o.connect()
	if err != nil {
		return err
	}
	if err := c.Patch(ctx, k.secret, client.RawPatch("application/merge-patch+json", []byte(patch))); err != nil {
		return kubeError(fmt.Errorf("updating key secret %s/%s (key %s): %w", k.secret.Namespace, k.secret.Name, k.id, err))
	}
	return nil
}
