package crypto

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"

	"filippo.io/age"
)

// fuzzVector returns the first fixed vector, so that fuzz corpora stay
// meaningful across runs: a fresh random key would make them useless.
func fuzzVector(f *testing.F) (v vector, id *Identity, file []byte) {
	data, err := os.ReadFile(vectorsFile)
	if err != nil {
		f.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(data, &vs); err != nil {
		f.Fatal(err)
	}
	v = vs[0]
	if id, err = ParseIdentity(v.Identities[0]); err != nil {
		f.Fatal(err)
	}
	if file, err = base64.StdEncoding.DecodeString(v.Encoded[strings.LastIndexByte(v.Encoded, ':')+1:]); err != nil {
		f.Fatal(err)
	}
	return v, id, file
}

func FuzzKeyIDs(f *testing.F) {
	v, _, _ := fuzzVector(f)
	f.Add(v.Encoded)
	f.Add("sealkit:v1:0123456789abcdef:")
	f.Add("sealkit:v1:0123456789abcdef,0123456789abcdef:YWdl")
	f.Fuzz(func(t *testing.T, s string) {
		ids, err := KeyIDs(s)
		if err != nil {
			return
		}
		for _, id := range ids {
			if len(id) != 16 || !strings.HasPrefix(s, prefix) {
				t.Fatalf("KeyIDs(%q) accepted %q", s, id)
			}
		}
	})
}

// FuzzOpen feeds arbitrary strings to Open: it must not panic, and it must
// open nothing but the vector's own value.
func FuzzOpen(f *testing.F) {
	v, id, _ := fuzzVector(f)
	f.Add(v.Encoded)
	f.Add(prefix + string(v.KeyIDs[0]) + ":")
	f.Fuzz(func(t *testing.T, s string) {
		got, _, err := Open(s, Frame(v.Frame), []*Identity{id})
		if err == nil && string(got) != v.Value {
			t.Fatalf("opened to %q", got)
		}
	})
}

// FuzzMalleability edits the age file of a sealed value: any file that
// still opens must be the original, byte for byte.
//
// The fuzzer mutates a short list of edits (see [applyEdits]), not the
// 1.7 KB file itself: mutating the file directly breaks its base64 or its
// header almost every time, and every input that finds new coverage is
// minimized byte by byte, which for a file that size took the whole run
// (4 executions in 30 s). Edits keep the file nearly intact, so they reach
// the header MAC, the stanzas and the payload's chunks.
func FuzzMalleability(f *testing.F) {
	v, id, file := fuzzVector(f)
	head := v.Encoded[:strings.LastIndexByte(v.Encoded, ':')+1]
	f.Add([]byte{}, []byte{})                 // the file itself: opens
	f.Add([]byte{0, 0, 1}, []byte{})          // flip a bit of the header's first byte
	f.Add([]byte{0x06, 0xdd, 0x80}, []byte{}) // flip a bit of byte 1757, the last (payload tag)
	f.Add([]byte{0x01, 0x00, 0x00}, []byte{}) // truncate inside the header
	f.Add([]byte{}, []byte("trailing"))       // data after the end
	f.Fuzz(func(t *testing.T, edits, extra []byte) {
		data := append(applyEdits(file, edits), extra...)
		got, _, err := Open(head+base64.StdEncoding.EncodeToString(data), Frame(v.Frame), []*Identity{id})
		if err == nil && (string(got) != v.Value || !bytes.Equal(data, file)) {
			t.Fatalf("a different file opened to %q", got)
		}
	})
}

// applyEdits returns a copy of file changed by edits, read as 3-byte
// records: a big-endian position (modulo the length) and an operation, 0 to
// truncate the file there, anything else to XOR the byte there with it.
func applyEdits(file, edits []byte) []byte {
	out := bytes.Clone(file)
	for ; len(edits) >= 3 && len(out) > 0; edits = edits[3:] {
		pos := int(edits[0])<<8 | int(edits[1])
		pos %= len(out)
		if edits[2] == 0 {
			out = out[:pos]
			continue
		}
		out[pos] ^= edits[2]
	}
	return out
}

// FuzzPayload puts arbitrary payloads behind the vector's header and checks
// that our payload decryption and age's agree on every one.
func FuzzPayload(f *testing.F) {
	_, id, file := fuzzVector(f)
	n, _ := splitHeader(file)
	fileKey, err := age.DecryptHeader(file[:n], id.id)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(file[n:])
	f.Add(file[n : n+payloadNonceSize])
	f.Fuzz(func(t *testing.T, payload []byte) {
		var want []byte
		r, err := age.Decrypt(bytes.NewReader(append(file[:n:n], payload...)), id.id)
		if err == nil {
			want, err = io.ReadAll(r)
		}
		ageOK := err == nil
		got, err := decryptPayload(fileKey, bytes.Clone(payload))
		if ageOK != (err == nil) || (ageOK && !bytes.Equal(got, want)) {
			t.Fatalf("age ok=%v, ours: %v", ageOK, err)
		}
	})
}

func FuzzParseFrame(f *testing.F) {
	p, _ := strictFrame.marshal([]byte("value"))
	f.Add(p)
	f.Add([]byte("sealkit-frame/v1\nscope: cluster\nnamespace:\nname:\nkey: k\n\n"))
	f.Fuzz(func(t *testing.T, p []byte) {
		fr, value, err := parseFrame(p)
		if err != nil || fr != fr.bound() || fr.Key == "" {
			return
		}
		// What parses must survive a round trip through marshal.
		again, err := fr.marshal(value)
		if err != nil {
			t.Fatalf("parsed frame %+v does not marshal: %v", fr, err)
		}
		fr2, value2, err := parseFrame(again)
		if err != nil || fr2 != fr || !bytes.Equal(value2, value) {
			t.Fatalf("round trip of %+v: %+v, %v", fr, fr2, err)
		}
	})
}

func FuzzParseRecipient(f *testing.F) {
	v, _, _ := fuzzVector(f)
	f.Add(v.Recipients[0])
	f.Add("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRecipient(s)
		if err != nil {
			// Only a 16-byte prefix may be echoed, so never all of a
			// longer input.
			if in := strings.TrimSpace(s); len(in) > 24 && strings.Contains(err.Error(), in) {
				t.Fatal("error echoes the input")
			}
			return
		}
		again, err := ParseRecipient(r.String())
		if err != nil || again.KeyID() != r.KeyID() || again.PostQuantum() != r.PostQuantum() {
			t.Fatalf("recipient %q does not reparse: %v", r, err)
		}
	})
}

func FuzzParseIdentity(f *testing.F) {
	v, _, _ := fuzzVector(f)
	f.Add(v.Identities[0])
	f.Add("AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseIdentity(s)
		if err != nil {
			// As for recipients: an input long enough to be key material
			// is never quoted (a short one, "1", may well appear).
			if in := strings.TrimSpace(s); len(in) > 24 && strings.Contains(err.Error(), in) {
				t.Fatal("error echoes the input")
			}
			return
		}
		if again, err := ParseIdentity(id.String()); err != nil || again.KeyID() != id.KeyID() {
			t.Fatalf("identity does not reparse: %v", err)
		}
	})
}

func FuzzParseIdentities(f *testing.F) {
	v, _, _ := fuzzVector(f)
	f.Add("# comment\n\n" + v.Identities[0] + "\n")
	f.Fuzz(func(t *testing.T, s string) {
		_, err := ParseIdentities(strings.NewReader(s))
		if err == nil {
			return
		}
		for line := range strings.Lines(s) {
			if line = strings.TrimSpace(line); len(line) > 24 && strings.Contains(err.Error(), line) {
				t.Fatalf("error %q echoes a line", err)
			}
		}
	})
}
