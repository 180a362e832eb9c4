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

// headerWellFormed reports whether header (as split by splitHeader) has the
// shape of an age v1 header: the intro line, stanzas of "-> " argument lines
// and wrapped base64 bodies, and the MAC line. It checks shape only, without
// a key, so KeyIDs (and with it offline lint over thousands of manifests)
// need not parse and re-serialise every header with age. Open never relies
// on it: age parses and authenticates the header there.
func headerWellFormed(header []byte) bool {
	rest, ok := bytes.CutPrefix(header, []byte(ageIntro))
	if !ok {
		return false
	}
	stanzas, inBody := 0, false
	for len(rest) > 0 {
		line, after, ok := bytes.Cut(rest, []byte("\n"))
		if !ok {
			return false
		}
		rest = after
		switch {
		case bytes.HasPrefix(line, []byte("--- ")):
			return !inBody && stanzas > 0 && len(rest) == 0 && isBase64Line(line[4:], ageMACEncoded)
		case bytes.HasPrefix(line, []byte("-> ")):
			if inBody || len(bytes.Fields(line[3:])) == 0 {
				return false
			}
			stanzas, inBody = stanzas+1, true
		case inBody:
			if !isBase64Line(line, -1) || len(line) > ageColumns {
				return false
			}
			// A short line (possibly empty) ends the body.
			inBody = len(line) == ageColumns
		default:
			return false
		}
	}
	return false
}

// isBase64Line reports whether b is unpadded standard base64, of length n
// when n >= 0.
func isBase64Line(b []byte, n int) bool {
	if n >= 0 && len(b) != n {
		return false
	}
	_, err := base64.RawStdEncoding.Strict().DecodeString(string(b))
	return err == nil
}
