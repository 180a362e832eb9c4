// Package sopsfile decrypts SOPS-encrypted Secret manifests in memory, so
// that they can be sealed with sealkit: the plaintext is never written
// anywhere.
//
// It uses the SOPS Go library (github.com/getsops/sops/v3) itself: the file
// is read by SOPS's own YAML or JSON store, its data key recovered through
// SOPS's key services, every value decrypted and the file's MAC checked, as
// `sops decrypt` does. Age identities given by the caller are tried first,
// from memory; SOPS's own key sources (SOPS_AGE_KEY_FILE, KMS, PGP, Vault,
// ...) after them unless [Options.OnlyIdentities] says otherwise.
//
// Errors name the file and document; they never hold a decrypted value.
package sopsfile

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	sops "github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keyservice"
	jsonstore "github.com/getsops/sops/v3/stores/json"
	yamlstore "github.com/getsops/sops/v3/stores/yaml"
	corev1 "k8s.io/api/core/v1"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
)

// ErrNotEncrypted is returned for a manifest with no SOPS metadata.
var ErrNotEncrypted = errors.New("not encrypted with SOPS: it has no sops metadata")

// Options says how [DecryptSecrets] finds the data key.
type Options struct {
	// Identities are age identities (classic or post-quantum) tried first.
	Identities []*crypto.Identity
	// OnlyIdentities leaves out SOPS's own key sources (its age key file
	// and environment, cloud KMS, PGP, Vault), which are otherwise tried
	// after Identities.
	OnlyIdentities bool
}

// store is the part of a SOPS store this package uses.
type store interface {
	LoadEncryptedFile(in []byte) (sops.Tree, error)
	EmitPlainFile(branches sops.TreeBranches) ([]byte, error)
}

// DecryptSecrets decrypts data, a SOPS-encrypted manifest (YAML, possibly
// several documents, or JSON) named source in errors, and returns the
// Secrets it holds. Every document must be a Secret.
func DecryptSecrets(data []byte, source string, opts Options) ([]*corev1.Secret, error) {
	if len(data) > sealed.MaxManifestSize {
		return nil, fmt.Errorf("%s: input exceeds %d MiB", source, sealed.MaxManifestSize>>20)
	}
	st := storeFor(data)
	tree, err := st.LoadEncryptedFile(data)
	if errors.Is(err, sops.MetadataNotFound) {
		return nil, fmt.Errorf("%s: %w", source, ErrNotEncrypted)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: reading the SOPS file: %s", source, sealed.WithholdQuotes(err.Error()))
	}
	plain, err := decryptTree(&tree, st, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	defer clear(plain)
	return secrets(plain, source)
}

// storeFor picks SOPS's JSON store for a JSON document, else its YAML one.
func storeFor(data []byte) store {
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		return jsonstore.NewStore(&config.JSONStoreConfig{})
	}
	return yamlstore.NewStore(&config.YAMLStoreConfig{})
}

// decryptTree recovers the data key, decrypts the tree in place, checks its
// MAC the way `sops decrypt` does, and returns the plaintext manifest.
func decryptTree(tree *sops.Tree, st store, opts Options) ([]byte, error) {
	services := []keyservice.KeyServiceClient{ageIdentities(opts.Identities)}
	if !opts.OnlyIdentities {
		services = append(services, keyservice.NewLocalClient())
	}
	key, err := tree.Metadata.GetDataKeyWithKeyServices(services, nil)
	if err != nil {
		return nil, fmt.Errorf("no key decrypts the SOPS data key (tried %s): %w", triedSources(opts), err)
	}
	defer clear(key)
	cipher := aes.NewCipher()
	mac, err := tree.Decrypt(key, cipher)
	if err != nil {
		// SOPS's message names the value's path; the value is withheld.
		return nil, errors.New("a value does not decrypt: the file is corrupt or was edited without sops")
	}
	sealedMAC, err := cipher.Decrypt(tree.Metadata.MessageAuthenticationCode, key, tree.Metadata.LastModified.Format(time.RFC3339))
	want, ok := sealedMAC.(string)
	if err != nil || !ok || subtle.ConstantTimeCompare([]byte(want), []byte(mac)) != 1 {
		return nil, errors.New("the file's MAC does not match its content: it was edited without sops")
	}
	plain, err := st.EmitPlainFile(tree.Branches)
	if err != nil {
		return nil, errors.New("writing the decrypted manifest failed")
	}
	return plain, nil
}

func triedSources(opts Options) string {
	tried := fmt.Sprintf("%d age identities", len(opts.Identities))
	if !opts.OnlyIdentities {
		tried += " and SOPS's own key sources"
	}
	return tried
}

// secrets reads the decrypted manifest with sealkit's own reader.
func secrets(plain []byte, source string) ([]*corev1.Secret, error) {
	docs, err := sealed.ReadManifests(bytes.NewReader(plain), source)
	if err != nil {
		return nil, err
	}
	out := make([]*corev1.Secret, 0, len(docs))
	for _, d := range docs {
		s, err := d.Secret()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
