package ociimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// buildLayer writes files as a gzip-compressed tar: entries sorted by path,
// parents first, every header fixed (no user or group names, no access
// times), so the bytes depend on the inputs only.
func buildLayer(files []File, mtime time.Time) (*layer, error) {
	entries, err := withParents(files)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	for _, f := range entries {
		if err := writeEntry(tw, f, mtime.UTC().Truncate(time.Second)); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return newLayer(buf.Bytes())
}

// layer is a gzip-compressed tar held in memory, hashed once.
type layer struct {
	compressed   []byte
	digest, diff v1.Hash
}

func newLayer(compressed []byte) (*layer, error) {
	l := &layer{compressed: compressed}
	var err error
	if l.digest, _, err = v1.SHA256(bytes.NewReader(compressed)); err != nil {
		return nil, err
	}
	rc, err := l.Uncompressed()
	if err != nil {
		return nil, err
	}
	defer func() { _ = rc.Close() }()
	if l.diff, _, err = v1.SHA256(rc); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *layer) Digest() (v1.Hash, error) { return l.digest, nil }
func (l *layer) DiffID() (v1.Hash, error) { return l.diff, nil }
func (l *layer) Size() (int64, error)     { return int64(len(l.compressed)), nil }
func (l *layer) MediaType() (types.MediaType, error) {
	return types.OCILayer, nil
}
func (l *layer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.compressed)), nil
}
func (l *layer) Uncompressed() (io.ReadCloser, error) {
	return gzip.NewReader(bytes.NewReader(l.compressed))
}

// withParents checks the paths, adds the missing parent directories and
// sorts the result so that a directory precedes what it holds.
func withParents(files []File) ([]File, error) {
	byPath := map[string]File{}
	for _, f := range files {
		p := path.Clean(f.Path)
		if !path.IsAbs(f.Path) || p == "/" || p != f.Path {
			return nil, fmt.Errorf("file path %q: want a clean absolute path below /", f.Path)
		}
		if _, dup := byPath[p]; dup {
			return nil, fmt.Errorf("file path %q: listed twice", p)
		}
		byPath[p] = f
	}
	for p := range byPath {
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			if parent, ok := byPath[d]; ok {
				if !parent.Mode.IsDir() {
					return nil, fmt.Errorf("file path %q: its parent %s is not a directory", p, d)
				}
				continue
			}
			byPath[d] = File{Path: d, Mode: fs.ModeDir | 0o755}
		}
	}
	out := make([]File, 0, len(byPath))
	for _, f := range byPath {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func writeEntry(tw *tar.Writer, f File, mtime time.Time) error {
	name := strings.TrimPrefix(f.Path, "/")
	hdr := &tar.Header{
		Name:    name,
		Mode:    int64(f.Mode.Perm()),
		Uid:     f.UID,
		Gid:     f.GID,
		ModTime: mtime,
	}
	if f.Mode&fs.ModeSticky != 0 {
		hdr.Mode |= 0o1000
	}
	if f.Mode.IsDir() {
		if f.Data != nil || f.Source != "" {
			return fmt.Errorf("a directory has no content")
		}
		hdr.Typeflag = tar.TypeDir
		hdr.Name += "/"
		return tw.WriteHeader(hdr)
	}
	if !f.Mode.IsRegular() {
		return fmt.Errorf("only directories and regular files are supported, not %v", f.Mode.Type())
	}
	data := f.Data
	if f.Source != "" {
		var err error
		if data, err = os.ReadFile(f.Source); err != nil {
			return err
		}
	}
	hdr.Typeflag = tar.TypeReg
	hdr.Size = int64(len(data))
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}
