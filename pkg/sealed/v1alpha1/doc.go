// Package v1alpha1 is the sealkit.dev/v1alpha1 API: the SealedSecret
// resource, which carries a Secret's values sealed to a cluster's keys and
// is safe to commit to Git.
//
// The CRD and zz_generated.deepcopy.go are generated from these types by
// hack/generate.sh; edit the types and markers, never the generated files.
//
// +kubebuilder:object:generate=true
// +groupName=sealkit.dev
package v1alpha1
