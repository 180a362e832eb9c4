package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// Change sets one scalar value, or removes one mapping entry: the one at
// Path in document Doc (an index into [Split]'s documents). Path holds
// mapping keys, and sequence indexes in decimal: {"items", "0", "spec",
// "encryptedData", "password"}. When the last key of a value to set is not
// in its mapping, it is added as the mapping's last entry; every other
// step of the path must exist.
type Change struct {
	Doc   int
	Path  []string
	Value string
	// Delete removes the entry at Path, which must be a mapping key, with
	// its whole value (a scalar or a nested mapping or sequence): in a
	// block mapping the lines it takes, in a flow mapping or a JSON object
	// the entry and one comma. Value is ignored.
	Delete bool
}

// where names a change's place in messages.
func (c Change) where() string {
	return fmt.Sprintf("document %d: %s", c.Doc+1, strings.Join(c.Path, "."))
}

// span is a stretch of a document to replace with text.
type span struct {
	start, end int // relative to the document
	text       string
}

// Apply returns data with every change made and every other byte as it
// was. A path that leads to nothing, a value to set that is not a scalar
// or an alias, an entry to delete that is not in a mapping, and changes
// that touch the same text are errors; so is an edit that would not read back exactly
// as intended (see the package documentation). data is not modified.
func Apply(data []byte, changes []Change) ([]byte, error) {
	return ApplyRead(data, nil, changes)
}

// ApplyRead is [Apply] for a caller that has read the documents of data
// already: read[i], where present, is document i as Kubernetes reads it,
// in JSON (what sigs.k8s.io/yaml.YAMLToJSON gives for a YAML document).
// The original documents are then not parsed again; each edited one still
// is. A re-seal of a repository reads every file first, and parsing a
// document of post-quantum values is most of what an edit costs.
func ApplyRead(data []byte, read map[int][]byte, changes []Change) ([]byte, error) {
	format, docs, err := Split(data)
	if err != nil {
		return nil, err
	}
	byDoc := map[int][]Change{}
	for _, c := range changes {
		if c.Doc < 0 || c.Doc >= len(docs) {
			return nil, fmt.Errorf("%s: the file has %d documents", c.where(), len(docs))
		}
		byDoc[c.Doc] = append(byDoc[c.Doc], c)
	}
	out := slices.Clone(data)
	// Edit from the last document to the first: offsets of earlier ones
	// stay valid.
	for i := len(docs) - 1; i >= 0; i-- {
		cs := byDoc[i]
		if len(cs) == 0 {
			continue
		}
		d := docs[i]
		edited, err := editDoc(format, data[d.Start:d.End], read[i], cs)
		if err != nil {
			return nil, err
		}
		out = slices.Concat(out[:d.Start], edited, out[d.End:])
	}
	// Replacements hold no line breaks, so no separator can appear or go;
	// make sure of it.
	if _, after, err := Split(out); err != nil || len(after) != len(docs) {
		return nil, errors.New("the edit would change where the documents of the file are")
	}
	return out, nil
}

// editDoc makes cs in one document and checks the result. A style that
// does not read back (a plain scalar the parser takes differently in its
// context) is retried with every new value double-quoted.
func editDoc(format string, doc, read []byte, cs []Change) ([]byte, error) {
	want, err := expected(format, doc, read, cs)
	if err != nil {
		return nil, err
	}
	var lastErr error
	for _, quoteAll := range []bool{false, true} {
		var spans []span
		if format == JSON {
			spans, err = jsonSpans(doc, cs)
		} else {
			spans, err = yamlSpans(doc, cs, quoteAll)
		}
		if err != nil {
			return nil, err
		}
		edited, err := replaceSpans(doc, spans)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", cs[0].Doc+1, err)
		}
		if lastErr = check(format, edited, want, cs); lastErr == nil {
			return edited, nil
		}
		if format == JSON {
			break
		}
	}
	return nil, lastErr
}

// replaceSpans returns doc with each span replaced by its text. Changes
// whose spans overlap (an entry deleted along with a value inside it) are
// an error.
func replaceSpans(doc []byte, spans []span) ([]byte, error) {
	slices.SortStableFunc(spans, func(a, b span) int { return a.start - b.start })
	var b bytes.Buffer
	b.Grow(len(doc))
	prev := 0
	for _, s := range spans {
		if s.start < prev {
			return nil, errors.New("two changes touch the same text")
		}
		b.Write(doc[prev:s.start])
		b.WriteString(s.text)
		prev = s.end
	}
	b.Write(doc[prev:])
	return b.Bytes(), nil
}

// decode reads one document as Kubernetes does: YAML through its JSON
// form, numbers kept exact.
func decode(format string, doc []byte) (any, error) {
	j := doc
	if format == YAML {
		var err error
		if j, err = yaml.YAMLToJSON(doc); err != nil {
			return nil, err
		}
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// expected is the document as it must read after the changes; read, when
// not nil, is doc as already read, in JSON.
func expected(format string, doc, read []byte, cs []Change) (any, error) {
	var v any
	var err error
	if read != nil {
		v, err = decode(JSON, read)
	} else {
		v, err = decode(format, doc)
	}
	if err != nil {
		return nil, fmt.Errorf("document %d does not parse", cs[0].Doc+1)
	}
	for _, c := range cs {
		if c.Delete {
			v, err = deletePath(v, c.Path)
		} else {
			v, err = setPath(v, c.Path, c.Value)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.where(), err)
		}
	}
	return v, nil
}

// check verifies that the edited document reads as want.
func check(format string, edited []byte, want any, cs []Change) error {
	got, err := decode(format, edited)
	if err != nil || !reflect.DeepEqual(got, want) {
		return fmt.Errorf("document %d: cannot change %s in place without changing how the document reads",
			cs[0].Doc+1, strings.Join(cs[0].Path, "."))
	}
	return nil
}

// setPath sets the scalar at path in v (as decoded from JSON) to value.
func setPath(v any, path []string, value string) (any, error) {
	if len(path) == 0 {
		switch v.(type) {
		case map[string]any, []any:
			return nil, fmt.Errorf("not a scalar")
		}
		return value, nil
	}
	switch t := v.(type) {
	case map[string]any:
		cur, ok := t[path[0]]
		if !ok && len(path) == 1 {
			t[path[0]] = value
			return t, nil
		}
		if !ok {
			return nil, fmt.Errorf("no key %q", path[0])
		}
		nv, err := setPath(cur, path[1:], value)
		if err != nil {
			return nil, err
		}
		t[path[0]] = nv
		return t, nil
	case []any:
		i, err := strconv.Atoi(path[0])
		if err != nil || i < 0 || i >= len(t) {
			return nil, fmt.Errorf("no item %s", path[0])
		}
		nv, err := setPath(t[i], path[1:], value)
		if err != nil {
			return nil, err
		}
		t[i] = nv
		return t, nil
	}
	return nil, fmt.Errorf("%q is inside a scalar", path[0])
}

// deletePath removes the mapping entry at path from v (as decoded from
// JSON).
func deletePath(v any, path []string) (any, error) {
	if len(path) == 0 {
		return nil, errors.New("nothing to delete")
	}
	switch t := v.(type) {
	case map[string]any:
		cur, ok := t[path[0]]
		if !ok {
			return nil, fmt.Errorf("no key %q", path[0])
		}
		if len(path) == 1 {
			delete(t, path[0])
			return t, nil
		}
		nv, err := deletePath(cur, path[1:])
		if err != nil {
			return nil, err
		}
		t[path[0]] = nv
		return t, nil
	case []any:
		i, err := strconv.Atoi(path[0])
		if err != nil || i < 0 || i >= len(t) {
			return nil, fmt.Errorf("no item %s", path[0])
		}
		if len(path) == 1 {
			return nil, errors.New("a sequence item cannot be deleted")
		}
		nv, err := deletePath(t[i], path[1:])
		if err != nil {
			return nil, err
		}
		t[i] = nv
		return t, nil
	}
	return nil, fmt.Errorf("%q is inside a scalar", path[0])
}
