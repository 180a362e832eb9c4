package main

import "github.com/spf13/cobra"

// newKeysCmd groups the key commands. Only generate exists offline; fetch,
// list, rotate, retire, backup and restore talk to a cluster and come later.
func newKeysCmd(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage sealing keys",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(newKeysGenerateCmd(s))
	return cmd
}
