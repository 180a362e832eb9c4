package main

import (
	"context"
	"slices"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/lint"
)

func newCompletionCmd(s Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `completion prints the completion script for a shell. Commands, flags and
flag values complete: --scope, -o, --format, --type, --context, --cluster,
--user and -n (namespaces from the cluster, else from the kubeconfig).
To load it:

  bash:        source <(seal completion bash)
  zsh:         seal completion zsh > "${fpath[1]}/_seal"
  fish:        seal completion fish > ~/.config/fish/completions/seal.fish
  powershell:  seal completion powershell | Out-String | Invoke-Expression`,
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args:      exactArgs(1, "one argument: bash, zsh, fish or powershell"),
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
			case "powershell":
				err = root.GenPowerShellCompletionWithDesc(s.Out)
			default:
				return usageErrorf("unknown shell %q: want bash, zsh, fish or powershell", args[0])
			}
			return runtimeError(err)
		},
	}
}

// secretTypes are the Secret types Kubernetes knows, for --type.
var secretTypes = []string{
	string(corev1.SecretTypeOpaque), string(corev1.SecretTypeTLS), string(corev1.SecretTypeDockerConfigJson),
	string(corev1.SecretTypeDockercfg), string(corev1.SecretTypeBasicAuth), string(corev1.SecretTypeSSHAuth),
	string(corev1.SecretTypeBootstrapToken), string(corev1.SecretTypeServiceAccountToken),
}

// registerCompletions gives every command's flags their value
// completions, by flag name, so that each command need not repeat them.
func registerCompletions(cmd *cobra.Command) {
	fixed := map[string][]string{
		"scope":  {string(crypto.ScopeStrict), string(crypto.ScopeNamespace), string(crypto.ScopeCluster)},
		"type":   secretTypes,
		"format": lint.Formats,
		"output": outputFormats(cmd),
	}
	dynamic := map[string]func(*cobra.Command) []string{
		"context":              kubeconfigNames(func(c *clientcmdConfig) []string { return sortedKeys(c.Contexts) }),
		"cluster":              kubeconfigNames(func(c *clientcmdConfig) []string { return sortedKeys(c.Clusters) }),
		"user":                 kubeconfigNames(func(c *clientcmdConfig) []string { return sortedKeys(c.AuthInfos) }),
		"namespace":            completeNamespaces,
		"controller-namespace": completeNamespaces,
	}
	for name, values := range fixed {
		if cmd.Flags().Lookup(name) != nil && values != nil {
			_ = cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
		}
	}
	for name, fn := range dynamic {
		if cmd.Flags().Lookup(name) != nil {
			_ = cmd.RegisterFlagCompletionFunc(name, func(c *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
				return fn(c), cobra.ShellCompDirectiveNoFileComp
			})
		}
	}
	for _, sub := range cmd.Commands() {
		registerCompletions(sub)
	}
}

// outputFormats are the values of a command's -o, or nil where -o names a
// file.
func outputFormats(cmd *cobra.Command) []string {
	switch cmd.CommandPath() {
	case "seal keys list", "kubectl seal keys list":
		return []string{"text", "json"}
	case "seal keys public", "kubectl seal keys public":
		return []string{"text", "recipient"}
	case "seal keys generate", "kubectl seal keys generate":
		return nil
	}
	return []string{"yaml", "json"}
}

type clientcmdConfig = clientcmdapi.Config

// kubeconfigNames completes names read from the kubeconfig --kubeconfig
// (or $KUBECONFIG, ~/.kube/config) names.
func kubeconfigNames(names func(*clientcmdConfig) []string) func(*cobra.Command) []string {
	return func(cmd *cobra.Command) []string {
		cfg, err := completionLoader(cmd).RawConfig()
		if err != nil {
			return nil
		}
		return names(&cfg)
	}
}

// completeNamespaces lists the cluster's namespaces, as kubectl does, and
// falls back to the namespaces the kubeconfig's contexts name when the
// cluster does not answer within a few seconds.
func completeNamespaces(cmd *cobra.Command) []string {
	loader := completionLoader(cmd)
	if cfg, err := loader.ClientConfig(); err == nil {
		cfg.Timeout = 3 * time.Second
		if c, err := client.New(cfg, client.Options{}); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			var list corev1.NamespaceList
			if err := c.List(ctx, &list); err == nil {
				out := make([]string, len(list.Items))
				for i, ns := range list.Items {
					out[i] = ns.Name
				}
				return out
			}
		}
	}
	raw, err := loader.RawConfig()
	if err != nil {
		return nil
	}
	var out []string
	for _, c := range raw.Contexts {
		if c.Namespace != "" && !slices.Contains(out, c.Namespace) {
			out = append(out, c.Namespace)
		}
	}
	slices.Sort(out)
	return out
}

// completionLoader is the kubeconfig the command line being completed
// points at.
func completionLoader(cmd *cobra.Command) clientcmd.ClientConfig {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if f := cmd.Flags().Lookup("kubeconfig"); f != nil {
		rules.ExplicitPath = f.Value.String()
	}
	overrides := &clientcmd.ConfigOverrides{}
	if f := cmd.Flags().Lookup("context"); f != nil {
		overrides.CurrentContext = f.Value.String()
	}
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
