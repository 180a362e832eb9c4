package lint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/sealkit/sealkit/internal/manifest"
	"github.com/sealkit/sealkit/pkg/sealed"
)

// chunk is one YAML document or JSON value of a file, converted to JSON;
// err is set when it does not parse.
type chunk struct {
	// line is the line of the document's first content, for findings
	// about the whole document.
	line int
	// src is the document's source (YAML with sealed values stashed, or
	// the JSON value), starting at line srcLine, column srcCol; it is what
	// locations are looked up in, and where suppression comments are.
	src     []byte
	srcLine int
	srcCol  int
	isJSON  bool
	json    []byte
	err     error
	// stashed holds the sealed values taken out before parsing; see stash.
	stashed []string

	// node is src parsed with positions, on first use: most documents
	// have no finding and never need one.
	node    *yaml.Node
	nodeErr error
}

// split cuts a file into its documents. Unlike sealed.ReadManifests it
// keeps going past a document that does not parse, and it knows where
// each document is, for CI annotations. Documents that do not parse and do
// not look like Kubernetes manifests are dropped: a broken editor settings
// file is not lint's business.
func split(data []byte) []*chunk {
	if t := bytes.TrimSpace(data); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return splitJSON(data)
	}
	return splitYAML(data)
}

// splitJSON reads a stream of JSON values. JSON with comments and trailing
// commas (editor settings, renovate.json) is read with those blanked out,
// so offsets, and thus locations, stay the same.
func splitJSON(data []byte) []*chunk {
	out, err := decodeJSONStream(data)
	if err == nil {
		return out
	}
	if clean, changed := stripJSONC(data); changed {
		if out2, err2 := decodeJSONStream(clean); err2 == nil {
			return out2
		}
	}
	if !looksLikeManifest(data) {
		return nil
	}
	line := 1
	if len(out) > 0 {
		line = out[len(out)-1].line
	}
	return append(out, &chunk{line: line, srcLine: line, srcCol: 1, isJSON: true, err: fmt.Errorf("invalid JSON: %w", err)})
}

func decodeJSONStream(data []byte) ([]*chunk, error) {
	var out []*chunk
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		start := int(dec.InputOffset())
		for start < len(data) && isSpace(data[start]) {
			start++
		}
		if start >= len(data) {
			return out, nil
		}
		line, col := lineCol(data, 0, start)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return out, err
		}
		out = append(out, &chunk{line: line, src: raw, srcLine: line, srcCol: col, isJSON: true, json: raw})
	}
}

// lineCol returns the 1-based line and column of offset off in data,
// counting from offset from (at line 1, column 1). Columns count
// characters, not bytes.
func lineCol(data []byte, from, off int) (int, int) {
	line, lineStart := 1, from
	for i := from; i < off; i++ {
		if data[i] == '\n' {
			line++
			lineStart = i + 1
		}
	}
	return line, 1 + len([]rune(string(data[lineStart:off])))
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// stripJSONC blanks out // and /* */ comments and trailing commas outside
// strings, keeping every offset.
func stripJSONC(data []byte) ([]byte, bool) {
	out := bytes.Clone(data)
	changed := false
	inString := false
	for i := 0; i < len(out); i++ {
		c := out[i]
		switch {
		case inString:
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '/' && i+1 < len(out) && out[i+1] == '/':
			for ; i < len(out) && out[i] != '\n'; i++ {
				out[i] = ' '
			}
			changed = true
		case c == '/' && i+1 < len(out) && out[i+1] == '*':
			end := bytes.Index(out[i+2:], []byte("*/"))
			if end < 0 {
				return out, changed
			}
			for j := i; j < i+2+end+2; j++ {
				if out[j] != '\n' {
					out[j] = ' '
				}
			}
			i += 2 + end + 1
			changed = true
		case c == ',':
			j := i + 1
			for j < len(out) && isSpace(out[j]) {
				j++
			}
			if j < len(out) && (out[j] == '}' || out[j] == ']') {
				out[i] = ' '
				changed = true
			}
		}
	}
	return out, changed
}

var manifestKeys = regexp.MustCompile(`(?m)^\s*["']?apiVersion["']?\s*:[\s\S]*^\s*["']?kind["']?\s*:|^\s*["']?kind["']?\s*:[\s\S]*^\s*["']?apiVersion["']?\s*:`)

// looksLikeManifest tells a broken Kubernetes manifest (reported) from
// any other broken YAML or JSON (skipped): it has apiVersion and kind.
func looksLikeManifest(text []byte) bool {
	return bytes.Contains(text, []byte("apiVersion")) && bytes.Contains(text, []byte("kind")) && manifestKeys.Match(text)
}

// splitYAML splits at separator lines, as kubectl does, and converts each
// document that has content.
func splitYAML(data []byte) []*chunk {
	var out []*chunk
	// The document's byte offset and line, and the line of its first content.
	docStart, docLine, first := 0, 1, 0
	lineNo := 0
	flush := func(end int) {
		if first > 0 {
			if c := convert(data[docStart:end], first, docLine); c != nil {
				out = append(out, c)
			}
		}
	}
	for off := 0; off < len(data); {
		lineNo++
		end := bytes.IndexByte(data[off:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += off + 1
		}
		line := bytes.TrimRight(data[off:end], " \t\r\n")
		switch {
		case manifest.IsSeparator(line):
			flush(off)
			docStart, docLine, first = end, lineNo+1, 0
		case first == 0 && len(bytes.TrimSpace(line)) > 0 && bytes.TrimSpace(line)[0] != '#' && line[0] != '%':
			first = lineNo
		}
		off = end
	}
	flush(len(data))
	return out
}

var yamlErrLine = regexp.MustCompile(`line (\d+)`)

// convert parses one YAML document; nil when it does not parse and does
// not look like a manifest.
func convert(text []byte, first, textLine int) *chunk {
	small, stashed := stash(text)
	c := &chunk{line: first, src: small, srcLine: textLine, srcCol: 1, stashed: stashed}
	j, err := sigsyaml.YAMLToJSON(small)
	if err != nil {
		if !looksLikeManifest(text) {
			return nil
		}
		// Make the parser's line numbers count from the top of the file.
		named := false
		msg := yamlErrLine.ReplaceAllStringFunc(err.Error(), func(m string) string {
			n, _ := strconv.Atoi(m[len("line "):])
			if !named {
				c.line, named = n+textLine-1, true // the finding points at the first line named
			}
			return "line " + strconv.Itoa(n+textLine-1)
		})
		c.err = fmt.Errorf("invalid YAML: %s", sealed.WithholdQuotes(trimYAMLPrefix(msg)))
		return c
	}
	if !bytes.Equal(j, []byte("null")) {
		c.json = j
	}
	return c
}

func trimYAMLPrefix(s string) string {
	for _, p := range []string{"error converting YAML to JSON: ", "yaml: "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}
