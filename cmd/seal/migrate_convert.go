package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/sealkit/sealkit/pkg/bitnami"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/migrate"
	"github.com/sealkit/sealkit/pkg/repoconfig"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// converted is what became of one Bitnami SealedSecret.
type converted struct {
	ss    *v1alpha1.SealedSecret
	notes []string
	err   error
}

// converter converts Bitnami SealedSecrets with workers goroutines, each
// with the state newWorker gives it.
type converter struct {
	workers   int
	newWorker func() func(*migrate.File, *migrate.Object) converted
}

// onlineWorkers is how many dry-runs are in flight at once: the work
// (an RSA decryption per value) is the controller's.
const onlineWorkers = 8

// converter chooses how to convert: offline with -i, else through the
// cluster. It reads keys and resolves whom to seal to before anything is
// converted, so that a bad flag or key file stops before any work.
func (o *migrateOptions) converter(files []*migrate.File) (converter, error) {
	if len(o.keyFiles) == 0 {
		return o.onlineConverter()
	}
	keys, err := o.readBitnamiKeys()
	if err != nil {
		return converter{}, err
	}
	to := map[string][]*crypto.Recipient{}
	for _, f := range files {
		if len(f.Objects) == 0 {
			continue
		}
		rs, _, err := o.recipientsFor(f.Path, "", false)
		if err != nil {
			return converter{}, err
		}
		to[f.Path] = recipientsOf(rs)
	}
	return converter{workers: runtime.GOMAXPROCS(0), newWorker: func() func(*migrate.File, *migrate.Object) converted {
		// A repository is mostly sealed to one key, and a wrong key costs
		// an RSA decryption: each worker tries the last key that worked
		// first.
		order := slices.Clone(keys)
		return func(f *migrate.File, obj *migrate.Object) converted {
			res, err := migrate.FromBitnami(obj.Bitnami, order, to[f.Path])
			if err != nil {
				return converted{err: err}
			}
			if len(res.OpenedWith) > 0 {
				moveKeyToFront(order, res.OpenedWith[0])
			}
			return converted{ss: res.SealedSecret, notes: res.Notes}
		}
	}}, nil
}

// onlineConverter sends each object, reshaped, to the API server as a
// dry-run marked sealkit.dev/migrate; seal-controller's webhook seals its
// values and the response carries them.
func (o *migrateOptions) onlineConverter() (converter, error) {
	if _, err := o.kube.connect(); err != nil {
		return converter{}, err
	}
	ctx := context.Background() // every request has --request-timeout
	return converter{workers: onlineWorkers, newWorker: func() func(*migrate.File, *migrate.Object) converted {
		return func(_ *migrate.File, obj *migrate.Object) converted {
			out, notes, err := migrate.Reshape(obj.Bitnami)
			if err != nil {
				return converted{err: err}
			}
			sink := &warningSink{}
			got, err := o.kube.dryRunMarked(context.WithValue(ctx, warningSinkKey{}, sink), out, v1alpha1.AnnotationMigrate, v1alpha1.MigrateFromBitnami)
			if err != nil {
				return converted{err: err}
			}
			// seal-controller says when a value opened only with a Bitnami
			// key labelled compromised.
			for _, w := range sink.messages() {
				if n, ok := strings.CutPrefix(w, "sealkit: opened with Bitnami key"); ok {
					notes = append(notes, "opened with Bitnami key"+n)
				}
			}
			if !slices.Equal(slices.Sorted(maps.Keys(got.Spec.EncryptedData)), slices.Sorted(maps.Keys(out.Spec.EncryptedData))) {
				return converted{err: errors.New("the API server returned other data keys than were sent")}
			}
			out.Spec.EncryptedData = got.Spec.EncryptedData
			return converted{ss: out, notes: notes}
		}
	}}, nil
}

// convertAll converts every object of files that is not refused already.
// When the cluster cannot be reached, or seal-controller does not answer,
// it says so once instead of once per object.
func convertAll(c converter, files []*migrate.File) (map[*migrate.Object]converted, error) {
	type job struct {
		f   *migrate.File
		obj *migrate.Object
	}
	results := map[*migrate.Object]converted{}
	var mu sync.Mutex
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range max(c.workers, 1) {
		wg.Go(func() {
			work := c.newWorker()
			for j := range jobs {
				r := work(j.f, j.obj)
				mu.Lock()
				results[j.obj] = r
				mu.Unlock()
			}
		})
	}
	for _, f := range files {
		for _, obj := range f.Objects {
			if obj.Refused != nil {
				results[obj] = converted{err: obj.Refused}
				continue
			}
			jobs <- job{f, obj}
		}
	}
	close(jobs)
	wg.Wait()
	for _, r := range results {
		switch {
		case unreachable(r.err):
			return nil, notRun(kubeError(r.err))
		case errors.Is(r.err, errUnanswered):
			return nil, r.err
		}
	}
	return results, nil
}

// moveKeyToFront moves k to the front of keys.
func moveKeyToFront(keys []*bitnami.PrivateKey, k *bitnami.PrivateKey) {
	if i := slices.Index(keys, k); i > 0 {
		copy(keys[1:i+1], keys[:i])
		keys[0] = k
	}
}

// recipientsFor is whom an offline migration seals path's values to, as
// seal would: --keys/--recipient, else the keys of the .sealkit.yaml rule
// for path, else the cluster's public keyring (the rule's context, or the
// current one); the rule's recovery recipients are added either way. The
// scope is the one given (scopeSet), else the rule's, else strict.
func (o *migrateOptions) recipientsFor(path string, scope crypto.Scope, scopeSet bool) ([]recipientSource, crypto.Scope, error) {
	rule, err := repoconfig.ForFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", repoconfig.FileName, err)
	}
	plan, err := planRecipients(&o.recipients, rule, scope, scopeSet)
	if err != nil {
		return nil, "", err
	}
	var keyrings []loadedKeyring
	for _, ref := range plan.keyrings {
		k, ok := o.keyrings[ref.path]
		if !ok {
			kr, err := readKeyring(ref.path)
			if err != nil {
				return nil, "", err
			}
			k = loadedKeyring{ref, kr}
			o.keyrings[ref.path] = k
		}
		keyrings = append(keyrings, loadedKeyring{ref, k.kr})
	}
	if plan.fetch {
		k, err := o.clusterKeyring(plan.context)
		if err != nil {
			return nil, "", err
		}
		keyrings = append(keyrings, k)
	}
	rs, err := resolveRecipients(plan, keyrings)
	return rs, plan.scope, err
}

// clusterKeyring fetches the public keyring of the cluster that context
// reaches ("" for --context or the current one), once per context.
func (o *migrateOptions) clusterKeyring(context string) (loadedKeyring, error) {
	cacheKey := "context:" + context
	if k, ok := o.keyrings[cacheKey]; ok {
		return k, nil
	}
	kube := o.kube // a copy: another context is another client
	kube.client = nil
	if context != "" {
		kube.useContext(context)
	}
	k, err := kube.fetchForSealing(o.ErrOut)
	if err != nil {
		return loadedKeyring{}, err
	}
	o.keyrings[cacheKey] = k
	return k, nil
}
