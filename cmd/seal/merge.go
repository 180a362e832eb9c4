package main

import (
	"bytes"
	"fmt"

	kruntime "k8s.io/apimachinery/pkg/runtime"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// merge seals the one Secret given and adds or replaces its keys in the
// SealedSecret in --merge-into, rewriting that file atomically. Where the
// Secret or the flags leave namespace and scope open, the file's are used.
func (o *sealingOptions) merge(secrets []sourced) error {
	path := o.mergeInto
	if len(secrets) != 1 {
		return fmt.Errorf("--merge-into %s: input has %d Secrets, want exactly 1", path, len(secrets))
	}
	raw, err := readFileBounded(path)
	if err != nil {
		return err
	}
	dst, err := readOneSealedSecret(raw, path)
	if err != nil {
		return err
	}
	sec := secrets[0].secret
	if sec.Namespace == "" && o.namespace == "" {
		sec.Namespace = dst.Namespace
	}
	if !o.scopeSet && dst.Spec.Scope != "" {
		if o.scope, err = crypto.ParseScope(dst.Spec.Scope); err != nil {
			return fmt.Errorf("%s: sealedsecret %s/%s: %w", path, dst.Namespace, dst.Name, err)
		}
	}
	src, err := o.seal(secrets)
	if err != nil {
		return err
	}
	if src[0].Name != dst.Name || src[0].Namespace != dst.Namespace {
		return fmt.Errorf("--merge-into %s: secret %s/%s does not match sealedsecret %s/%s",
			path, src[0].Namespace, src[0].Name, dst.Namespace, dst.Name)
	}
	if err := sealed.Merge(dst, src[0]); err != nil {
		return fmt.Errorf("%s: sealedsecret %s/%s: %w", path, dst.Namespace, dst.Name, err)
	}
	format := o.output.format
	if !o.output.formatSet {
		format = formatOf(path, raw)
	}
	return rewriteManifests(path, []kruntime.Object{dst}, format)
}

// readOneSealedSecret reads a file that must hold exactly one SealedSecret.
func readOneSealedSecret(raw []byte, path string) (*v1alpha1.SealedSecret, error) {
	docs, err := sealed.ReadManifests(bytes.NewReader(raw), path)
	if err != nil {
		return nil, prefixSource(path, err)
	}
	if len(docs) != 1 || docs[0].Kind != "SealedSecret" {
		return nil, fmt.Errorf("--merge-into %s: want exactly one SealedSecret, found %s", path, describeDocs(docs))
	}
	ss, err := docs[0].SealedSecret()
	if err != nil {
		return nil, prefixSource(path, err)
	}
	return ss, nil
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
