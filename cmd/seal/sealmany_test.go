package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	kruntime "k8s.io/apimachinery/pkg/runtime"

	"github.com/sealkit/sealkit/internal/repofixture"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
)

// runSealQuiet runs seal in-process and returns its exit code, stdout and
// stderr, without logging the (large) output.
func runSealQuiet(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	rc := Main(args, Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return rc, out.String(), errOut.String()
}

// TestSealManyIsASequentialSeal: seal seals on all cores; its output is
// byte for byte what sealing the Secrets one after the other and writing
// them gives, apart from the ciphertexts, and every value opens to the
// input's value where it is.
func TestSealManyIsASequentialSeal(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8)) // interleave, even on one core
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	input := filepath.Join(dir, "secrets.yaml")
	if err := os.WriteFile(input, repofixture.Secrets(300, 3, "shop"), 0o644); err != nil {
		t.Fatal(err)
	}
	docs, err := sealed.ReadManifests(bytes.NewReader(repofixture.Secrets(1, 1, "x")), "x")
	if err != nil || len(docs) != 1 {
		t.Fatal(err)
	}
	for _, format := range []string{"yaml", "json"} {
		rc, out, errOut := runSealQuiet("--recipient", id.Recipient().String(), "-f", input, "-o", format)
		if rc != 0 {
			t.Fatalf("seal -o %s: exit %d: %s", format, rc, errOut)
		}
		want := sequentialSeal(t, input, id.Recipient(), format)
		if got, want := sealedValue.ReplaceAllString(out, "V"), sealedValue.ReplaceAllString(want, "V"); got != want {
			t.Fatalf("-o %s: output differs from a sequential seal (ciphertexts masked)", format)
		}
		checkOpens(t, input, out, id)
	}
}

// sequentialSeal seals the Secrets of input one by one with pkg/sealed and
// writes them with WriteManifests, every field through the encoders.
func sequentialSeal(t *testing.T, input string, to *crypto.Recipient, format string) string {
	t.Helper()
	f, err := os.Open(input)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	docs, err := sealed.ReadManifests(f, input)
	if err != nil {
		t.Fatal(err)
	}
	var objs []kruntime.Object
	for _, d := range docs {
		s, err := d.Secret()
		if err != nil {
			t.Fatal(err)
		}
		ss, err := sealed.Seal(s, sealed.SealOptions{Recipients: []*crypto.Recipient{to}})
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, ss)
	}
	var b bytes.Buffer
	if err := sealed.WriteManifests(&b, objs, format); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// checkOpens unseals out and compares every value with the input's.
func checkOpens(t *testing.T, input, out string, id *crypto.Identity) {
	t.Helper()
	raw, err := os.ReadFile(input)
	if err != nil {
		t.Fatal(err)
	}
	in, err := sealed.ReadManifests(bytes.NewReader(raw), "input")
	if err != nil {
		t.Fatal(err)
	}
	got, err := sealed.ReadManifests(strings.NewReader(out), "output")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(in) {
		t.Fatalf("%d objects out, %d in", len(got), len(in))
	}
	for i := range in {
		s, err := in[i].Secret()
		if err != nil {
			t.Fatal(err)
		}
		ss, err := got[i].SealedSecret()
		if err != nil {
			t.Fatal(err)
		}
		opened, _, err := sealed.Unseal(ss, []*crypto.Identity{id})
		if err != nil {
			t.Fatalf("object %d: %v", i+1, err)
		}
		if opened.Name != s.Name {
			t.Fatalf("object %d is %s, want %s", i+1, opened.Name, s.Name)
		}
		for k, v := range s.Data {
			if !bytes.Equal(opened.Data[k], v) {
				t.Fatalf("object %d key %s opens to another value", i+1, k)
			}
		}
	}
}

// TestSealManyReportsTheFirstError: with several bad Secrets among many,
// sealed concurrently, the error is always the first one's, and nothing is
// written.
func TestSealManyReportsTheFirstError(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(repofixture.Secrets(200, 2, "shop")), "---\n")
	// The namespace, then the data: both are found only when sealing.
	docs[61] = strings.Replace(docs[61], "namespace: shop", "namespace: other", 1)
	docs[150] = docs[150][:strings.Index(docs[150], "\ndata:")+1]
	dir := t.TempDir()
	input := filepath.Join(dir, "secrets.yaml")
	if err := os.WriteFile(input, []byte(strings.Join(docs, "---\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.yaml")
	for range 10 {
		rc, _, errOut := runSealQuiet("--recipient", id.Recipient().String(), "-f", input, "-n", "shop", "-w", out)
		want := "seal: error: " + input + `: secret other/s-00061 is in namespace "other", but -n says "shop"` + "\n"
		if rc == 0 || !strings.HasPrefix(errOut, want) {
			t.Fatalf("exit %d, stderr:\n%s\nwant it to start with:\n%s", rc, errOut, want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Fatalf("output written: %v", err)
		}
	}
}
