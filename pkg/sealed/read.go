package sealed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/sealkit/sealkit/internal/manifest"
	"github.com/sealkit/sealkit/internal/parallel"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// MaxManifestSize bounds one input of [ReadManifests]: a few maximal Secrets.
const MaxManifestSize = 8 << 20

// Document is one object read from a manifest.
type Document struct {
	Source     string // where it was read from, as given to ReadManifests
	Index      int    // 1-based position among the objects of Source
	Kind       string
	APIVersion string
	Raw        []byte // the object as JSON

	// Stream is the document's index among the documents of Source as
	// internal/manifest splits them; Item is its index in the items of the
	// List it was read from, or -1. Together they say where to edit it in
	// place ([Document.Path]).
	Stream int
	Item   int
}

// Path is the path of field in the document d was read from: field itself,
// or under its List item.
func (d Document) Path(field ...string) []string {
	if d.Item < 0 {
		return field
	}
	return append([]string{"items", strconv.Itoa(d.Item)}, field...)
}

// ReadManifests reads the objects in r: multi-document YAML, or JSON (one
// object or a stream of them). A List, or a typed list such as SecretList,
// is replaced by its items. Errors name source and the document.
func ReadManifests(r io.Reader, source string) ([]Document, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if len(data) > MaxManifestSize {
		return nil, fmt.Errorf("%s: input exceeds %d MiB", source, MaxManifestSize>>20)
	}
	format, spans, splitErr := manifest.Split(data)
	var docs []Document
	// YAML documents are converted to JSON on all cores (a file of
	// thousands of Secrets); the objects are taken in order, so that
	// documents are numbered, and the first error found, as one by one.
	parallel.Ordered(len(spans), 0, func(i int) converted {
		raw := data[spans[i].Start:spans[i].End]
		if format != manifest.YAML {
			return converted{raw: raw}
		}
		j, err := yaml.YAMLToJSON(raw)
		return converted{raw: j, err: err}
	}, func(i int, c converted) bool {
		switch {
		case c.err != nil:
			err = fmt.Errorf("%s: document %d: invalid YAML: %w", source, len(docs)+1, redactYAMLError(c.err))
		case format == manifest.YAML && string(c.raw) == "null":
			// only comments or blank lines, as kubectl allows
		default:
			docs, err = appendObject(docs, source, c.raw, i, -1)
		}
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	if splitErr != nil {
		// A syntax error ends the input; it is reported after the documents
		// before it were checked, with the number of the next document.
		return nil, fmt.Errorf("%s: document %d: invalid %s: %w", source, len(docs)+1, strings.ToUpper(format), splitErr)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: no objects found", source)
	}
	return docs, nil
}

// converted is a document in JSON, or why it is not.
type converted struct {
	raw []byte
	err error
}

// redactYAMLError withholds the YAML parser's messages that quote the input.
func redactYAMLError(err error) error {
	if msg := WithholdQuotes(err.Error()); msg != err.Error() {
		return errors.New(msg)
	}
	return err
}

// WithholdQuotes replaces a YAML parser message that quotes the document (a
// key or value of the wrong type), which could be a plaintext secret, with
// one that says details were withheld. Every reader of user manifests
// (seal, seal lint) reports parser errors through it.
func WithholdQuotes(msg string) string {
	for _, quoting := range []string{"`", "invalid map key", "cannot unmarshal"} {
		if strings.Contains(msg, quoting) {
			return "a key or value that cannot be represented as JSON (details withheld: they would quote the document)"
		}
	}
	return msg
}

// header is the part of an object every document must have.
type header struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Items      []json.RawMessage `json:"items"`
}

// appendObject checks raw, document stream of the input, and appends it,
// or its items if it is a list; item is its index in a list, or -1.
func appendObject(docs []Document, source string, raw []byte, stream, item int) ([]Document, error) {
	at := func(err error) error { return fmt.Errorf("%s: document %d: %w", source, len(docs)+1, err) }
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, at(fmt.Errorf("not an object but %s", jsonKind(raw)))
	}
	var h header
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, at(fmt.Errorf("invalid object: %w", err))
	}
	if h.Kind == "" {
		return nil, at(errors.New("object has no kind"))
	}
	if h.APIVersion == "" {
		return nil, at(fmt.Errorf("%s has no apiVersion", h.Kind))
	}
	if isList(h) {
		if item >= 0 {
			return nil, at(errors.New("a list inside a list"))
		}
		var err error
		for i, it := range h.Items {
			if docs, err = appendObject(docs, source, it, stream, i); err != nil {
				return nil, err
			}
		}
		return docs, nil
	}
	return append(docs, Document{Source: source, Index: len(docs) + 1, Kind: h.Kind, APIVersion: h.APIVersion, Raw: raw,
		Stream: stream, Item: item}), nil
}

func isList(h header) bool {
	return h.Kind == "List" || strings.HasSuffix(h.Kind, "List") && h.Items != nil
}

// jsonKind names the kind of JSON value raw is, for errors that must not
// quote it.
func jsonKind(raw []byte) string {
	switch {
	case len(raw) == 0:
		return "nothing"
	case raw[0] == '[':
		return "a list"
	case raw[0] == '"':
		return "a string"
	case raw[0] == 't' || raw[0] == 'f':
		return "a boolean"
	}
	return "a scalar"
}

// Secret decodes d as a Secret.
func (d Document) Secret() (*corev1.Secret, error) {
	var s corev1.Secret
	if err := d.Decode("v1", "Secret", &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// SealedSecret decodes d as a SealedSecret.
func (d Document) SealedSecret() (*v1alpha1.SealedSecret, error) {
	var ss v1alpha1.SealedSecret
	if err := d.Decode(v1alpha1.GroupVersion.String(), "SealedSecret", &ss); err != nil {
		return nil, err
	}
	return &ss, nil
}

// Decode unmarshals d into into, after checking its apiVersion and kind.
// It is strict: a misspelt field (stringdata, Data) is an error rather than
// silently dropped data.
func (d Document) Decode(apiVersion, kind string, into any) error {
	if d.Kind != kind {
		return fmt.Errorf("%s: document %d is a %s, not a %s", d.Source, d.Index, d.Kind, kind)
	}
	if d.APIVersion != apiVersion {
		return fmt.Errorf("%s: document %d is a %s of apiVersion %s, not %s", d.Source, d.Index, kind, d.APIVersion, apiVersion)
	}
	strict, err := sigsjson.UnmarshalStrict(d.Raw, into, sigsjson.DisallowUnknownFields)
	if err == nil && len(strict) > 0 {
		err = strict[0]
	}
	if err != nil {
		return fmt.Errorf("%s: document %d: invalid %s: %w", d.Source, d.Index, kind, err)
	}
	return nil
}
