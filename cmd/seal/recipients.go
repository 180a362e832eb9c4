package main

import (
	"fmt"
	"os"
	"slices"

	"github.com/spf13/pflag"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
)

// recipientOptions are the flags choosing whom values are sealed to. Every
// sealing command has them.
type recipientOptions struct {
	keyFiles   []string
	recipients []string
	// parsed are recipients that come parsed already, from .sealkit.yaml;
	// they follow --recipient.
	parsed []*crypto.Recipient
	// fetch, when set, adds the cluster's active keys (online mode).
	fetch func() ([]*crypto.Recipient, error)
}

func (o *recipientOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&o.keyFiles, "keys", nil, "seal to the active keys of this public keyring `FILE` (repeatable)")
	fs.StringArrayVar(&o.recipients, "recipient", nil, "seal to this age `RECIPIENT` too, e.g. a recovery key (repeatable)")
}

// resolve returns the recipients to seal to: the active keys of every
// keyring file, then every --recipient, without duplicates.
func (o *recipientOptions) resolve() ([]*crypto.Recipient, error) {
	var out []*crypto.Recipient
	for _, s := range o.recipients {
		r, err := crypto.ParseRecipient(s)
		if err != nil {
			return nil, withHint(usageErrorf("--recipient: %v", err),
				"a recipient is a public key: age1pq1… (post-quantum) or age1…")
		}
		out = appendRecipient(out, r)
	}
	for _, r := range o.parsed {
		out = appendRecipient(out, r)
	}
	for _, path := range o.keyFiles {
		rs, err := readKeyring(path)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			out = appendRecipient(out, r)
		}
	}
	if o.fetch != nil {
		rs, err := o.fetch()
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			out = appendRecipient(out, r)
		}
	}
	if len(out) == 0 {
		return nil, withHint(usageErrorf("no recipients: nothing to seal to"),
			"give --keys FILE (a public keyring) or --recipient age1pq1…")
	}
	if err := checkNotMixed(out); err != nil {
		return nil, err
	}
	return out, nil
}

func appendRecipient(rs []*crypto.Recipient, r *crypto.Recipient) []*crypto.Recipient {
	if slices.ContainsFunc(rs, func(x *crypto.Recipient) bool { return x.String() == r.String() }) {
		return rs
	}
	return append(rs, r)
}

func readKeyring(path string) ([]*crypto.Recipient, error) {
	f, err := os.Open(path) //nolint:gosec // opening the file the user named is the point
	if err != nil {
		return nil, fileError(path, err)
	}
	defer func() { _ = f.Close() }() // read-only: nothing to lose
	kr, err := keyring.Parse(f)
	if err != nil {
		return nil, withHint(fmt.Errorf("keyring %s: %w", path, err),
			"a keyring file has one age1pq1… recipient per line, as 'seal keys fetch' writes it")
	}
	rs, err := kr.SealingRecipients()
	if err != nil {
		return nil, fmt.Errorf("keyring %s: %w", path, err)
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("keyring %s: no active key to seal to", path)
	}
	return rs, nil
}

// checkNotMixed refuses classic and post-quantum recipients together, naming
// one of each, before anything is sealed.
func checkNotMixed(rs []*crypto.Recipient) error {
	var classic, pq *crypto.Recipient
	for _, r := range rs {
		if r.PostQuantum() {
			pq = r
		} else {
			classic = r
		}
	}
	if classic == nil || pq == nil {
		return nil
	}
	return withHint(fmt.Errorf("recipients mix classic key %s and post-quantum key %s: %w",
		classic.KeyID(), pq.KeyID(), crypto.ErrMixedRecipients),
		"seal to post-quantum keys only, e.g. a recovery key made by 'seal keys generate'")
}
