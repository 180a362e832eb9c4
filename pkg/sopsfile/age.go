package sopsfile

import (
	"context"
	"errors"

	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/keyservice"
	"google.golang.org/grpc"

	"github.com/sealkit/sealkit/pkg/crypto"
)

// ageIdentities is a SOPS key service that opens age-encrypted data keys
// with identities held in memory. SOPS's own local service reads age
// identities from files and the environment only.
type ageIdentities []*crypto.Identity

var errNotAge = errors.New("not an age key")

func (ids ageIdentities) Decrypt(_ context.Context, req *keyservice.DecryptRequest, _ ...grpc.CallOption) (*keyservice.DecryptResponse, error) {
	k, ok := req.GetKey().GetKeyType().(*keyservice.Key_AgeKey)
	if !ok {
		return nil, errNotAge
	}
	if len(ids) == 0 {
		return nil, errors.New("no age identity given")
	}
	var parsed sopsage.ParsedIdentities
	for _, id := range ids {
		if err := parsed.Import(id.String()); err != nil {
			// The identity came from crypto.ParseIdentity: it parses.
			// Its text is never quoted.
			return nil, errors.New("an age identity SOPS cannot use")
		}
	}
	mk := &sopsage.MasterKey{Recipient: k.AgeKey.GetRecipient(), EncryptedKey: string(req.GetCiphertext())}
	parsed.ApplyToMasterKey(mk)
	key, err := mk.Decrypt()
	if err != nil {
		return nil, errors.New("none of the given age identities opens it")
	}
	return &keyservice.DecryptResponse{Plaintext: key}, nil
}

func (ageIdentities) Encrypt(context.Context, *keyservice.EncryptRequest, ...grpc.CallOption) (*keyservice.EncryptResponse, error) {
	return nil, errors.New("sealkit never encrypts with SOPS")
}
