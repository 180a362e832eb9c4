package lint

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	sigsjson "sigs.k8s.io/json"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// object is the part of any manifest lint looks at first. Secrets are read
// loosely on purpose: a Secret with a misspelt field still leaks its data.
type object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Data       map[string]json.RawMessage `json:"data"`
	StringData map[string]json.RawMessage `json:"stringData"`
	Items      []json.RawMessage          `json:"items"`
	// kustomize
	SecretGenerator []struct {
		Name     string   `json:"name"`
		Literals []string `json:"literals"`
		Files    []string `json:"files"`
		Envs     []string `json:"envs"`
	} `json:"secretGenerator"`
}

// checker lints the documents of one file.
type checker struct {
	file      string
	keys      *keySet // nil: no keyring applies, key checks are skipped
	maxKeyAge time.Duration
	now       time.Time

	findings []Finding
	objects  int
}

// report adds a finding about the object at c/o.
func (k *checker) report(c chunk, o *object, index int, key string, r Rule, format string, args ...any) {
	f := Finding{File: k.file, Line: c.keyLine(key), Doc: index, Key: key,
		Rule: r.ID, RuleName: r.Name, Severity: r.Severity, Message: fmt.Sprintf(format, args...)}
	if o != nil {
		f.Kind, f.Namespace, f.Name = o.Kind, o.Metadata.Namespace, o.Metadata.Name
	}
	k.findings = append(k.findings, f)
}

// chunk checks one document, expanding a List into its items.
func (k *checker) chunk(c chunk) {
	if c.err != nil {
		k.objects++
		k.report(c, nil, k.objects, "", Unparseable, "%v", c.err)
		return
	}
	if len(c.json) == 0 || c.json[0] != '{' {
		return // not an object, so not a Kubernetes manifest
	}
	var o object
	if err := json.Unmarshal(c.json, &o); err != nil {
		k.objects++
		k.report(c, nil, k.objects, "", Unparseable, "invalid object: %v", err)
		return
	}
	if o.Kind == "List" || strings.HasSuffix(o.Kind, "List") && o.Items != nil {
		for _, item := range o.Items {
			k.objects++
			var io object
			if err := json.Unmarshal(item, &io); err != nil {
				k.report(c, nil, k.objects, "", Unparseable, "list item: invalid object: %v", err)
				continue
			}
			k.object(c, &io, k.objects, item)
		}
		return
	}
	k.objects++
	k.object(c, &o, k.objects, c.json)
}

func (k *checker) object(c chunk, o *object, index int, raw []byte) {
	group, _, _ := strings.Cut(o.APIVersion, "/")
	switch {
	case o.Kind == "Secret" && (o.APIVersion == "v1" || o.APIVersion == ""):
		k.secret(c, o, index)
	case o.Kind == "SealedSecret" && group == v1alpha1.GroupVersion.Group:
		k.sealedSecret(c, o, index, raw)
	case o.Kind == "Kustomization" && len(o.SecretGenerator) > 0:
		k.kustomization(c, o, index)
	}
}

// secret reports every data key of a plaintext Secret: the leak.
func (k *checker) secret(c chunk, o *object, index int) {
	keys := slices.Sorted(maps.Keys(o.Data))
	for _, key := range slices.Sorted(maps.Keys(o.StringData)) {
		if _, dup := o.Data[key]; !dup {
			keys = append(keys, key)
		}
	}
	for _, key := range keys {
		k.report(c, o, index, key, PlaintextSecret,
			"secret %s holds plaintext key %q: commit a SealedSecret made with seal instead, and change the value (it stays in Git history)",
			objName(o), key)
	}
}

func (k *checker) kustomization(c chunk, o *object, index int) {
	for _, g := range o.SecretGenerator {
		if n := len(g.Literals) + len(g.Files) + len(g.Envs); n > 0 {
			k.report(c, o, index, "", PlaintextSecret,
				"kustomize secretGenerator %q builds a Secret from %d plaintext literal(s) or file(s) in the repository: seal it instead", g.Name, n)
		}
	}
}

func objName(o *object) string {
	if o.Metadata.Namespace == "" {
		return o.Metadata.Name
	}
	return o.Metadata.Namespace + "/" + o.Metadata.Name
}

// sealedSecret checks one SealedSecret: its shape, its scope against its
// metadata, and each value.
func (k *checker) sealedSecret(c chunk, o *object, index int, raw []byte) {
	name := "sealedsecret " + objName(o)
	if o.APIVersion != v1alpha1.GroupVersion.String() {
		k.report(c, o, index, "", MalformedSealedSecret, "%s has apiVersion %s: want %s", name, o.APIVersion, v1alpha1.GroupVersion)
		return
	}
	var ss v1alpha1.SealedSecret
	strict, err := sigsjson.UnmarshalStrict(raw, &ss, sigsjson.DisallowUnknownFields)
	if err == nil && len(strict) > 0 {
		err = strict[0]
	}
	if err != nil {
		k.report(c, o, index, "", MalformedSealedSecret, "%s: invalid SealedSecret: %v", name, err)
		return
	}
	if !k.sealedMeta(c, o, index, &ss, name) {
		return
	}
	for _, key := range slices.Sorted(maps.Keys(ss.Spec.EncryptedData)) {
		if errs := validation.IsConfigMapKey(key); len(errs) > 0 {
			k.report(c, o, index, key, ScopeMismatch, "%s: encryptedData key %q is not a valid Secret data key: %s", name, key, errs[0])
			continue
		}
		ids, err := crypto.KeyIDs(unstash(ss.Spec.EncryptedData[key], c.stashed))
		if err != nil {
			k.report(c, o, index, key, UndecodableValue, "%s: key %q: %v", name, key, err)
			continue
		}
		k.values(c, o, index, key, name, ids)
	}
	if ann := ss.Spec.Template.Metadata.Annotations; ann[corev1.LastAppliedConfigAnnotation] != "" {
		k.report(c, o, index, "", PlaintextSecret,
			"%s: template annotation %s may hold a plaintext copy of the Secret: remove it", name, corev1.LastAppliedConfigAnnotation)
	}
}

// sealedMeta checks name, namespace, scope and data presence; false stops
// the checks of the values.
func (k *checker) sealedMeta(c chunk, o *object, index int, ss *v1alpha1.SealedSecret, name string) bool {
	bad := func(format string, args ...any) bool {
		k.report(c, o, index, "", MalformedSealedSecret, format, args...)
		return false
	}
	if ss.Name == "" {
		return bad("sealedsecret has no metadata.name")
	}
	if errs := validation.IsDNS1123Subdomain(ss.Name); len(errs) > 0 {
		return bad("%s: name is not valid: %s", name, errs[0])
	}
	if ss.Namespace != "" {
		if errs := validation.IsDNS1123Label(ss.Namespace); len(errs) > 0 {
			return bad("%s: namespace is not valid: %s", name, errs[0])
		}
	}
	scope := crypto.ScopeStrict
	if ss.Spec.Scope != "" {
		s, err := crypto.ParseScope(ss.Spec.Scope)
		if err != nil {
			return bad("%s: %v", name, err)
		}
		scope = s
	}
	if len(ss.Spec.EncryptedData) == 0 {
		return bad("%s has no spec.encryptedData", name)
	}
	if scope != crypto.ScopeCluster && ss.Namespace == "" {
		k.report(c, o, index, "", ScopeMismatch,
			"%s has scope %s but no metadata.namespace: its values are bound to the namespace they were sealed for, so set it", name, scope)
	}
	return true
}

// values checks the keys one value says it is sealed to against the
// repository's keyrings.
func (k *checker) values(c chunk, o *object, index int, key, name string, ids []crypto.KeyID) {
	if k.keys == nil {
		return
	}
	var unknown []string
	for _, id := range ids {
		if !k.keys.known(id) {
			unknown = append(unknown, string(id))
			continue
		}
		kk, inRing := k.keys.keys[id]
		if !inRing {
			continue
		}
		switch kk.State {
		case keyring.StateCompromised:
			k.report(c, o, index, key, CompromisedKey,
				"%s: key %q is sealed to key %s, which is compromised: change the secret's value, then seal it again", name, key, id)
		case keyring.StateRetired:
			k.report(c, o, index, key, RetiredKey,
				"%s: key %q is sealed to key %s, which is retired: re-seal it to the active key", name, key, id)
		default:
			k.age(c, o, index, key, name, kk)
		}
	}
	if len(unknown) > 0 {
		k.report(c, o, index, key, UnknownKey,
			"%s: key %q is sealed to %s, in none of the keyrings (%s)", name, key,
			plural(len(unknown), "key ", "keys ")+strings.Join(unknown, ", "), strings.Join(k.keys.keyrings, ", "))
	}
}

func (k *checker) age(c chunk, o *object, index int, key, name string, kk keyring.Key) {
	if k.maxKeyAge <= 0 || kk.Created.IsZero() {
		return
	}
	if age := k.now.Sub(kk.Created); age > k.maxKeyAge {
		k.report(c, o, index, key, OldKey,
			"%s: key %q is sealed to key %s, created %s (%d days ago), older than --max-key-age %s: rotate and re-seal",
			name, key, kk.ID, kk.Created.UTC().Format(time.DateOnly), int(age.Hours()/24), FormatAge(k.maxKeyAge))
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
