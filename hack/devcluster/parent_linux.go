package main

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// dieWithParent asks the kernel for SIGTERM when the parent exits, so that a
// wrapper killed outright (`go run` or make getting SIGTERM does not forward it)
// still leads to a clean stop instead of an orphaned API server.
func dieWithParent() {
	_ = unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0, 0, 0)
}
