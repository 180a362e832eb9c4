package main

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// kubeFlagAnnotation marks the flags that only say how to reach a cluster
// (--kubeconfig, --context, --as, …): help lists them apart, as kubectl
// does, so that a command's own flags are not lost among them.
const kubeFlagAnnotation = "sealkit.dev/kube-flag"

func markKubeFlag(f *pflag.Flag) {
	if f.Annotations == nil {
		f.Annotations = map[string][]string{}
	}
	f.Annotations[kubeFlagAnnotation] = []string{"true"}
}

// flagsWhere returns the flags of fs for which keep is true, as a set.
func flagsWhere(fs *pflag.FlagSet, keep func(*pflag.Flag) bool) *pflag.FlagSet {
	out := pflag.NewFlagSet("", pflag.ContinueOnError)
	fs.VisitAll(func(f *pflag.Flag) {
		if keep(f) {
			out.AddFlag(f)
		}
	})
	return out
}

func isKubeFlag(f *pflag.Flag) bool { return f.Annotations[kubeFlagAnnotation] != nil }

func init() {
	cobra.AddTemplateFunc("ownFlags", func(fs *pflag.FlagSet) *pflag.FlagSet {
		return flagsWhere(fs, func(f *pflag.Flag) bool { return !isKubeFlag(f) })
	})
	cobra.AddTemplateFunc("kubeFlags", func(fs *pflag.FlagSet) *pflag.FlagSet {
		return flagsWhere(fs, isKubeFlag)
	})
}

// usageTemplate is cobra's, with the cluster connection flags in a
// section of their own.
const usageTemplate = `Usage:{{if .Runnable}}
  {{.UseLine}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} [command]{{end}}{{if gt (len .Aliases) 0}}

Aliases:
  {{.NameAndAliases}}{{end}}{{if .HasExample}}

Examples:
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}

Available Commands:{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}{{with ownFlags .LocalFlags}}{{if .HasAvailableFlags}}

Flags:
{{.FlagUsages | trimTrailingWhitespaces}}{{end}}{{end}}{{with kubeFlags .LocalFlags}}{{if .HasAvailableFlags}}

Cluster connection flags:
{{.FlagUsages | trimTrailingWhitespaces}}{{end}}{{end}}{{end}}{{if .HasAvailableInheritedFlags}}

Global Flags:
{{.InheritedFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasHelpSubCommands}}

Additional help topics:{{range .Commands}}{{if .IsAdditionalHelpTopicCommand}}
  {{rpad .CommandPath .CommandPathPadding}} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableSubCommands}}

Use "{{.CommandPath}} [command] --help" for more information about a command.{{end}}
`
