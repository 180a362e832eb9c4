package main

import "github.com/spf13/cobra"

// newKeysCmd groups the key commands. generate, public and keyring work
// offline; fetch, list, rotate, retire, backup and restore talk to a
// cluster.
func newKeysCmd(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage sealing keys",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0])
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(
		newKeysGenerateCmd(s),
		newKeysPublicCmd(s),
		newKeysKeyringCmd(s),
		newKeysFetchCmd(s),
		newKeysListCmd(s),
		newKeysRotateCmd(s),
		newKeysRetireCmd(s),
		newKeysBackupCmd(s),
		newKeysRestoreCmd(s),
	)
	return cmd
}
