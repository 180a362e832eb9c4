package lint

import (
	"bytes"
	"encoding/json"

	"go.yaml.in/yaml/v3"
)

// A path names a place in a document: string elements are mapping keys,
// int elements sequence indexes, e.g. {"items", 2, "data", "password"}.
// Findings name the path of the offending key, and locate turns it into a
// line and column. Only documents with a finding are parsed for positions:
// the fast path (no findings) never pays for it.

// locate returns the 1-based line and column of path p in c: of the key
// (or sequence item) it ends at, else of the deepest part that exists,
// else of the document's start.
func (c *chunk) locate(p []any) (line, col int) {
	if len(p) == 0 || len(c.src) == 0 {
		return c.line, 1
	}
	if c.isJSON {
		off, ok := jsonOffset(c.src, p)
		if !ok {
			return c.line, c.srcCol
		}
		l, cl := lineCol(c.src, 0, off)
		if l == 1 {
			cl += c.srcCol - 1
		}
		return c.srcLine + l - 1, cl
	}
	if c.node == nil && c.nodeErr == nil {
		var n yaml.Node
		if c.nodeErr = yaml.Unmarshal(c.src, &n); c.nodeErr == nil {
			c.node = &n
		}
	}
	if c.node == nil || len(c.node.Content) == 0 {
		return c.line, 1
	}
	if n := yamlFind(c.node.Content[0], p); n != nil {
		return c.srcLine + n.Line - 1, n.Column
	}
	return c.line, 1
}

// yamlFind returns the node p ends at: the key node for a mapping key, the
// item for an index; the deepest one found when p goes further than the
// document does; nil when not even the first element exists.
func yamlFind(n *yaml.Node, p []any) *yaml.Node {
	var found *yaml.Node
	for _, e := range p {
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		var next, at *yaml.Node
		switch e := e.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == e {
						at, next = n.Content[i], n.Content[i+1]
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && e >= 0 && e < len(n.Content) {
				at, next = n.Content[e], n.Content[e]
			}
		}
		if next == nil {
			return found
		}
		found, n = at, next
	}
	return found
}

// jsonOffset returns the byte offset in data of the key (or array item) p
// ends at, walking the JSON tokens; false when p does not exist.
func jsonOffset(data []byte, p []any) (int, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	best, found := 0, false
	var walk func(depth int) bool // reads one value; true when done
	walk = func(depth int) bool {
		tok, err := dec.Token()
		if err != nil {
			return true
		}
		d, ok := tok.(json.Delim)
		if !ok {
			return false
		}
		switch d {
		case '{':
			for dec.More() {
				keyStart := tokenStart(data, int(dec.InputOffset()))
				kt, err := dec.Token()
				if err != nil {
					return true
				}
				key, _ := kt.(string)
				if depth < len(p) && p[depth] == any(key) {
					best, found = keyStart, true
					if depth+1 < len(p) {
						walk(depth + 1)
					}
					return true
				}
				if skip(dec) != nil {
					return true
				}
			}
		case '[':
			for i := 0; dec.More(); i++ {
				if depth < len(p) && p[depth] == any(i) {
					best, found = tokenStart(data, int(dec.InputOffset())), true
					if depth+1 < len(p) {
						walk(depth + 1)
					}
					return true
				}
				if skip(dec) != nil {
					return true
				}
			}
		}
		return true // the path's next element is not here
	}
	walk(0)
	return best, found
}

// tokenStart skips whitespace and the separators the decoder has not
// consumed yet, giving the offset where the next token starts.
func tokenStart(data []byte, off int) int {
	for off < len(data) && (isSpace(data[off]) || data[off] == ',' || data[off] == ':') {
		off++
	}
	return off
}

// skip reads one whole value.
func skip(dec *json.Decoder) error {
	var v json.RawMessage
	return dec.Decode(&v)
}
