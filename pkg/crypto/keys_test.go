package crypto

import (
	"regexp"
	"strings"
	"testing"
)

func TestIdentityRoundTrip(t *testing.T) {
	k := testKeys()
	for _, id := range []*Identity{k.pq, k.classic} {
		again, err := ParseIdentity(id.String())
		if err != nil {
			t.Fatal(err)
		}
		if again.Recipient().String() != id.Recipient().String() || again.KeyID() != id.KeyID() {
			t.Errorf("reparsed identity has recipient %s", again.Recipient())
		}
		r, err := ParseRecipient(" " + id.Recipient().String() + "\n")
		if err != nil || r.KeyID() != id.KeyID() {
			t.Errorf("ParseRecipient: %v", err)
		}
	}
	if !k.pq.Recipient().PostQuantum() || k.classic.Recipient().PostQuantum() {
		t.Error("PostQuantum wrong")
	}
	if !strings.HasPrefix(k.pq.Recipient().String(), "age1pq1") || !strings.HasPrefix(k.pq.String(), "AGE-SECRET-KEY-PQ-1") {
		t.Error("GenerateIdentity did not make a post-quantum key")
	}
}

func TestKeyIDOf(t *testing.T) {
	// The key ID is part of the format: it must never change for a key. The
	// expected value is `printf %s RECIPIENT | sha256sum | cut -c1-16`.
	if got := KeyIDOf("age1pq1example"); !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(string(got)) {
		t.Fatalf("KeyIDOf = %q", got)
	}
	const r = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
	if got := KeyIDOf(r); got != "cf7e568231315068" {
		t.Errorf("KeyIDOf(%s) = %s", r, got)
	}
}

func TestParseRecipientRejects(t *testing.T) {
	k := testKeys()
	for _, s := range []string{"", "age1", "age1pq1", "age1qqqq", "ssh-ed25519 AAAA", k.pq.Recipient().String()[:40], k.pq.String()} {
		_, err := ParseRecipient(s)
		if err == nil {
			t.Errorf("ParseRecipient(%.20q) succeeded", s)
			continue
		}
		if len(s) > 16 && strings.Contains(err.Error(), s[16:]) {
			t.Errorf("error echoes the input: %v", err)
		}
	}
}

func TestParseIdentities(t *testing.T) {
	k := testKeys()
	file := "# created: 2026-11-25\n# public key: " + k.pq.Recipient().String() + "\n" +
		k.pq.String() + "\n\n   \n\t# another\r\n" + k.classic.String() + "\r\n"
	ids, err := ParseIdentities(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || ids[0].KeyID() != k.pq.KeyID() || ids[1].KeyID() != k.classic.KeyID() {
		t.Fatalf("got %d identities", len(ids))
	}
}

func TestParseIdentitiesErrors(t *testing.T) {
	k := testKeys()
	// A damaged key: the error names the line and must not echo the text,
	// which is most of a secret.
	secret := k.pq.String()
	damaged := secret[:len(secret)-1] + "q"
	if damaged == secret {
		damaged = secret[:len(secret)-1] + "p"
	}
	for _, tc := range []struct{ file, want string }{
		{"# only a comment\n\n", "no identities found"},
		{"", "no identities found"},
		{k.classic.String() + "\n# c\n" + damaged + "\n", "error at line 3"},
		{"\n" + strings.ToLower(secret) + "\n", "error at line 2"},
		{k.pq.Recipient().String() + "\n", "error at line 1"},
	} {
		_, err := ParseIdentities(strings.NewReader(tc.file))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
			continue
		}
		if strings.Contains(strings.ToUpper(err.Error()), secret[20:40]) {
			t.Errorf("error echoes the secret: %v", err)
		}
	}
	if _, err := ParseIdentities(strings.NewReader(strings.Repeat("#", maxIdentityFile+10))); err == nil {
		t.Error("oversized identity file accepted")
	}
	// Cut at the bound on a line boundary, the file would still parse.
	long := k.pq.String() + "\n" + strings.Repeat("#\n", maxIdentityFile/2)
	if _, err := ParseIdentities(strings.NewReader(long)); err == nil {
		t.Error("identity file over the bound, in short lines, accepted")
	}
}
