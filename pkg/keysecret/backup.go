package keysecret

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
)

// MaxBackupSize bounds a decrypted backup: thousands of keys.
const MaxBackupSize = 16 << 20

// BackupEntry is one key in a backup: what it takes to recreate its
// Secret. A backup file is the ASCII-armored age encryption of a YAML list
// of these, so plain `age -d` opens it too.
type BackupEntry struct {
	Name     string `json:"name"`
	KeyID    string `json:"keyID"`
	State    string `json:"state"`
	Created  string `json:"created,omitempty"`
	Identity string `json:"identity"`
}

// EncryptBackup returns the backup of keys, encrypted to recipients: it is
// never written in plaintext.
func EncryptBackup(keys []Key, recipients []*crypto.Recipient) ([]byte, error) {
	if len(keys) == 0 {
		return nil, errors.New("no keys to back up")
	}
	entries := make([]BackupEntry, len(keys))
	for i, k := range keys {
		entries[i] = BackupEntry{Name: k.Name, KeyID: string(k.ID), State: string(k.State),
			Created: k.Created.UTC().Format(time.RFC3339Nano), Identity: k.Identity.String()}
	}
	plain, err := yaml.Marshal(entries)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	return crypto.EncryptFile(plain, recipients)
}

// DecryptBackup decrypts and parses a backup with any of ids.
func DecryptBackup(data []byte, ids []*crypto.Identity) ([]BackupEntry, error) {
	r, err := crypto.DecryptFile(data, ids)
	if err != nil {
		return nil, fmt.Errorf("decrypting: %w", err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, MaxBackupSize+1))
	if err != nil {
		return nil, fmt.Errorf("decrypting: %w", err)
	}
	defer clear(plain)
	if len(plain) > MaxBackupSize {
		return nil, fmt.Errorf("backup exceeds %d bytes", MaxBackupSize)
	}
	var entries []BackupEntry
	if err := yaml.UnmarshalStrict(plain, &entries); err != nil {
		// The YAML error may quote a line of the backup: keep none of it.
		return nil, errors.New("not a sealkit key backup")
	}
	if len(entries) == 0 {
		return nil, errors.New("backup holds no keys")
	}
	return entries, nil
}

// Restore returns the Secret that brings e back into namespace. A backup
// is trusted for key material only: a key active in the backup comes back
// retained unless activate, a compromised or retired key keeps that state,
// and the key's creation time is now (the backup's claim is kept in
// AnnotationBackupCreated, for display): a backup made by anyone holding
// the recovery recipient's public key must never choose what the cluster
// seals to, nor when it rotates.
func Restore(namespace string, e BackupEntry, activate bool, now time.Time) (*corev1.Secret, error) {
	id, err := crypto.ParseIdentity(e.Identity)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", abbreviate(e.KeyID), err)
	}
	if e.KeyID != "" && e.KeyID != string(id.KeyID()) {
		return nil, fmt.Errorf("entry says key %s but holds key %s", abbreviate(e.KeyID), id.KeyID())
	}
	state := keyring.StateRetained
	if e.State != "" {
		st, err := keyring.ParseState(e.State)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", id.KeyID(), err)
		}
		switch {
		case st == keyring.StateActive && activate:
			state = keyring.StateActive
		case st == keyring.StateCompromised || st == keyring.StateRetired:
			state = st
		}
	}
	s := New(namespace, id, now, state)
	if t, err := time.Parse(time.RFC3339, e.Created); err == nil {
		s.Annotations[AnnotationBackupCreated] = t.UTC().Format(time.RFC3339)
	}
	return s, nil
}

// abbreviate bounds what a message repeats of a field read from a file.
func abbreviate(s string) string {
	const limit = 20
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return fmt.Sprintf("%q", strings.ToValidUTF8(s, "?"))
}
