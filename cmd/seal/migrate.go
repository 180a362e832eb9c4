package main

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sealkit/sealkit/internal/atomicfile"
	"github.com/sealkit/sealkit/pkg/bitnami"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/migrate"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// migrateOptions is `seal migrate PATH…`: Bitnami SealedSecrets (or, with
// --from-sops, SOPS-encrypted Secrets) rewritten into sealkit SealedSecrets
// in place; with --cut-over, the running Secrets handed over.
type migrateOptions struct {
	Streams
	kube       kubeOptions
	recipients recipientFlags
	// keyFiles are -i: Bitnami's private keys, or with --from-sops age
	// identities.
	keyFiles  []string
	fromSOPS  bool
	cutOver   bool
	scopeName string
	write     string
	paths     []string

	scope    crypto.Scope
	scopeSet bool
	// keyrings caches the keyring files read and the cluster keyrings
	// fetched (by "context:NAME"), for offline sealing.
	keyrings map[string]loadedKeyring
}

func newMigrateCmd(s Streams) *cobra.Command {
	o := &migrateOptions{Streams: s}
	cmd := &cobra.Command{
		Use:   "migrate PATH... [-i BITNAMI_KEYS [--keys FILE | --recipient R]...] | --from-sops PATH... | --cut-over PATH...",
		Short: "Move Bitnami SealedSecrets or SOPS-encrypted Secrets to sealkit, rewriting files in place",
		Long: `migrate rewrites the Bitnami SealedSecrets (bitnami.com/v1alpha1) found in
the files and directories (recursively: *.yaml, *.yml, *.json) into sealkit
SealedSecrets, in place: same name, namespace, labels and template, scope
mapped (strict to strict, namespace-wide to namespace, cluster-wide to
cluster), every value sealed again to sealkit's keys, bound to its data key.
Only the migrated objects change: comments, formatting and the other
documents of each file keep every byte. An object that cannot be migrated
(Go templates in spec.template.data, the pre-v0.7 spec.data form, a value
no key opens) is reported by name and left as it was; the rest of its file
is migrated.

Online (no -i), the plaintext never leaves the cluster: each object goes to
the API server as a dry-run marked sealkit.dev/migrate; seal-controller
opens the Bitnami values with Bitnami's private keys (read from the Bitnami
controller's namespace, seal-controller --bitnami-namespace, or imported
with 'seal keys import-bitnami') and seals them to its active key. RBAC
allows it exactly to those who may create SealedSecrets in the namespace.

Offline, -i FILE gives Bitnami's private keys: the key Secrets as exported
('kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml',
one Secret or a List) or PEM private keys. Values are sealed to --keys/--recipient,
else to the keys of the .sealkit.yaml rule for each file, else to the
cluster's public keyring, as seal does.

--from-sops decrypts SOPS-encrypted Secret manifests in memory (age
identities from -i, else SOPS's own key sources) and replaces each file
with its SealedSecrets (or writes them to -w FILE); plaintext is never
written.

--cut-over hands the running Secrets over: for each sealkit SealedSecret in
the files whose Bitnami SealedSecret of the same name is in the cluster, the
Secret that SealedSecret controls is marked sealkit.dev/managed, and the
Bitnami SealedSecret is deleted with orphan propagation, so the Secret never
disappears and seal-controller adopts it. Other Secrets are never touched.

Exit status: 0 everything migrated (or nothing to do); 1 some object or
file was not migrated (the others were); 2 a usage error, or the cluster
could not be reached.`,
		Example: `  seal migrate k8s/
  seal migrate -i bitnami-keys.yaml --keys prod.keys k8s/prod/
  seal migrate --from-sops -i ~/.config/sops/age/keys.txt secrets/
  seal migrate --cut-over k8s/`,
		Args: cobra.MinimumNArgs(1),
		RunE: runE(o),
	}
	fs := cmd.Flags()
	fs.StringArrayVarP(&o.keyFiles, "identity", "i", nil, "Bitnami's private keys `FILE` (exported key Secrets, or PEM) to migrate offline; with --from-sops, an age identity file (repeatable)")
	fs.BoolVar(&o.fromSOPS, "from-sops", false, "migrate SOPS-encrypted Secret manifests instead of Bitnami SealedSecrets")
	fs.BoolVar(&o.cutOver, "cut-over", false, "hand the Secrets of migrated objects over from Bitnami's controller to seal-controller, in the cluster")
	fs.StringVar(&o.scopeName, "scope", string(crypto.ScopeStrict), "with --from-sops: `SCOPE` of the sealed values: strict, namespace or cluster (default: the .sealkit.yaml rule's, else strict)")
	fs.StringVarP(&o.write, "write", "w", "", "with --from-sops and one input file: write the SealedSecrets to `FILE` and leave the SOPS file as it is")
	o.recipients.addFlags(fs)
	o.kube.addFlags(fs, true)
	return cmd
}

// Complete takes the paths and parses --recipient and --scope.
func (o *migrateOptions) Complete(cmd *cobra.Command, args []string) error {
	o.paths = args
	o.keyrings = map[string]loadedKeyring{}
	scope, err := crypto.ParseScope(o.scopeName)
	if err != nil {
		return usageErrorf("--scope: %v", err)
	}
	o.scope, o.scopeSet = scope, cmd.Flags().Changed("scope")
	return o.recipients.parse()
}

// Validate checks the flags' combinations.
func (o *migrateOptions) Validate() error {
	switch {
	case o.fromSOPS && o.cutOver:
		return usageErrorf("--from-sops and --cut-over cannot be given together: a SOPS file has no running Secret to hand over")
	case o.cutOver && (len(o.keyFiles) > 0 || o.recipients.given()):
		return usageErrorf("--cut-over changes the cluster only: -i, --keys and --recipient do not apply")
	case !o.fromSOPS && o.scopeSet:
		return withHint(usageErrorf("--scope applies to --from-sops only"), "a Bitnami SealedSecret keeps its own scope")
	case !o.fromSOPS && o.write != "":
		return withHint(usageErrorf("-w applies to --from-sops only"), "Bitnami SealedSecrets are migrated in place")
	case o.fromSOPS && o.write != "" && len(o.paths) != 1:
		return usageErrorf("-w names one output file: give one SOPS file with it")
	case !o.fromSOPS && !o.cutOver && len(o.keyFiles) == 0 && o.recipients.given():
		return withHint(usageErrorf("--keys and --recipient need -i: online, seal-controller seals to its active key and recovery recipients"),
			"give -i with Bitnami's exported keys to migrate offline")
	}
	return nil
}

// Run migrates.
func (o *migrateOptions) Run() error {
	switch {
	case o.fromSOPS:
		return o.runSOPS()
	case o.cutOver:
		return o.runCutOver()
	}
	return o.runBitnami()
}

// loadBitnamiFiles reads the files named and the manifest files under the
// directories named that hold SealedSecrets of either kind. Named files
// must parse; a file in a directory that does not is reported and skipped.
func (o *migrateOptions) loadBitnamiFiles() ([]*migrate.File, int, error) {
	var files []*migrate.File
	skipped := 0
	err := walkManifests(o.paths, func(path string, named bool) error {
		data, err := readFileBounded(path)
		if err != nil {
			return err
		}
		if !named && !bytes.Contains(data, []byte("SealedSecret")) {
			return nil
		}
		f, err := migrate.ReadFile(path, data)
		if err != nil {
			if named {
				return prefixSource(path, err)
			}
			skipped++
			report(o.ErrOut, withHint(prefixSource(path, err), "the file was left as it was"), "")
			return nil
		}
		files = append(files, f)
		return nil
	})
	return files, skipped, err
}

// migrateStats are the summary's numbers.
type migrateStats struct {
	migrated, refused, unchanged, files int
	// unreadable counts files under a directory that do not parse.
	unreadable int
}

// runBitnami converts every Bitnami SealedSecret, then rewrites file by
// file: a file is written only with its objects that converted, and only
// once all conversions are done.
func (o *migrateOptions) runBitnami() error {
	files, skipped, err := o.loadBitnamiFiles()
	if err != nil {
		return err
	}
	var st migrateStats
	var objects []*migrate.Object
	for _, f := range files {
		st.unchanged += f.Sealkit
		objects = append(objects, f.Objects...)
	}
	if len(objects) == 0 && st.unchanged == 0 {
		return withHint(fmt.Errorf("no Bitnami SealedSecrets found in %v", o.paths),
			"give the files or directories that hold bitnami.com/v1alpha1 SealedSecrets")
	}
	conv, err := o.converter(files)
	if err != nil {
		return err
	}
	results, err := convertAll(conv, files)
	if err != nil {
		return err
	}
	for _, f := range files {
		o.rewrite(f, results, &st)
	}
	st.unreadable = skipped
	fmt.Fprintf(o.Out, "migrated %d Bitnami SealedSecrets in %d files; %d refused; %d unchanged (already sealkit)\n",
		st.migrated, st.files, st.refused, st.unchanged)
	switch {
	case st.refused > 0:
		return fmt.Errorf("%d Bitnami SealedSecrets were not migrated (see above) and were left as they were; the other objects of their files were migrated", st.refused)
	case st.unreadable > 0:
		return fmt.Errorf("%d files could not be read as manifests (see above) and were left as they were", st.unreadable)
	}
	return nil
}

// rewrite reports f's refusals and notes, and writes f with the objects
// that converted.
func (o *migrateOptions) rewrite(f *migrate.File, results map[*migrate.Object]converted, st *migrateStats) {
	done := map[*migrate.Object]*v1alpha1.SealedSecret{}
	for _, obj := range f.Objects {
		r := results[obj]
		if r.err != nil {
			st.refused++
			fmt.Fprintf(o.ErrOut, "seal: error: %s: %s\n", f.Path, oneLine(objectError(obj, r.err)))
			continue
		}
		for _, n := range r.notes {
			fmt.Fprintf(o.ErrOut, "seal: note: %s: %s: %s\n", f.Path, obj.Name(), oneLine(n))
		}
		done[obj] = r.ss
	}
	if len(done) == 0 {
		return
	}
	out, err := f.Rewrite(done)
	if err == nil {
		err = atomicfile.WriteFile(f.Path, out, filePerm(f.Path))
	}
	if err != nil {
		st.refused += len(done)
		report(o.ErrOut, withHint(err, "the file was left as it was"), "")
		return
	}
	st.migrated += len(done)
	st.files++
}

// objectError is err about obj, naming it once.
func objectError(obj *migrate.Object, err error) string {
	msg := err.Error()
	if strings.HasPrefix(msg, "bitnami sealedsecret") {
		return msg
	}
	return obj.Name() + ": " + msg
}

// readBitnamiKeys reads the -i files as Bitnami private keys.
func (o *migrateOptions) readBitnamiKeys() ([]*bitnami.PrivateKey, error) {
	var keys []*bitnami.PrivateKey
	for _, p := range o.keyFiles {
		data, err := readFileBounded(p)
		if err != nil {
			return nil, err
		}
		k, err := bitnami.ParsePrivateKeys(bytes.NewReader(data), p)
		clear(data)
		if err != nil {
			return nil, withHint(err, "give Bitnami's key Secrets as exported (kubectl get secret -n kube-system -l "+bitnami.LabelSealingKey+" -o yaml) or PEM private keys")
		}
		keys = append(keys, k...)
	}
	return keys, nil
}
