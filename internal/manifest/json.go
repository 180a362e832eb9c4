package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// jsonSpans finds the token of every changed value in a JSON document and
// renders its new value as a JSON string.
func jsonSpans(doc []byte, cs []Change) ([]span, error) {
	var spans []span
	for _, c := range cs {
		dec := json.NewDecoder(bytes.NewReader(doc))
		dec.UseNumber()
		start, end, err := findJSON(dec, doc, c.Path)
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
		for dec.More() {
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
