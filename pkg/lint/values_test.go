package lint

import (
	"encoding/json"
	"testing"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		value  string
		base64 bool
		want   valueKind
	}{
		{"hunter2", false, valuePlaintext},
		{"aHVudGVyMg==", true, valuePlaintext},
		{"", false, valueEmpty},
		{"  ", false, valueEmpty},
		{"IA==", true, valueEmpty}, // " "
		{"op://prod/db/password", false, valueReference},
		{"{{ op://prod/db/password }}", false, valueReference},
		{"op://not-a-reference", false, valuePlaintext},
		{"<path:secret/data/db#password>", false, valueReference},
		{"<password>", false, valueReference},
		{"PHBhc3N3b3JkPg==", true, valueReference}, // "<password>" base64-encoded
		{"a < b > c", false, valuePlaintext},
		{"${DB_PASSWORD}", false, valueReference},
		{"postgres://app:${DB_PASSWORD}@db/shop", false, valueReference},
		{"${DB_PASSWORD:=changeme}", false, valueReference},
		{"$DB_PASSWORD", false, valuePlaintext}, // Flux substitutes only ${…}
		{"ref+vault://secret/db#/password", false, valueReference},
		{"ref+awssecrets://prod/db", false, valueReference},
		{"ref+nothing", false, valuePlaintext},
		{"ENC[AES256_GCM,data:Yk3n,iv:AAAA,tag:BBBB,type:str]", false, valueSOPS},
		{"ENC[but not really", false, valuePlaintext},
	} {
		raw, _ := json.Marshal(tc.value)
		if got := classify(raw, tc.base64); got != tc.want {
			t.Errorf("classify(%q, base64=%v) = %v, want %v", tc.value, tc.base64, got, tc.want)
		}
	}
	for raw, want := range map[string]valueKind{"null": valueEmpty, "42": valuePlaintext, "true": valuePlaintext} {
		if got := classify(json.RawMessage(raw), false); got != want {
			t.Errorf("classify(%s) = %v, want %v", raw, got, want)
		}
	}
}

func TestStripJSONC(t *testing.T) {
	in := "{\n  // a comment with \"quotes\"\n  \"a\": \"x // not a comment\", /* block\n comment */ \"b\": [1, 2,],\n}\n"
	out, changed := stripJSONC([]byte(in))
	if !changed || len(out) != len(in) {
		t.Fatalf("changed %v, %d bytes from %d", changed, len(out), len(in))
	}
	var v struct {
		A string
		B []int
	}
	if err := json.Unmarshal(out, &v); err != nil || v.A != "x // not a comment" || len(v.B) != 2 {
		t.Errorf("%q: %+v, %v", out, v, err)
	}
}

func TestParseIgnore(t *testing.T) {
	rules, reason, err := parseIgnore(" SK001,old-key  fixture: not real ")
	if err != nil || len(rules) != 2 || rules[1] != "SK009" || reason != "fixture: not real" {
		t.Errorf("parseIgnore = %v, %q, %v", rules, reason, err)
	}
	for _, bad := range []string{"", "SK001", "SK001   ", "SK999 why", "plaintext-secret,nope why"} {
		if _, _, err := parseIgnore(bad); err == nil {
			t.Errorf("parseIgnore(%q) succeeded", bad)
		}
	}
}
