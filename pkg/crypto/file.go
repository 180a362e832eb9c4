package crypto

import (
	"bufio"
	"bytes"
	"errors"
	"io"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// DecryptFile decrypts a whole age file, ASCII-armored or binary, with any
// of ids: a key backup, which the plain age command can open as well.
// Values of SealedSecrets are opened with [Open] instead.
func DecryptFile(data []byte, ids []*Identity) (io.Reader, error) {
	var r io.Reader = bytes.NewReader(data)
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte(armor.Header)) {
		r = armor.NewReader(bufio.NewReader(r))
	}
	ais := make([]age.Identity, len(ids))
	for i, id := range ids {
		ais[i] = id.id
	}
	return age.Decrypt(r, ais...)
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
