package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/rogpeppe/go-internal/testscript"
	"sigs.k8s.io/yaml"

	"github.com/sealkit/sealkit/pkg/crypto"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"seal": func() {
			os.Exit(Main(os.Args[1:], Streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}))
		},
	})
}

// TestScripts runs the CLI end to end: cmd/seal/testdata/*.txtar.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata",
		RequireExplicitExec: true,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"recipient":  cmdRecipient,
			"classickey": cmdClassicKey,
			"sealedit":   cmdSealedEdit,
			"bigsecret":  cmdBigSecret,
			"redact":     cmdRedact,
			"perm":       cmdPerm,
			"wrapraw":    cmdWrapRaw,
			"keyring":    cmdKeyring,
			"keyid":      cmdKeyID,
			"pwencrypt":  cmdPwEncrypt,
			"concat":     cmdConcat,
		},
	})
}

// recipient IDENTITY_FILE VAR: set $VAR to the identity's recipient.
func cmdRecipient(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: recipient IDENTITY_FILE VAR")
	}
	ids, err := crypto.ParseIdentities(strings.NewReader(ts.ReadFile(args[0])))
	ts.Check(err)
	ts.Setenv(args[1], ids[0].Recipient().String())
}

// classickey FILE VAR: write a classic X25519 identity to FILE and set $VAR
// to its recipient.
func cmdClassicKey(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: classickey FILE VAR")
	}
	id, err := age.GenerateX25519Identity()
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(id.String()+"\n"), 0o600))
	ts.Setenv(args[1], id.Recipient().String())
}

// bigsecret FILE BYTES: write a Secret manifest with one value of BYTES bytes.
func cmdBigSecret(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: bigsecret FILE BYTES")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	v := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{'x'}, n))
	m := fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: big, namespace: shop}\ndata:\n  blob: %s\n", v)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(m), 0o644))
}

var sealedValue = regexp.MustCompile(`sealkit:v1:[0-9a-f,]+:[A-Za-z0-9+/=]+`)

// redact IN OUT: replace every sealed value with SEALED, so output made
// with fresh randomness can be compared with a golden file.
func cmdRedact(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: redact IN OUT")
	}
	out := sealedValue.ReplaceAllString(ts.ReadFile(args[0]), "SEALED")
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(out), 0o644))
}

// sealedit FILE OP ARGS...: damage or move a SealedSecret the ways an
// attacker or a careless copy would.
//
//	tamper KEY      flip one bit of the age payload of KEY's value
//	truncate KEY    cut KEY's value's age file in half
//	name NAME       rename the object
//	namespace NS    move the object to another namespace
//	movekey A B     store A's value under data key B
func cmdSealedEdit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: sealedit FILE OP ARGS...")
	}
	var obj map[string]any
	ts.Check(yaml.Unmarshal([]byte(ts.ReadFile(args[0])), &obj))
	meta := obj["metadata"].(map[string]any)
	data := obj["spec"].(map[string]any)["encryptedData"].(map[string]any)
	switch op := args[1]; op {
	case "tamper", "truncate":
		v, ok := data[args[2]].(string)
		if !ok {
			ts.Fatalf("no key %s", args[2])
		}
		i := strings.LastIndex(v, ":")
		file, err := base64.StdEncoding.DecodeString(v[i+1:])
		ts.Check(err)
		if op == "tamper" {
			file[len(file)-1] ^= 1
		} else {
			file = file[:len(file)/2]
		}
		data[args[2]] = v[:i+1] + base64.StdEncoding.EncodeToString(file)
	case "name":
		meta["name"] = args[2]
	case "namespace":
		meta["namespace"] = args[2]
	case "movekey":
		data[args[3]] = data[args[2]]
		delete(data, args[2])
	default:
		ts.Fatalf("unknown op %s", op)
	}
	out, err := yaml.Marshal(obj)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), out, 0o644))
}

// perm FILE MODE: check FILE's permission bits, e.g. perm key.txt 0600.
func cmdPerm(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: perm FILE MODE")
	}
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	if got := fi.Mode().Perm(); (got == os.FileMode(want)) == neg {
		ts.Fatalf("%s has mode %#o", args[0], got)
	}
}

// wrapraw RAWFILE OUT SCOPE NAMESPACE NAME KEY: put a value printed by
// seal --raw into a SealedSecret, so that seal unseal can check it.
func cmdWrapRaw(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 6 {
		ts.Fatalf("usage: wrapraw RAWFILE OUT SCOPE NAMESPACE NAME KEY")
	}
	m := fmt.Sprintf("apiVersion: sealkit.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: %s, namespace: %s}\nspec:\n  scope: %s\n  encryptedData:\n    %s: %s\n",
		args[4], args[3], args[2], args[5], strings.TrimSpace(ts.ReadFile(args[0])))
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(m), 0o644))
}

// keyring OUT IDENTITY_FILE[:STATE]...: write a public keyring file, in the
// format seal keys fetch writes, holding the identities' recipients, active
// unless STATE says otherwise.
func cmdKeyring(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: keyring OUT [IDENTITY_FILE[:STATE]...]")
	}
	var b strings.Builder
	b.WriteString("# sealkit public keyring\n")
	for _, arg := range args[1:] {
		f, state, ok := strings.Cut(arg, ":")
		if !ok {
			state = "active"
		}
		ids, err := crypto.ParseIdentities(strings.NewReader(ts.ReadFile(f)))
		ts.Check(err)
		r := ids[0].Recipient()
		fmt.Fprintf(&b, "# id: %s created: 2026-11-25T23:00:00Z state: %s\n%s\n", r.KeyID(), state, r)
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(b.String()), 0o644))
}

// keyid IDENTITY_FILE VAR: set $VAR to the identity's key ID.
func cmdKeyID(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: keyid IDENTITY_FILE VAR")
	}
	ids, err := crypto.ParseIdentities(strings.NewReader(ts.ReadFile(args[0])))
	ts.Check(err)
	ts.Setenv(args[1], string(ids[0].KeyID()))
}

// concat OUT IN...: join YAML files as documents of one stream.
func cmdConcat(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: concat OUT IN...")
	}
	var parts []string
	for _, f := range args[1:] {
		parts = append(parts, ts.ReadFile(f))
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(strings.Join(parts, "---\n")), 0o644))
}

// pwencrypt [-a] IN OUT PASSPHRASE: encrypt IN with a passphrase, as
// `age -p` does (-a: armored), with a low work factor to keep tests fast.
func cmdPwEncrypt(ts *testscript.TestScript, neg bool, args []string) {
	armored := len(args) > 0 && args[0] == "-a"
	if armored {
		args = args[1:]
	}
	if neg || len(args) != 3 {
		ts.Fatalf("usage: pwencrypt [-a] IN OUT PASSPHRASE")
	}
	r, err := age.NewScryptRecipient(args[2])
	ts.Check(err)
	r.SetWorkFactor(10)
	var b bytes.Buffer
	var w io.Writer = &b
	var aw io.WriteCloser
	if armored {
		aw = armor.NewWriter(&b)
		w = aw
	}
	ew, err := age.Encrypt(w, r)
	ts.Check(err)
	_, err = ew.Write([]byte(ts.ReadFile(args[0])))
	ts.Check(err)
	ts.Check(ew.Close())
	if aw != nil {
		ts.Check(aw.Close())
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), b.Bytes(), 0o600))
}
