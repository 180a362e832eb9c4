// Package keyring reads and writes public keyrings: the set of a cluster's
// public keys with their states, as `seal keys fetch` writes it and the
// controller publishes it.
//
// # Format
//
// A keyring is text. Each key is an age recipient on a line of its own,
// preceded by a comment that gives its key ID, creation time and state:
//
//	# sealkit public keyring
//	# id: 52011f555e885a36 created: 2026-11-25T23:00:00Z state: active
//	age1pq1...
//
// Other comments and blank lines are ignored. A recipient without a key
// comment is an active key, so a plain list of recipients is a keyring too.
package keyring

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sealkit/sealkit/pkg/crypto"
)

// State is where a key is in its life.
type State string

const (
	// StateActive keys are sealed to.
	StateActive State = "active"
	// StateRetained keys still open old values but are not sealed to.
	StateRetained State = "retained"
	// StateCompromised keys are never sealed to again.
	StateCompromised State = "compromised"
	// StateRetired keys open nothing any more.
	StateRetired State = "retired"
)

// ParseState returns the state named s.
func ParseState(s string) (State, error) {
	switch State(s) {
	case StateActive, StateRetained, StateCompromised, StateRetired:
		return State(s), nil
	}
	return "", fmt.Errorf("unknown key state %q: want active, retained, compromised or retired", s)
}

// Key is one public key of a keyring.
type Key struct {
	ID        crypto.KeyID
	Recipient *crypto.Recipient
	Created   time.Time // zero when unknown
	State     State
}

// Keyring is a set of public keys, in file order.
type Keyring struct {
	Keys []Key
}

// MaxSize bounds what [Parse] reads: far more than any real keyring.
const MaxSize = 1 << 20

const (
	header     = "# sealkit public keyring"
	keyComment = "# id:"
)

// Parse reads a keyring. It fails on a keyring without keys, and on a line
// it cannot read, naming the line but never quoting it: a keyring path may
// come from a repository's configuration and name any file there.
func Parse(r io.Reader) (*Keyring, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("keyring exceeds %d bytes", MaxSize)
	}
	kr := &Keyring{}
	var pending *Key // from a key comment, waiting for its recipient
	pendingLine := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, MaxSize)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case strings.HasPrefix(line, keyComment):
			if pending != nil {
				return nil, fmt.Errorf("line %d: key comment without a recipient", pendingLine)
			}
			k, err := parseComment(line)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			pending, pendingLine = &k, n
		case strings.HasPrefix(line, "#"):
		default:
			k, err := parseKey(line, pending)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			for _, seen := range kr.Keys {
				if seen.ID == k.ID {
					return nil, fmt.Errorf("line %d: key %s appears twice", n, k.ID)
				}
			}
			kr.Keys = append(kr.Keys, k)
			pending = nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if pending != nil {
		return nil, fmt.Errorf("line %d: key comment without a recipient", pendingLine)
	}
	if len(kr.Keys) == 0 {
		return nil, errors.New("keyring has no keys")
	}
	return kr, nil
}

// parseComment reads "# id: ID [created: TIME] [state: STATE]".
func parseComment(line string) (Key, error) {
	k := Key{State: StateActive}
	fields := strings.Fields(strings.TrimPrefix(line, "#"))
	if len(fields)%2 != 0 {
		return Key{}, errors.New("key comment must be \"# id: ID created: TIME state: STATE\"")
	}
	seen := map[string]bool{}
	for i := 0; i < len(fields); i += 2 {
		name, value := fields[i], fields[i+1]
		if seen[name] {
			return Key{}, fmt.Errorf("%s given twice", strings.TrimSuffix(name, ":"))
		}
		seen[name] = true
		switch name {
		case "id:":
			k.ID = crypto.KeyID(value)
		case "created:":
			t, err := time.Parse(time.RFC3339, value)
			if err != nil {
				return Key{}, errors.New("created: not an RFC 3339 time")
			}
			k.Created = t
		case "state:":
			s, err := ParseState(value)
			if err != nil {
				return Key{}, errors.New("unknown key state: want active, retained, compromised or retired")
			}
			k.State = s
		default:
			return Key{}, errors.New("unknown field in key comment: want id, created and state")
		}
	}
	return k, nil
}

// parseKey reads a recipient line and checks it against its comment.
func parseKey(line string, comment *Key) (Key, error) {
	r, err := crypto.ParseRecipient(line)
	if err != nil {
		return Key{}, errors.New("not a key comment or an age recipient (age1pq1… or age1…)")
	}
	k := Key{State: StateActive}
	if comment != nil {
		k = *comment
		if k.ID != r.KeyID() {
			return Key{}, fmt.Errorf("key comment says id %s, but the recipient's key ID is %s", k.ID, r.KeyID())
		}
	}
	k.ID, k.Recipient = r.KeyID(), r
	return k, nil
}

// Format writes the keyring in the format [Parse] reads.
func (kr *Keyring) Format() []byte {
	var b bytes.Buffer
	b.WriteString(header + "\n")
	for _, k := range kr.Keys {
		id := k.ID
		if k.Recipient != nil {
			id = k.Recipient.KeyID()
		}
		fmt.Fprintf(&b, "%s %s", keyComment, id)
		if !k.Created.IsZero() {
			fmt.Fprintf(&b, " created: %s", k.Created.UTC().Format(time.RFC3339))
		}
		state := k.State
		if state == "" {
			state = StateActive
		}
		fmt.Fprintf(&b, " state: %s\n", state)
		if k.Recipient != nil {
			b.WriteString(k.Recipient.String() + "\n")
		}
	}
	return b.Bytes()
}

// SealingRecipients returns the recipients of the active keys: what new
// values are sealed to.
func (kr *Keyring) SealingRecipients() ([]*crypto.Recipient, error) {
	var rs []*crypto.Recipient
	for _, k := range kr.Keys {
		if k.State == StateActive && k.Recipient != nil {
			rs = append(rs, k.Recipient)
		}
	}
	if len(rs) == 0 {
		return nil, errors.New("keyring has no active key to seal to")
	}
	return rs, nil
}
