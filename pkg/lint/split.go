package lint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/sealkit/sealkit/pkg/sealed"
)

// chunk is one YAML document or JSON value of a file, with the line it
// starts on, converted to JSON; err is set when it does not parse.
type chunk struct {
	line int
	text []byte // the YAML source, to find the line of a data key
	// textLine is the line text starts on: before line, when the document
	// opens with blank lines or comments.
	textLine int
	json     []byte
	err      error
	// stashed holds the sealed values taken out before parsing; see stash.
	stashed []string
}

// split cuts a file into its documents. Unlike sealed.ReadManifests it
// keeps going past a document that does not parse, and it knows the line
// each document starts on, for CI annotations.
func split(data []byte) []chunk {
	if t := bytes.TrimSpace(data); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return splitJSON(data)
	}
	return splitYAML(data)
}

func splitJSON(data []byte) []chunk {
	var out []chunk
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		start := int(dec.InputOffset())
		for start < len(data) && isSpace(data[start]) {
			start++
		}
		if start >= len(data) {
			return out
		}
		line := 1 + bytes.Count(data[:start], []byte("\n"))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return append(out, chunk{line: line, err: fmt.Errorf("invalid JSON: %w", err)})
		}
		out = append(out, chunk{line: line, json: raw})
	}
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// splitYAML splits at "---" lines, as kubectl does, and converts each
// document that has content.
func splitYAML(data []byte) []chunk {
	var out []chunk
	// The document's byte offset and line, and the line of its first content.
	docStart, docLine, first := 0, 1, 0
	lineNo := 0
	flush := func(end int) {
		if first > 0 {
			out = append(out, convert(data[docStart:end], first, docLine))
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
		case isSeparator(line):
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

func isSeparator(line []byte) bool {
	return bytes.Equal(line, []byte("---")) || bytes.HasPrefix(line, []byte("--- "))
}

var yamlErrLine = regexp.MustCompile(`line (\d+)`)

func convert(text []byte, first, textLine int) chunk {
	c := chunk{line: first, text: text, textLine: textLine}
	small, stashed := stash(text)
	c.stashed = stashed
	j, err := yaml.YAMLToJSON(small)
	if err != nil {
		// Make the parser's line numbers count from the top of the file.
		msg := yamlErrLine.ReplaceAllStringFunc(err.Error(), func(m string) string {
			n, _ := strconv.Atoi(m[len("line "):])
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

// keyLine is the line of "key:" in a document's YAML source, or the
// document's first line when it cannot be found (JSON, flow style).
func (c chunk) keyLine(key string) int {
	if key == "" || len(c.text) == 0 {
		return c.line
	}
	for i, l := range bytes.Split(c.text, []byte("\n")) {
		l = bytes.TrimLeft(l, " \t")
		for _, q := range []string{"", `"`, `'`} {
			if bytes.HasPrefix(l, []byte(q+key+q+":")) {
				return c.textLine + i
			}
		}
	}
	return c.line
}
