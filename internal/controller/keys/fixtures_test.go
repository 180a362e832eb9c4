package keys

import (
	"strings"
	"testing"
	"time"

	"github.com/sealkit/sealkit/internal/keyfixtures"
	"github.com/sealkit/sealkit/internal/testenv"
)

// TestKeysSharedFixtures loads each fixture of testdata/keysecrets into the
// API server and checks that the key store reaches the fixture's verdict,
// as pkg/keysecret's and `seal keys`' tests check on the same files.
func TestKeysSharedFixtures(t *testing.T) {
	env := testenv.Shared(t)
	verdicts := keyfixtures.Verdicts(t)
	for _, file := range keyfixtures.Files(verdicts) {
		t.Run(file, func(t *testing.T) {
			want := verdicts[file]
			ns := env.Namespace(t)
			keyfixtures.Create(t, env, file, ns)
			// A period no fixture reaches: the store must show the keys as
			// found, not after a rotation.
			kc := startKeys(t, env, ns, keysOpts{period: 100 * 365 * 24 * time.Hour})
			var got []keyfixtures.Key
			testenv.Eventually(t, "the key store to show "+keyfixtures.Describe(want.Keys), func() bool {
				got = got[:0]
				for _, k := range kc.store.snapshot() {
					got = append(got, keyfixtures.Key{ID: k.ID, State: k.State})
				}
				return keyfixtures.Describe(got) == keyfixtures.Describe(want.Keys)
			})
			if a := activeID(kc.store); a != want.Active() {
				t.Errorf("active %s, want %s", a, want.Active())
			}
			n := strings.Count(kc.logs.String(), "ignoring invalid key secret")
			if want.Invalid > 0 && n == 0 {
				t.Errorf("%d invalid key Secrets and none reported", want.Invalid)
			}
		})
	}
}
