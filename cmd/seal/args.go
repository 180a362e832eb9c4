package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// fileArg accepts at most one positional argument, the input FILE. An
// argument that is no file and looks like a command gets "unknown command"
// with suggestions, as cobra gives for commands without arguments.
func fileArg(cmd *cobra.Command, args []string) error {
	switch {
	case len(args) == 0:
		return nil
	case len(args) > 1:
		return withHint(usageErrorf("%s takes at most one FILE, got %d arguments", cmd.CommandPath(), len(args)),
			"seal one file at a time, or concatenate them: cat a.yaml b.yaml | seal ...")
	}
	arg := args[0]
	if _, err := os.Stat(arg); err == nil || arg == "-" || strings.ContainsAny(arg, "./\\") {
		return nil // a file: reading it says what is wrong with it
	}
	return unknownCommand(cmd, arg)
}

// unknownCommand is the error for a mistyped command, with cobra's
// suggestions.
func unknownCommand(cmd *cobra.Command, arg string) error {
	err := usageErrorf("unknown command %q for %q", arg, cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's default
	}
	if s := cmd.SuggestionsFor(arg); len(s) > 0 {
		return withHint(err, "did you mean "+strings.Join(s, " or ")+"?")
	}
	if cmd.Flags().Lookup("filename") != nil {
		return withHint(err, fmt.Sprintf("to read a file, give its path (./%s); run '%s --help' for the commands", arg, cmd.CommandPath()))
	}
	return err
}

// flagError is the usage error for a flag cobra could not parse; an
// unknown flag gets the closest known ones as a hint.
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	name, ok := strings.CutPrefix(msg, "unknown flag: --")
	if !ok {
		return &cliError{code: ExitUsage, err: err}
	}
	var near []string
	maxDistance := max(1, len(name)/4)
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden && (editDistance(name, f.Name) <= maxDistance || len(name) > 2 && strings.HasPrefix(f.Name, name)) {
			near = append(near, "--"+f.Name)
		}
	})
	if len(near) == 0 {
		return &cliError{code: ExitUsage, err: err}
	}
	slices.Sort(near)
	return &cliError{code: ExitUsage, err: err, hint: "did you mean " + strings.Join(near, " or ") + "?"}
}

// editDistance is the number of edits that turn a into b: a character
// inserted, deleted or replaced, or two adjacent ones swapped (the typo
// "--kyes" is one edit from "--keys").
func editDistance(a, b string) int {
	var prev2 []int
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev = prev, cur
	}
	return prev[len(b)]
}

// joinSome lists up to n items, and how many more there are.
func joinSome(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}
