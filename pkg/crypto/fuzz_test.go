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

// FuzzMalleability mutates the age file of a sealed value: any file that
// still opens must be the original, byte for byte.
func FuzzMalleability(f *testing.F) {
	v, id, file := fuzzVector(f)
	f.Add(file)
	head := v.Encoded[:strings.LastIndexByte(v.Encoded, ':')+1]
	f.Fuzz(func(t *testing.T, data []byte) {
		got, _, err := Open(head+base64.StdEncoding.EncodeToString(data), Frame(v.Frame), []*Identity{id})
		if err == nil && (string(got) != v.Value || !bytes.Equal(data, file)) {
			t.Fatalf("a different file opened to %q", got)
		}
	})
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
			if len(s) > 24 && strings.Contains(err.Error(), strings.TrimSpace(s)) {
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
