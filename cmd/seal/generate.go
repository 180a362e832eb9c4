package main

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Random values for `seal create --generate KEY[=SPEC]`: made from
// crypto/rand, sealed at once, never printed or written in plaintext. The
// value survives a rebuilt cluster, unlike one a generator makes in it.

// maxGenerated bounds a generated value: far more than any password.
const maxGenerated = 4096

// alphabets are the character sets a SPEC may name.
var alphabets = map[string]string{
	"alnum":  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
	"alpha":  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
	"lower":  "abcdefghijklmnopqrstuvwxyz",
	"upper":  "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	"digits": "0123456789",
	"hex":    "0123456789abcdef",
	// ascii is every printable ASCII character but the space.
	"ascii": func() string {
		var b strings.Builder
		for c := byte('!'); c <= '~'; c++ {
			b.WriteByte(c)
		}
		return b.String()
	}(),
}

// byteEncodings are the SPECs whose LENGTH counts random bytes.
var byteEncodings = map[string]func([]byte) []byte{
	"bytes":     func(b []byte) []byte { return b },
	"base64":    func(b []byte) []byte { return []byte(base64.StdEncoding.EncodeToString(b)) },
	"base64url": func(b []byte) []byte { return []byte(base64.RawURLEncoding.EncodeToString(b)) },
	"hexbytes":  func(b []byte) []byte { return []byte(hex.EncodeToString(b)) },
}

// generateSpec is a parsed --generate.
type generateSpec struct {
	key    string
	kind   string // an alphabet or a byte encoding
	length int
}

// parseGenerate parses KEY[=SPEC], SPEC being [KIND:]LENGTH or KIND, KIND
// an alphabet (alnum, the default; alpha, lower, upper, digits, hex,
// ascii) or a byte encoding (bytes, base64, base64url, hexbytes) whose
// LENGTH counts random bytes. LENGTH defaults to 32.
func parseGenerate(s string) (generateSpec, error) {
	key, spec, _ := strings.Cut(s, "=")
	g := generateSpec{key: key, kind: "alnum", length: 32}
	if key == "" {
		return g, usageErrorf("--generate %q: want KEY[=SPEC]", s)
	}
	if spec == "" {
		return g, nil
	}
	kind, length, hasLength := strings.Cut(spec, ":")
	if !hasLength {
		if n, err := strconv.Atoi(spec); err == nil {
			kind, length, hasLength = "alnum", strconv.Itoa(n), true
		}
	}
	if _, ok := alphabets[kind]; !ok && byteEncodings[kind] == nil {
		return g, withHint(usageErrorf("--generate %s: unknown kind %q", key, kind),
			"kinds: alnum, alpha, lower, upper, digits, hex, ascii (LENGTH characters); bytes, base64, base64url, hexbytes (LENGTH random bytes)")
	}
	g.kind = kind
	if hasLength {
		n, err := strconv.Atoi(length)
		if err != nil || n < 1 || n > maxGenerated {
			return g, usageErrorf("--generate %s: length %q: want 1 to %d", key, length, maxGenerated)
		}
		g.length = n
	}
	return g, nil
}

// generate makes the value from random, uniformly over the alphabet.
func (g generateSpec) generate(random io.Reader) ([]byte, error) {
	if enc := byteEncodings[g.kind]; enc != nil {
		b := make([]byte, g.length)
		if _, err := io.ReadFull(random, b); err != nil {
			return nil, fmt.Errorf("--generate %s: reading randomness: %w", g.key, err)
		}
		return enc(b), nil
	}
	alphabet := alphabets[g.kind]
	// Rejection sampling: a byte is used only below the largest multiple of
	// the alphabet's size, so that every character is equally likely.
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, g.length)
	buf := make([]byte, g.length+16)
	for len(out) < g.length {
		if _, err := io.ReadFull(random, buf); err != nil {
			return nil, fmt.Errorf("--generate %s: reading randomness: %w", g.key, err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < g.length {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	clear(buf)
	return out, nil
}
