package main

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"

	"github.com/sealkit/sealkit/internal/atomicfile"
	"github.com/sealkit/sealkit/internal/manifest"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// merge seals the one Secret given and adds or replaces its keys in the
// SealedSecret in --merge-into, rewriting that file atomically. Where the
// Secret or the flags leave namespace and scope open, the file's are used.
func (o *sealingOptions) merge(secrets []sourced, errOut io.Writer) error {
	path := o.mergeInto
	if len(secrets) != 1 {
		return fmt.Errorf("--merge-into %s: input has %d Secrets, want exactly 1", path, len(secrets))
	}
	raw, err := readFileBounded(path)
	if err != nil {
		return err
	}
	dst, doc, err := readOneSealedSecret(raw, path)
	if err != nil {
		return err
	}
	orig := dst.DeepCopy()
	sec := secrets[0].secret
	if sec.Namespace == "" && o.namespace == "" {
		sec.Namespace = dst.Namespace
	}
	if !o.scopeSet && dst.Spec.Scope != "" {
		if o.scope, err = crypto.ParseScope(dst.Spec.Scope); err != nil {
			return fmt.Errorf("%s: sealedsecret %s/%s: %w", path, dst.Namespace, dst.Name, err)
		}
	}
	if err := o.mergeType(path, dst, sec, errOut); err != nil {
		return err
	}
	src, err := o.seal(secrets)
	if err != nil {
		return err
	}
	if src[0].Name != dst.Name || src[0].Namespace != dst.Namespace {
		return fmt.Errorf("--merge-into %s: secret %s/%s does not match sealedsecret %s/%s",
			path, src[0].Namespace, src[0].Name, dst.Namespace, dst.Name)
	}
	warnOtherKeys(errOut, path, dst, o.sealTo)
	if err := sealed.Merge(dst, src[0]); err != nil {
		return fmt.Errorf("%s: sealedsecret %s/%s: %w", path, dst.Namespace, dst.Name, err)
	}
	if err := sealed.Check(dst); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	warnSize(errOut, dst)
	format := formatOf(path, raw)
	if o.output.formatSet && o.output.format != format {
		return rewriteManifests(path, []kruntime.Object{dst}, o.output.format)
	}
	return mergeInPlace(errOut, path, raw, doc, orig, dst)
}

// mergeInPlace writes what merging changed into the file, keeping its
// comments and formatting; what cannot be changed in place (a template or
// labels the file does not have yet, immutability) has the file rewritten
// as a whole, with a warning.
func mergeInPlace(errOut io.Writer, path string, raw []byte, doc sealed.Document, orig, merged *v1alpha1.SealedSecret) error {
	var changes []manifest.Change
	set := func(value string, field ...string) {
		changes = append(changes, manifest.Change{Doc: doc.Stream, Path: doc.Path(field...), Value: value})
	}
	for _, k := range slices.Sorted(maps.Keys(merged.Spec.EncryptedData)) {
		if v := merged.Spec.EncryptedData[k]; v != orig.Spec.EncryptedData[k] {
			set(v, "spec", "encryptedData", k)
		}
	}
	mt, ot := merged.Spec.Template, orig.Spec.Template
	for field, m := range map[string][2]map[string]string{
		"labels":      {mt.Metadata.Labels, ot.Metadata.Labels},
		"annotations": {mt.Metadata.Annotations, ot.Metadata.Annotations},
	} {
		for _, k := range slices.Sorted(maps.Keys(m[0])) {
			if v, had := m[1][k]; !had || v != m[0][k] {
				set(m[0][k], "spec", "template", "metadata", field, k)
			}
		}
	}
	if mt.Type != ot.Type {
		set(string(mt.Type), "spec", "template", "type")
	}
	out, err := manifest.Apply(raw, changes)
	if err == nil && (mt.Immutable == nil) == (ot.Immutable == nil) {
		return atomicfile.WriteFile(path, out, filePerm(path))
	}
	why := "its immutability changed"
	if err != nil {
		why = err.Error()
	}
	fmt.Fprintf(errOut, "seal: warning: %s: rewritten as a whole, its comments and formatting not kept: %s\n", path, why)
	return rewriteManifests(path, []kruntime.Object{merged}, formatOf(path, raw))
}

// mergeType applies the Secret's type to the file's SealedSecret: a type
// given with --type replaces the file's, saying so; a manifest's type that
// differs from the file's is refused, since which one is meant is unclear.
func (o *sealingOptions) mergeType(path string, dst *v1alpha1.SealedSecret, sec *corev1.Secret, errOut io.Writer) error {
	have := dst.Spec.Template.Type
	if have == "" {
		have = corev1.SecretTypeOpaque
	}
	switch {
	case sec.Type == "" || sec.Type == have:
		return nil
	case o.typeSet:
		fmt.Fprintf(errOut, "seal: %s: sealedsecret %s/%s: type %s replaced by %s (--type)\n", path, dst.Namespace, dst.Name, have, sec.Type)
		dst.Spec.Template.Type = sec.Type
		return nil
	}
	return withHint(fmt.Errorf("--merge-into %s: the secret's type %s differs from the sealedsecret's %s", path, sec.Type, have),
		"drop the type from the manifest to keep the file's, or give it with 'seal create --type' to change it")
}

// warnOtherKeys says when the file's values are sealed to other keys than
// the new ones: a cluster that holds only one of the sets cannot open the
// whole SealedSecret. (During a rotation the cluster holds both, which is
// why this is a warning.)
func warnOtherKeys(errOut io.Writer, path string, dst *v1alpha1.SealedSecret, sealTo []recipientSource) {
	want := map[crypto.KeyID]bool{}
	for _, s := range sealTo {
		want[s.recipient.KeyID()] = true
	}
	other := map[crypto.KeyID]bool{}
	for _, v := range dst.Spec.EncryptedData {
		ids, err := crypto.KeyIDs(v)
		if err != nil {
			continue
		}
		for _, id := range ids {
			if !want[id] {
				other[id] = true
			}
		}
	}
	if len(other) == 0 {
		return
	}
	ids := make([]string, 0, len(other))
	for id := range other {
		ids = append(ids, string(id))
	}
	slices.Sort(ids)
	fmt.Fprintf(errOut, "seal: warning: %s: values already in sealedsecret %s/%s are sealed to %s, which the new values are not: a cluster without those keys cannot open them all; re-seal the file ('seal reseal') to make them agree\n",
		path, dst.Namespace, dst.Name, strings.Join(ids, ", "))
}

// readOneSealedSecret reads a file that must hold exactly one SealedSecret.
func readOneSealedSecret(raw []byte, path string) (*v1alpha1.SealedSecret, sealed.Document, error) {
	docs, err := sealed.ReadManifests(bytes.NewReader(raw), path)
	if err != nil {
		return nil, sealed.Document{}, prefixSource(path, err)
	}
	if len(docs) != 1 || docs[0].Kind != "SealedSecret" {
		return nil, sealed.Document{}, fmt.Errorf("--merge-into %s: want exactly one SealedSecret, found %s", path, describeDocs(docs))
	}
	ss, err := docs[0].SealedSecret()
	if err != nil {
		return nil, sealed.Document{}, prefixSource(path, err)
	}
	return ss, docs[0], nil
}

func describeDocs(docs []sealed.Document) string {
	switch len(docs) {
	case 0:
		return "no manifests"
	case 1:
		if docs[0].Kind == "" {
			return "a document without a kind"
		}
		return "a " + docs[0].Kind
	}
	return fmt.Sprintf("%d manifests", len(docs))
}
