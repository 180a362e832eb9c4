package controller

import (
	"context"
	"sync"
	"testing"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
)

// newTestManager is NewManager for a test process that runs several
// managers: no metrics or probe servers, no controller name checks.
func newTestManager(t *testing.T, cfg *rest.Config, opts ManagerOptions) ctrl.Manager {
	t.Helper()
	opts.MetricsBindAddress, opts.HealthProbeBindAddress = "0", "0"
	opts.SkipNameValidation = true
	mgr, err := NewManager(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return mgr
}

// runManager starts mgr and returns stop, which cancels it, waits for Start
// to return and reports its error. stop may be called more than once, and is
// called when the test ends; a cleanup that must see the manager stopped
// (logs complete) calls it first.
func runManager(t *testing.T, mgr ctrl.Manager) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
	t.Cleanup(stop)
	return stop
}
