package crypto_test

import (
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/sealkit/sealkit/pkg/crypto"
)

func ExampleSeal() {
	id, err := crypto.GenerateIdentity()
	if err != nil {
		log.Fatal(err)
	}
	f := crypto.Frame{Scope: crypto.ScopeStrict, Namespace: "shop", Name: "db", Key: "password"}
	enc, err := crypto.Seal([]*crypto.Recipient{id.Recipient()}, f, []byte("s3cret"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.HasPrefix(enc, "sealkit:v1:"+string(id.KeyID())+":"))

	value, opened, err := crypto.Open(enc, f, []*crypto.Identity{id})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(value), opened == id.KeyID())
	// Output:
	// true
	// s3cret true
}

// A value moved to another data key of the same Secret does not open.
func ExampleOpen_frameMismatch() {
	id, _ := crypto.GenerateIdentity()
	f := crypto.Frame{Scope: crypto.ScopeStrict, Namespace: "shop", Name: "db", Key: "password"}
	enc, _ := crypto.Seal([]*crypto.Recipient{id.Recipient()}, f, []byte("s3cret"))

	f.Key = "username"
	_, _, err := crypto.Open(enc, f, []*crypto.Identity{id})
	var mismatch *crypto.FrameMismatchError
	fmt.Println(errors.As(err, &mismatch), mismatch.Field)
	fmt.Println(err)
	// Output:
	// true key
	// value is sealed for key "password", not "username"
}

func ExampleKeyIDOf() {
	fmt.Println(crypto.KeyIDOf("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"))
	// Output: cf7e568231315068
}

func ExampleKeyIDs() {
	a, _ := crypto.GenerateIdentity()
	b, _ := crypto.GenerateIdentity()
	f := crypto.Frame{Scope: crypto.ScopeCluster, Key: "token"}
	enc, _ := crypto.Seal([]*crypto.Recipient{a.Recipient(), b.Recipient()}, f, []byte("t0ken"))

	// The hints are readable without any key, e.g. by an offline lint.
	ids, err := crypto.KeyIDs(enc)
	fmt.Println(len(ids), ids[0] == a.KeyID(), ids[1] == b.KeyID(), err)

	_, err = crypto.KeyIDs("sealkit:v1:0123456789abcdef:bm90IGFnZQ==")
	fmt.Println(err)
	// Output:
	// 2 true true <nil>
	// sealed value is malformed or has been tampered with
}
