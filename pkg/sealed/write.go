package sealed

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	yamlv2 "go.yaml.in/yaml/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// scheme fills in apiVersion and kind for objects built without them.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, v1alpha1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

// WriteManifests writes objs to w as "yaml" (documents separated by "---")
// or "json" (indented; several objects become one List). Keys are sorted
// and empty server fields (creationTimestamp: null, status: {}) left out, so
// the same objects always give the same bytes. It is [RenderManifest] of
// each object, then [JoinManifests].
func WriteManifests(w io.Writer, objs []runtime.Object, format string) error {
	docs := make([][]byte, len(objs))
	for i, obj := range objs {
		var err error
		if docs[i], err = RenderManifest(obj, format); err != nil {
			return fmt.Errorf("object %d: %w", i+1, err)
		}
	}
	return JoinManifests(w, docs, format)
}

// RenderManifest renders one object as [WriteManifests] writes it alone:
// a YAML document, or indented JSON. Objects may be rendered concurrently,
// then joined in order with [JoinManifests].
func RenderManifest(obj runtime.Object, format string) ([]byte, error) {
	if err := checkFormat(format); err != nil {
		return nil, err
	}
	short, values := withPlaceholders(obj)
	if len(values) == 0 {
		return render(obj, format)
	}
	out, err := render(short, format)
	if err != nil {
		return nil, err
	}
	if bytes.Count(out, []byte(placeholderTag)) != len(values) {
		// The object holds the tag itself (it is random: never by
		// chance); render it as it is.
		return render(obj, format)
	}
	return values.restore(out), nil
}

// render renders obj in format, every field through the encoders.
func render(obj runtime.Object, format string) ([]byte, error) {
	m, err := toMap(obj)
	if err != nil {
		return nil, err
	}
	if format == "yaml" {
		return marshalYAML(m)
	}
	return indentedJSON(m)
}

// marshalYAML writes m, an object decoded from JSON, as sigs.k8s.io/yaml
// would (the format seal has always written): that encodes m as JSON,
// parses the JSON as YAML and marshals the result with go-yaml v2. Parsing
// JSON text as YAML gives back the same strings, booleans, nulls, lists
// and maps (in a map go-yaml sorts the same way), so only numbers need the
// YAML parser, which picks their type; doing just that saves the encoding
// and the parse of the whole object.
func marshalYAML(m map[string]any) ([]byte, error) {
	v, err := yamlNumbers(m)
	if err != nil {
		return nil, err
	}
	return yamlv2.Marshal(v)
}

// yamlNumbers replaces the json.Numbers in v by what the YAML parser reads
// them as.
func yamlNumbers(v any) (any, error) {
	switch v := v.(type) {
	case json.Number:
		var n any
		err := yamlv2.Unmarshal([]byte(v), &n)
		return n, err
	case map[string]any:
		for k, e := range v {
			var err error
			if v[k], err = yamlNumbers(e); err != nil {
				return nil, err
			}
		}
	case []any:
		for i, e := range v {
			var err error
			if v[i], err = yamlNumbers(e); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

// JoinManifests writes objects rendered by [RenderManifest] with the same
// format to w, as [WriteManifests] would write the objects.
func JoinManifests(w io.Writer, docs [][]byte, format string) error {
	if err := checkFormat(format); err != nil {
		return err
	}
	size := 64
	for _, d := range docs {
		size += len(d) + 8
	}
	b := bytes.NewBuffer(make([]byte, 0, size))
	switch {
	case format == "yaml":
		for i, d := range docs {
			if i > 0 {
				b.WriteString("---\n")
			}
			b.Write(d)
		}
	case len(docs) == 1:
		b.Write(docs[0])
	default:
		// The List json.Encoder would write, with each item indented two
		// levels: JSON strings hold no raw line breaks, so every line
		// break of an item is where indentation goes.
		b.WriteString("{\n  \"apiVersion\": \"v1\",\n  \"items\": [")
		for i, d := range docs {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("\n    ")
			b.Write(bytes.ReplaceAll(bytes.TrimSuffix(d, []byte("\n")), []byte("\n"), []byte("\n    ")))
		}
		if len(docs) > 0 {
			b.WriteString("\n  ")
		}
		b.WriteString("],\n  \"kind\": \"List\"\n}\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}

func checkFormat(format string) error {
	if format != "yaml" && format != "json" {
		return fmt.Errorf("unknown output format %q: want yaml or json", format)
	}
	return nil
}

func indentedJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// toMap turns obj into its JSON form as a map, with apiVersion and kind set
// and the noise of zero-valued server fields removed.
func toMap(obj runtime.Object) (map[string]any, error) {
	gvk := obj.GetObjectKind().GroupVersionKind()
	if gvk.Empty() {
		kinds, _, err := scheme.ObjectKinds(obj)
		if err != nil {
			return nil, err
		}
		gvk = kinds[0]
	}
	j, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	m["apiVersion"], m["kind"] = gvk.GroupVersion().String(), gvk.Kind
	if meta, ok := m["metadata"].(map[string]any); ok {
		if meta["creationTimestamp"] == nil {
			delete(meta, "creationTimestamp")
		}
	}
	dropEmpty(m, "status")
	if spec, ok := m["spec"].(map[string]any); ok {
		if template, ok := spec["template"].(map[string]any); ok {
			dropEmpty(template, "metadata")
		}
		dropEmpty(spec, "template")
	}
	return m, nil
}

// dropEmpty deletes m[key] if it is an empty object.
func dropEmpty(m map[string]any, key string) {
	if v, ok := m[key].(map[string]any); ok && len(v) == 0 {
		delete(m, key)
	}
}

// Rendering a SealedSecret is mostly its values: a post-quantum value is
// ~2.4 KB, and going through JSON, a map and YAML costs more than sealing
// it. Values of the sealed form are written as they are instead: such a
// value is characters that neither JSON nor YAML escape, quote or fold (a
// plain YAML scalar that reads as a string), so the encoder would have
// copied it unchanged. The object is rendered with a short placeholder per
// value, and the placeholders are then replaced.

// placeholderTag makes placeholders that no object holds by chance.
var placeholderTag = func() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "sealkit-value-" + hex.EncodeToString(b[:]) + "-"
}()

// placeholders maps the placeholders in a rendered object to the values
// they stand for.
type placeholders []string

// withPlaceholders returns obj, or for a SealedSecret with values of the
// sealed form, a copy with placeholders in their place.
func withPlaceholders(obj runtime.Object) (runtime.Object, placeholders) {
	ss, ok := obj.(*v1alpha1.SealedSecret)
	if !ok {
		return obj, nil
	}
	var values placeholders
	data := make(map[string]string, len(ss.Spec.EncryptedData))
	for k, v := range ss.Spec.EncryptedData {
		if !Verbatim(v) {
			data[k] = v
			continue
		}
		data[k] = placeholderTag + strconv.Itoa(len(values))
		values = append(values, v)
	}
	if len(values) == 0 {
		return obj, nil
	}
	cp := *ss
	cp.Spec.EncryptedData = data
	return &cp, values
}

// restore puts the values back in place of their placeholders.
func (p placeholders) restore(out []byte) []byte {
	if len(p) == 0 {
		return out
	}
	size := len(out)
	for _, v := range p {
		size += len(v)
	}
	b := make([]byte, 0, size)
	for {
		i := bytes.Index(out, []byte(placeholderTag))
		if i < 0 {
			return append(b, out...)
		}
		b = append(b, out[:i]...)
		out = out[i+len(placeholderTag):]
		j := 0
		for j < len(out) && out[j] >= '0' && out[j] <= '9' {
			j++
		}
		n, _ := strconv.Atoi(string(out[:j]))
		b = append(b, p[n]...)
		out = out[j:]
	}
}

// Verbatim reports whether v has the form of a sealed value, which YAML
// and JSON write, and read back, as it is: "sealkit:" then only letters,
// digits and ":,+/=", not ending in ':' (a ':' is plain in YAML unless a
// space or the end follows it). Such a value may be copied into a manifest
// without an encoder, and out of one without a parser: most of the bytes
// of a repository of SealedSecrets are such values.
func Verbatim[T ~string | ~[]byte](v T) bool {
	if len(v) < len(verbatimPrefix) || string(v[:len(verbatimPrefix)]) != verbatimPrefix || v[len(v)-1] == ':' {
		return false
	}
	for i := range len(v) {
		if !verbatimByte[v[i]] {
			return false
		}
	}
	return true
}

const verbatimPrefix = "sealkit:"

// verbatimByte is the set of bytes Verbatim allows: a table, as it looks
// at every byte of every value.
var verbatimByte = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(":,+/=", byte(c)) >= 0
	}
	return t
}()
