package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
)

func TestParseGenerate(t *testing.T) {
	for in, want := range map[string]generateSpec{
		"password":      {"password", "alnum", 32},
		"password=64":   {"password", "alnum", 64},
		"pin=digits:6":  {"pin", "digits", 6},
		"key=bytes:32":  {"key", "bytes", 32},
		"tok=hex":       {"tok", "hex", 32},
		"c=base64url:9": {"c", "base64url", 9},
	} {
		got, err := parseGenerate(in)
		if err != nil || got != want {
			t.Errorf("parseGenerate(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "=x", "k=words:3", "k=digits:0", "k=digits:99999", "k=digits:x"} {
		if _, err := parseGenerate(in); err == nil || exitCode(err) != ExitUsage {
			t.Errorf("parseGenerate(%q): %v, want a usage error", in, err)
		}
	}
}

// TestGenerateExact: with fixed randomness the value is exact; bytes that
// would bias the choice (here 250..255 for 10 digits) are skipped.
func TestGenerateExact(t *testing.T) {
	random := bytes.NewReader(append([]byte{255, 3, 250, 17, 0, 9, 249}, make([]byte, 64)...))
	got, err := generateSpec{"pin", "digits", 4}.generate(random)
	if err != nil || string(got) != "3709" {
		t.Fatalf("got %q, %v; want 3709", got, err)
	}
	got, err = generateSpec{"k", "hexbytes", 3}.generate(bytes.NewReader([]byte{0xde, 0xad, 0x01}))
	if err != nil || string(got) != "dead01" {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err := (generateSpec{"k", "bytes", 8}).generate(bytes.NewReader(nil)); err == nil {
		t.Fatal("no error when randomness runs out")
	}
}

// TestCreateGenerate: generated values are sealed with the right shape,
// differ every time, and never appear on stdout or stderr.
func TestCreateGenerate(t *testing.T) {
	dir := t.TempDir()
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	shapes := map[string]*regexp.Regexp{
		"password": regexp.MustCompile(`^[A-Za-z0-9]{32}$`),
		"pin":      regexp.MustCompile(`^[0-9]{6}$`),
		"symbols":  regexp.MustCompile(`^[!-~]{20}$`),
		"cookie":   regexp.MustCompile(`^[A-Za-z0-9+/]{43}=$`),
	}
	var seen []string
	for round := range 2 {
		out := filepath.Join(dir, "app.yaml")
		os.Remove(out)
		stdout, stderr, code := runSeal(t, "create", "app", "-n", "shop", "--recipient", id.Recipient().String(), "-w", out,
			"--generate", "password", "--generate", "pin=digits:6", "--generate", "symbols=ascii:20",
			"--generate", "cookie=base64:32", "--generate", "raw=bytes:16")
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		ss := readSealed(t, out)[0]
		s, _, err := sealed.Unseal(ss, []*crypto.Identity{id})
		if err != nil {
			t.Fatal(err)
		}
		for k, re := range shapes {
			if !re.Match(s.Data[k]) {
				t.Errorf("round %d: %s = %q does not match %s", round, k, s.Data[k], re)
			}
		}
		if len(s.Data["raw"]) != 16 {
			t.Errorf("raw: %d bytes", len(s.Data["raw"]))
		}
		for k, v := range s.Data {
			for _, text := range []string{stdout, stderr, readFileString(t, out)} {
				if strings.Contains(text, string(v)) || strings.Contains(text, base64.StdEncoding.EncodeToString(v)) {
					t.Errorf("the value of %s appears in the output", k)
				}
			}
			for _, prev := range seen {
				if prev == k+"="+string(v) {
					t.Errorf("%s generated twice alike", k)
				}
			}
			seen = append(seen, k+"="+string(v))
		}
	}
	// A generated key may not collide with another source.
	_, stderr, code := runSeal(t, "create", "app", "-n", "shop", "--recipient", id.Recipient().String(),
		"--from-literal", "password=x", "--generate", "password")
	if code != ExitError || !strings.Contains(stderr, `key "password" is given twice, by --from-literal and --generate`) {
		t.Fatalf("collision: exit %d, %q", code, stderr)
	}
}

func readFileString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
