package cluster

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

// readArchive returns the files of a tar archive by name.
func readArchive(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[hdr.Name] = data
	}
}

// The archive is an OCI image layout whose index, manifest, config and layer
// agree by digest, carries the name containerd imports it under, and is the
// same bytes for the same files.
func TestImageArchive(t *testing.T) {
	im := Image{
		Name:       "sealkit.local/test:1",
		Entrypoint: []string{"/bin/app"},
		User:       "65532:65532",
		Files:      []File{{Path: "/bin/app", Mode: 0o755, Data: []byte("#!binary")}},
	}
	var a, b bytes.Buffer
	if err := im.WriteArchive(&a); err != nil {
		t.Fatal(err)
	}
	if err := im.WriteArchive(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two archives of the same image differ")
	}
	files := readArchive(t, a.Bytes())
	blob := func(d descriptor) []byte {
		t.Helper()
		data, ok := files[blobPath(d)]
		if !ok {
			t.Fatalf("blob %s missing", d.Digest)
		}
		sum := sha256.Sum256(data)
		if "sha256:"+hex.EncodeToString(sum[:]) != d.Digest || int64(len(data)) != d.Size {
			t.Fatalf("blob %s: content does not match its descriptor", d.Digest)
		}
		return data
	}
	if string(files["oci-layout"]) != `{"imageLayoutVersion":"1.0.0"}` {
		t.Errorf("oci-layout = %q", files["oci-layout"])
	}
	var index struct{ Manifests []descriptor }
	if err := json.Unmarshal(files["index.json"], &index); err != nil || len(index.Manifests) != 1 {
		t.Fatalf("index.json: %v, %d manifests", err, len(index.Manifests))
	}
	if got := index.Manifests[0].Annotations["io.containerd.image.name"]; got != im.Name {
		t.Errorf("image name annotation %q, want %q", got, im.Name)
	}
	var manifest struct {
		Config descriptor
		Layers []descriptor
	}
	if err := json.Unmarshal(blob(index.Manifests[0]), &manifest); err != nil || len(manifest.Layers) != 1 {
		t.Fatalf("manifest: %v", err)
	}
	var config struct {
		Config struct {
			Entrypoint []string
			User       string
		}
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		}
	}
	if err := json.Unmarshal(blob(manifest.Config), &config); err != nil {
		t.Fatal(err)
	}
	if config.Config.User != "65532:65532" || strings.Join(config.Config.Entrypoint, " ") != "/bin/app" {
		t.Errorf("config %+v", config.Config)
	}
	if len(config.RootFS.DiffIDs) != 1 || config.RootFS.DiffIDs[0] != manifest.Layers[0].Digest {
		t.Errorf("diff_ids %v do not name the uncompressed layer %s", config.RootFS.DiffIDs, manifest.Layers[0].Digest)
	}
	layer := readArchive(t, blob(manifest.Layers[0]))
	if string(layer["bin/app"]) != "#!binary" {
		t.Errorf("layer files %v: bin/app missing or wrong", keys(layer))
	}
	if _, ok := layer["bin/"]; !ok {
		t.Errorf("layer files %v: parent directory bin/ missing", keys(layer))
	}
}

func TestImageArchiveRefusesBadInput(t *testing.T) {
	for _, im := range []Image{
		{Name: "no-tag"},
		{Name: "x:1", Files: []File{{Path: "relative"}}},
		{Name: "x:1", Files: []File{{Path: "/a/../b"}}},
	} {
		if err := im.WriteArchive(io.Discard); err == nil {
			t.Errorf("%+v: no error", im)
		}
	}
}

func keys(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
