package main

import (
	"io"

	"github.com/spf13/cobra"
)

// Streams are the standard streams a command reads and writes. Commands
// never touch os.Stdin, os.Stdout or os.Stderr: tests run them in-process.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// Passphrase, when set, answers passphrase prompts instead of the
	// terminal.
	Passphrase func(prompt string) ([]byte, error)
}

// Main runs seal with args (without the program name) and returns its exit
// code; main and the tests both call it.
func Main(args []string, s Streams) int {
	root := newRootCmd(s)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return ExitOK
	}
	report(s.ErrOut, err, "run '"+cmd.CommandPath()+" --help' for usage")
	return exitCode(err)
}

// displayName is how usage lines name the program: "seal", or "kubectl
// seal" when run as a kubectl plugin.
var displayName = "seal"

// newRootCmd builds the command tree. The root command itself seals.
func newRootCmd(s Streams) *cobra.Command {
	root := newSealCmd(s)
	if displayName != "seal" {
		root.Annotations = map[string]string{cobra.CommandDisplayNameAnnotation: displayName}
	}
	root.SilenceErrors = true
	root.SilenceUsage = true
	root.CompletionOptions.DisableDefaultCmd = true
	root.Version = versionLine() // --version, as `seal version`
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.ErrOut)
	root.SetFlagErrorFunc(flagError)
	root.SetUsageTemplate(usageTemplate)
	root.AddCommand(
		newCreateCmd(s),
		newUnsealCmd(s),
		newKeysCmd(s),
		newLintCmd(s),
		newVerifyCmd(s),
		newResealCmd(s),
		newVersionCmd(s),
		newCompletionCmd(s),
	)
	registerCompletions(root)
	return root
}

// runE adapts a command's Complete/Validate/Run to cobra, marking the errors
// Run returns as runtime errors.
func runE(c interface {
	Complete(cmd *cobra.Command, args []string) error
	Validate() error
	Run() error
}) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := c.Complete(cmd, args); err != nil {
			return runtimeError(err)
		}
		if err := c.Validate(); err != nil {
			return runtimeError(err)
		}
		return runtimeError(c.Run())
	}
}

// exactArgs is cobra.ExactArgs with a message naming what is missing.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("%s takes %s, got %d arguments", cmd.CommandPath(), what, len(args))
		}
		return nil
	}
}
