package keyring

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sealkit/sealkit/pkg/crypto"
)

func recipients(t *testing.T, n int) []*crypto.Recipient {
	t.Helper()
	rs := make([]*crypto.Recipient, n)
	for i := range rs {
		id, err := crypto.GenerateIdentity()
		if err != nil {
			t.Fatal(err)
		}
		rs[i] = id.Recipient()
	}
	return rs
}

func TestParse(t *testing.T) {
	rs := recipients(t, 3)
	in := fmt.Sprintf(`# sealkit public keyring
# id: %s created: 2026-11-25T23:00:00Z state: active
%s

# id: %s created: 2026-10-26T23:00:00Z state: retained
%s
%s
`, rs[0].KeyID(), rs[0], rs[1].KeyID(), rs[1], rs[2])
	kr, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Key{
		{rs[0].KeyID(), rs[0], time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC), StateActive},
		{rs[1].KeyID(), rs[1], time.Date(2026, 10, 26, 23, 0, 0, 0, time.UTC), StateRetained},
		{rs[2].KeyID(), rs[2], time.Time{}, StateActive},
	}
	if len(kr.Keys) != len(want) {
		t.Fatalf("%d keys, want %d", len(kr.Keys), len(want))
	}
	for i, k := range kr.Keys {
		w := want[i]
		if k.ID != w.ID || k.Recipient.String() != w.Recipient.String() || !k.Created.Equal(w.Created) || k.State != w.State {
			t.Errorf("key %d = %+v, want %+v", i, k, w)
		}
	}

	sealing, err := kr.SealingRecipients()
	if err != nil || len(sealing) != 2 || sealing[0].String() != rs[0].String() || sealing[1].String() != rs[2].String() {
		t.Errorf("SealingRecipients = %d keys, %v; want the two active keys", len(sealing), err)
	}

	// Format round-trips, and formatting again gives the same bytes.
	out := kr.Format()
	kr2, err := Parse(strings.NewReader(string(out)))
	if err != nil {
		t.Fatalf("parsing formatted keyring: %v\n%s", err, out)
	}
	if got := string(kr2.Format()); got != string(out) {
		t.Errorf("format is not stable:\n%s\n---\n%s", out, got)
	}
	if !strings.HasPrefix(string(out), "# sealkit public keyring\n# id: "+string(rs[0].KeyID())+" created: 2026-11-25T23:00:00Z state: active\n"+rs[0].String()+"\n") {
		t.Errorf("formatted keyring:\n%s", out)
	}
}

func TestParseErrors(t *testing.T) {
	rs := recipients(t, 2)
	r0, r1 := rs[0], rs[1]
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "keyring has no keys"},
		{"only comments", "# sealkit public keyring\n\n", "keyring has no keys"},
		{"bad recipient", "# header\nage1pq1nope\n", "line 2: "},
		{"unknown state", fmt.Sprintf("# id: %s state: sleeping\n%s\n", r0.KeyID(), r0), `line 1: unknown key state`},
		{"bad time", fmt.Sprintf("# x\n# id: %s created: yesterday\n%s\n", r0.KeyID(), r0), `line 2: created: not an RFC 3339 time`},
		{"unknown field", fmt.Sprintf("# id: %s colour: blue\n%s\n", r0.KeyID(), r0), `line 1: unknown field in key comment`},
		{"a secret file", "ghp_0123456789abcdefSECRETTOKEN\n", "line 1: not a key comment or an age recipient"},
		{"odd fields", fmt.Sprintf("# id: %s state:\n%s\n", r0.KeyID(), r0), "line 1: key comment must be"},
		{"id mismatch", fmt.Sprintf("# id: %s\n%s\n", r1.KeyID(), r0), "line 2: key comment says id " + string(r1.KeyID())},
		{"comment without key", fmt.Sprintf("%s\n# id: %s\n", r0, r1.KeyID()), "line 2: key comment without a recipient"},
		{"two comments", fmt.Sprintf("# id: %s\n# id: %s\n%s\n", r0.KeyID(), r1.KeyID(), r1), "line 1: key comment without a recipient"},
		{"duplicate", fmt.Sprintf("%s\n%s\n", r0, r0), "line 2: key " + string(r0.KeyID()) + " appears twice"},
		{"too large", strings.Repeat("#\n", MaxSize), "keyring exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.in))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %v, want prefix %q", err, tt.want)
			}
			for _, quoted := range []string{"sleeping", "yesterday", "colour", "SECRET"} {
				if err != nil && strings.Contains(err.Error(), quoted) {
					t.Errorf("err = %v quotes the file", err)
				}
			}
		})
	}
}

func TestSealingRecipientsNoneActive(t *testing.T) {
	r := recipients(t, 1)[0]
	kr := &Keyring{Keys: []Key{{ID: r.KeyID(), Recipient: r, State: StateRetired}}}
	if _, err := kr.SealingRecipients(); err == nil || !strings.Contains(err.Error(), "no active key") {
		t.Errorf("err = %v", err)
	}
}

func TestParseState(t *testing.T) {
	for _, s := range []State{StateActive, StateRetained, StateCompromised, StateRetired} {
		if got, err := ParseState(string(s)); got != s || err != nil {
			t.Errorf("ParseState(%q) = %q, %v", s, got, err)
		}
	}
	if _, err := ParseState("Active"); err == nil {
		t.Error("ParseState is case-insensitive")
	}
}

func FuzzParse(f *testing.F) {
	f.Add("# sealkit public keyring\n# id: 52011f555e885a36 created: 2026-11-25T23:00:00Z state: active\nage1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n")
	f.Add("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n")
	f.Fuzz(func(t *testing.T, in string) {
		kr, err := Parse(strings.NewReader(in))
		if err != nil {
			return
		}
		kr2, err := Parse(strings.NewReader(string(kr.Format())))
		if err != nil {
			t.Fatalf("formatted keyring does not parse: %v", err)
		}
		if string(kr2.Format()) != string(kr.Format()) {
			t.Fatal("format does not round-trip")
		}
	})
}
