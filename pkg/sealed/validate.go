package sealed

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// What the API server and etcd refuse, checked before a SealedSecret is
// written: one that passes is accepted by the CRD and becomes a Secret the
// API server accepts too.
const (
	// MaxDataKeys is the most values a SealedSecret holds: the CRD's
	// maxProperties on spec.encryptedData.
	MaxDataKeys = 1024
	// MaxStoredObject is etcd's default request limit (--max-request-bytes,
	// 1.5 MiB): no object stored in the cluster can be larger.
	MaxStoredObject = 1536 << 10
	// serverOverhead is what the API server adds to a stored object besides
	// managed fields: uid, timestamps, resourceVersion, generation.
	serverOverhead = 4 << 10
	// LastAppliedLimit is the most a client-side `kubectl apply` can store:
	// it copies the object into an annotation, and all annotations of an
	// object together are limited to 256 KiB.
	LastAppliedLimit = apivalidation.TotalAnnotationSizeLimitB
)

// requiredKeys are the data keys the API server requires of a Secret of a
// built-in type (any one of them for basic-auth).
var requiredKeys = map[corev1.SecretType][]string{
	corev1.SecretTypeTLS:              {corev1.TLSCertKey, corev1.TLSPrivateKeyKey},
	corev1.SecretTypeDockercfg:        {corev1.DockerConfigKey},
	corev1.SecretTypeDockerConfigJson: {corev1.DockerConfigJsonKey},
	corev1.SecretTypeSSHAuth:          {corev1.SSHAuthPrivateKey},
}

// checkMeta checks a name and namespace as the API server does: a name is a
// DNS subdomain (as a Secret's must be), a namespace a DNS label.
func checkMeta(obj, name, namespace string) error {
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return fmt.Errorf("%s: name %q is not valid: %s", obj, bounded(name), errs[0])
	}
	if namespace == "" {
		return nil
	}
	if errs := validation.IsDNS1123Label(namespace); len(errs) > 0 {
		return fmt.Errorf("%s: namespace %q is not valid: %s", obj, bounded(namespace), errs[0])
	}
	return nil
}

// checkKeys checks the data keys: a Secret's key rules, which the CRD
// enforces too, and their number.
func checkKeys(obj string, keys []string) error {
	if len(keys) > MaxDataKeys {
		return fmt.Errorf("%s has %d data keys: a SealedSecret holds at most %d", obj, len(keys), MaxDataKeys)
	}
	for _, key := range keys {
		if errs := validation.IsConfigMapKey(key); len(errs) > 0 {
			return fmt.Errorf("%s: key %q is not a valid data key: %s", obj, bounded(key), errs[0])
		}
	}
	return nil
}

// checkTemplate checks what the Secret will carry besides its data: its
// labels and annotations, and the data keys its type requires.
func checkTemplate(obj string, t v1alpha1.SecretTemplate, keys []string) error {
	path := field.NewPath("template", "metadata")
	errs := metavalidation.ValidateLabels(t.Metadata.Labels, path.Child("labels"))
	errs = append(errs, apivalidation.ValidateAnnotations(t.Metadata.Annotations, path.Child("annotations"))...)
	if len(errs) > 0 {
		return fmt.Errorf("%s: %s", obj, errs[0].Error())
	}
	switch t.Type {
	case corev1.SecretTypeBasicAuth:
		if !slices.Contains(keys, corev1.BasicAuthUsernameKey) && !slices.Contains(keys, corev1.BasicAuthPasswordKey) {
			return fmt.Errorf("%s: a Secret of type %s needs key %q or %q", obj, t.Type, corev1.BasicAuthUsernameKey, corev1.BasicAuthPasswordKey)
		}
	case corev1.SecretTypeServiceAccountToken:
		if t.Metadata.Annotations[corev1.ServiceAccountNameKey] == "" {
			return fmt.Errorf("%s: a Secret of type %s needs the annotation %s", obj, t.Type, corev1.ServiceAccountNameKey)
		}
	}
	for _, k := range requiredKeys[t.Type] {
		if !slices.Contains(keys, k) {
			return fmt.Errorf("%s: a Secret of type %s needs key %q", obj, t.Type, k)
		}
	}
	return nil
}

// checkData checks values the API server parses: the docker configuration
// keys must hold JSON. The message never quotes the value.
func checkData(obj string, t corev1.SecretType, data map[string][]byte) error {
	for _, k := range []string{corev1.DockerConfigKey, corev1.DockerConfigJsonKey} {
		if v, ok := data[k]; ok && (t == corev1.SecretTypeDockercfg || t == corev1.SecretTypeDockerConfigJson) && !json.Valid(v) {
			return fmt.Errorf("%s: key %q of a Secret of type %s must be JSON, and is not", obj, k, t)
		}
	}
	return nil
}

// Check reports what the API server would refuse in ss: an invalid name or
// namespace, no values or more than [MaxDataKeys], invalid data keys,
// template labels or annotations, missing keys its type requires, or an
// object larger than etcd stores. Errors name the object, never a value.
func Check(ss *v1alpha1.SealedSecret) error {
	obj := "sealedsecret " + objectName(ss.Namespace, ss.Name)
	if err := checkMeta(obj, ss.Name, ss.Namespace); err != nil {
		return err
	}
	keys := slices.Sorted(maps.Keys(ss.Spec.EncryptedData))
	if len(keys) == 0 {
		return fmt.Errorf("%s has no values: a SealedSecret needs at least one", obj)
	}
	if err := checkKeys(obj, keys); err != nil {
		return err
	}
	if err := checkTemplate(obj, ss.Spec.Template, keys); err != nil {
		return err
	}
	if n := StoredSize(ss); n > MaxStoredObject {
		return fmt.Errorf("%s would be %d KiB in the cluster, over the %d KiB etcd stores: split it into several Secrets, or seal to fewer keys",
			obj, n>>10, MaxStoredObject>>10)
	}
	return nil
}

// StoredSize estimates the bytes ss takes in etcd: its JSON, what the API
// server adds, and its managed fields, which name every data key, label
// and annotation once more.
func StoredSize(ss *v1alpha1.SealedSecret) int {
	// Values of the sealed form are JSON as they are (see Verbatim): their
	// lengths are added rather than marshalled, which was most of the cost.
	cp, n := *ss, 0
	cp.Spec.EncryptedData = make(map[string]string, len(ss.Spec.EncryptedData))
	for k, v := range ss.Spec.EncryptedData {
		if Verbatim(v) {
			cp.Spec.EncryptedData[k], n = "", n+len(v)
			continue
		}
		cp.Spec.EncryptedData[k] = v
	}
	j, err := json.Marshal(&cp)
	if err != nil {
		return 0
	}
	n += len(j) + serverOverhead
	for _, m := range []map[string]string{ss.Spec.EncryptedData, ss.Spec.Template.Metadata.Labels, ss.Spec.Template.Metadata.Annotations} {
		for k := range m {
			n += len(k) + len(`"f:":{},`)
		}
	}
	return n
}

// bounded keeps a name in a message short: it may come from anywhere.
func bounded(s string) string {
	if len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "") + "…"
	}
	return s
}
