package release

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ChecksumsFile is the name of the checksum list in dist/.
const ChecksumsFile = "SHA256SUMS"

// writeChecksums writes dir/SHA256SUMS over files (paths relative to dir), in
// the format `sha256sum -c` reads.
func writeChecksums(dir string, files []string) error {
	sort.Strings(files)
	var b strings.Builder
	for _, f := range files {
		sum, err := fileSHA256(filepath.Join(dir, f))
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s  %s\n", sum, filepath.ToSlash(f))
	}
	return atomicWrite(filepath.Join(dir, ChecksumsFile), func(w io.Writer) error {
		_, err := io.WriteString(w, b.String())
		return err
	})
}

// VerifyChecksums checks every line of dir/SHA256SUMS against the files, as
// `sha256sum -c` does, and returns the files it lists.
func VerifyChecksums(dir string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, ChecksumsFile))
	if err != nil {
		return nil, err
	}
	var files []string
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok {
			return nil, fmt.Errorf("%s line %d: not `SUM  FILE`", ChecksumsFile, i+1)
		}
		got, err := fileSHA256(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return nil, err
		}
		if got != sum {
			return nil, fmt.Errorf("%s: sha256 %s, %s says %s", name, got, ChecksumsFile, sum)
		}
		files = append(files, name)
	}
	return files, nil
}
