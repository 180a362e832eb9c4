package lint

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
)

// What a Secret's value may be besides a plaintext secret. Tools that
// resolve secrets at deploy time leave a reference in the manifest, and
// SOPS leaves ciphertext; neither is a leak, and reporting them would make
// seal lint red on repositories that are doing the right thing.

// references match values resolved outside the repository. docs/gitops.md
// lists them; keep the two in step.
var references = []*regexp.Regexp{
	// 1Password: op://vault/item/field (op inject, op run, the operator).
	regexp.MustCompile(`op://[^\s/]+/[^\s/]+/\S+`),
	// argocd-vault-plugin: <path:secret/data/app#key> and <key> placeholders.
	regexp.MustCompile(`<path:[^>]+>`),
	regexp.MustCompile(`<[A-Za-z0-9_.\-]+>`),
	// Flux post-build substitution: ${VAR}, ${VAR:=default}, ${VAR:-default}.
	regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*(?::?[-=][^}]*)?\}`),
	// vals: ref+vault://..., ref+awssecrets://..., ref+sops://...
	regexp.MustCompile(`ref\+[a-z0-9]+://\S+`),
}

// sopsValue matches a value SOPS encrypted: ENC[AES256_GCM,data:…,type:str].
var sopsValue = regexp.MustCompile(`^ENC\[[A-Z0-9_]+,data:[^\]]*\]$`)

// valueKind classifies one data or stringData value.
type valueKind int

const (
	valueEmpty     valueKind = iota // nothing to leak
	valueReference                  // resolved elsewhere
	valueSOPS                       // SOPS ciphertext
	valuePlaintext
)

// classify says what raw, a JSON value from a Secret's data (base64) or
// stringData (text), is. A value containing a reference counts as one
// even with text around it ("postgres://app:${DB_PASSWORD}@db/shop"): the
// secret part is what the reference stands for.
func classify(raw json.RawMessage, base64Encoded bool) valueKind {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		if string(raw) == "null" {
			return valueEmpty
		}
		return valuePlaintext // a number or boolean is still a value
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return valueEmpty
	case sopsValue.MatchString(s):
		return valueSOPS
	case isReference(s):
		return valueReference
	}
	if base64Encoded {
		// Placeholders in data are often base64-encoded too
		// (argocd-vault-plugin decodes data values to find them).
		if b, err := base64.StdEncoding.DecodeString(s); err == nil {
			if len(strings.TrimSpace(string(b))) == 0 {
				return valueEmpty
			}
			if isReference(string(b)) {
				return valueReference
			}
		}
	}
	return valuePlaintext
}

func isReference(s string) bool {
	if !strings.ContainsAny(s, "/<$+") {
		return false
	}
	for _, r := range references {
		if r.MatchString(s) {
			return true
		}
	}
	return false
}
