package lint

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
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
		Name        string                     `json:"name"`
		Namespace   string                     `json:"namespace"`
		Annotations map[string]json.RawMessage `json:"annotations"`
	} `json:"metadata"`
	Data       map[string]json.RawMessage `json:"data"`
	StringData map[string]json.RawMessage `json:"stringData"`
	Items      []json.RawMessage          `json:"items"`
	// SOPS metadata: its presence makes the file SOPS-encrypted.
	SOPS json.RawMessage `json:"sops"`
	// kustomize
	SecretGenerator []struct {
		Name     string   `json:"name"`
		Literals []string `json:"literals"`
		Files    []string `json:"files"`
		Envs     []string `json:"envs"`
	} `json:"secretGenerator"`
}

// manifest reports whether o is a Kubernetes object: only those are linted.
func (o *object) manifest() bool { return o.APIVersion != "" && o.Kind != "" }

func (o *object) annotation(name string) (string, bool) {
	raw, ok := o.Metadata.Annotations[name]
	if !ok {
		return "", false
	}
	var s string
	_ = json.Unmarshal(raw, &s)
	return s, true
}

// checker lints the documents of one file.
type checker struct {
	file      string
	keys      *keySet // nil: no keyring applies, key checks are skipped
	maxKeyAge time.Duration
	now       time.Time
	ignores   []ignore // from .sealkit.yaml
	// sealkitRule is set when a .sealkit.yaml rule applies to the file:
	// a Bitnami SealedSecret there is a leftover of a migration.
	sealkitRule bool
	// kustomization is set for files kustomize reads by name, where
	// apiVersion and kind are optional.
	kustomization bool
	// tmpl is set when the documents were rendered from a Helm template:
	// locations are looked up in the template's source, and Secrets'
	// plaintext is judged there (see chart.go).
	tmpl *template

	findings   []Finding
	suppressed []Finding
	objects    int
	// sealedValues is set when key checks were skipped for a value.
	skippedKeys bool
}

// doc is one object being checked: a document, or an item of a List.
type doc struct {
	c       *chunk
	o       *object
	index   int
	base    []any // the object's path in the document: nil, or {"items", i}
	ignores []ignore
}

// where locates path p of d's object.
func (k *checker) where(d *doc, p []any) (int, int) {
	if k.tmpl != nil {
		return k.tmpl.locate(p)
	}
	return d.c.locate(append(slices.Clone(d.base), p...))
}

// report adds a finding about d at path p (relative to the object).
func (k *checker) report(d *doc, p []any, key string, r Rule, format string, args ...any) {
	line, col := k.where(d, p)
	k.add(d, line, col, key, r, format, args...)
}

// add adds a finding about d at line and col, or suppresses it.
func (k *checker) add(d *doc, line, col int, key string, r Rule, format string, args ...any) {
	f := Finding{File: k.file, Line: line, Column: col, Doc: d.index, Key: key,
		Rule: r.ID, RuleName: r.Name, Severity: r.Severity, Message: fmt.Sprintf(format, args...)}
	if d.o != nil {
		f.Kind, f.Namespace, f.Name = d.o.Kind, d.o.Metadata.Namespace, d.o.Metadata.Name
	}
	for _, ig := range slices.Concat(d.ignores, k.ignores) {
		if ig.covers(r) {
			f.Suppression = &ig.Suppression
			k.suppressed = append(k.suppressed, f)
			return
		}
	}
	k.findings = append(k.findings, f)
}

// reportBad reports a suppression that does not parse; nothing suppresses
// that.
func (k *checker) reportBad(d *doc, b badIgnore) {
	f := Finding{File: k.file, Doc: d.index, Rule: InvalidSuppression.ID, RuleName: InvalidSuppression.Name,
		Severity: InvalidSuppression.Severity, Message: fmt.Sprintf("%s %v: it suppresses nothing", ignoreMarker, b.err)}
	if b.path != nil {
		f.Line, f.Column = k.where(d, b.path)
	} else {
		f.Line, f.Column = b.line, b.col
	}
	k.findings = append(k.findings, f)
}

// chunk checks one document, expanding a List into its items.
func (k *checker) chunk(c *chunk) {
	d := &doc{c: c}
	igs, bad := commentIgnores(c, k.file)
	d.ignores = igs
	for _, b := range bad {
		k.reportBad(d, b)
	}
	if c.err != nil {
		k.objects++
		d.index = k.objects
		k.report(d, nil, "", Unparseable, "%v", c.err)
		return
	}
	if len(c.json) == 0 || c.json[0] != '{' {
		return // not an object, so not a Kubernetes manifest
	}
	var o object
	if err := json.Unmarshal(c.json, &o); err != nil {
		var h struct{ APIVersion, Kind any }
		if json.Unmarshal(c.json, &h) == nil && h.APIVersion != nil && h.Kind != nil {
			k.objects++
			d.index = k.objects
			k.report(d, nil, "", Unparseable, "invalid object: %v", err)
		}
		return
	}
	if o.manifest() && (o.Kind == "List" || strings.HasSuffix(o.Kind, "List") && o.Items != nil) {
		for i, item := range o.Items {
			var io object
			d := &doc{c: c, o: &io, base: []any{"items", i}, ignores: igs}
			if err := json.Unmarshal(item, &io); err != nil {
				k.objects++
				d.index, d.o = k.objects, nil
				k.report(d, nil, "", Unparseable, "list item %d: invalid object: %v", i+1, err)
				continue
			}
			k.object(d, item)
		}
		return
	}
	d.o = &o
	k.object(d, c.json)
}

func (k *checker) object(d *doc, raw []byte) {
	o := d.o
	kustomization := k.kustomization && !o.manifest()
	if !o.manifest() && !kustomization {
		return // editor settings, CI workflows, Helm values: not ours
	}
	k.objects++
	d.index = k.objects
	if ig, bad := annotationIgnore(o, k.file); ig != nil {
		d.ignores = append(slices.Clip(d.ignores), *ig)
	} else if bad != nil {
		k.reportBad(d, *bad)
	}
	group, _, _ := strings.Cut(o.APIVersion, "/")
	switch {
	case o.Kind == "Secret" && o.APIVersion == "v1":
		k.secret(d)
	case o.Kind == "SealedSecret" && group == v1alpha1.GroupVersion.Group:
		k.sealedSecret(d, raw)
	case o.Kind == "SealedSecret" && group == "bitnami.com":
		k.bitnami(d)
	case (o.Kind == "Kustomization" || o.Kind == "Component") && group == "kustomize.config.k8s.io" || kustomization:
		k.kustomize(d)
	}
}

// bitnami reports a Bitnami SealedSecret: for information, or, where a
// .sealkit.yaml rule says the repository uses sealkit, as a warning: a
// leftover of a migration, which still needs Bitnami's controller.
func (k *checker) bitnami(d *doc) {
	r, why := NotSealkit, ""
	if k.sealkitRule {
		r.Severity = SeverityWarning
		why = " a .sealkit.yaml rule covers this file, so it is left over from a migration;"
	}
	k.report(d, []any{"apiVersion"}, "", r,
		"sealedsecret %s is a Bitnami Sealed Secrets object (%s), not a sealkit one: seal lint does not check it;%s migrate it with 'seal migrate FILE'",
		objName(d.o), d.o.APIVersion, why)
}

// secret reports every data key of a Secret that holds a plaintext value:
// the leak. Empty values, references resolved at deploy time and SOPS
// ciphertext are not plaintext.
func (k *checker) secret(d *doc) {
	o := d.o
	sops := len(o.SOPS) > 0 && string(o.SOPS) != "null"
	if sops {
		k.report(d, []any{"sops"}, "", SOPSEncrypted,
			"secret %s is encrypted with SOPS, not plaintext; seal lint does not check it (to move it to sealkit: seal migrate --from-sops FILE)",
			objName(o))
	}
	if k.tmpl != nil {
		return // a template's literal values are judged in its source
	}
	for _, field := range []struct {
		name   string
		values map[string]json.RawMessage
	}{{"data", o.Data}, {"stringData", o.StringData}} {
		for _, key := range slices.Sorted(maps.Keys(field.values)) {
			if classify(field.values[key], field.name == "data") != valuePlaintext {
				continue
			}
			msg := "secret %s holds plaintext key %q: commit a SealedSecret made with seal instead, and change the value (it stays in Git history)"
			if sops {
				msg = "secret %s: key %q is not encrypted by SOPS (see its encrypted_regex or unencrypted_suffix): change the value and encrypt it, or seal it with seal"
			}
			k.report(d, []any{field.name, key}, key, PlaintextSecret, msg, objName(o), key)
		}
	}
}

// kustomize reports secretGenerators that build Secrets from the
// repository's plaintext.
func (k *checker) kustomize(d *doc) {
	for i, g := range d.o.SecretGenerator {
		n := 0
		for _, src := range append(slices.Clone(g.Files), g.Envs...) {
			if !k.sopsFile(src) {
				n++
			}
		}
		for _, l := range g.Literals {
			_, v, _ := strings.Cut(l, "=")
			if raw, err := json.Marshal(v); err == nil && classify(raw, false) == valuePlaintext {
				n++
			}
		}
		if n > 0 {
			k.report(d, []any{"secretGenerator", i}, "", PlaintextSecret,
				"kustomize secretGenerator %q builds a Secret from %d plaintext literal(s) or file(s) in the repository: seal it instead", g.Name, n)
		}
	}
}

// sopsFile reports whether a secretGenerator source ("KEY=PATH" or
// "PATH", relative to the kustomization) is a SOPS-encrypted file, which
// Flux or KSOPS decrypts at build time: a YAML or JSON file with a top-level
// sops block, or a dotenv file with sops_ metadata lines. A path leaving
// the kustomization's directory is not read.
func (k *checker) sopsFile(src string) bool {
	if i := strings.IndexByte(src, '='); i >= 0 {
		src = src[i+1:]
	}
	if !filepath.IsLocal(src) {
		return false
	}
	data, tooLarge, err := readFile(filepath.Join(filepath.Dir(k.file), src))
	if err != nil || tooLarge {
		return false
	}
	return sopsMetadata.Match(data)
}

// sopsMetadata matches the metadata SOPS adds to a file it encrypted.
var sopsMetadata = regexp.MustCompile(`(?m)^(sops:\s*$|"sops":\s*\{|sops_mac=)`)

func objName(o *object) string {
	if o.Metadata.Namespace == "" {
		return o.Metadata.Name
	}
	return o.Metadata.Namespace + "/" + o.Metadata.Name
}

var unknownField = regexp.MustCompile(`unknown field "([^"]+)"`)

// sealedSecret checks one SealedSecret: its shape, its scope against its
// metadata, and each value.
func (k *checker) sealedSecret(d *doc, raw []byte) {
	o := d.o
	name := "sealedsecret " + objName(o)
	if o.APIVersion != v1alpha1.GroupVersion.String() {
		k.report(d, []any{"apiVersion"}, "", MalformedSealedSecret, "%s has apiVersion %s: want %s", name, o.APIVersion, v1alpha1.GroupVersion)
		return
	}
	var ss v1alpha1.SealedSecret
	strict, err := sigsjson.UnmarshalStrict(raw, &ss, sigsjson.DisallowUnknownFields)
	if err == nil && len(strict) > 0 {
		err = strict[0]
	}
	if err != nil {
		var at []any
		if m := unknownField.FindStringSubmatch(err.Error()); m != nil {
			for _, e := range strings.Split(m[1], ".") {
				at = append(at, e)
			}
		}
		k.report(d, at, "", MalformedSealedSecret, "%s: invalid SealedSecret: %v", name, err)
		return
	}
	if !k.sealedMeta(d, &ss, name) {
		return
	}
	for _, key := range slices.Sorted(maps.Keys(ss.Spec.EncryptedData)) {
		at := []any{"spec", "encryptedData", key}
		if errs := validation.IsConfigMapKey(key); len(errs) > 0 {
			k.report(d, at, key, MalformedSealedSecret, "%s: encryptedData key %q is not a valid Secret data key: %s", name, key, errs[0])
			continue
		}
		ids, err := crypto.KeyIDs(unstash(ss.Spec.EncryptedData[key], d.c.stashed))
		if err != nil {
			k.report(d, at, key, UndecodableValue, "%s: key %q: %v", name, key, err)
			continue
		}
		k.values(d, key, name, ids)
	}
	if ann := ss.Spec.Template.Metadata.Annotations; ann[corev1.LastAppliedConfigAnnotation] != "" {
		k.report(d, []any{"spec", "template", "metadata", "annotations", corev1.LastAppliedConfigAnnotation}, "", PlaintextSecret,
			"%s: template annotation %s may hold a plaintext copy of the Secret: remove it", name, corev1.LastAppliedConfigAnnotation)
	}
}

// sealedMeta checks name, namespace, scope and data presence; false stops
// the checks of the values.
func (k *checker) sealedMeta(d *doc, ss *v1alpha1.SealedSecret, name string) bool {
	bad := func(at []any, format string, args ...any) bool {
		k.report(d, at, "", MalformedSealedSecret, format, args...)
		return false
	}
	if ss.Name == "" {
		return bad([]any{"metadata"}, "sealedsecret has no metadata.name")
	}
	if errs := validation.IsDNS1123Subdomain(ss.Name); len(errs) > 0 {
		return bad([]any{"metadata", "name"}, "%s: name is not valid: %s", name, errs[0])
	}
	if ss.Namespace != "" {
		if errs := validation.IsDNS1123Label(ss.Namespace); len(errs) > 0 {
			return bad([]any{"metadata", "namespace"}, "%s: namespace is not valid: %s", name, errs[0])
		}
	}
	scope := crypto.ScopeStrict
	if ss.Spec.Scope != "" {
		s, err := crypto.ParseScope(ss.Spec.Scope)
		if err != nil {
			return bad([]any{"spec", "scope"}, "%s: %v", name, err)
		}
		scope = s
	}
	if len(ss.Spec.EncryptedData) == 0 {
		return bad([]any{"spec", "encryptedData"}, "%s has no spec.encryptedData", name)
	}
	if scope != crypto.ScopeCluster && ss.Namespace == "" {
		k.report(d, []any{"metadata"}, "", ScopeMismatch,
			"%s has scope %s but no metadata.namespace: its values open only in the namespace they were sealed for, so name it (or make sure kustomize or your GitOps tool sets that one)", name, scope)
	}
	return true
}

// values checks the keys one value says it is sealed to against the
// repository's keyrings.
func (k *checker) values(d *doc, key, name string, ids []crypto.KeyID) {
	if k.keys == nil {
		k.skippedKeys = true
		return
	}
	at := []any{"spec", "encryptedData", key}
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
			k.report(d, at, key, CompromisedKey,
				"%s: key %q is sealed to key %s, which is compromised: change the secret's value, then seal it again", name, key, id)
		case keyring.StateRetired:
			k.report(d, at, key, RetiredKey,
				"%s: key %q is sealed to key %s, which is retired: re-seal it to the active key", name, key, id)
		default:
			k.age(d, key, name, kk)
		}
	}
	if len(unknown) > 0 {
		k.report(d, at, key, UnknownKey,
			"%s: key %q is sealed to %s, in none of the keyrings (%s)", name, key,
			plural(len(unknown), "key ", "keys ")+strings.Join(unknown, ", "), strings.Join(k.keys.keyrings, ", "))
	}
}

func (k *checker) age(d *doc, key, name string, kk keyring.Key) {
	if k.maxKeyAge <= 0 || kk.Created.IsZero() {
		return
	}
	if age := k.now.Sub(kk.Created); age > k.maxKeyAge {
		k.report(d, []any{"spec", "encryptedData", key}, key, OldKey,
			"%s: key %q is sealed to key %s, created %s (%d days ago), older than --max-key-age %s: rotate and re-seal",
			name, key, kk.ID, kk.Created.UTC().Format(time.DateOnly), int(age.Hours()/24), FormatAge(k.maxKeyAge))
	}
}

// kustomizationFile reports whether kustomize reads path as a
// Kustomization whatever its content says.
func kustomizationFile(path string) bool {
	switch filepath.Base(path) {
	case "kustomization.yaml", "kustomization.yml", "Kustomization":
		return true
	}
	return false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
