package sopsfile

import (
	"strings"
	"testing"

	"github.com/sealkit/sealkit/internal/sopstest"
	"github.com/sealkit/sealkit/pkg/crypto"
)

// FuzzDecryptSecrets: no input panics SOPS's reader or ours, and no error
// holds the canary.
func FuzzDecryptSecrets(f *testing.F) {
	id := identity(f, false)
	f.Add(sopstest.Encrypt(f, plainYAML, false, id.Recipient().String(), "^(data|stringData)$"))
	f.Add(sopstest.Encrypt(f, `{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "a"}, "stringData": {"t": "`+canary+`"}}`, true, id.Recipient().String(), ""))
	opts := Options{Identities: []*crypto.Identity{id}, OnlyIdentities: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := DecryptSecrets(data, "fuzz", opts)
		if err != nil && strings.Contains(err.Error(), canary) {
			t.Fatalf("error holds the plaintext: %v", err)
		}
	})
}
