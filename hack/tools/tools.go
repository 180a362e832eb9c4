//go:build tools

// Package tools pins the code generators sealkit runs (see hack/generate.sh).
package tools

import _ "sigs.k8s.io/controller-tools/cmd/controller-gen"
