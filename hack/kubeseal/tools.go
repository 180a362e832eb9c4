//go:build tools

// Package kubeseal pins Bitnami Sealed Secrets' kubeseal and controller,
// built by hack/build-kubeseal.sh so that migration tests run against the
// real tool's output.
package kubeseal

import (
	_ "github.com/bitnami-labs/sealed-secrets/cmd/controller"
	_ "github.com/bitnami-labs/sealed-secrets/cmd/kubeseal"
)
