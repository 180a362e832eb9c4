package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// jsonSpans finds the token of every changed value in a JSON document and
// renders its new value as a JSON string.
func jsonSpans(doc []byte, cs []Change) ([]span, error) {
	var spans []span
	for _, c := range cs {
		dec := json.NewDecoder(bytes.NewReader(doc))
		dec.UseNumber()
		start, end, err := findJSON(dec, doc, c.Path)
		var ins jsonInsertion
		if errors.As(err, &ins) {
			spans = append(spans, ins.span(doc, c.Path[len(c.Path)-1], c.Value))
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.where(), err)
		}
		spans = append(spans, span{start: start, end: end, text: doubleQuoted(c.Value)})
	}
	return spans, nil
}

// findJSON returns where the scalar at path is, descending from the next
// value of dec.
func findJSON(dec *json.Decoder, doc []byte, path []string) (int, int, error) {
	start := skipSeparators(doc, int(dec.InputOffset()))
	tok, err := dec.Token()
	if err != nil {
		return 0, 0, errors.New("the document does not parse")
	}
	delim, container := tok.(json.Delim)
	if len(path) == 0 {
		if container {
			return 0, 0, errors.New("not a scalar")
		}
		return start, int(dec.InputOffset()), nil
	}
	switch {
	case container && delim == '{':
		open := start
		lastKey, lastEnd := -1, -1
		for dec.More() {
			keyStart := skipSeparators(doc, int(dec.InputOffset()))
			k, err := dec.Token()
			if err != nil {
				return 0, 0, errors.New("the document does not parse")
			}
			if k == path[0] {
				return findJSON(dec, doc, path[1:])
			}
			if err := skipJSON(dec); err != nil {
				return 0, 0, err
			}
			lastKey, lastEnd = keyStart, int(dec.InputOffset())
		}
		if len(path) == 1 {
			return 0, 0, jsonInsertion{open, lastKey, lastEnd}
		}
		return 0, 0, fmt.Errorf("no key %q", path[0])
	case container && delim == '[':
		want, err := strconv.Atoi(path[0])
		for i := 0; err == nil && dec.More(); i++ {
			if i == want {
				return findJSON(dec, doc, path[1:])
			}
			if err := skipJSON(dec); err != nil {
				return 0, 0, err
			}
		}
		return 0, 0, fmt.Errorf("no item %s", path[0])
	}
	return 0, 0, fmt.Errorf("%q is inside a scalar", path[0])
}

func skipJSON(dec *json.Decoder) error {
	var skip json.RawMessage
	if err := dec.Decode(&skip); err != nil {
		return errors.New("the document does not parse")
	}
	return nil
}

// skipSeparators skips the blanks, ':' and ',' the decoder leaves before
// the next value.
func skipSeparators(doc []byte, i int) int {
	for i < len(doc) && (doc[i] == ':' || doc[i] == ',' || doc[i] == ' ' || doc[i] == '\t' || doc[i] == '\n' || doc[i] == '\r') {
		i++
	}
	return i
}

// jsonInsertion is where a missing key goes: after the last member of the
// object that opens at open, or inside it when it has none.
type jsonInsertion struct {
	open, lastKey, lastEnd int
}

func (jsonInsertion) Error() string { return "key to be added" }

// span adds "key": value after the last member, on a line of its own and
// indented like it when the members are one per line.
func (ins jsonInsertion) span(doc []byte, key, value string) span {
	member := doubleQuoted(key) + ": " + doubleQuoted(value)
	if ins.lastKey < 0 {
		return span{start: ins.open + 1, end: ins.open + 1, text: member}
	}
	lineStart := bytes.LastIndexByte(doc[:ins.lastKey], '\n') + 1
	if lineStart == 0 || strings.TrimSpace(string(doc[lineStart:ins.lastKey])) != "" {
		return span{start: ins.lastEnd, end: ins.lastEnd, text: ", " + member}
	}
	br := "\n"
	if lineStart >= 2 && doc[lineStart-2] == '\r' {
		br = "\r\n"
	}
	return span{start: ins.lastEnd, end: ins.lastEnd, text: "," + br + string(doc[lineStart:ins.lastKey]) + member}
}
