package crypto

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"io"
	"os"
	"strings"
	"testing"
	"testing/cryptotest"

	"filippo.io/age"
)

var update = flag.Bool("update", false, "rewrite testdata/crypto/vectors.json")

const vectorsFile = "../../testdata/crypto/vectors.json"

// vector is one fixed test vector: everything needed to check an
// implementation of docs/format.md, ours or anyone's, without running Seal.
type vector struct {
	Name       string    `json:"name"`
	Seed       uint64    `json:"seed"` // for testing/cryptotest.SetGlobalRandom
	Identities []string  `json:"identities"`
	Recipients []string  `json:"recipients"`
	KeyIDs     []KeyID   `json:"key_ids"`
	Frame      jsonFrame `json:"frame"`
	Value      string    `json:"value"`
	Plaintext  string    `json:"plaintext"` // what age -d prints
	Encoded    string    `json:"encoded"`
}

// jsonFrame spells a Frame in the vectors file the way docs/format.md does.
type jsonFrame struct {
	Scope     Scope  `json:"scope"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Key       string `json:"key"`
}

var vectorSpecs = []struct {
	name    string
	classic bool
	keys    int
	frame   Frame
	value   string
}{
	{"strict, one post-quantum recipient", false, 1, Frame{ScopeStrict, "shop", "db", "password"}, "correct horse battery staple"},
	{"namespace scope, two post-quantum recipients", false, 2, Frame{ScopeNamespace, "shop", "db", "api-token"}, "tok_0123456789"},
	{"cluster scope, one classic X25519 recipient", true, 1, Frame{ScopeCluster, "shop", "db", "tls.key"}, "line one\nline two\n"},
}

// makeVector generates keys and seals with all randomness drawn from seed.
// The bytes depend on how Go's crypto packages consume randomness, which
// may change between Go releases: then regenerate with
// `go test ./pkg/crypto -run Vectors -args -update`, after checking that the
// old vectors still pass TestVectorsOpen.
func makeVector(t *testing.T, i int) vector {
	spec := vectorSpecs[i]
	v := vector{Name: spec.name, Seed: uint64(i + 1), Value: spec.value}
	cryptotest.SetGlobalRandom(t, v.Seed)
	var rs []*Recipient
	for range spec.keys {
		var id *Identity
		var err error
		if spec.classic {
			var x *age.X25519Identity
			if x, err = age.GenerateX25519Identity(); err == nil {
				id, err = ParseIdentity(x.String())
			}
		} else {
			id, err = GenerateIdentity()
		}
		if err != nil {
			t.Fatal(err)
		}
		v.Identities = append(v.Identities, id.String())
		v.Recipients = append(v.Recipients, id.Recipient().String())
		v.KeyIDs = append(v.KeyIDs, id.KeyID())
		rs = append(rs, id.Recipient())
	}
	v.Frame = jsonFrame(spec.frame.bound())
	plaintext, err := spec.frame.marshal([]byte(spec.value))
	if err != nil {
		t.Fatal(err)
	}
	v.Plaintext = string(plaintext)
	if v.Encoded, err = Seal(rs, spec.frame, []byte(spec.value)); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVectorsReproduce(t *testing.T) {
	var got []vector
	for i := range vectorSpecs {
		got = append(got, makeVector(t, i))
	}
	data, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, '\n')
	if *update {
		if err := os.WriteFile(vectorsFile, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, want) {
		t.Fatalf("sealing with fixed randomness no longer gives %s; if Go's crypto changed how it draws randomness, rerun with -update", vectorsFile)
	}
}

// TestVectorsOpen is the compatibility promise: every stored vector opens,
// with Open and with plain age, whatever Seal does today.
func TestVectorsOpen(t *testing.T) {
	data, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(data, &vs); err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		for i, s := range v.Identities {
			id, err := ParseIdentity(s)
			if err != nil || id.Recipient().String() != v.Recipients[i] || id.KeyID() != v.KeyIDs[i] {
				t.Fatalf("%s: identity %d: %v", v.Name, i, err)
			}
			got, opened, err := Open(v.Encoded, Frame(v.Frame), []*Identity{id})
			if err != nil || string(got) != v.Value || opened != v.KeyIDs[i] {
				t.Fatalf("%s: Open = %q, %s, %v", v.Name, got, opened, err)
			}
			file, err := base64.StdEncoding.DecodeString(v.Encoded[strings.LastIndexByte(v.Encoded, ':')+1:])
			if err != nil {
				t.Fatal(err)
			}
			r, err := age.Decrypt(bytes.NewReader(file), id.id)
			if err != nil {
				t.Fatal(err)
			}
			if p, err := io.ReadAll(r); err != nil || string(p) != v.Plaintext {
				t.Fatalf("%s: age.Decrypt = %q, %v", v.Name, p, err)
			}
		}
		if ids, err := KeyIDs(v.Encoded); err != nil || len(ids) != len(v.KeyIDs) {
			t.Fatalf("%s: KeyIDs = %v, %v", v.Name, ids, err)
		}
	}
}
