// Command pause is the Pod sandbox ("pause") container of the node tests'
// cluster: it holds the Pod's namespaces open and does nothing else. As the
// Pod's PID 1 (when its containers share a process namespace) it reaps orphaned
// children, and it exits at once on SIGINT or SIGTERM.
//
// It is built static (CGO_ENABLED=0) and packed into an image by the test
// harness, so the cluster needs no registry.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		reap()
	}
}

// reap collects every exited child without blocking.
func reap() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
