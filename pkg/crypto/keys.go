package crypto

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
)

// KeyID is a short, stable fingerprint of a recipient: the first 8 bytes of
// the SHA-256 of its string form, in hex. It names a key everywhere a key is
// shown; it is public information.
type KeyID string

// KeyIDOf returns the key ID of a recipient string.
func KeyIDOf(recipient string) KeyID {
	sum := sha256.Sum256([]byte(recipient))
	return KeyID(hex.EncodeToString(sum[:8]))
}

// ErrMixedRecipients is returned when classic and post-quantum recipients are
// combined in one sealing, which would silently void the post-quantum
// protection (age refuses it too).
var ErrMixedRecipients = errors.New("classic (age1…) and post-quantum (age1pq1…) recipients cannot be mixed in one sealing")

// Recipient is a public key values can be sealed to.
type Recipient struct {
	r  age.Recipient
	s  string
	pq bool
	// id is computed once: Open consults it for every identity on every
	// value, and hashing each time was a measurable share of its cost.
	id KeyID
}

// ParseRecipient parses an age recipient: "age1pq1…" (hybrid post-quantum)
// or "age1…" (classic X25519). The error never echoes more than a prefix of
// the input, which may be a mistakenly pasted secret.
func ParseRecipient(s string) (*Recipient, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "age1pq1") {
		r, err := age.ParseHybridRecipient(s)
		if err != nil {
			return nil, fmt.Errorf("invalid post-quantum recipient %s", abbreviate(s))
		}
		return &Recipient{r: r, s: s, pq: true, id: KeyIDOf(s)}, nil
	}
	if strings.HasPrefix(s, "age1") {
		r, err := age.ParseX25519Recipient(s)
		if err != nil {
			return nil, fmt.Errorf("invalid recipient %s", abbreviate(s))
		}
		return &Recipient{r: r, s: s, id: KeyIDOf(s)}, nil
	}
	return nil, fmt.Errorf("invalid recipient %s: want age1pq1… or age1…", abbreviate(s))
}

// String returns the recipient in its age encoding.
func (r *Recipient) String() string { return r.s }

// KeyID returns the recipient's key ID.
func (r *Recipient) KeyID() KeyID { return r.id }

// PostQuantum reports whether the recipient is a hybrid post-quantum key.
func (r *Recipient) PostQuantum() bool { return r.pq }

// Identity is a private key that opens values sealed to its [Recipient].
type Identity struct {
	id        age.Identity
	s         string
	recipient *Recipient
}

// GenerateIdentity returns a new hybrid post-quantum identity.
func GenerateIdentity() (*Identity, error) {
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		return nil, fmt.Errorf("generating key: %w", err)
	}
	return newIdentity(id, id.String(), id.Recipient(), true), nil
}

// ParseIdentity parses an age identity, "AGE-SECRET-KEY-PQ-1…" or
// "AGE-SECRET-KEY-1…". Errors never contain the input.
func ParseIdentity(s string) (*Identity, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "AGE-SECRET-KEY-PQ-1"):
		id, err := age.ParseHybridIdentity(s)
		if err != nil {
			return nil, errors.New("invalid post-quantum identity")
		}
		return newIdentity(id, s, id.Recipient(), true), nil
	case strings.HasPrefix(s, "AGE-SECRET-KEY-1"):
		id, err := age.ParseX25519Identity(s)
		if err != nil {
			return nil, errors.New("invalid identity")
		}
		return newIdentity(id, s, id.Recipient(), false), nil
	}
	return nil, errors.New("invalid identity: want AGE-SECRET-KEY-PQ-1… or AGE-SECRET-KEY-1…")
}

// newIdentity pairs an identity with the recipient age derives from it,
// rather than encoding that recipient and parsing it back.
func newIdentity(id age.Identity, s string, r interface {
	age.Recipient
	String() string
}, pq bool) *Identity {
	rs := r.String()
	return &Identity{id: id, s: s, recipient: &Recipient{r: r, s: rs, pq: pq, id: KeyIDOf(rs)}}
}

// maxIdentityFile bounds identity files: a few hundred keys at most.
const maxIdentityFile = 1 << 20

// ParseIdentities reads an identity file: one identity per line, blank lines
// and lines starting with "#" ignored. Errors name the line, never its text.
func ParseIdentities(r io.Reader) ([]*Identity, error) {
	// Read one byte past the bound: a file cut at the bound could end on a
	// line boundary and silently lose the identities after it.
	data, err := io.ReadAll(io.LimitReader(r, maxIdentityFile+1))
	if err != nil {
		return nil, fmt.Errorf("reading identities: %w", err)
	}
	if len(data) > maxIdentityFile {
		return nil, fmt.Errorf("identity file exceeds %d bytes", maxIdentityFile)
	}
	var ids []*Identity
	n := 0
	for line := range strings.Lines(string(data)) {
		n++
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, err := ParseIdentity(line)
		if err != nil {
			return nil, fmt.Errorf("error at line %d: %w", n, err)
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, errors.New("no identities found")
	}
	return ids, nil
}

// String returns the identity in its age encoding. It is secret.
func (i *Identity) String() string { return i.s }

// Recipient returns the public key of the identity.
func (i *Identity) Recipient() *Recipient { return i.recipient }

// KeyID returns the key ID of the identity's recipient.
func (i *Identity) KeyID() KeyID { return i.recipient.KeyID() }

// abbreviate keeps enough of a recipient to recognise it in a message.
func abbreviate(s string) string {
	if len(s) > 16 {
		return fmt.Sprintf("%q", s[:16]+"…")
	}
	return fmt.Sprintf("%q", s)
}
