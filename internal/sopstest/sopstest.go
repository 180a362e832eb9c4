// Package sopstest encrypts files with the real SOPS library, for tests of
// sealkit's SOPS migration.
package sopstest

import (
	"testing"

	sops "github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/cmd/sops/common"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keyservice"
	jsonstore "github.com/getsops/sops/v3/stores/json"
	yamlstore "github.com/getsops/sops/v3/stores/yaml"
	"github.com/getsops/sops/v3/version"
)

// Encrypt encrypts plain with the real SOPS library, as `sops encrypt
// --age RECIPIENT [--encrypted-regex REGEX]` does.
func Encrypt(t testing.TB, plain string, json bool, recipient, encryptedRegex string) []byte {
	t.Helper()
	var st interface {
		LoadPlainFile([]byte) (sops.TreeBranches, error)
		EmitEncryptedFile(sops.Tree) ([]byte, error)
	} = yamlstore.NewStore(&config.YAMLStoreConfig{})
	if json {
		st = jsonstore.NewStore(&config.JSONStoreConfig{})
	}
	branches, err := st.LoadPlainFile([]byte(plain))
	if err != nil {
		t.Fatal(err)
	}
	mk, err := sopsage.MasterKeyFromRecipient(recipient)
	if err != nil {
		t.Fatal(err)
	}
	tree := sops.Tree{Branches: branches, Metadata: sops.Metadata{
		KeyGroups:      []sops.KeyGroup{{mk}},
		EncryptedRegex: encryptedRegex,
		Version:        version.Version,
	}}
	if encryptedRegex == "" {
		tree.Metadata.UnencryptedSuffix = "_unencrypted" // the CLI's default
	}
	dataKey, errs := tree.GenerateDataKeyWithKeyServices([]keyservice.KeyServiceClient{keyservice.NewLocalClient()})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if err := common.EncryptTree(common.EncryptTreeOpts{DataKey: dataKey, Tree: &tree, Cipher: aes.NewCipher()}); err != nil {
		t.Fatal(err)
	}
	out, err := st.EmitEncryptedFile(tree)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
