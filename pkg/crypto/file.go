package crypto

import (
	"bufio"
	"bytes"
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
