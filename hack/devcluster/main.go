// Command devcluster runs a local Kubernetes control plane (etcd and
// kube-apiserver built by hack/build-assets.sh) with sealkit's CRDs installed,
// for the demo and for trying sealkit by hand. `make dev-cluster` runs it.
//
// It writes an admin kubeconfig (default .cache/dev-cluster/kubeconfig in the
// repository) and its pid next to it, prints the kubeconfig path, and runs until
// interrupted (Ctrl-C) or sent SIGTERM; it then stops kube-apiserver and etcd,
// deletes their data and removes both files. There is no persistent state: each
// run starts an empty cluster.
//
//	export KUBECONFIG=$(pwd)/.cache/dev-cluster/kubeconfig
//	kubectl get sealedsecrets -A
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/sealkit/sealkit/internal/testenv"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "devcluster: error: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	// A flag set of our own: controller-runtime, linked in through envtest,
	// registers its own -kubeconfig on flag.CommandLine.
	fs := flag.NewFlagSet("devcluster", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "where to write the admin kubeconfig (default <repo>/.cache/dev-cluster/kubeconfig)")
	port := fs.Int("port", 0, "API server port on 127.0.0.1 (default: a free one)")
	verbose := fs.Bool("v", false, "show etcd and kube-apiserver logs")
	_ = fs.Parse(os.Args[1:]) // ExitOnError: never returns an error

	// Signals first: one arriving during the few seconds of start-up must still
	// stop what has been started.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dieWithParent()
	// envtest logs through controller-runtime, which complains after 30 s if no
	// logger was ever set; it has nothing to say that -v does not show.
	log.SetLogger(logr.Discard())

	if *kubeconfig == "" {
		root, err := testenv.ModuleRoot()
		if err != nil {
			return err
		}
		*kubeconfig = filepath.Join(root, ".cache", "dev-cluster", "kubeconfig")
	}
	opts := testenv.Options{KubeconfigPath: *kubeconfig, Port: *port}
	if *verbose {
		opts.Output = os.Stderr
	}
	c, err := testenv.StartContext(ctx, opts)
	if err != nil {
		return err
	}
	pidFile := filepath.Join(filepath.Dir(*kubeconfig), "pid")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		_ = c.Stop()
		return err
	}
	defer os.Remove(pidFile)

	fmt.Fprintf(os.Stderr, "devcluster: API server %s up in %s; stop with Ctrl-C or kill %d\n",
		c.Config.Host, c.StartDuration.Round(10*time.Millisecond), os.Getpid())
	fmt.Println(c.Kubeconfig)

	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "devcluster: stopping")
	return c.Stop()
}
