// Package scheme holds the one runtime scheme sealkit's clients use: the
// Kubernetes built-in types and SealedSecret.
package scheme

import (
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// New returns a scheme with the Kubernetes built-in types and sealkit's
// v1alpha1 types.
func New() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}
