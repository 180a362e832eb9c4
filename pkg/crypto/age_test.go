package crypto

import (
	"bytes"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"io"
	"strings"
	"testing"

	"filippo.io/age"
	"golang.org/x/crypto/chacha20poly1305"
)

// TestPlainAgeRecoversFrame is the promise of docs/format.md: with nothing
// but age, strip up to the last colon, base64-decode, decrypt.
func TestPlainAgeRecoversFrame(t *testing.T) {
	k := testKeys()
	for _, id := range []*Identity{k.pq, k.classic} {
		enc := mustSeal(t, strictFrame, "s3cret", id)
		file, err := base64.StdEncoding.DecodeString(enc[strings.LastIndexByte(enc, ':')+1:])
		if err != nil {
			t.Fatal(err)
		}
		r, err := age.Decrypt(bytes.NewReader(file), id.id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		want := "sealkit-frame/v1\nscope: strict\nnamespace: shop\nname: db\nkey: password\n\ns3cret"
		if string(got) != want {
			t.Errorf("age.Decrypt = %q, want %q", got, want)
		}
	}
}

// payloadCase builds an age file whose payload is exactly chunks, each
// sealed with the given last-chunk flag, so that decryptPayload can be
// compared with age.Decrypt on files age's own writer never produces.
func payloadCase(t testing.TB, id *Identity, chunks [][]byte, last []bool) (file, fileKey []byte, headerLen int) {
	t.Helper()
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, id.Recipient().r)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	headerLen, _ = splitHeader(buf.Bytes())
	fileKey, err = age.DecryptHeader(buf.Bytes()[:headerLen], id.id)
	if err != nil {
		t.Fatal(err)
	}
	file = append([]byte{}, buf.Bytes()[:headerLen]...)
	nonce := make([]byte, payloadNonceSize)
	rand.Read(nonce)
	file = append(file, nonce...)
	key, _ := hkdf.Key(sha256.New, fileKey, nonce, "payload", chacha20poly1305.KeySize)
	aead, _ := chacha20poly1305.New(key)
	for i, c := range chunks {
		var n [chacha20poly1305.NonceSize]byte
		binary.BigEndian.PutUint64(n[3:11], uint64(i))
		if last[i] {
			n[11] = 1
		}
		file = aead.Seal(file, n[:], c, nil)
	}
	return file, fileKey, headerLen
}

// TestPayloadAgainstAge runs our payload decryption and age's on the same
// files, valid and invalid, and requires the same verdict and plaintext.
func TestPayloadAgainstAge(t *testing.T) {
	id := testKeys().pq
	full, part := bytes.Repeat([]byte{'a'}, chunkSize), []byte("tail")
	for _, tc := range []struct {
		name   string
		chunks [][]byte
		last   []bool
		edit   func([]byte) []byte
	}{
		{"empty plaintext", [][]byte{{}}, []bool{true}, nil},
		{"short", [][]byte{part}, []bool{true}, nil},
		{"one full chunk", [][]byte{full}, []bool{true}, nil},
		{"full then short", [][]byte{full, part}, []bool{false, true}, nil},
		{"two full chunks", [][]byte{full, full}, []bool{false, true}, nil},
		{"many chunks", [][]byte{full, full, full, full, full, full, full, full, full, full, full, full, full, full, full, full, part}, append(make([]bool, 16), true), nil},
		{"no chunk", nil, nil, nil},
		{"no last flag", [][]byte{part}, []bool{false}, nil},
		{"full chunk, no last flag", [][]byte{full}, []bool{false}, nil},
		{"last flag too early", [][]byte{full, part}, []bool{true, true}, nil},
		{"empty last chunk", [][]byte{full, {}}, []bool{false, true}, nil},
		{"chunk after last", [][]byte{part, part}, []bool{true, true}, nil},
		{"trailing byte", [][]byte{part}, []bool{true}, func(b []byte) []byte { return append(b, 0) }},
		{"tag cut", [][]byte{part}, []bool{true}, func(b []byte) []byte { return b[:len(b)-1] }},
		{"nonce cut", nil, nil, func(b []byte) []byte { return b[:len(b)-1] }},
		{"cut at chunk boundary", [][]byte{full, part}, []bool{false, true}, func(b []byte) []byte { return b[:len(b)-len(part)-16] }},
		{"tag only, partial", [][]byte{full, part}, []bool{false, true}, func(b []byte) []byte { return b[:len(b)-len(part)-1] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file, fileKey, n := payloadCase(t, id, tc.chunks, tc.last)
			if tc.edit != nil {
				file = tc.edit(file)
			}
			var want []byte
			r, err := age.Decrypt(bytes.NewReader(file), id.id)
			if err == nil {
				want, err = io.ReadAll(r)
			}
			ageOK := err == nil
			if !ageOK {
				want = nil // age may have returned the chunks before the bad one
			}
			got, err := decryptPayload(fileKey, bytes.Clone(file[n:]))
			if ageOK != (err == nil) || !bytes.Equal(got, want) {
				t.Fatalf("age: ok=%v %d bytes; ours: %v %d bytes", ageOK, len(want), err, len(got))
			}
		})
	}
}

// TestPayloadSealedByAge checks every length around the chunk boundaries,
// up to the largest frame a value can have, as age's writer produces them.
func TestPayloadSealedByAge(t *testing.T) {
	id := testKeys().pq
	sizes := []int{0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 2 * chunkSize, MaxValueSize, MaxValueSize + 200}
	for _, size := range sizes {
		plain := make([]byte, size)
		rand.Read(plain)
		var buf bytes.Buffer
		w, _ := age.Encrypt(&buf, id.Recipient().r)
		if _, err := w.Write(plain); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		n, ok := splitHeader(buf.Bytes())
		fileKey, err := age.DecryptHeader(buf.Bytes()[:n], id.id)
		if !ok || err != nil {
			t.Fatal(ok, err)
		}
		got, err := decryptPayload(fileKey, buf.Bytes()[n:])
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("size %d: %v", size, err)
		}
	}
}
