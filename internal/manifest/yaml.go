package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	yamlv3 "go.yaml.in/yaml/v3"
)

// yamlSpans finds the text of every changed scalar in a YAML document and
// renders its new value. The parser gives where each node starts (line and
// column, in characters); where it ends follows from its style.
func yamlSpans(doc []byte, cs []Change, quoteAll bool) ([]span, error) {
	var root yamlv3.Node
	if err := yamlv3.Unmarshal(doc, &root); err != nil {
		return nil, fmt.Errorf("document %d does not parse", cs[0].Doc+1)
	}
	lines := lineStarts(doc)
	var spans []span
	for _, c := range cs {
		n, parent, key, err := lookup(&root, c.Path)
		var missing missingKeyError
		if errors.As(err, &missing) && missing.at == len(c.Path)-1 {
			sp, err := yamlInsert(doc, lines, parent, c, quoteAll)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.where(), err)
			}
			spans = append(spans, sp)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.where(), err)
		}
		s := offset(doc, lines, n.Line, n.Column)
		flow := parent != nil && parent.Style&yamlv3.FlowStyle != 0
		start, end, err := scalarSpan(doc, s, n, indentOf(doc, lines, parent, key, n), flow)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.where(), err)
		}
		spans = append(spans, span{start: start, end: end, text: render(c.Value, n, flow, quoteAll)})
	}
	return spans, nil
}

// lookup follows path from the document node and returns the node there,
// its parent and, in a mapping, its key.
func lookup(root *yamlv3.Node, path []string) (n, parent, key *yamlv3.Node, err error) {
	if root.Kind != yamlv3.DocumentNode || len(root.Content) == 0 {
		return nil, nil, nil, errors.New("the document is empty")
	}
	n = root.Content[0]
	for i, p := range path {
		if n.Kind == yamlv3.AliasNode {
			return nil, nil, nil, fmt.Errorf("%s is an alias: edit its anchor instead", strings.Join(path[:i], "."))
		}
		parent, key = n, nil
		switch n.Kind {
		case yamlv3.MappingNode:
			var next *yamlv3.Node
			for j := 0; j+1 < len(n.Content); j += 2 {
				if k := n.Content[j]; k.Kind == yamlv3.ScalarNode && k.Value == p {
					key, next = k, n.Content[j+1]
					break
				}
			}
			if next == nil {
				return nil, parent, nil, missingKeyError{p, i}
			}
			n = next
		case yamlv3.SequenceNode:
			j, err := strconv.Atoi(p)
			if err != nil || j < 0 || j >= len(n.Content) {
				return nil, nil, nil, fmt.Errorf("no item %s", p)
			}
			n = n.Content[j]
		default:
			return nil, nil, nil, fmt.Errorf("%q is inside a scalar", p)
		}
	}
	if n.Kind != yamlv3.ScalarNode && n.Kind != yamlv3.AliasNode {
		return nil, nil, nil, errors.New("not a scalar")
	}
	return n, parent, key, nil
}

// missingKeyError is a path whose key at index at is not in its mapping.
type missingKeyError struct {
	key string
	at  int
}

func (e missingKeyError) Error() string { return fmt.Sprintf("no key %q", e.key) }

// yamlInsert adds c's key, missing from the mapping m, after the mapping's
// last entry: on a line of its own, indented as the other keys, in a block
// mapping; after a comma in a flow mapping.
func yamlInsert(doc []byte, lines []int, m *yamlv3.Node, c Change, quoteAll bool) (span, error) {
	flow := m.Style&yamlv3.FlowStyle != 0
	k := c.Path[len(c.Path)-1]
	entry := renderKey(k, flow, quoteAll) + ": " + render(c.Value, &yamlv3.Node{Kind: yamlv3.ScalarNode}, flow, quoteAll)
	if len(m.Content) == 0 {
		s := offset(doc, lines, m.Line, m.Column)
		if !flow || s >= len(doc) || doc[s] != '{' {
			return span{}, errors.New("cannot add a key to an empty mapping that is not {}")
		}
		return span{start: s + 1, end: s + 1, text: entry}, nil
	}
	lastKey, last := m.Content[len(m.Content)-2], m.Content[len(m.Content)-1]
	if last.Kind != yamlv3.ScalarNode && last.Kind != yamlv3.AliasNode {
		return span{}, errors.New("cannot add a key after a nested value")
	}
	_, end, err := scalarSpan(doc, offset(doc, lines, last.Line, last.Column), last, lastKey.Column-1, flow)
	if err != nil {
		return span{}, err
	}
	if flow {
		return span{start: end, end: end, text: ", " + entry}, nil
	}
	lend, next := line(doc, end)
	br := string(doc[lend:next])
	if br == "" {
		br = "\n"
	}
	text := br + strings.Repeat(" ", lastKey.Column-1) + entry
	if next == lend { // the last line of the document had no line break
		text = "\n" + strings.Repeat(" ", lastKey.Column-1) + entry
	}
	return span{start: lend, end: lend, text: text}, nil
}

// renderKey writes a mapping key, quoted where plain would not read back.
func renderKey(k string, flow, quoteAll bool) string {
	if !quoteAll && plainSafe(k, flow) {
		return k
	}
	return doubleQuoted(k)
}

// lineStarts are the offsets where lines start, with the YAML parser's
// line breaks: CR LF, CR, LF, NEL, LS and PS.
func lineStarts(doc []byte) []int {
	starts := []int{0}
	for i := 0; i < len(doc); {
		// Only these bytes can start a line break; most bytes are not.
		if c := doc[i]; c != '\n' && c != '\r' && c != 0xC2 && c != 0xE2 {
			i++
			continue
		}
		w := breakWidth(doc[i:])
		if w == 0 {
			i++
			continue
		}
		i += w
		starts = append(starts, i)
	}
	return starts
}

// breakWidth is the length of the line break b starts with, or 0.
func breakWidth(b []byte) int {
	switch {
	case bytes.HasPrefix(b, []byte("\r\n")):
		return 2
	case b[0] == '\r' || b[0] == '\n':
		return 1
	case bytes.HasPrefix(b, []byte("\u0085")):
		return 2
	case bytes.HasPrefix(b, []byte("\u2028")), bytes.HasPrefix(b, []byte("\u2029")):
		return 3
	}
	return 0
}

// offset turns the parser's line and column (from 1, in characters) into a
// byte offset.
func offset(doc []byte, lines []int, line, col int) int {
	if line < 1 || line > len(lines) {
		return len(doc)
	}
	i := lines[line-1]
	if line == 1 && bytes.HasPrefix(doc, []byte("\uFEFF")) {
		i += 3 // the parser skips a byte order mark without counting it
	}
	for ; col > 1 && i < len(doc); col-- {
		_, w := utf8.DecodeRune(doc[i:])
		i += w
	}
	return i
}

// indentOf is the indentation a multi-line scalar's continuation must
// exceed: its key's column in a mapping, its dash's in a sequence.
func indentOf(doc []byte, lines []int, parent, key, n *yamlv3.Node) int {
	switch {
	case key != nil:
		return key.Column - 1
	case parent != nil && parent.Kind == yamlv3.SequenceNode:
		i := offset(doc, lines, n.Line, n.Column)
		for i > 0 && doc[i-1] != '-' && doc[i-1] != '\n' {
			i--
		}
		return column(doc, i-1)
	}
	return -1
}

// column is the 0-based column of offset i.
func column(doc []byte, i int) int {
	start := bytes.LastIndexByte(doc[:max(i, 0)], '\n') + 1
	return utf8.RuneCount(doc[start:max(i, start)])
}

// scalarSpan returns where the scalar (or alias) n that starts at s ends;
// the span starts after any anchor and tag.
func scalarSpan(doc []byte, s int, n *yamlv3.Node, indent int, flow bool) (int, int, error) {
	for s < len(doc) && (doc[s] == '&' || doc[s] == '!') && n.Kind != yamlv3.AliasNode {
		for s < len(doc) && !isSpaceOrBreak(doc[s]) {
			s++
		}
		for s < len(doc) && isSpaceOrBreak(doc[s]) {
			s++
		}
	}
	if s >= len(doc) {
		return 0, 0, errors.New("cannot find the value in the text")
	}
	var end int
	var ok bool
	switch {
	case n.Kind == yamlv3.AliasNode:
		end, ok = aliasEnd(doc, s)
	case n.Style&yamlv3.DoubleQuotedStyle != 0:
		end, ok = doubleQuotedEnd(doc, s)
	case n.Style&yamlv3.SingleQuotedStyle != 0:
		end, ok = singleQuotedEnd(doc, s)
	case n.Style&(yamlv3.LiteralStyle|yamlv3.FoldedStyle) != 0:
		end, ok = blockEnd(doc, s, indent)
	default:
		end, ok = plainEnd(doc, s, indent, n.Value, flow)
	}
	if !ok {
		return 0, 0, errors.New("cannot find the value in the text")
	}
	return s, end, nil
}

func isSpaceOrBreak(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

func aliasEnd(doc []byte, s int) (int, bool) {
	if doc[s] != '*' {
		return 0, false
	}
	i := s + 1
	for i < len(doc) && !isSpaceOrBreak(doc[i]) && !strings.ContainsRune(",[]{}", rune(doc[i])) {
		i++
	}
	return i, true
}

func doubleQuotedEnd(doc []byte, s int) (int, bool) {
	if doc[s] != '"' {
		return 0, false
	}
	for i := s + 1; i < len(doc); i++ {
		switch doc[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return 0, false
}

func singleQuotedEnd(doc []byte, s int) (int, bool) {
	if doc[s] != '\'' {
		return 0, false
	}
	for i := s + 1; i < len(doc); i++ {
		if doc[i] != '\'' {
			continue
		}
		if i+1 < len(doc) && doc[i+1] == '\'' {
			i++
			continue
		}
		return i + 1, true
	}
	return 0, false
}

// line returns the line starting at i: its end without the break, and the
// offset of the next line.
func line(doc []byte, i int) (end, next int) {
	for end = i; end < len(doc); end++ {
		if c := doc[end]; c != '\n' && c != '\r' && c != 0xC2 && c != 0xE2 {
			continue
		}
		if w := breakWidth(doc[end:]); w > 0 {
			return end, end + w
		}
	}
	return end, end
}

// leading counts the spaces a line starts with; blank reports a line of
// only spaces and tabs.
func leading(doc []byte, i, end int) (n int, blank bool) {
	for i+n < end && doc[i+n] == ' ' {
		n++
	}
	return n, len(bytes.Trim(doc[i:end], " \t")) == 0
}

// blockEnd finds the end of a literal or folded block scalar whose
// indicator is at s: the end of its last line indented deeper than indent
// (or than the explicit indentation indicator says).
func blockEnd(doc []byte, s, indent int) (int, bool) {
	if doc[s] != '|' && doc[s] != '>' {
		return 0, false
	}
	headerEnd, i := line(doc, s)
	contentIndent := -1
	for _, c := range doc[s+1 : headerEnd] {
		if c >= '1' && c <= '9' {
			contentIndent = indent + int(c-'0')
		}
		if c == '#' {
			break
		}
	}
	end := headerEnd
	for i < len(doc) {
		lend, next := line(doc, i)
		n, blank := leading(doc, i, lend)
		if !blank {
			if contentIndent < 0 {
				if n <= indent {
					break
				}
				contentIndent = n
			}
			if n < contentIndent {
				break
			}
			end = lend
		}
		i = next
	}
	return end, true
}

// plainEnd finds the end of a plain scalar: on its first line, or, when
// that does not hold all of want, on continuation lines indented deeper
// than indent, folded as the parser folds them.
func plainEnd(doc []byte, s, indent int, want string, flow bool) (int, bool) {
	lend, next := line(doc, s)
	end := plainLineEnd(doc, s, lend, flow)
	if string(doc[s:end]) == want {
		return end, true
	}
	for i := next; i < len(doc); {
		lend, next := line(doc, i)
		n, blank := leading(doc, i, lend)
		if !blank {
			if n <= indent || doc[i+n] == '#' {
				return 0, false
			}
			end = plainLineEnd(doc, i+n, lend, flow)
			if fold(doc[s:end]) == want {
				return end, true
			}
		}
		i = next
	}
	return 0, false
}

// plainLineEnd is where a plain scalar on the line from i to lend ends:
// before a comment, a ": ", in flow context a flow indicator, and trailing
// blanks.
func plainLineEnd(doc []byte, i, lend int, flow bool) int {
	end := i
	for j := i; j < lend; j++ {
		c := doc[j]
		if c == '#' && j > i && (doc[j-1] == ' ' || doc[j-1] == '\t') {
			break
		}
		if c == ':' && (j+1 == lend || doc[j+1] == ' ' || doc[j+1] == '\t') {
			break
		}
		if flow && (c == ',' || c == ']' || c == '}') {
			break
		}
		if c != ' ' && c != '\t' {
			end = j + 1
		}
	}
	return end
}

// fold joins the lines of a multi-line plain scalar as YAML does: a single
// line break becomes a space, n empty lines become n newlines.
func fold(text []byte) string {
	var b strings.Builder
	empty := 0
	first := true
	for l := range strings.Lines(strings.ReplaceAll(string(text), "\r\n", "\n")) {
		l = strings.Trim(l, " \t\r\n")
		if l == "" {
			empty++
			continue
		}
		if !first {
			if empty == 0 {
				b.WriteByte(' ')
			} else {
				b.WriteString(strings.Repeat("\n", empty))
			}
		}
		b.WriteString(l)
		first, empty = false, 0
	}
	return b.String()
}

// render writes value in n's style where it can be, double-quoted where it
// cannot.
func render(value string, n *yamlv3.Node, flow, quoteAll bool) string {
	switch {
	case quoteAll || n.Kind == yamlv3.AliasNode:
	case n.Style&yamlv3.SingleQuotedStyle != 0 && printable(value):
		return "'" + strings.ReplaceAll(value, "'", "''") + "'"
	case n.Style&(yamlv3.DoubleQuotedStyle|yamlv3.LiteralStyle|yamlv3.FoldedStyle) == 0 && plainSafe(value, flow):
		return value
	}
	return doubleQuoted(value)
}

// doubleQuoted is value as a YAML double-quoted scalar; JSON's string
// escapes are all YAML escapes too.
func doubleQuoted(value string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(value) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

func printable(s string) bool {
	for _, r := range s {
		if r < ' ' || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// plainSafe reports whether value reads back as the same string when
// written plain: the YAML encoder writes it plain, and in flow context it
// holds no indicator that would end it.
func plainSafe(value string, flow bool) bool {
	if value == "" || !printable(value) || strings.TrimSpace(value) != value {
		return false
	}
	if flow && strings.ContainsAny(value, ",[]{}:#") {
		return false
	}
	if simplePlain(value) {
		return true
	}
	out, err := yamlv3.Marshal(value)
	return err == nil && string(out) == value+"\n"
}

// yaml11Words are the plain scalars a YAML 1.1 parser (as Kubernetes'
// sigs.k8s.io/yaml is) reads as something other than a string.
var yaml11Words = []string{"y", "n", "yes", "no", "on", "off", "true", "false", "null"}

// simplePlain is the fast path of plainSafe for what sealed values look
// like (sealkit:v1:ids:base64, base64): a letter, then letters, digits
// and + / = : , . _ -, and not a word YAML reads otherwise.
func simplePlain(value string) bool {
	c := value[0]
	if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
		return false
	}
	for i := 1; i < len(value); i++ {
		c := value[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && !strings.ContainsRune("+/=:,._-", rune(c)) {
			return false
		}
	}
	for _, w := range yaml11Words {
		if strings.EqualFold(value, w) {
			return false
		}
	}
	return true
}
