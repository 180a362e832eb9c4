package e2e

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/ctrlproc"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
)

// Sizes of TestMemoryBoundedByMaximalObjects: each SealedSecret holds one
// value of 900 KB, about 1.2 MB sealed (etcd takes objects up to 1.5 MiB),
// and there are enough of them that the controller holding a hundred at
// start, or one per worker, would exceed the Deployment's limit.
const (
	maximalObjects = 200
	maximalValue   = 900 << 10
	memoryLimit    = 256 << 20 // manifests/deployment.yaml
)

// TestMemoryBoundedByMaximalObjects: one tenant creates many maximal
// SealedSecrets; the controller (the real binary, in a memory cgroup
// limited as the Deployment limits its container, so the kernel enforces
// the limit and the controller sets its Go memory limit from it) starts on
// them, unseals every one and is never killed for memory.
func TestMemoryBoundedByMaximalObjects(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	ctx := context.Background()
	for _, ns := range []string{"sealkit-system", "tenant"} {
		if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	id := ctrlproc.CreateKey(t, env.Client, "sealkit-system")
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, maximalObjects)
	sem := make(chan struct{}, 8)
	for i := range maximalObjects {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			v := make([]byte, maximalValue)
			_, _ = rand.Read(v)
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant", Name: fmt.Sprintf("big-%03d", i)}, Data: map[string][]byte{"blob": v}}
			ss, err := sealed.Seal(s, sealed.SealOptions{Scope: crypto.ScopeStrict, Recipients: []*crypto.Recipient{id.Recipient()}})
			if err == nil {
				err = env.Client.Create(ctx, ss)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("created %d SealedSecrets of %d KB in %s", maximalObjects, maximalValue>>10, time.Since(start).Round(time.Second))

	p, cg := ctrlproc.StartLimited(t, env, "sealkit-system", memoryLimit)
	cs := kubernetes.NewForConfigOrDie(env.Config)
	start = time.Now()
	testenv.EventuallyWithin(t, 15*time.Minute, "every SealedSecret unsealed", func() bool {
		select {
		case <-p.Exited():
			t.Fatalf("seal-controller exited (killed for memory %d times)", cg.OOMKills(t))
		default:
		}
		// The API server may time out a list of these large objects while
		// the controller writes them: that is a poll to try again.
		n, err := ctrlproc.CountReady(context.Background(), cs.RESTClient(), "tenant")
		if err != nil {
			t.Logf("counting Ready SealedSecrets: %v", err)
		}
		return err == nil && n == maximalObjects
	})
	t.Logf("unsealed %d maximal SealedSecrets in %s; peak memory %d MiB of its cgroup's %d MiB (page cache included), peak RSS %d MiB",
		maximalObjects, time.Since(start).Round(time.Second), cg.PeakUsage(t)>>20, memoryLimit>>20, p.PeakRSS(t)>>20)
	if n := cg.OOMKills(t); n > 0 {
		t.Errorf("the kernel killed the controller %d times for exceeding %d MiB", n, memoryLimit>>20)
	}
	if !strings.Contains(p.Log(t), `"goMemLimitBytes":`) {
		t.Error("the controller did not set its Go memory limit from its cgroup")
	}
	var s corev1.Secret
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "tenant", Name: "big-042"}, &s); err != nil || len(s.Data["blob"]) != maximalValue {
		t.Errorf("Secret big-042: %d bytes, %v", len(s.Data["blob"]), err)
	}
}
