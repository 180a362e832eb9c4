package sealed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

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
// the same objects always give the same bytes.
func WriteManifests(w io.Writer, objs []runtime.Object, format string) error {
	if format != "yaml" && format != "json" {
		return fmt.Errorf("unknown output format %q: want yaml or json", format)
	}
	items := make([]map[string]any, len(objs))
	for i, obj := range objs {
		m, err := toMap(obj)
		if err != nil {
			return fmt.Errorf("object %d: %w", i+1, err)
		}
		items[i] = m
	}
	var out []byte
	var err error
	if format == "yaml" {
		out, err = toYAML(items)
	} else {
		out, err = toJSON(items)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

func toYAML(items []map[string]any) ([]byte, error) {
	var b bytes.Buffer
	for i, m := range items {
		y, err := yaml.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("object %d: %w", i+1, err)
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(y)
	}
	return b.Bytes(), nil
}

func toJSON(items []map[string]any) ([]byte, error) {
	var v any = map[string]any{"apiVersion": "v1", "kind": "List", "items": items}
	if len(items) == 1 {
		v = items[0]
	}
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
