package migrate

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sealkit/sealkit/internal/kubeseal"
	"github.com/sealkit/sealkit/pkg/bitnami"
	"github.com/sealkit/sealkit/pkg/crypto"
)

// benchObjects is the size of the repository the issue asks about.
const benchObjects = 1000

// BenchmarkFromBitnami converts 1,000 Bitnami SealedSecrets of 5 values each,
// sealed by the real kubeseal to a 4096-bit key (Bitnami's size), to one
// post-quantum sealkit key, offline. One op is the whole repository; the
// objects/s metric is what a user waits for. Serially and with one worker
// per core.
func BenchmarkFromBitnami(b *testing.B) {
	f, err := os.Open("../bitnami/testdata/key-4096.pem") // generating one takes too long
	if err != nil {
		b.Fatal(err)
	}
	keys, err := bitnami.ParsePrivateKeys(f, "key-4096.pem")
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	pemKey, _ := os.ReadFile("../bitnami/testdata/key-4096.pem")
	cert := kubeseal.Cert(b, parseRSA(b, pemKey))
	var in strings.Builder
	for i := range benchObjects {
		fmt.Fprintf(&in, "---\napiVersion: v1\nkind: Secret\nmetadata: {name: app-%d, namespace: team-%d}\nstringData:\n", i, i%10)
		for k := range 5 {
			fmt.Fprintf(&in, "  key-%d: value-%d-%d-0123456789abcdef0123456789\n", k, i, k)
		}
	}
	var objs []*bitnami.SealedSecret
	for _, d := range readDocs(b, kubeseal.Seal(b, cert, []byte(in.String())), "repo.yaml") {
		ss, err := bitnami.Decode(d)
		if err != nil {
			b.Fatal(err)
		}
		objs = append(objs, ss)
	}
	_, recipients := identities(b, 1)
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpuTime(b)
			for b.Loop() {
				convertAll(b, objs, keys, recipients, workers)
			}
			b.ReportMetric(float64(benchObjects*b.N)/b.Elapsed().Seconds(), "objects/s")
			// CPU time tells the cost apart from a busy machine's queueing:
			// objects per CPU-second is what one idle core would do.
			b.ReportMetric(float64(benchObjects*b.N)/(cpuTime(b)-cpu).Seconds(), "objects/cpu-s")
		})
	}
}

func convertAll(b *testing.B, objs []*bitnami.SealedSecret, keys []*bitnami.PrivateKey, to []*crypto.Recipient, workers int) {
	var wg sync.WaitGroup
	next := make(chan *bitnami.SealedSecret)
	for range workers {
		wg.Go(func() {
			for ss := range next {
				if _, err := FromBitnami(ss, keys, to); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for _, ss := range objs {
		next <- ss
	}
	close(next)
	wg.Wait()
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
