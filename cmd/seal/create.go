package main

import (
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// createOptions is `seal create NAME`: build a Secret from literals and
// files the way `kubectl create secret generic` does, and seal it.
type createOptions struct {
	Streams
	sealingOptions

	literals   []string
	files      []string
	envFiles   []string
	generate   []string
	secretType string

	// LookupEnv resolves env-file lines that name a variable without a
	// value, as kubectl does.
	LookupEnv func(string) (string, bool)
	// Rand is where --generate takes its randomness.
	Rand io.Reader

	name      string
	generates []generateSpec
}

func newCreateCmd(s Streams) *cobra.Command {
	o := &createOptions{Streams: s, LookupEnv: os.LookupEnv, Rand: rand.Reader}
	cmd := &cobra.Command{
		Use:   "create NAME [--from-literal KEY=VALUE] [--from-file [KEY=]PATH] [--from-env-file PATH] [--type TYPE] [-n NAMESPACE]",
		Short: "Create a Secret from literals and files, like kubectl create secret generic, and seal it",
		Long: `create builds a Secret the way 'kubectl create secret generic' does and
seals it at once, so the plaintext manifest never exists on disk.

--from-file takes [KEY=]PATH: KEY defaults to the file's base name; a
directory adds each regular file in it under its base name.
--from-env-file reads KEY=VALUE lines; blank lines and lines starting with
# are skipped, and a line with only KEY takes the value of that environment
variable. A key given twice is an error.

--generate KEY[=SPEC] adds a random value made with crypto/rand, which is
sealed and never printed or written in plaintext: a generated secret that
survives a rebuilt cluster. SPEC is [KIND:]LENGTH or KIND: KIND alnum (the
default), alpha, lower, upper, digits, hex or ascii gives LENGTH characters
(default 32); bytes, base64, base64url or hexbytes encodes LENGTH random
bytes.`,
		Example: `  seal create db -n shop --from-literal user=app --from-file password=./pw.txt --keys prod.keys -w db.sealed.yaml
  seal create tls -n shop --type kubernetes.io/tls --from-file tls.crt --from-file tls.key --keys prod.keys
  seal create db -n shop --from-literal extra=1 --keys prod.keys --merge-into db.sealed.yaml
  seal create app -n shop --generate password --generate pin=digits:6 --generate key=bytes:32 --keys prod.keys`,
		Args: exactArgs(1, "one argument, the Secret's NAME"),
		RunE: runE(o),
	}
	fs := cmd.Flags()
	fs.StringArrayVar(&o.literals, "from-literal", nil, "add `KEY=VALUE` (repeatable)")
	fs.StringArrayVar(&o.files, "from-file", nil, "add a file as `[KEY=]PATH`, or every regular file of a directory (repeatable)")
	fs.StringArrayVar(&o.envFiles, "from-env-file", nil, "add the KEY=VALUE lines of `PATH` (repeatable)")
	fs.StringArrayVar(&o.generate, "generate", nil, "add a random value as `KEY[=SPEC]`, e.g. password, pin=digits:6, key=bytes:32 (repeatable)")
	fs.StringVar(&o.secretType, "type", "", "the Secret's `TYPE` (default Opaque)")
	o.addFlags(fs)
	return cmd
}

// Complete takes the name and checks the shared sealing flags.
func (o *createOptions) Complete(cmd *cobra.Command, args []string) error {
	o.name = args[0]
	o.typeSet = cmd.Flags().Changed("type")
	for _, g := range o.generate {
		spec, err := parseGenerate(g)
		if err != nil {
			return err
		}
		o.generates = append(o.generates, spec)
	}
	return o.complete(cmd)
}

// Validate checks the name.
func (o *createOptions) Validate() error {
	if errs := validation.IsDNS1123Subdomain(o.name); len(errs) > 0 {
		return usageErrorf("secret name %q: %s", o.name, strings.Join(errs, "; "))
	}
	return nil
}

// Run builds the Secret, seals it and writes or merges it.
func (o *createOptions) Run() error {
	s := &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: o.name, Namespace: o.namespace},
		Type:       corev1.SecretType(o.secretType),
		Data:       map[string][]byte{},
	}
	b := secretBuilder{secret: s, origin: map[string]string{}}
	for _, src := range o.files {
		if err := b.addFileSource(src); err != nil {
			return err
		}
	}
	for _, src := range o.literals {
		if err := b.addLiteral(src); err != nil {
			return err
		}
	}
	for _, p := range o.envFiles {
		if err := b.addEnvFile(p, o.LookupEnv); err != nil {
			return err
		}
	}
	for _, g := range o.generates {
		v, err := g.generate(o.Rand)
		if err != nil {
			return err
		}
		if err := b.add(g.key, v, "--generate"); err != nil {
			return err
		}
	}
	return o.sealAndWrite(o.Streams, []sourced{{doc: "secret " + o.name, secret: s}})
}

// secretBuilder adds data to a Secret with kubectl's key checks, remembering
// where each key came from to explain duplicates.
type secretBuilder struct {
	secret *corev1.Secret
	origin map[string]string
}

func (b *secretBuilder) add(key string, value []byte, origin string) error {
	if errs := validation.IsConfigMapKey(key); len(errs) > 0 {
		return fmt.Errorf("secret %s: %s: %q is not a valid key: %s", b.secret.Name, origin, key, strings.Join(errs, "; "))
	}
	if prev, ok := b.origin[key]; ok {
		return fmt.Errorf("secret %s: key %q is given twice, by %s and %s", b.secret.Name, key, prev, origin)
	}
	if len(value) > maxSecretSize {
		return fmt.Errorf("secret %s: %s: key %q is over Kubernetes' 1 MiB Secret limit", b.secret.Name, origin, key)
	}
	b.origin[key] = origin
	b.secret.Data[key] = value
	return nil
}

// addLiteral adds KEY=VALUE. Messages never repeat the value.
func (b *secretBuilder) addLiteral(src string) error {
	key, value, ok := strings.Cut(src, "=")
	if !ok || key == "" {
		return withHint(usageErrorf("--from-literal wants KEY=VALUE"), "e.g. --from-literal password=s3cret")
	}
	return b.add(key, []byte(value), "--from-literal")
}

// addFileSource adds [KEY=]PATH; a directory adds its regular files.
func (b *secretBuilder) addFileSource(src string) error {
	key, p, err := parseFileSource(src)
	if err != nil {
		return err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("--from-file %w", fileError(p, err))
	}
	if !fi.IsDir() {
		return b.addFile(key, p)
	}
	if key != "" && strings.Contains(src, "=") {
		return usageErrorf("--from-file %s: a directory cannot be given a key name", src)
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return fmt.Errorf("--from-file %w", fileError(p, err))
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			if err := b.addFile(e.Name(), filepath.Join(p, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b *secretBuilder) addFile(key, p string) error {
	f, err := os.Open(p) //nolint:gosec // opening the file the user named is the point
	if err != nil {
		return fmt.Errorf("--from-file %w", fileError(p, err))
	}
	defer func() { _ = f.Close() }() // read-only: nothing to lose
	value, err := readBounded(f, maxSecretSize, p)
	if err != nil {
		return err
	}
	return b.add(key, value, "--from-file "+p)
}

// parseFileSource splits [KEY=]PATH as kubectl does: without KEY, the key
// is the path's base name.
func parseFileSource(src string) (key, p string, err error) {
	switch n := strings.Count(src, "="); {
	case n == 0:
		return path.Base(filepath.ToSlash(src)), src, nil
	case n > 1:
		return "", "", usageErrorf("--from-file %s: key names and file paths cannot contain '='", src)
	}
	key, p, _ = strings.Cut(src, "=")
	switch {
	case key == "":
		return "", "", usageErrorf("--from-file %s: key name missing before '='", src)
	case p == "":
		return "", "", usageErrorf("--from-file %s: file path missing after '='", src)
	}
	return key, p, nil
}
