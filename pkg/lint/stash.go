package lint

import (
	"bytes"
	"strconv"

	"github.com/sealkit/sealkit/pkg/sealed"
)

// Sealed values are most of a repository's bytes (a few KiB each with
// post-quantum recipients), and a YAML parser scans them a byte at a time.
// stash takes every value on a line of the form "KEY: sealkit:v1:…" out of
// the YAML before it is parsed and leaves a short placeholder; the
// placeholder resolves back to the value. This is exact: such a value is a
// plain scalar of the form sealed.Verbatim accepts, which YAML reads as
// that very string. It makes linting several times faster.

const (
	sealedPrefix = ": sealkit:v1:"
	// placeholder cannot come from YAML source: a raw NUL is not allowed
	// there, and "\0" escapes are left alone since only stash writes them
	// into the text (a file that spells one out merely gets a wrong value
	// checked, never a crash).
	placeholder = "\x00sk"
)

// stash returns text with sealed values replaced, and the values.
func stash(text []byte) ([]byte, []string) {
	if !bytes.Contains(text, []byte(sealedPrefix)) {
		return text, nil
	}
	var out bytes.Buffer
	out.Grow(len(text) / 4)
	var vals []string
	for off := 0; off < len(text); {
		end := bytes.IndexByte(text[off:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += off + 1
		}
		line := text[off:end]
		if i := bytes.Index(line, []byte(sealedPrefix)); i > 0 {
			v := bytes.TrimRight(line[i+2:], " \t\r\n")
			if sealed.Verbatim(v) {
				out.Write(line[:i+2])
				out.WriteString(`"\0sk` + strconv.Itoa(len(vals)) + `"`)
				out.WriteString("\n")
				vals = append(vals, string(v))
				off = end
				continue
			}
		}
		out.Write(line)
		off = end
	}
	return out.Bytes(), vals
}

// unstash returns the value a placeholder stands for, or v itself.
func unstash(v string, vals []string) string {
	if len(v) < len(placeholder)+1 || v[:len(placeholder)] != placeholder {
		return v
	}
	i, err := strconv.Atoi(v[len(placeholder):])
	if err != nil || i < 0 || i >= len(vals) {
		return v
	}
	return vals[i]
}
