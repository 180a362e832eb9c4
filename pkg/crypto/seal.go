package crypto

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"filippo.io/age"
	"golang.org/x/crypto/chacha20poly1305"
)

const (
	// MaxValueSize is the largest value that can be sealed: Kubernetes
	// refuses Secrets over 1 MiB, so nothing larger could ever be used.
	MaxValueSize = 1 << 20
	// maxEncodedSize bounds what Open and KeyIDs will look at: a maximal
	// value, its frame, an age header with many recipients, in base64.
	maxEncodedSize = (MaxValueSize+64<<10)/3*4 + 4096

	prefix = "sealkit:v1:"

	// MaxRecipients is how many recipients one value may be sealed to:
	// several clusters' active keys and a few recovery keys. Opening tries
	// every stanza with every key, so the bound is what keeps a value
	// crafted with thousands of stanzas from costing the controller
	// seconds of CPU.
	MaxRecipients = 16
)

// ErrTooManyRecipients is returned for a value sealed, or to be sealed, to
// more than [MaxRecipients] recipients.
var ErrTooManyRecipients = fmt.Errorf("a value may be sealed to at most %d recipients", MaxRecipients)

// ErrCorrupt is the one error for a value that is malformed, truncated or
// tampered with. It deliberately says nothing more: distinguishing failure
// modes would help an attacker probing the controller.
var ErrCorrupt = errors.New("sealed value is malformed or has been tampered with")

// ErrTooLarge is returned for values over [MaxValueSize] and encoded values
// too long to be one.
var ErrTooLarge = fmt.Errorf("sealed value exceeds the %d-byte Secret limit", MaxValueSize)

// Seal encrypts value for the frame f to every recipient. The recipients
// must be all post-quantum or all classic. Randomness comes from crypto/rand
// (age offers no other source); tests make it deterministic with
// testing/cryptotest.SetGlobalRandom.
func Seal(recipients []*Recipient, f Frame, value []byte) (string, error) {
	if len(recipients) == 0 {
		return "", errors.New("no recipients to seal to")
	}
	if len(value) > MaxValueSize {
		return "", ErrTooLarge
	}
	ars := make([]age.Recipient, len(recipients))
	ids := make([]string, 0, len(recipients))
	for i, r := range recipients {
		if r.pq != recipients[0].pq {
			return "", ErrMixedRecipients
		}
		ars[i] = r.r
		if id := string(r.KeyID()); !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) > MaxRecipients {
		return "", fmt.Errorf("%w, not %d", ErrTooManyRecipients, len(ids))
	}
	plaintext, err := f.marshal(value)
	if err != nil {
		return "", err
	}
	var file bytes.Buffer
	w, err := age.Encrypt(&file, ars...)
	if err != nil {
		return "", fmt.Errorf("sealing: %w", err)
	}
	if _, err := w.Write(plaintext); err != nil {
		return "", fmt.Errorf("sealing: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("sealing: %w", err)
	}
	enc := prefix + strings.Join(ids, ",") + ":" + base64.StdEncoding.EncodeToString(file.Bytes())
	// Only a near-maximal value sealed to dozens of post-quantum keys gets
	// here; refusing now beats writing a value no one can open.
	if len(enc) > maxEncodedSize {
		return "", ErrTooLarge
	}
	return enc, nil
}

// decode splits an encoded value into its key ID hints and age file.
func decode(encoded string) ([]KeyID, []byte, error) {
	if len(encoded) > maxEncodedSize {
		return nil, nil, ErrTooLarge
	}
	rest, ok := strings.CutPrefix(encoded, prefix)
	if !ok {
		return nil, nil, ErrCorrupt
	}
	hints, b64, ok := strings.Cut(rest, ":")
	if !ok || hints == "" {
		return nil, nil, ErrCorrupt
	}
	var ids []KeyID
	if strings.Count(hints, ",") >= MaxRecipients {
		return nil, nil, ErrTooManyRecipients
	}
	for h := range strings.SplitSeq(hints, ",") {
		if len(h) != 16 || strings.Trim(h, "0123456789abcdef") != "" {
			return nil, nil, ErrCorrupt
		}
		ids = append(ids, KeyID(h))
	}
	// The decoder skips line breaks; we refuse them so that each value has
	// exactly one encoding, which callers may compare or hash.
	// (Two IndexByte scans, vectorised, cost a tenth of one ContainsAny:
	// offline lint decodes every value of a repository.)
	if strings.IndexByte(b64, '\n') >= 0 || strings.IndexByte(b64, '\r') >= 0 {
		return nil, nil, ErrCorrupt
	}
	file, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil {
		return nil, nil, ErrCorrupt
	}
	return ids, file, nil
}

// KeyIDs returns the key IDs an encoded value says it was sealed to, after
// checking that it is well formed as far as can be told without a key.
func KeyIDs(encoded string) ([]KeyID, error) {
	ids, file, err := decode(encoded)
	if err != nil {
		return nil, err
	}
	// Without a key, the payload can only be checked for room for its
	// nonce and one chunk tag; a file cut shorter than that is caught here.
	n, ok := wellFormedHeader(file)
	if !ok || len(file)-n < payloadNonceSize+chacha20poly1305.Overhead {
		return nil, ErrCorrupt
	}
	if stanzas(file[:n]) > MaxRecipients {
		return nil, ErrTooManyRecipients
	}
	return ids, nil
}

// stanzas counts the recipient stanzas of an age header: its lines that
// start with "-> " (body lines are base64 and cannot).
func stanzas(header []byte) int {
	return bytes.Count(header, []byte("\n-> "))
}

// NoKeyMatchError reports that none of the identities opens a value.
type NoKeyMatchError struct {
	SealedTo []KeyID // the value's hints; not authenticated
	Tried    []KeyID
}

func (e *NoKeyMatchError) Error() string {
	return fmt.Sprintf("no key opens this value: sealed to %s, tried %s", joinIDs(e.SealedTo), joinIDs(e.Tried))
}

func joinIDs(ids []KeyID) string {
	if len(ids) == 0 {
		return "none"
	}
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = string(id)
	}
	return strings.Join(s, ", ")
}

// Open decrypts an encoded value with the first identity that fits, trying
// those named by the value's hints first, and checks that its frame matches
// where, the place it is being opened. It returns the value and the key ID of
// the identity that opened it.
func Open(encoded string, where Frame, identities []*Identity) ([]byte, KeyID, error) {
	hints, file, err := decode(encoded)
	if err != nil {
		return nil, "", err
	}
	n, ok := splitHeader(file)
	if !ok {
		return nil, "", ErrCorrupt
	}
	header, payload := file[:n], file[n:]
	if stanzas(header) > MaxRecipients {
		return nil, "", ErrTooManyRecipients
	}
	ordered := slices.Clone(identities)
	slices.SortStableFunc(ordered, func(a, b *Identity) int {
		return boolRank(slices.Contains(hints, b.KeyID())) - boolRank(slices.Contains(hints, a.KeyID()))
	})
	tried := make([]KeyID, 0, len(ordered))
	for _, id := range ordered {
		// DecryptHeader parses the header strictly and checks its MAC, so
		// the payload that follows is bound to the file key it returns.
		fileKey, err := age.DecryptHeader(header, id.id)
		if err != nil {
			var noMatch *age.NoIdentityMatchError
			if errors.As(err, &noMatch) {
				tried = append(tried, id.KeyID())
				continue
			}
			return nil, "", ErrCorrupt
		}
		value, err := openPayload(payload, fileKey, where)
		return value, id.KeyID(), err
	}
	return nil, "", &NoKeyMatchError{SealedTo: hints, Tried: tried}
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// openPayload decrypts the payload with a file key already recovered from
// the header, and checks the frame.
func openPayload(payload, fileKey []byte, where Frame) ([]byte, error) {
	plaintext, err := decryptPayload(fileKey, payload)
	if err != nil {
		return nil, err
	}
	sealed, value, err := parseFrame(plaintext)
	if err != nil {
		return nil, err
	}
	// Seal never makes such a value; one that exists came from elsewhere,
	// and the bound holds for every input, not only ours.
	if len(value) > MaxValueSize {
		return nil, ErrTooLarge
	}
	if err := sealed.check(where); err != nil {
		return nil, err
	}
	return value, nil
}

// SealedTo reports how many recipients an encoded value is sealed to (the
// stanzas of its header) and which of ids are among them: those whose
// stanza unwraps the file key that the header's MAC authenticates. Unlike
// the key ID hints, which anyone can edit, this is what the value really
// is sealed to, as far as ids can tell; a recipient whose identity is not
// among ids is only counted. It decrypts no payload.
func SealedTo(encoded string, ids []*Identity) (stanzaCount int, opens []KeyID, err error) {
	_, file, err := decode(encoded)
	if err != nil {
		return 0, nil, err
	}
	n, ok := splitHeader(file)
	if !ok {
		return 0, nil, ErrCorrupt
	}
	header := file[:n]
	stanzaCount = stanzas(header)
	if stanzaCount > MaxRecipients {
		return 0, nil, ErrTooManyRecipients
	}
	for _, id := range ids {
		_, err := age.DecryptHeader(header, id.id)
		if err == nil {
			opens = append(opens, id.KeyID())
			continue
		}
		var noMatch *age.NoIdentityMatchError
		if !errors.As(err, &noMatch) {
			return 0, nil, ErrCorrupt
		}
	}
	return stanzaCount, opens, nil
}
