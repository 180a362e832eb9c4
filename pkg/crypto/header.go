package crypto

import (
	"bytes"
	"encoding/base64"
)

const (
	ageIntro      = "age-encryption.org/v1\n"
	ageColumns    = 64 // base64 characters per full stanza body line
	ageMACEncoded = 43 // a 32-byte HMAC in unpadded base64
)

// wellFormedHeader returns the length of the age v1 header at the start of
// file, and whether it has the shape of one: the intro line, stanzas of "-> "
// argument lines and wrapped base64 bodies, and the MAC line. It checks shape
// only, without a key, so KeyIDs (and with it offline lint over thousands of
// manifests) need not parse and re-serialise every header with age. Open
// never relies on it: age parses and authenticates the header there.
func wellFormedHeader(file []byte) (int, bool) {
	rest, ok := bytes.CutPrefix(file, []byte(ageIntro))
	if !ok {
		return 0, false
	}
	stanzas, inBody := 0, false
	for len(rest) > 0 {
		line, after, ok := bytes.Cut(rest, []byte("\n"))
		if !ok {
			return 0, false
		}
		rest = after
		switch {
		case bytes.HasPrefix(line, []byte("--- ")):
			ok := !inBody && stanzas > 0 && len(line)-4 == ageMACEncoded && isBase64(line[4:])
			return len(file) - len(rest), ok
		case bytes.HasPrefix(line, []byte("-> ")):
			if inBody || len(bytes.TrimSpace(line[3:])) == 0 {
				return 0, false
			}
			stanzas, inBody = stanzas+1, true
		case inBody:
			if len(line) > ageColumns || !isBase64(line) {
				return 0, false
			}
			// A short line (possibly empty) ends the body.
			inBody = len(line) == ageColumns
		default:
			return 0, false
		}
	}
	return 0, false
}

// isBase64 reports whether b, at most one full body line, is unpadded
// standard base64. It decodes into a fixed buffer: KeyIDs calls it for every
// line of every header and should not allocate.
func isBase64(b []byte) bool {
	var buf [ageColumns / 4 * 3]byte
	_, err := base64.RawStdEncoding.Strict().Decode(buf[:], b)
	return err == nil
}
