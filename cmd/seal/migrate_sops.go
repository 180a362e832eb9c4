package main

import (
	"bytes"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/sealkit/sealkit/internal/atomicfile"
	"github.com/sealkit/sealkit/internal/manifest"
	"github.com/sealkit/sealkit/pkg/migrate"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sopsfile"
)

// runSOPS replaces each SOPS-encrypted Secret manifest with its
// SealedSecrets (or writes them to -w FILE), file by file: a file that
// fails is left as it was and the others are still done. Files found in a
// directory that are not SOPS-encrypted, or not Secrets, are skipped.
func (o *migrateOptions) runSOPS() error {
	var keys sopsfile.Options
	if len(o.keyFiles) > 0 {
		ids, err := readIdentityFiles(o.Streams, o.keyFiles)
		if err != nil {
			return err
		}
		keys.Identities = ids
	}
	secrets, files, failed := 0, 0, 0
	err := walkManifests(o.paths, func(path string, named bool) error {
		n, err := o.migrateSOPSFile(path, named, keys)
		switch {
		case errors.Is(err, errSkipped):
			return nil
		case err != nil && !isRuntime(err):
			return err
		case err != nil:
			failed++
			report(o.ErrOut, addHint(err, "the file was left as it was"), "")
			return nil
		}
		secrets += n
		files++
		return nil
	})
	if err != nil {
		return err
	}
	if files+failed == 0 {
		return withHint(fmt.Errorf("no SOPS-encrypted Secrets found in %v", o.paths),
			"give the SOPS-encrypted Secret manifests, or the directories holding them")
	}
	fmt.Fprintf(o.Out, "migrated %d Secrets from %d SOPS files; %d files refused\n", secrets, files, failed)
	if failed > 0 {
		return fmt.Errorf("%d SOPS files were not migrated and were left as they were", failed)
	}
	return nil
}

// errSkipped: a file found in a directory that is not for --from-sops.
var errSkipped = errors.New("skipped")

// isRuntime reports whether err is about one file (reported, counted)
// rather than the command line or the cluster (which stop everything).
func isRuntime(err error) bool { return exitCode(err) == ExitError && !unreachable(err) }

// migrateSOPSFile migrates one file and returns how many Secrets it held.
func (o *migrateOptions) migrateSOPSFile(path string, named bool, keys sopsfile.Options) (int, error) {
	data, err := readFileBounded(path)
	if err != nil {
		return 0, runtimeError(err)
	}
	if !named && !bytes.Contains(data, []byte("sops")) {
		return 0, errSkipped
	}
	out := path
	if o.write != "" {
		out = o.write
	}
	rs, scope, err := o.recipientsFor(out, o.scope, o.scopeSet)
	if err != nil {
		return 0, err
	}
	sealedObjs, err := migrate.FromSOPS(data, path, keys, sealed.SealOptions{Scope: scope, Recipients: recipientsOf(rs)}, o.kube.namespace)
	switch {
	case !named && (errors.Is(err, sopsfile.ErrNotEncrypted) || errors.Is(err, sopsfile.ErrNotSecrets)):
		return 0, errSkipped
	case err != nil:
		return 0, runtimeError(withNamespaceHint(err))
	}
	objs := make([]runtime.Object, len(sealedObjs))
	for i, ss := range sealedObjs {
		objs[i] = ss
	}
	format := manifest.FormatOf(data)
	if o.write != "" {
		format = formatOf(o.write, nil)
	}
	var buf bytes.Buffer
	if err := sealed.WriteManifests(&buf, objs, format); err != nil {
		return 0, runtimeError(fmt.Errorf("%s: %w", path, err))
	}
	if err := atomicfile.WriteFile(out, buf.Bytes(), filePerm(path)); err != nil {
		return 0, runtimeError(err)
	}
	fmt.Fprintf(o.ErrOut, "seal: %s: %d Secrets sealed (scope %s) into %s\n", path, len(objs), scope, out)
	return len(objs), nil
}

// withNamespaceHint adds the hint for a Secret that names no namespace.
func withNamespaceHint(err error) error {
	if bytes.Contains([]byte(err.Error()), []byte("has no namespace")) {
		return withHint(err, "give -n NAMESPACE for Secrets that name none, or --scope cluster")
	}
	return err
}

// addHint adds hint after the hint err carries, if any.
func addHint(err error, hint string) error {
	var ce *cliError
	if errors.As(err, &ce) && ce.hint != "" {
		hint = ce.hint + "; " + hint
	}
	return withHint(err, hint)
}
