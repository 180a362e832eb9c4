package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/validation"
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// addEnvFile adds the KEY=VALUE lines of an env file with kubectl's rules:
// leading space is ignored, blank lines and # comments are skipped, a value
// runs to the end of the line untouched, and a line with only KEY takes the
// value of that environment variable (empty if it is unset). Messages name
// the file and line, never the line's text, which may hold a value.
func (b *secretBuilder) addEnvFile(p string, lookupEnv func(string) (string, bool)) error {
	f, err := os.Open(p) //nolint:gosec // opening the file the user named is the point
	if err != nil {
		return fmt.Errorf("--from-env-file %w", fileError(p, err))
	}
	defer func() { _ = f.Close() }() // read-only: nothing to lose
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), maxSecretSize)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if n == 1 {
			line = bytes.TrimPrefix(line, utf8BOM)
		}
		if !utf8.Valid(line) {
			return fmt.Errorf("%s: line %d is not valid UTF-8", p, n)
		}
		line = bytes.TrimLeftFunc(line, unicode.IsSpace)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		key, value, hasValue := strings.Cut(string(line), "=")
		if errs := validation.IsEnvVarName(key); len(errs) > 0 {
			return withHint(fmt.Errorf("%s: line %d: not KEY=VALUE with a valid key name", p, n),
				"a key is letters, digits, '_', '-' and '.', not starting with a digit")
		}
		if !hasValue {
			value, _ = lookupEnv(key)
		}
		if err := b.add(key, []byte(value), fmt.Sprintf("--from-env-file %s line %d", p, n)); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", p, err)
	}
	return nil
}
