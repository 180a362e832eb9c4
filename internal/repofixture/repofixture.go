// Package repofixture makes what the CLI benchmarks and tests work on: a
// multi-document file of Secrets, and a repository of SealedSecret files,
// with random values (the size of passwords and tokens).
package repofixture

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/sealkit/sealkit/internal/parallel"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
)

// ValueSize is the size of each random value: a typical token.
const ValueSize = 32

// Keys are the data keys of each Secret, as many as asked for.
func Keys(values int) []string {
	keys := make([]string, values)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%d", i)
	}
	return keys
}

// Name is the name of the i-th object.
func Name(i int) string { return fmt.Sprintf("s-%05d", i) }

// Secrets returns n Secret manifests in namespace ns, as one
// multi-document YAML file, each with values random values.
func Secrets(n, values int, ns string) []byte {
	var b bytes.Buffer
	for i := range n {
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(secretDoc(i, values, ns))
	}
	return b.Bytes()
}

func randomValue() string {
	v := make([]byte, ValueSize)
	_, _ = rand.Read(v)
	return base64.StdEncoding.EncodeToString(v)
}

// WriteSealedRepo writes n SealedSecret files (dir/<ns>/<name>.yaml) of
// values random values sealed to to, sealing on all cores, and returns
// their paths in order.
func WriteSealedRepo(dir string, n, values int, ns string, to []*crypto.Recipient) ([]string, error) {
	if err := os.MkdirAll(filepath.Join(dir, ns), 0o755); err != nil {
		return nil, err
	}
	paths := make([]string, n)
	var firstErr error
	parallel.Ordered(n, 0, func(i int) error {
		return writeSealed(paths, i, dir, values, ns, to)
	}, func(_ int, err error) bool {
		firstErr = err
		return err == nil
	})
	return paths, firstErr
}

func writeSealed(paths []string, i int, dir string, values int, ns string, to []*crypto.Recipient) error {
	docs, err := sealed.ReadManifests(bytes.NewReader(secretDoc(i, values, ns)), "fixture")
	if err != nil {
		return err
	}
	s, err := docs[0].Secret()
	if err != nil {
		return err
	}
	ss, err := sealed.Seal(s, sealed.SealOptions{Recipients: to})
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := sealed.WriteManifests(&b, []runtime.Object{ss}, "yaml"); err != nil {
		return err
	}
	paths[i] = filepath.Join(dir, ns, Name(i)+".yaml")
	return os.WriteFile(paths[i], b.Bytes(), 0o644)
}

func secretDoc(i, values int, ns string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\n  labels:\n    app: bench\ntype: Opaque\ndata:\n", Name(i), ns)
	for _, k := range Keys(values) {
		fmt.Fprintf(&b, "  %s: %s\n", k, randomValue())
	}
	return b.Bytes()
}
