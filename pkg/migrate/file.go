package migrate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"

	"github.com/sealkit/sealkit/internal/manifest"
	"github.com/sealkit/sealkit/pkg/bitnami"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// File is a manifest file and the Bitnami SealedSecrets in it, to be
// migrated in place: [File.Rewrite] turns the objects it is given into
// sealkit SealedSecrets and keeps every other byte of the file.
type File struct {
	Path string
	data []byte
	docs []sealed.Document
	// Objects are the file's Bitnami SealedSecrets, in order.
	Objects []*Object
	// Sealkit counts the file's sealkit SealedSecrets, which a migration
	// leaves alone.
	Sealkit int
}

// Object is one Bitnami SealedSecret of a [File].
type Object struct {
	doc sealed.Document
	// Bitnami is the object, decoded; nil when it does not decode.
	Bitnami *bitnami.SealedSecret
	// Refused, when set, is why the object cannot be migrated, known
	// without opening anything: it does not decode, or
	// [bitnami.SealedSecret.Check] refuses it (Go templates, the legacy
	// form, no namespace for a scope that binds one).
	Refused error
}

// Name names the object in messages: "bitnami sealedsecret NS/NAME", or
// its document when it has no name.
func (o *Object) Name() string {
	if o.Bitnami == nil || o.Bitnami.Name == "" {
		return fmt.Sprintf("bitnami sealedsecret in document %d", o.doc.Index)
	}
	return "bitnami sealedsecret " + o.Bitnami.ObjectName()
}

// ReadFile reads the manifests in data, read from path. Bitnami
// SealedSecrets that cannot be migrated are kept with the reason
// ([Object.Refused]); a file that does not parse is an error.
func ReadFile(path string, data []byte) (*File, error) {
	docs, err := sealed.ReadManifests(bytes.NewReader(data), path)
	if err != nil {
		return nil, err
	}
	f := &File{Path: path, data: data, docs: docs}
	for _, d := range docs {
		switch {
		case bitnami.Is(d):
			o := &Object{doc: d}
			if o.Bitnami, o.Refused = bitnami.Decode(d); o.Refused == nil {
				o.Refused = o.Bitnami.Check()
			}
			f.Objects = append(f.Objects, o)
		case d.Kind == "SealedSecret" && d.APIVersion == v1alpha1.GroupVersion.String():
			f.Sealkit++
		}
	}
	return f, nil
}

// Rewrite returns the file with each object in converted replaced by its
// sealkit form, edited in place: apiVersion, Bitnami's annotations
// dropped, spec.scope added, every value replaced, template metadata other
// than labels and annotations dropped, status dropped. Comments,
// formatting and the other documents keep every byte.
//
// It checks its work: the file must read back with each converted object
// exactly as given and every other document as before. A file that cannot
// be edited so is an error and nothing is returned.
func (f *File) Rewrite(converted map[*Object]*v1alpha1.SealedSecret) ([]byte, error) {
	var changes []manifest.Change
	for _, o := range f.Objects {
		if out, ok := converted[o]; ok {
			cs, err := changesFor(o.doc, out)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", f.Path, o.Name(), err)
			}
			changes = append(changes, cs...)
		}
	}
	if len(changes) == 0 {
		return f.data, nil
	}
	data, err := manifest.Apply(f.data, changes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path, err)
	}
	if err := f.check(data, converted); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path, err)
	}
	return data, nil
}

// check reads data back: the converted objects must decode, strictly, as
// the sealkit SealedSecrets they became, and every other object must read
// exactly as before.
func (f *File) check(data []byte, converted map[*Object]*v1alpha1.SealedSecret) error {
	docs, err := sealed.ReadManifests(bytes.NewReader(data), f.Path)
	if err != nil || len(docs) != len(f.docs) {
		return errors.New("the rewritten file does not read back as the same objects")
	}
	want := map[int]*v1alpha1.SealedSecret{}
	for o, out := range converted {
		want[o.doc.Index] = out
	}
	for i, d := range docs {
		out, ok := want[d.Index]
		if !ok {
			if !bytes.Equal(d.Raw, f.docs[i].Raw) {
				return fmt.Errorf("document %d would change", d.Index)
			}
			continue
		}
		got, err := d.SealedSecret()
		if err != nil {
			return fmt.Errorf("document %d does not read back as a sealkit SealedSecret: %w", d.Index, err)
		}
		if !sameObject(got, out) {
			return fmt.Errorf("document %d does not read back as the migrated SealedSecret", d.Index)
		}
	}
	return nil
}

// sameObject compares what a migration decides of a SealedSecret.
func sameObject(a, b *v1alpha1.SealedSecret) bool {
	type decided struct {
		APIVersion, Kind, Name, Namespace string
		Labels, Annotations               map[string]string
		Spec                              v1alpha1.SealedSecretSpec
	}
	of := func(ss *v1alpha1.SealedSecret) []byte {
		j, _ := json.Marshal(decided{ss.APIVersion, ss.Kind, ss.Name, ss.Namespace, ss.Labels, ss.Annotations, ss.Spec})
		return j
	}
	return bytes.Equal(of(a), of(b))
}

// changesFor are the edits that turn document d, a Bitnami SealedSecret,
// into out. Only what differs is touched.
func changesFor(d sealed.Document, out *v1alpha1.SealedSecret) ([]manifest.Change, error) {
	dec := json.NewDecoder(bytes.NewReader(d.Raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, err
	}
	e := &edits{d: d}
	e.set(out.APIVersion, "apiVersion")
	if meta, ok := obj["metadata"].(map[string]any); ok {
		e.stringMap(meta, out.Annotations, "metadata", "annotations")
	}
	spec, _ := obj["spec"].(map[string]any)
	e.set(out.Spec.Scope, "spec", "scope")
	for _, k := range slices.Sorted(maps.Keys(out.Spec.EncryptedData)) {
		e.set(out.Spec.EncryptedData[k], "spec", "encryptedData", k)
	}
	if t, ok := spec["template"].(map[string]any); ok {
		e.template(t, out.Spec.Template.Metadata)
	}
	if _, ok := obj["status"]; ok {
		e.del("status")
	}
	return e.cs, e.err
}

// edits collects the changes of one document.
type edits struct {
	d   sealed.Document
	cs  []manifest.Change
	err error
}

func (e *edits) set(v string, path ...string) {
	e.cs = append(e.cs, manifest.Change{Doc: e.d.Stream, Path: e.d.Path(path...), Value: v})
}

func (e *edits) del(path ...string) {
	e.cs = append(e.cs, manifest.Change{Doc: e.d.Stream, Path: e.d.Path(path...), Delete: true})
}

// stringMap makes the map at path in parent (a decoded document) hold
// want, which may only drop entries: all of them drops the map.
func (e *edits) stringMap(parent map[string]any, want map[string]string, path ...string) {
	field := path[len(path)-1]
	have, ok := parent[field].(map[string]any)
	if !ok {
		return
	}
	if len(want) == 0 {
		e.del(path...)
		return
	}
	for _, k := range slices.Sorted(maps.Keys(have)) {
		v, kept := want[k]
		switch {
		case !kept:
			e.del(append(slices.Clone(path), k)...)
		case !reflect.DeepEqual(have[k], v):
			e.err = fmt.Errorf("%v: %s would change", path, k)
		}
	}
}

// template keeps the labels and annotations of the template's metadata
// (without Bitnami's), its type and immutability; the rest of the metadata
// (name, namespace, creationTimestamp, ...) has no place in a sealkit
// template. An emptied metadata goes, and so does an emptied template.
func (e *edits) template(t map[string]any, want v1alpha1.TemplateMetadata) {
	meta, ok := t["metadata"].(map[string]any)
	if !ok {
		return
	}
	keep := func(k string) bool {
		switch k {
		case "labels":
			return true
		case "annotations":
			return len(want.Annotations) > 0
		}
		return false
	}
	if !slices.ContainsFunc(slices.Collect(maps.Keys(meta)), keep) {
		if len(t) == 1 {
			e.del("spec", "template")
		} else {
			e.del("spec", "template", "metadata")
		}
		return
	}
	for _, k := range slices.Sorted(maps.Keys(meta)) {
		if !keep(k) {
			e.del("spec", "template", "metadata", k)
		}
	}
	if keep("annotations") {
		e.stringMap(meta, want.Annotations, "spec", "template", "metadata", "annotations")
	}
}
