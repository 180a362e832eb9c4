package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sealkit/sealkit/internal/atomicfile"
	"github.com/sealkit/sealkit/internal/manifest"
	"github.com/sealkit/sealkit/internal/parallel"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/repoconfig"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// resealOptions is `seal reseal PATH…`: every value re-sealed to the
// current keys, files rewritten in place.
type resealOptions struct {
	Streams
	kube          kubeOptions
	recipients    recipientFlags
	identityFiles []string
	paths         []string

	concurrency int

	identities []*crypto.Identity
	progress   *progress
	// controller says who chose the keys of an online re-seal.
	controller string
	// keyrings caches the keyring files read, by path.
	keyrings map[string]loadedKeyring
}

func newResealCmd(s Streams) *cobra.Command {
	o := &resealOptions{Streams: s}
	cmd := &cobra.Command{
		Use:   "reseal PATH... [-i IDENTITY_FILE [--keys FILE | --recipient R]...]",
		Short: "Re-seal SealedSecrets to the newest keys, rewriting files in place",
		Long: `reseal re-seals every value of the SealedSecrets found in the files and
directories (recursively: *.yaml, *.yml, *.json) to the current keys, with
the same scope, namespace, name and data key, and rewrites the files in
place, atomically. Only files whose values changed are written, and only
the changed values change in them: comments, formatting and the other
documents are kept byte for byte. A file whose values cannot be replaced in
place (a value written as a YAML alias or a block scalar, say) is reported
and left unchanged.

Online (no -i), each SealedSecret goes to the API server as a dry-run
marked sealkit.dev/reseal; seal-controller's webhook re-seals it to its
active key and its recovery recipients. No plaintext leaves the cluster;
RBAC allows it exactly to those who may create SealedSecrets in the
namespace.

Offline, -i IDENTITY_FILE opens the values (an administrator or recovery
key holder) and they are sealed to --keys/--recipient, else to the keys
of the .sealkit.yaml rule for each file, plus the rule's recovery
recipients either way.`,
		Example: `  seal reseal k8s/
  seal reseal -i recovery.key --keys prod.keys k8s/prod/`,
		Args: cobra.MinimumNArgs(1),
		RunE: runE(o),
	}
	fs := cmd.Flags()
	fs.StringArrayVarP(&o.identityFiles, "identity", "i", nil, "re-seal offline, opening values with this age identity `FILE` (repeatable)")
	o.recipients.addFlags(fs)
	o.kube.addFlags(fs, true)
	addConcurrencyFlag(fs, &o.concurrency, "re-seal")
	return cmd
}

// Complete takes the paths and checks --recipient.
func (o *resealOptions) Complete(_ *cobra.Command, args []string) error {
	o.paths = args
	return o.recipients.parse()
}

// Validate refuses recipients without -i: online, the controller decides.
func (o *resealOptions) Validate() error {
	if err := validateConcurrency(o.concurrency); err != nil {
		return err
	}
	if len(o.identityFiles) == 0 && len(o.recipients.keyFiles)+len(o.recipients.recipients) > 0 {
		return withHint(usageErrorf("--keys and --recipient need -i: online, seal-controller re-seals to its active key and recovery recipients"),
			"give -i IDENTITY_FILE to re-seal offline")
	}
	return nil
}

// resealStats are the summary's numbers, and whom the re-sealed values
// were sealed to: key ID -> origins.
type resealStats struct {
	values, objects, changedFiles, unchangedFiles, failed int
	// unedited counts files whose values were re-sealed but could not be
	// changed in place.
	unedited int
	sealedTo map[crypto.KeyID][]string
}

// sealedBy is a key values were re-sealed to, and why.
type sealedBy struct {
	id     crypto.KeyID
	origin string
}

// record notes that values were sealed to keys.
func (st *resealStats) record(keys []sealedBy) {
	for _, k := range keys {
		if !slices.Contains(st.sealedTo[k.id], k.origin) {
			st.sealedTo[k.id] = append(st.sealedTo[k.id], k.origin)
		}
	}
}

// Run re-seals every object, several at once (--concurrency dry-runs
// online, every core offline), and handles the results in file order: a
// file is rewritten once all its objects are done; a file with an object
// that fails is left as it was, and the others are still done.
func (o *resealOptions) Run() error {
	o.keyrings = map[string]loadedKeyring{}
	files, err := loadManifestFiles(o.paths)
	if err != nil {
		return err
	}
	total := countSealed(files)
	if total == 0 {
		return noSealedSecrets(o.paths)
	}
	ctx, cancel := kubeContext()
	defer cancel()
	// Offline the work is CPU, and waiting for files to be synced to disk:
	// twice as many workers as cores keep the cores busy meanwhile.
	workers := 2 * parallel.Workers()
	if len(o.identityFiles) > 0 {
		if o.identities, err = readIdentityFiles(o.Streams, o.identityFiles); err != nil {
			return err
		}
	} else {
		if _, err := o.kube.connect(); err != nil {
			return err
		}
		o.kube.listVersions(ctx, namespacesOf(files, o.kube.defaultNS))
		o.controller = "chosen by seal-controller, " + o.kube.describe()
		workers = o.concurrency
	}
	jobs, err := o.jobs(files)
	if err != nil {
		return err
	}
	o.progress = newProgress(o.ErrOut, total)
	st := resealStats{sealedTo: map[crypto.KeyID][]string{}}
	var ioErr error
	parallel.Ordered(len(jobs), workers, func(i int) struct{} {
		o.work(ctx, jobs[i])
		return struct{}{}
	}, func(i int, _ struct{}) bool {
		j := jobs[i]
		o.progress.step()
		if err := j.result.err; err != nil {
			where := fmt.Sprintf("%s: sealedsecret %s", j.file.f.path, objectRef(j.doc.obj, o.kube.defaultNS))
			if unreachable(err) {
				// Every object after it would fail alike: one line, not
				// one per object.
				ioErr = kubeError(fmt.Errorf("%s: %w", where, err))
				return false
			}
			o.progress.clear()
			fmt.Fprintf(o.ErrOut, "seal: error: %s: %s\n", where, oneLine(err.Error()))
		}
		if j.last {
			ioErr = o.finishFile(j.file, &st)
		}
		return ioErr == nil
	})
	o.progress.clear()
	if ioErr != nil {
		return ioErr
	}
	fmt.Fprintf(o.Out, "resealed %d values in %d objects, %d files changed, %d unchanged\n",
		st.values, st.objects, st.changedFiles, st.unchangedFiles)
	for _, id := range slices.Sorted(maps.Keys(st.sealedTo)) {
		fmt.Fprintf(o.Out, "sealed to %s: %s\n", id, strings.Join(st.sealedTo[id], "; "))
	}
	switch {
	case st.failed > 0:
		return fmt.Errorf("%d SealedSecrets could not be re-sealed; their files were left unchanged", st.failed)
	case st.unedited > 0:
		return fmt.Errorf("%d files could not be changed in place; they were left unchanged", st.unedited)
	}
	return nil
}

// resealJob is one SealedSecret to re-seal, and its result; last marks
// its file's last object.
type resealJob struct {
	file   *fileJob
	doc    sealedDoc
	last   bool
	result resealResult
}

// resealResult is the data keys of one object whose values changed, or why
// it could not be re-sealed.
type resealResult struct {
	changed []string
	err     error
}

// fileJob is a file to re-seal: offline, whom to seal its values to; the
// objects not done yet; and, once they are all done, the file edited.
type fileJob struct {
	f         *manifestFile
	to        []recipientSource
	jobs      []*resealJob
	remaining atomic.Int64
	edit      fileEdit
}

// fileEdit is what re-sealing a file's objects came to.
type fileEdit struct {
	err      error // why it cannot be changed in place
	writeErr error // why writing it failed
	values   int
	objects  int // objects whose values changed
	failed   int // objects that could not be re-sealed
	by       []sealedBy
}

// jobs lists the objects of files in order. Offline, whom each file's
// values are sealed to is resolved first, so that a file without keys to
// re-seal to stops the command before any file is changed.
func (o *resealOptions) jobs(files []*manifestFile) ([]*resealJob, error) {
	var jobs []*resealJob
	for _, f := range files {
		if len(f.sealed) == 0 {
			continue
		}
		fj := &fileJob{f: f}
		if len(o.identities) > 0 {
			var err error
			if fj.to, err = o.offlineRecipients(f.path); err != nil {
				return nil, err
			}
		}
		fj.remaining.Store(int64(len(f.sealed)))
		for i, d := range f.sealed {
			j := &resealJob{file: fj, doc: d, last: i == len(f.sealed)-1}
			fj.jobs = append(fj.jobs, j)
			jobs = append(jobs, j)
		}
	}
	return jobs, nil
}

// work re-seals the object of j. Whichever worker re-seals the last
// object of a file not yet done also edits and writes the file: edits and
// writes (each synced to disk) run in parallel too, and the emitter only
// reports and counts. A write that fails stops the command once the
// emitter reaches it; files after it may have been written meanwhile,
// each atomically and completely.
func (o *resealOptions) work(ctx context.Context, j *resealJob) {
	j.result.changed, j.result.err = o.resealObject(ctx, j.doc.obj, recipientsOf(j.file.to))
	if j.file.remaining.Add(-1) == 0 {
		j.file.edit = o.editFile(j.file)
	}
}

// editFile puts the values of the file's objects that changed into its
// text, unless one of its objects failed.
func (o *resealOptions) editFile(fj *fileJob) fileEdit {
	var e fileEdit
	var changes []manifest.Change
	for _, j := range fj.jobs {
		if j.result.err != nil {
			e.failed++
			continue
		}
		if len(j.result.changed) > 0 {
			e.objects++
		}
		doc := fj.f.docs[j.doc.index]
		for _, k := range j.result.changed {
			v := j.doc.obj.Spec.EncryptedData[k]
			changes = append(changes, manifest.Change{Doc: doc.Stream, Path: doc.Path("spec", "encryptedData", k), Value: v})
			if len(o.identities) == 0 {
				e.by = append(e.by, o.byController(v)...)
			}
		}
	}
	if e.failed > 0 || len(changes) == 0 {
		return e
	}
	for _, s := range fj.to {
		e.by = append(e.by, sealedBy{s.recipient.KeyID(), s.origin})
	}
	e.values = len(changes)
	out, err := manifest.ApplyRead(fj.f.data, jsonOfDocuments(fj.f.docs), changes)
	if e.err = err; err == nil {
		e.writeErr = atomicfile.WriteFile(fj.f.path, out, filePerm(fj.f.path))
	}
	return e
}

// jsonOfDocuments are the documents of a file read in full (not items of a
// List), in JSON, by their index in the file, for manifest.ApplyRead.
func jsonOfDocuments(docs []sealed.Document) map[int][]byte {
	read := make(map[int][]byte, len(docs))
	for _, d := range docs {
		if d.Item < 0 {
			read[d.Stream] = d.Raw
		}
	}
	return read
}

// finishFile reports and counts the file of fj. Failures (an object, or a
// file that cannot be changed in place) are reported and counted; only a
// failed write is returned.
func (o *resealOptions) finishFile(fj *fileJob, st *resealStats) error {
	e, f := &fj.edit, fj.f
	st.failed += e.failed
	switch {
	case e.failed > 0 || e.values == 0:
		st.unchangedFiles++
		return nil
	case e.err != nil:
		st.unedited++
		st.unchangedFiles++
		o.progress.clear()
		report(o.ErrOut, withHint(fmt.Errorf("%s: %w", f.path, e.err),
			"the file was left as it was; write each value as a plain or quoted scalar directly under spec.encryptedData"), "")
		return nil
	}
	if e.writeErr != nil {
		return e.writeErr
	}
	st.record(e.by)
	st.values += e.values
	st.objects += e.objects
	st.changedFiles++
	return nil
}

// resealObject re-seals ss in place and returns the data keys whose values
// changed, sorted.
func (o *resealOptions) resealObject(ctx context.Context, ss *v1alpha1.SealedSecret, to []*crypto.Recipient) ([]string, error) {
	before := maps.Clone(ss.Spec.EncryptedData)
	if len(o.identities) > 0 {
		if _, err := sealed.Reseal(ss, o.identities, to); err != nil {
			return nil, err
		}
	} else {
		got, err := o.kube.dryRun(ctx, ss, true)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(slices.Sorted(maps.Keys(got.Spec.EncryptedData)), slices.Sorted(maps.Keys(before))) {
			return nil, fmt.Errorf("the API server returned other data keys than were sent")
		}
		ss.Spec.EncryptedData = got.Spec.EncryptedData
	}
	var changed []string
	for _, k := range slices.Sorted(maps.Keys(ss.Spec.EncryptedData)) {
		if before[k] != ss.Spec.EncryptedData[k] {
			changed = append(changed, k)
		}
	}
	return changed, nil
}

// offlineRecipients are whom an offline re-seal seals path's values to, as
// seal would: --keys/--recipient, else the keys of the .sealkit.yaml rule
// for path; the rule's recovery recipients are added either way. The
// cluster is never asked: re-sealing offline needs keys it can name.
func (o *resealOptions) offlineRecipients(path string) ([]recipientSource, error) {
	rule, err := repoconfig.ForFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", repoconfig.FileName, err)
	}
	plan, err := planRecipients(&o.recipients, rule, "", false)
	if err == nil && plan.fetch {
		err = usageErrorf("%s: no keys to re-seal to", path)
	}
	if err != nil {
		return nil, withHint(err, "give --keys FILE or --recipient, or a .sealkit.yaml rule with keys for this path")
	}
	keyrings := make([]loadedKeyring, 0, len(plan.keyrings))
	for _, ref := range plan.keyrings {
		k, ok := o.keyrings[ref.path]
		if !ok {
			kr, err := readKeyring(ref.path)
			if err != nil {
				return nil, err
			}
			k = loadedKeyring{ref, kr}
			o.keyrings[ref.path] = k
		}
		keyrings = append(keyrings, loadedKeyring{ref, k.kr})
	}
	return resolveRecipients(plan, keyrings)
}

// byController names the keys an online re-seal sealed value to, as its
// key ID hints say: seal-controller chose them.
func (o *resealOptions) byController(value string) []sealedBy {
	ids, _ := crypto.KeyIDs(value)
	out := make([]sealedBy, 0, len(ids))
	for _, id := range ids {
		out = append(out, sealedBy{id, o.controller})
	}
	return out
}

// progress draws a bar on stderr when it is a terminal, and nothing
// otherwise.
type progress struct {
	w           io.Writer
	done, total int
}

func newProgress(w io.Writer, total int) *progress {
	if f, ok := w.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
		return &progress{total: total}
	}
	return &progress{w: w, total: total}
}

func (p *progress) step() {
	p.done++
	if p.w == nil {
		return
	}
	const width = 30
	n := width * p.done / p.total
	fmt.Fprintf(p.w, "\rre-sealing [%s%s] %d/%d", strings.Repeat("=", n), strings.Repeat(" ", width-n), p.done, p.total)
}

func (p *progress) clear() {
	if p.w != nil {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
