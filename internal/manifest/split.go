package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"sigs.k8s.io/yaml"
)

// The two formats of a manifest file.
const (
	YAML = "yaml"
	JSON = "json"
)

// Doc is where one document is in a file: data[Start:End]. Line is the
// line it starts on, from 1.
type Doc struct {
	Start, End int
	Line       int
}

// FormatOf is the format data is read in: JSON when its first non-blank
// byte opens an object or an array, unless its first value is not JSON but
// the file reads as YAML (a YAML file may start with a flow mapping); YAML
// otherwise.
func FormatOf(data []byte) string {
	t := bytes.TrimSpace(data)
	if len(t) == 0 || t[0] != '{' && t[0] != '[' {
		return YAML
	}
	var first json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(t)).Decode(&first); err == nil || !readsAsYAML(data) {
		return JSON
	}
	return YAML
}

// readsAsYAML reports whether every document of data parses as YAML.
func readsAsYAML(data []byte) bool {
	docs, err := splitYAML(data)
	if err != nil {
		return false
	}
	for _, d := range docs {
		if _, err := yaml.YAMLToJSON(data[d.Start:d.End]); err != nil {
			return false
		}
	}
	return true
}

// Split returns the format of data and its documents in order. A YAML
// document is the text between separator lines (a line starting with
// "---", followed only by blanks or a comment); text between two
// separators that follow each other directly is no document, but a
// document of only comments or blank lines is (it decodes to nothing). A
// JSON document is one value of the stream.
//
// On a syntax error Split returns the documents before it and the error,
// which names the line and never quotes the file.
func Split(data []byte) (string, []Doc, error) {
	if FormatOf(data) == JSON {
		docs, err := splitJSON(data)
		return JSON, docs, err
	}
	docs, err := splitYAML(data)
	return YAML, docs, err
}

// splitYAML splits at separator lines as Kubernetes' YAMLReader does, so
// that documents are numbered alike everywhere.
func splitYAML(data []byte) ([]Doc, error) {
	var docs []Doc
	start, startLine := 0, 1
	line := 1
	for off := 0; off < len(data); line++ {
		end := len(data)
		if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
			end = off + i + 1
		}
		text := bytes.TrimRight(data[off:end], "\r\n")
		if bytes.HasPrefix(text, []byte("---")) {
			if !IsSeparator(text) {
				return docs, fmt.Errorf("line %d: invalid document separator: only a comment may follow ---", line)
			}
			if off > start {
				docs = append(docs, Doc{Start: start, End: off, Line: startLine})
			}
			start, startLine = end, line+1
		}
		off = end
	}
	if len(data) > start {
		docs = append(docs, Doc{Start: start, End: len(data), Line: startLine})
	}
	return docs, nil
}

// IsSeparator reports whether line (without its line break) separates YAML
// documents as Kubernetes' YAMLReader reads it: "---" followed by nothing
// but blanks or a comment ("---", "--- # next", "---\t#x", "---#x").
func IsSeparator(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, []byte("---"))
	if !ok {
		return false
	}
	rest = bytes.TrimSpace(rest)
	return len(rest) == 0 || rest[0] == '#'
}

func splitJSON(data []byte) ([]Doc, error) {
	var docs []Doc
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		start := skipSpace(data, int(dec.InputOffset()))
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		line := 1 + bytes.Count(data[:start], []byte("\n"))
		if err != nil {
			return docs, fmt.Errorf("line %d: %w", line, err)
		}
		docs = append(docs, Doc{Start: start, End: int(dec.InputOffset()), Line: line})
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}
