package release

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// RenderKustomize builds the kustomization in dir (e.g. manifests/) as
// `kubectl kustomize` does and returns its objects in kustomize's order.
func RenderKustomize(dir string) ([]*unstructured.Unstructured, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize %s: %w", dir, err)
	}
	b, err := rm.AsYaml()
	if err != nil {
		return nil, err
	}
	return DecodeObjects(b)
}

// DecodeObjects splits a multi-document YAML stream into objects, skipping
// empty documents.
func DecodeObjects(b []byte) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
}

// EncodeObjects writes objs as one multi-document YAML stream.
func EncodeObjects(objs []*unstructured.Unstructured) ([]byte, error) {
	var buf bytes.Buffer
	for i, o := range objs {
		if i > 0 {
			buf.WriteString("---\n")
		}
		b, err := yaml.Marshal(o.Object)
		if err != nil {
			return nil, err
		}
		buf.Write(b)
	}
	return buf.Bytes(), nil
}

// PinControllerImage sets the image of every seal-controller container in
// objs to ref, and fails if there is none: install.yaml must never ship the
// base's tag.
func PinControllerImage(objs []*unstructured.Unstructured, ref string) error {
	n := 0
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		containers, _, err := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		if err != nil {
			return err
		}
		for i, c := range containers {
			cm, ok := c.(map[string]any)
			if !ok || cm["name"] != "seal-controller" {
				continue
			}
			cm["image"] = ref
			containers[i] = cm
			n++
		}
		if err := unstructured.SetNestedSlice(o.Object, containers, "spec", "template", "spec", "containers"); err != nil {
			return err
		}
	}
	if n == 0 {
		return errors.New("install.yaml: no seal-controller container to pin the image of")
	}
	return nil
}

// writeInstallYAML renders the kustomize base in manifestsDir with the
// controller image pinned to ref and writes it to path.
func writeInstallYAML(path, manifestsDir, ref, version string) error {
	objs, err := RenderKustomize(manifestsDir)
	if err != nil {
		return err
	}
	if err := PinControllerImage(objs, ref); err != nil {
		return err
	}
	b, err := EncodeObjects(objs)
	if err != nil {
		return err
	}
	head := fmt.Sprintf("# sealkit %s: seal-controller and its CRD, RBAC and webhooks.\n"+
		"# kubectl apply --server-side -f install.yaml   (docs/install.md)\n---\n", version)
	return atomicWrite(path, func(w io.Writer) error {
		if _, err := io.WriteString(w, head); err != nil {
			return err
		}
		_, err := w.Write(b)
		return err
	})
}
