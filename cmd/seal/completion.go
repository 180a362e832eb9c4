package main

import "github.com/spf13/cobra"

func newCompletionCmd(s Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print a shell completion script",
		Long: `completion prints the completion script for a shell. To load it:

  bash:  source <(seal completion bash)
  zsh:   seal completion zsh > "${fpath[1]}/_seal"
  fish:  seal completion fish > ~/.config/fish/completions/seal.fish`,
		ValidArgs: []string{"bash", "zsh", "fish"},
		Args:      exactArgs(1, "one argument: bash, zsh or fish"),
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			var err error
			switch args[0] {
			case "bash":
				err = root.GenBashCompletionV2(s.Out, true)
			case "zsh":
				err = root.GenZshCompletion(s.Out)
			case "fish":
				err = root.GenFishCompletion(s.Out, true)
			default:
				return usageErrorf("unknown shell %q: want bash, zsh or fish", args[0])
			}
			return runtimeError(err)
		},
	}
}
