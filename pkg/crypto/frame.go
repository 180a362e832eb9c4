package crypto

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Scope says how far from where it was sealed a value may be used.
type Scope string

const (
	// ScopeStrict binds a value to one namespace, one name and one data key.
	ScopeStrict Scope = "strict"
	// ScopeNamespace lets the object be renamed within its namespace.
	ScopeNamespace Scope = "namespace"
	// ScopeCluster lets the object move to any namespace and name.
	ScopeCluster Scope = "cluster"
)

// ParseScope returns the scope named s.
func ParseScope(s string) (Scope, error) {
	switch Scope(s) {
	case ScopeStrict, ScopeNamespace, ScopeCluster:
		return Scope(s), nil
	}
	return "", fmt.Errorf("unknown scope %q: want strict, namespace or cluster", s)
}

// Bounds of the frame's fields: Kubernetes' own limits on a namespace, an
// object name and a Secret's data key. A field longer than that could
// never match where a value is opened; refusing it on seal and on open
// keeps every message that repeats a frame field short.
const (
	MaxNamespaceLen = 63
	MaxNameLen      = 253
	MaxKeyLen       = 253
)

// Frame is where a sealed value may be used. The data key is bound in every
// scope; namespace and name only where the scope says so.
type Frame struct {
	Scope     Scope
	Namespace string
	Name      string
	Key       string
}

// bound returns the frame with the fields its scope does not bind cleared,
// which is what is sealed and what is compared on open.
func (f Frame) bound() Frame {
	switch f.Scope {
	case ScopeNamespace:
		f.Name = ""
	case ScopeCluster:
		f.Namespace, f.Name = "", ""
	}
	return f
}

const frameMagic = "sealkit-frame/v1"

// marshal encodes the frame as a short text header, a blank line, and the
// value. Text keeps a value recovered with the plain age tool readable.
func (f Frame) marshal(value []byte) ([]byte, error) {
	if _, err := ParseScope(string(f.Scope)); err != nil {
		return nil, err
	}
	if f.Key == "" {
		return nil, errors.New("frame has no data key")
	}
	if err := f.checkFields(); err != nil {
		return nil, err
	}
	f = f.bound()
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nscope: %s\nnamespace: %s\nname: %s\nkey: %s\n\n", frameMagic, f.Scope, f.Namespace, f.Name, f.Key)
	b.Write(value)
	return b.Bytes(), nil
}

// parseFrame splits an opened plaintext into its frame and value. Only
// authenticated plaintext reaches it, so a malformed one means a bug or a
// value sealed by something else; either way it is reported as corrupt.
func parseFrame(p []byte) (Frame, []byte, error) {
	header, value, ok := bytes.Cut(p, []byte("\n\n"))
	if !ok {
		return Frame{}, nil, ErrCorrupt
	}
	lines := strings.Split(string(header), "\n")
	if len(lines) != 5 || lines[0] != frameMagic {
		return Frame{}, nil, ErrCorrupt
	}
	var f Frame
	fields := []*string{(*string)(&f.Scope), &f.Namespace, &f.Name, &f.Key}
	for i, name := range []string{"scope", "namespace", "name", "key"} {
		v, ok := strings.CutPrefix(lines[i+1], name+": ")
		if !ok && lines[i+1] != name+":" {
			return Frame{}, nil, ErrCorrupt
		}
		*fields[i] = v
	}
	// The rules marshal applies: a frame it would refuse to write is not
	// one it wrote (a carriage return inside a field, say).
	if _, err := ParseScope(string(f.Scope)); err != nil || f.checkFields() != nil {
		return Frame{}, nil, ErrCorrupt
	}
	return f, value, nil
}

// checkFields refuses frame fields that cannot be written as one header
// line each (line breaks) or that are longer than Kubernetes allows. marshal
// and parseFrame both apply it, so that what parses also marshals.
func (f Frame) checkFields() error {
	for _, field := range []string{f.Namespace, f.Name, f.Key} {
		if strings.ContainsAny(field, "\n\r") {
			return errors.New("frame fields must not contain line breaks")
		}
	}
	for _, b := range []struct {
		name, value string
		max         int
	}{{"namespace", f.Namespace, MaxNamespaceLen}, {"name", f.Name, MaxNameLen}, {"data key", f.Key, MaxKeyLen}} {
		if len(b.value) > b.max {
			return fmt.Errorf("frame %s is %d bytes long, over the Kubernetes limit of %d", b.name, len(b.value), b.max)
		}
	}
	return nil
}

// FrameMismatchError reports that a value opened but belongs elsewhere. It
// names the field that differs and both places; places are metadata, never
// secret.
type FrameMismatchError struct {
	Field  string // "scope", "namespace", "name" or "key"
	Sealed string // what the value is bound to
	Actual string // where it is being opened
}

func (e *FrameMismatchError) Error() string {
	return fmt.Sprintf("value is sealed for %s %q, not %q", e.Field, e.Sealed, e.Actual)
}

// check compares f, the sealed frame, with where the value is being opened.
func (f Frame) check(actual Frame) error {
	if f.Scope != actual.Scope {
		return &FrameMismatchError{Field: "scope", Sealed: string(f.Scope), Actual: string(actual.Scope)}
	}
	actual = actual.bound()
	switch {
	case f.Namespace != actual.Namespace:
		return &FrameMismatchError{Field: "namespace", Sealed: f.Namespace, Actual: actual.Namespace}
	case f.Name != actual.Name:
		return &FrameMismatchError{Field: "name", Sealed: f.Name, Actual: actual.Name}
	case f.Key != actual.Key:
		return &FrameMismatchError{Field: "key", Sealed: f.Key, Actual: actual.Key}
	}
	return nil
}
