package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/sealkit/sealkit/internal/version"
)

func newVersionCmd(s Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of seal",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(s.Out, versionLine())
			return runtimeError(err)
		},
	}
}

// versionLine is what `seal version` and `seal --version` print; the version
// is the one seal-controller --version prints for the same build.
func versionLine() string {
	return fmt.Sprintf("seal %s (%s, %s/%s)", version.String(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
