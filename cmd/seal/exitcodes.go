package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Exit codes of seal. docs/cli.md documents them; scripts depend on them.
const (
	// ExitOK: the command did what was asked.
	ExitOK = 0
	// ExitError: a runtime error (unreadable or invalid input, a value that
	// does not open, a file that cannot be written) or, for checking
	// commands, findings.
	ExitError = 1
	// ExitUsage: the command line is wrong: an unknown command or flag, a
	// flag value that does not parse, missing or conflicting flags. lint
	// also uses it for an unreadable .sealkit.yaml or keyring, so CI can
	// tell findings (1) from a check that did not run (2).
	ExitUsage = 2
)

// cliError carries an exit code and an optional hint with an error.
type cliError struct {
	code int
	err  error
	hint string
}

func (e *cliError) Error() string { return e.err.Error() }
func (e *cliError) Unwrap() error { return e.err }

// usageErrorf is a usage error: exit code [ExitUsage].
func usageErrorf(format string, args ...any) error {
	return &cliError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// withHint attaches a hint to err, keeping its exit code.
func withHint(err error, hint string) error {
	var ce *cliError
	if errors.As(err, &ce) {
		// Keep err whole: context wrapped around the inner error is part
		// of the message.
		return &cliError{code: ce.code, err: err, hint: hint}
	}
	return &cliError{code: ExitError, err: err, hint: hint}
}

// exitCode is the exit code for an error returned by a command. Errors that
// are not a [cliError] come from cobra's own argument and flag checks, so
// they are usage errors; every RunE marks its own errors.
func exitCode(err error) int {
	var ce *cliError
	if errors.As(err, &ce) {
		return ce.code
	}
	return ExitUsage
}

// runtimeError marks an error returned by a command's Run as exit code
// [ExitError] unless it already carries a code.
func runtimeError(err error) error {
	var ce *cliError
	if err == nil || errors.As(err, &ce) {
		return err
	}
	return &cliError{code: ExitError, err: err}
}

// report writes err as "seal: error: …" and its hint as "seal: hint: …",
// each on exactly one line.
func report(w io.Writer, err error, usageHint string) {
	_, _ = fmt.Fprintf(w, "seal: error: %s\n", oneLine(err.Error()))
	hint := ""
	var ce *cliError
	if errors.As(err, &ce) {
		hint = ce.hint
	}
	if hint == "" && exitCode(err) == ExitUsage {
		hint = usageHint
	}
	if hint != "" {
		_, _ = fmt.Fprintf(w, "seal: hint: %s\n", oneLine(hint))
	}
}

func oneLine(s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ")
}
