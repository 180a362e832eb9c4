//go:build tools

// Package tools pins krew, which internal/release's test runs to install the
// seal plugin from a release's krew manifest and archive, as users do.
package tools

import _ "sigs.k8s.io/krew/cmd/krew"
