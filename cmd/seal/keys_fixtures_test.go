package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealkit/sealkit/internal/keyfixtures"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
)

// TestKeysSharedFixtures loads each fixture of testdata/keysecrets into the
// API server and checks that `seal keys` reaches the fixture's verdict, as
// the controller's key store does on the same files: backup lists the keys
// with their states and warns once per unreadable Secret, and an incident
// command (rotate --compromised) works in spite of them.
func TestKeysSharedFixtures(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	recovery, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	verdicts := keyfixtures.Verdicts(t)
	for _, file := range keyfixtures.Files(verdicts) {
		t.Run(file, func(t *testing.T) {
			want := verdicts[file]
			ns := env.Namespace(t)
			keyfixtures.Create(t, env, file, ns)
			flags := onlineFlags(env, ns)
			backup := filepath.Join(t.TempDir(), "keys.age")
			_, stderr, code := runSeal(t, args(flags, "keys", "backup", "--recipient", recovery.Recipient().String(), "-w", backup)...)
			if code != 0 {
				t.Fatalf("keys backup: exit %d\n%s", code, stderr)
			}
			listed := make([]string, len(want.Keys))
			for i, k := range want.Keys {
				listed[i] = fmt.Sprintf("%s (%s)", k.ID, k.State)
			}
			if line := fmt.Sprintf("seal: backed up %d keys: %s\n", len(want.Keys), strings.Join(listed, ", ")); !strings.Contains(stderr, line) {
				t.Errorf("keys backup stderr:\n%s\nwant the line %q", stderr, line)
			}
			if n := strings.Count(stderr, "seal: warning: ignoring key secret "); n != want.Invalid {
				t.Errorf("%d warnings about unreadable key Secrets, want %d:\n%s", n, want.Invalid, stderr)
			}
			if strings.Contains(stderr, "SECRET-KEY") {
				t.Errorf("stderr quotes key material:\n%s", stderr)
			}

			var target crypto.KeyID
			for _, k := range want.Keys {
				if k.State == keyring.StateRetained {
					target = k.ID
				}
			}
			if target == "" {
				return
			}
			stdout, stderr, code := runSeal(t, args(flags, "keys", "rotate", "--compromised", string(target), "--wait", "0")...)
			if code != 0 || !strings.Contains(stdout, "key "+string(target)+" marked compromised") {
				t.Errorf("rotate --compromised %s: exit %d\n%s%s", target, code, stdout, stderr)
			}
		})
	}
}
