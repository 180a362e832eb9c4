package keysecret_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/keysecret"
)

func TestBackupRoundTripAndRestoreRules(t *testing.T) {
	recovery := identity(t)
	created := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC) // long past the rotation period
	var keys []keysecret.Key
	for _, st := range []keyring.State{keyring.StateActive, keyring.StateRetained, keyring.StateCompromised, keyring.StateRetired} {
		id := identity(t)
		keys = append(keys, keysecret.Key{ID: id.KeyID(), Identity: id, State: st, Created: created, Name: "k-" + string(st)})
	}
	data, err := keysecret.EncryptBackup(keys, []*crypto.Recipient{recovery.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("-----BEGIN AGE ENCRYPTED FILE-----")) || bytes.Contains(data, []byte("SECRET-KEY")) {
		t.Fatalf("backup is not an armored age file, or holds plaintext:\n%.200s", data)
	}
	if _, err := keysecret.DecryptBackup(data, []*crypto.Identity{identity(t)}); err == nil {
		t.Fatal("a backup opened with the wrong identity")
	}
	entries, err := keysecret.DecryptBackup(data, []*crypto.Identity{recovery})
	if err != nil || len(entries) != len(keys) {
		t.Fatalf("DecryptBackup: %d entries, %v", len(entries), err)
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, activate := range []bool{false, true} {
		want := map[keyring.State]keyring.State{
			keyring.StateActive: keyring.StateRetained, keyring.StateRetained: keyring.StateRetained,
			keyring.StateCompromised: keyring.StateCompromised, keyring.StateRetired: keyring.StateRetired,
		}
		if activate {
			want[keyring.StateActive] = keyring.StateActive
		}
		for i, e := range entries {
			s, err := keysecret.Restore("sealkit-system", e, activate, now)
			if err != nil {
				t.Fatal(err)
			}
			k, err := keysecret.Parse(s)
			if err != nil {
				t.Fatal(err)
			}
			if k.ID != keys[i].ID || k.State != want[keys[i].State] {
				t.Errorf("activate=%v: restored %s (%s) as %s, want %s", activate, k.ID, keys[i].State, k.State, want[keys[i].State])
			}
			if !k.Created.Equal(now) || s.Annotations[keysecret.AnnotationBackupCreated] != "2020-01-01T00:00:00Z" {
				t.Errorf("restored key created %s (backup said %q): the backup's time must not drive rotation",
					k.Created, s.Annotations[keysecret.AnnotationBackupCreated])
			}
		}
	}
}

func TestRestoreRefusesMismatchedEntry(t *testing.T) {
	a, b := identity(t), identity(t)
	_, err := keysecret.Restore("ns", keysecret.BackupEntry{KeyID: string(a.KeyID()), Identity: b.String()}, false, time.Now())
	if err == nil || !strings.Contains(err.Error(), string(b.KeyID())) {
		t.Errorf("entry naming another key: %v", err)
	}
	_, err = keysecret.Restore("ns", keysecret.BackupEntry{Identity: "AGE-SECRET-KEY-PQ-1GARBAGE"}, false, time.Now())
	if err == nil || strings.Contains(err.Error(), "GARBAGE") {
		t.Errorf("bad identity: %v", err)
	}
}

func TestDecryptBackupRejectsOtherFiles(t *testing.T) {
	recovery := identity(t)
	notBackup, err := crypto.EncryptFile([]byte("password: AGE-SECRET-KEY-PQ-1SECRETLOOKING\n"), []*crypto.Recipient{recovery.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = keysecret.DecryptBackup(notBackup, []*crypto.Identity{recovery})
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("an age file that is no backup: %v", err)
	}
}
