// Package faults breaks things on purpose and counts what was lost: the
// real control plane (etcd, kube-apiserver) and the real seal-controller
// binary run as separate processes, and each scenario restarts, kills,
// partitions, throttles or overloads one of them while the controller
// works, then ends with the same audit (see [world.audit]): every
// SealedSecret's Secret holds exactly the plaintext the test sealed, no
// bystander Secret changed, exactly one active key is published, every
// SealedSecret is Ready for its generation, and no sealed value appears in
// any log, event or status.
//
// `make test` runs the scenarios at CI sizes (a few hundred objects);
// `make faults` runs them at full size (-faults.full) and writes the
// results table; `make soak` runs the load scenario (-faults.soak).
package faults

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/sealkit/sealkit/internal/testenv"
)

var (
	full    = flag.Bool("faults.full", false, "run the scenarios at full size (make faults)")
	soak    = flag.Duration("faults.soak", 0, "run the load scenario with this much churn (make soak: 30m)")
	results = flag.String("faults.results", "", "append the results table to this file")
)

// size is the scale of a scenario: CI or full.
type size struct {
	backlog int // SealedSecrets unsealed while the fault happens
	settled int // SealedSecrets unsealed before, bystanders afterwards
	// qps throttles the controller so the backlog lasts long enough for a
	// fault to land in its middle (at CI size, with few objects).
	qps string
}

func sizes() size {
	if *full {
		return size{backlog: 2000, settled: 50, qps: "200"}
	}
	return size{backlog: 300, settled: 10, qps: "40"}
}

func TestMain(m *testing.M) {
	// The test's informers log through controller-runtime's logger, which
	// prints a warning if none was set.
	log.SetLogger(logr.Discard())
	// A kube-apiserver with open watches takes its whole shutdown timeout
	// (60 s) to stop on SIGTERM; after 10 s envtest kills it (SIGKILL),
	// which makes the restart scenarios an ungraceful stop, and shorter.
	if os.Getenv("KUBEBUILDER_CONTROLPLANE_STOP_TIMEOUT") == "" {
		_ = os.Setenv("KUBEBUILDER_CONTROLPLANE_STOP_TIMEOUT", "10s")
	}
	testenv.Main(m, testenv.Options{})
}

// row is one line of the results table (docs/reliability.md).
type row struct {
	scenario, injected                     string
	objects, lost, wrong, bystandersChange int
	recover                                time.Duration
	note                                   string
}

// record logs a scenario's result and adds it to the table written with
// -faults.results.
func record(t *testing.T, r row) {
	t.Helper()
	t.Logf("RESULT | %s | %s | %d | %d | %d | %d | %s | %s", r.scenario, r.injected, r.objects, r.lost, r.wrong,
		r.bystandersChange, r.recover.Round(100*time.Millisecond), r.note)
	if *results == "" {
		return
	}
	note := strings.ReplaceAll(r.note, "|", "/")
	appendResults(t, fmt.Sprintf("| %s | %s | %d | %d | %d | %d | %s | %s |\n", r.scenario, r.injected, r.objects, r.lost, r.wrong,
		r.bystandersChange, r.recover.Round(100*time.Millisecond), note))
}

// appendResults appends s to the -faults.results file.
func appendResults(t *testing.T, s string) {
	t.Helper()
	f, err := os.OpenFile(*results, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Error(err)
		return
	}
	defer func() { _ = f.Close() }()
	if _, err := f.WriteString(s); err != nil {
		t.Error(err)
	}
}

// finish audits w and records the scenario's row.
func finish(w *world, scenario, injected string, recovered time.Duration, note string) {
	w.t.Helper()
	a := w.audit()
	record(w.t, row{scenario: scenario, injected: injected, objects: a.objects, lost: a.lost, wrong: a.wrong,
		bystandersChange: a.bystandersChanged, recover: recovered, note: note})
}
