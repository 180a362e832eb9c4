package migrate

import (
	"fmt"

	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
	"github.com/sealkit/sealkit/pkg/sopsfile"
)

// FromSOPS decrypts data, a SOPS-encrypted manifest of Secrets named source
// in errors, in memory, and seals each Secret as seal would. The plaintext
// is cleared before FromSOPS returns; it is never written.
func FromSOPS(data []byte, source string, keys sopsfile.Options, opts sealed.SealOptions) ([]*v1alpha1.SealedSecret, error) {
	secrets, err := sopsfile.DecryptSecrets(data, source, keys)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, s := range secrets {
			clearSecret(s)
		}
	}()
	out := make([]*v1alpha1.SealedSecret, 0, len(secrets))
	for i, s := range secrets {
		ss, err := sealed.Seal(s, opts)
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", source, i+1, err)
		}
		out = append(out, ss)
	}
	return out, nil
}
