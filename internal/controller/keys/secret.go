package keys

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
)

// parseKeySecret reads a key Secret. Errors name the Secret, never its data.
func parseKeySecret(s *corev1.Secret) (key, error) {
	raw, ok := s.Data[keyring.KeyDataIdentity]
	if !ok {
		return key{}, fmt.Errorf("key secret %s/%s: no %q data key", s.Namespace, s.Name, keyring.KeyDataIdentity)
	}
	id, err := crypto.ParseIdentity(string(raw))
	if err != nil {
		return key{}, fmt.Errorf("key secret %s/%s: %w", s.Namespace, s.Name, err)
	}
	k := key{
		id:              id.KeyID(),
		identity:        id,
		created:         s.CreationTimestamp.Time,
		secret:          s.Name,
		resourceVersion: s.ResourceVersion,
		rotate:          s.Annotations[keyring.AnnotationRotate],
	}
	if c, ok := s.Annotations[keyring.AnnotationCreated]; ok {
		t, err := time.Parse(time.RFC3339, c)
		if err != nil {
			return key{}, fmt.Errorf("key secret %s/%s: invalid %s annotation %q", s.Namespace, s.Name, keyring.AnnotationCreated, c)
		}
		k.created = t
	}
	switch st := keyring.State(s.Labels[keyring.LabelKeyState]); st {
	case keyring.StateActive, keyring.StateRetained, keyring.StateCompromised, keyring.StateRetired:
		k.labelled = st
	case "":
		// An imported key without a state opens old values but is not
		// sealed to until someone says so.
		k.labelled = keyring.StateRetained
	default:
		return key{}, fmt.Errorf("key secret %s/%s: unknown %s %q", s.Namespace, s.Name, keyring.LabelKeyState, st)
	}
	k.state = k.labelled
	return k, nil
}

// parseKeySecrets parses every key Secret; invalid ones are logged and left
// out, never fatal: one bad import must not stop unsealing with the others.
// The same key in two Secrets counts once, in its least usable state.
func parseKeySecrets(log logr.Logger, secrets []corev1.Secret) []key {
	byID := map[crypto.KeyID]int{}
	var keys []key
	for i := range secrets {
		k, err := parseKeySecret(&secrets[i])
		if err != nil {
			log.Error(err, "ignoring invalid key secret")
			keyLoadErrors.Inc()
			continue
		}
		if j, dup := byID[k.id]; dup {
			log.Info("key found in two secrets; using the more restrictive state",
				"keyID", k.id, "secrets", []string{keys[j].secret, k.secret})
			if stateRank(k.labelled) > stateRank(keys[j].labelled) {
				keys[j] = k
			}
			continue
		}
		byID[k.id] = len(keys)
		keys = append(keys, k)
	}
	return resolveStates(log, keys)
}

// stateRank orders states from most to least usable.
func stateRank(s keyring.State) int {
	return slices.Index([]keyring.State{keyring.StateActive, keyring.StateRetained, keyring.StateCompromised, keyring.StateRetired}, s)
}

// resolveStates sorts keys newest first and, should several be labelled
// active (a restore, or a rotation caught halfway), keeps the newest active
// and treats the others as retained. The key manager relabels them.
func resolveStates(log logr.Logger, keys []key) []key {
	slices.SortFunc(keys, func(a, b key) int {
		if c := b.created.Compare(a.created); c != 0 {
			return c
		}
		return cmp.Compare(b.secret, a.secret)
	})
	var active []string
	for i := range keys {
		keys[i].state = keys[i].labelled
		if keys[i].labelled != keyring.StateActive {
			continue
		}
		active = append(active, string(keys[i].id))
		if len(active) > 1 {
			keys[i].state = keyring.StateRetained
		}
	}
	if len(active) > 1 {
		log.Info("several active keys; the newest is active, the others are treated as retained",
			"active", active[0], "demoted", strings.Join(active[1:], ","))
	}
	return keys
}

// newKeySecret returns the Secret for a freshly generated active key. Its
// data is immutable: a key's material never changes, only its labels.
func newKeySecret(namespace string, id *crypto.Identity, created time.Time) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      keyring.KeySecretPrefix + string(id.KeyID()),
			Namespace: namespace,
			Labels:    map[string]string{keyring.LabelKey: "true", keyring.LabelKeyState: string(keyring.StateActive)},
			Annotations: map[string]string{
				keyring.AnnotationKeyID:   string(id.KeyID()),
				keyring.AnnotationCreated: created.UTC().Format(time.RFC3339Nano),
			},
		},
		Type:      corev1.SecretTypeOpaque,
		Immutable: ptr.To(true),
		Data:      map[string][]byte{keyring.KeyDataIdentity: []byte(id.String() + "\n")},
	}
}
