package lint

import (
	"bytes"
	"cmp"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sealkit/sealkit/internal/manifest"
)

// A Helm template is not YAML until it is rendered, but its shape is:
// keys at indentations, with {{ }} actions in between. template reads that
// shape line by line, which is enough to tell a literal value in a Secret
// (committed plaintext, whatever values the chart is rendered with) from a
// templated one (the value comes from values, resolved at deploy time), and
// to point a finding about a rendered object back at the template line
// that made it.

// template is the outline of one template file.
type template struct {
	lines []tline
	docs  []tdoc
}

// tline is one line that holds a mapping key.
type tline struct {
	line, col int      // of the key, 1-based
	chain     []string // the keys from the document's root to this one
	value     string   // what follows "key:", trimmed; a block scalar's lines joined
	doc       int      // index into template.docs
}

// tdoc is one document of a template: the part between "---" lines.
type tdoc struct {
	chunk *chunk // its source, for locations and suppression comments
}

var tkey = regexp.MustCompile(`^(?:"([^"]*)"|'([^']*)'|([^\s"'#{}\[\]&*!|>%@,][^:#]*?))\s*:(?:\s|$)`)

// parseTemplate outlines src.
func parseTemplate(src []byte) *template {
	t := &template{}
	type level struct {
		indent int
		key    string
	}
	var stack []level
	lines := bytes.Split(src, []byte("\n"))
	docStart, first := 0, 0
	endDoc := func(end int) {
		c := &chunk{src: bytes.Join(lines[docStart:end], []byte("\n")), srcLine: docStart + 1, line: cmp.Or(first, docStart+1)}
		t.docs = append(t.docs, tdoc{chunk: c})
		stack, first = stack[:0], 0
	}
	for i := 0; i < len(lines); i++ {
		raw := string(bytes.TrimRight(lines[i], " \t\r"))
		if manifest.IsSeparator([]byte(raw)) {
			endDoc(i)
			docStart = i + 1
			continue
		}
		trimmed := strings.TrimLeft(raw, " ")
		if trimmed == "" || trimmed[0] == '#' || strings.HasPrefix(trimmed, "{{") {
			continue
		}
		indent := len(raw) - len(trimmed)
		for strings.HasPrefix(trimmed, "- ") || trimmed == "-" {
			trimmed = strings.TrimLeft(trimmed[1:], " ")
			indent = len(raw) - len(trimmed)
		}
		m := tkey.FindStringSubmatchIndex(trimmed)
		if m == nil {
			continue
		}
		first = cmp.Or(first, i+1)
		key := trimmed[max(m[2], m[4], m[6]):max(m[3], m[5], m[7])]
		for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		chain := make([]string, 0, len(stack)+1)
		for _, l := range stack {
			chain = append(chain, l.key)
		}
		chain = append(chain, key)
		at := i + 1
		value := strings.TrimSpace(trimmed[m[1]:])
		if isBlockIndicator(value) {
			var block []string
			for i+1 < len(lines) {
				next := string(bytes.TrimRight(lines[i+1], " \t\r"))
				if strings.TrimSpace(next) != "" && len(next)-len(strings.TrimLeft(next, " ")) <= indent {
					break
				}
				block = append(block, strings.TrimSpace(next))
				i++
			}
			value = strings.Join(block, "\n") + "\n"
		}
		t.lines = append(t.lines, tline{line: at, col: indent + 1, chain: chain, value: value, doc: len(t.docs)})
		stack = append(stack, level{indent, key})
	}
	endDoc(len(lines))
	return t
}

func isBlockIndicator(v string) bool {
	v, _, _ = strings.Cut(v, " #")
	return v != "" && (v[0] == '|' || v[0] == '>') && strings.Trim(v[1:], "+-0123456789") == ""
}

// templated reports whether s contains a template action.
func templated(s string) bool { return strings.Contains(s, "{{") }

// locate returns the line and column of the key path p (ints dropped)
// ends at, or of the longest prefix of it any line has; the first key's
// when none matches.
func (t *template) locate(p []any) (int, int) {
	var keys []string
	for _, e := range p {
		if s, ok := e.(string); ok {
			keys = append(keys, s)
		}
	}
	best, bestLen := -1, -1
	for i, l := range t.lines {
		n := 0
		for n < len(keys) && n < len(l.chain) && l.chain[n] == keys[n] {
			n++
		}
		if n == len(l.chain) && n > bestLen {
			best, bestLen = i, n
			if n == len(keys) {
				break
			}
		}
	}
	if best < 0 {
		if len(t.lines) == 0 {
			return 1, 1
		}
		best = 0
	}
	return t.lines[best].line, t.lines[best].col
}

// literalSecrets reports, through k, every literal value under data or
// stringData of a document whose kind is literally Secret: committed
// plaintext whatever values the chart is rendered with.
func (t *template) literalSecrets(k *checker) {
	for di := range t.docs {
		if !t.isSecret(di) {
			continue
		}
		o := &object{Kind: "Secret"}
		o.Metadata.Name = t.value(di, "metadata", "name")
		if o.Metadata.Name == "" || templated(o.Metadata.Name) {
			o.Metadata.Name = "(name from the template)"
		}
		d := &doc{c: t.docs[di].chunk, o: o}
		igs, bad := commentIgnores(d.c, k.file)
		d.ignores = igs
		k.objects++
		d.index = k.objects
		for _, b := range bad {
			k.reportBad(d, b)
		}
		for _, l := range t.lines {
			if l.doc != di || l.chain[0] != "data" && l.chain[0] != "stringData" {
				continue
			}
			for _, kv := range literalValues(l) {
				raw, _ := json.Marshal(kv.value)
				if classify(raw, l.chain[0] == "data") != valuePlaintext {
					continue
				}
				k.add(d, l.line, l.col, kv.key, PlaintextSecret,
					"secret %s in a Helm template holds plaintext key %q: a literal value in a template is committed; take it from values (sealed) or template a SealedSecret",
					o.Metadata.Name, kv.key)
			}
		}
	}
}

type keyValue struct{ key, value string }

// literalValues returns the data entries a line of data or stringData
// holds literally: "key: value" one level down, or a flow mapping on the
// data line itself.
func literalValues(l tline) []keyValue {
	switch len(l.chain) {
	case 1:
		// A flow mapping parses when its templated values are quoted.
		var m map[string]string
		if !strings.HasPrefix(l.value, "{") || yaml.Unmarshal([]byte(l.value), &m) != nil {
			return nil
		}
		var out []keyValue
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if !templated(k) && !templated(m[k]) {
				out = append(out, keyValue{k, m[k]})
			}
		}
		return out
	case 2:
		if templated(l.chain[1]) || templated(l.value) {
			return nil
		}
		v := l.value
		if !strings.HasSuffix(v, "\n") { // a block scalar is its value as it is
			var s string
			if yaml.Unmarshal([]byte("v: "+v), &struct {
				V *string `yaml:"v"`
			}{&s}) == nil {
				v = s
			}
		}
		return []keyValue{{l.chain[1], v}}
	}
	return nil
}

// isSecret reports whether document di says kind: Secret literally.
func (t *template) isSecret(di int) bool {
	return strings.Trim(t.value(di, "kind"), `"'`) == "Secret"
}

// value is the literal value at the key path chain in document di, also
// inside a flow mapping ("metadata: {name: x}").
func (t *template) value(di int, chain ...string) string {
	for _, l := range t.lines {
		if l.doc != di {
			continue
		}
		if slices.Equal(l.chain, chain) {
			v, _, _ := strings.Cut(l.value, " #")
			return strings.TrimSpace(v)
		}
		if len(chain) > 1 && slices.Equal(l.chain, chain[:len(chain)-1]) {
			for _, kv := range literalValues(tline{chain: l.chain[:1], value: l.value}) {
				if kv.key == chain[len(chain)-1] {
					return kv.value
				}
			}
		}
	}
	return ""
}
