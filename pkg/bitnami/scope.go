package bitnami

import (
	"fmt"

	"github.com/sealkit/sealkit/pkg/crypto"
)

// Annotations that choose a Bitnami SealedSecret's scope. kubeseal copies
// them from the input Secret to the SealedSecret and its template.
const (
	AnnotationNamespaceWide = "sealedsecrets.bitnami.com/namespace-wide"
	AnnotationClusterWide   = "sealedsecrets.bitnami.com/cluster-wide"
)

// AnnotationPrefix starts every annotation and label Bitnami Sealed Secrets
// gives a meaning to.
const AnnotationPrefix = "sealedsecrets.bitnami.com/"

// Scope is how far a Bitnami value may move: it decides the OAEP label.
type Scope string

// Bitnami's scopes, named as kubeseal --scope names them.
const (
	// ScopeStrict binds a value to one namespace and name.
	ScopeStrict Scope = "strict"
	// ScopeNamespaceWide binds a value to one namespace.
	ScopeNamespaceWide Scope = "namespace-wide"
	// ScopeClusterWide binds a value to nothing.
	ScopeClusterWide Scope = "cluster-wide"
)

// ScopeOf reads the scope from a SealedSecret's annotations as Bitnami does:
// an annotation counts when its value is exactly "true", and cluster-wide
// wins over namespace-wide.
func ScopeOf(annotations map[string]string) Scope {
	switch {
	case annotations[AnnotationClusterWide] == "true":
		return ScopeClusterWide
	case annotations[AnnotationNamespaceWide] == "true":
		return ScopeNamespaceWide
	}
	return ScopeStrict
}

// Label is the OAEP label a value of this scope is bound to:
// "namespace/name", "namespace", or empty.
func (s Scope) Label(namespace, name string) []byte {
	switch s {
	case ScopeClusterWide:
		return nil
	case ScopeNamespaceWide:
		return []byte(namespace)
	}
	return []byte(namespace + "/" + name)
}

// Sealkit is the sealkit scope that grants the same freedom: strict stays
// strict, namespace-wide becomes namespace, cluster-wide becomes cluster.
func (s Scope) Sealkit() (crypto.Scope, error) {
	switch s {
	case ScopeStrict:
		return crypto.ScopeStrict, nil
	case ScopeNamespaceWide:
		return crypto.ScopeNamespace, nil
	case ScopeClusterWide:
		return crypto.ScopeCluster, nil
	}
	return "", fmt.Errorf("unknown bitnami scope %q", string(s))
}
