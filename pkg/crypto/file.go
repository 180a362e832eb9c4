package crypto

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// DecryptFile decrypts a whole age file, ASCII-armored or binary, with any
// of ids: a key backup, which the plain age command can open as well.
// Values of SealedSecrets are opened with [Open] instead.
func DecryptFile(data []byte, ids []*Identity) (io.Reader, error) {
	ais := make([]age.Identity, len(ids))
	for i, id := range ids {
		ais[i] = id.id
	}
	return age.Decrypt(fileReader(data), ais...)
}

// fileReader reads an age file, ASCII-armored or binary.
func fileReader(data []byte) io.Reader {
	var r io.Reader = bytes.NewReader(data)
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte(armor.Header)) {
		r = armor.NewReader(bufio.NewReader(r))
	}
	return r
}

// IsFile reports whether data is an age file (binary or ASCII-armored)
// rather than, say, a file of identities.
func IsFile(data []byte) bool {
	t := bytes.TrimSpace(data)
	return bytes.HasPrefix(t, []byte("age-encryption.org/")) || bytes.HasPrefix(t, []byte(armor.Header))
}

// ErrWrongPassphrase is returned by [DecryptWithPassphrase] for a wrong
// passphrase, or a file not encrypted with one.
var ErrWrongPassphrase = errors.New("wrong passphrase, or not encrypted with a passphrase")

// DecryptWithPassphrase decrypts an age file encrypted with a passphrase
// (`age -p`: an identity file kept encrypted at rest), reading at most limit
// bytes of plaintext.
func DecryptWithPassphrase(data, passphrase []byte, limit int64) ([]byte, error) {
	id, err := age.NewScryptIdentity(string(passphrase))
	if err != nil {
		return nil, err
	}
	r, err := age.Decrypt(fileReader(data), id)
	var noMatch *age.NoIdentityMatchError
	switch {
	case errors.As(err, &noMatch):
		return nil, ErrWrongPassphrase
	case err != nil:
		return nil, ErrCorrupt
	}
	plain, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		clear(plain)
		return nil, ErrCorrupt
	}
	if int64(len(plain)) > limit {
		clear(plain)
		return nil, fmt.Errorf("decrypted file exceeds %d bytes", limit)
	}
	return plain, nil
}

// EncryptFile encrypts plain to recipients as one ASCII-armored age file,
// which the plain age command decrypts: a key backup. The recipients must
// be all post-quantum or all classic.
func EncryptFile(plain []byte, recipients []*Recipient) ([]byte, error) {
	if len(recipients) == 0 {
		return nil, errors.New("no recipients to encrypt to")
	}
	ars := make([]age.Recipient, len(recipients))
	for i, r := range recipients {
		if r.pq != recipients[0].pq {
			return nil, ErrMixedRecipients
		}
		ars[i] = r.r
	}
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, ars...)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if err := aw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
