package main

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/repoconfig"
)

// Whom values are sealed to is decided in two pure steps around the I/O:
// planRecipients reads the flags and the .sealkit.yaml rule and says which
// keyring files to read and whether to fetch the cluster's keyring; the
// command reads them; resolveRecipients turns what was read into the
// recipients, each with its origin, refusing what must not be sealed to.

// recipientFlags are --keys and --recipient.
type recipientFlags struct {
	keyFiles   []string
	recipients []string

	// parsed are the --recipient values, parsed by parse.
	parsed []*crypto.Recipient
}

func (f *recipientFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&f.keyFiles, "keys", nil, "seal to the active keys of this public keyring `FILE` (repeatable)")
	fs.StringArrayVar(&f.recipients, "recipient", nil, "seal to this age `RECIPIENT` too, e.g. a recovery key (repeatable)")
}

func (f *recipientFlags) given() bool { return len(f.keyFiles)+len(f.recipients) > 0 }

// parse parses every --recipient: a usage error, found before anything is
// read or fetched.
func (f *recipientFlags) parse() error {
	f.parsed = f.parsed[:0]
	for _, s := range f.recipients {
		r, err := crypto.ParseRecipient(s)
		if err != nil {
			return withHint(usageErrorf("--recipient: %v", err),
				"a recipient is a public key: age1pq1… (post-quantum) or age1…")
		}
		f.parsed = append(f.parsed, r)
	}
	return nil
}

// recipientSource is a recipient and where it came from: a flag, a
// keyring file, a .sealkit.yaml rule, the cluster.
type recipientSource struct {
	recipient *crypto.Recipient
	origin    string
}

func (s recipientSource) String() string { return string(s.recipient.KeyID()) + " (" + s.origin + ")" }

// keyringRef is a keyring to read and why.
type keyringRef struct {
	path   string // "" for the cluster's
	origin string
}

// recipientPlan is what resolving the recipients needs, decided from the
// flags and the rule alone.
type recipientPlan struct {
	direct   []recipientSource // --recipient, or the rule's recipients
	keyrings []keyringRef
	recovery []recipientSource // the rule's recovery recipients
	// fetch asks for the cluster's keyring.
	fetch bool
	// context is the kube context the rule names (--context wins over it).
	context string

	scope       crypto.Scope
	scopeOrigin string
	// notes say on -v how the decision was made.
	notes []string
}

// planRecipients decides where the recipients come from: --keys and
// --recipient when given, else the rule's keys and recipients, else the
// cluster (the rule's context, or the current one); the rule's recovery
// recipients are added either way. The scope is --scope, else the rule's,
// else strict.
func planRecipients(flags *recipientFlags, rule *repoconfig.Applied, scope crypto.Scope, scopeSet bool) (recipientPlan, error) {
	p := recipientPlan{scope: crypto.ScopeStrict, scopeOrigin: "default"}
	switch {
	case scopeSet:
		p.scope, p.scopeOrigin = scope, "--scope"
	case rule != nil && rule.Scope != "":
		p.scope, p.scopeOrigin = rule.Scope, rule.Origin("scope")
	}
	switch {
	case flags.given():
		for _, r := range flags.parsed {
			p.direct = append(p.direct, recipientSource{r, "--recipient"})
		}
		for _, f := range flags.keyFiles {
			p.keyrings = append(p.keyrings, keyringRef{f, "--keys " + f})
		}
		if rule != nil && len(rule.Keys)+len(rule.Recipients) > 0 {
			p.notes = append(p.notes, "--keys/--recipient given: the rule's keys and recipients are not used")
		}
	case rule != nil && len(rule.Keys)+len(rule.Recipients) > 0:
		for _, r := range rule.Recipients {
			p.direct = append(p.direct, recipientSource{r, "recipients, " + rule.Origin("recipients")})
		}
		for _, f := range rule.Keys {
			p.keyrings = append(p.keyrings, keyringRef{f, "keyring " + f + ", " + rule.Origin("keys")})
		}
	case rule != nil && rule.Context == "":
		return p, withHint(usageErrorf("%s gives no keys or recipients", rule),
			"add keys or recipients to the rule, or give --keys FILE")
	default:
		p.fetch = true
	}
	if rule != nil {
		p.context = rule.Context
		for _, r := range rule.Recovery {
			p.recovery = append(p.recovery, recipientSource{r, "recovery, " + rule.Origin("recovery")})
		}
	}
	return p, nil
}

// loadedKeyring is a keyring read for a plan.
type loadedKeyring struct {
	keyringRef
	kr *keyring.Keyring
}

// resolveRecipients returns the recipients of p, given the keyrings it
// named, read: the direct recipients, the active keys of each keyring, then
// the recovery recipients, each once (with all its origins). It refuses no
// recipient at all, more than crypto.MaxRecipients, a key any of the
// keyrings marks compromised or retired, and classic and post-quantum keys
// together.
func resolveRecipients(p recipientPlan, keyrings []loadedKeyring) ([]recipientSource, error) {
	out := slices.Clone(p.direct)
	for _, k := range keyrings {
		rs, err := k.kr.SealingRecipients()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k.name(), err)
		}
		for _, r := range rs {
			out = append(out, recipientSource{r, k.origin})
		}
	}
	out = dedupe(append(out, p.recovery...))
	if len(out) == 0 {
		return nil, withHint(usageErrorf("no recipients: nothing to seal to"),
			"give --keys FILE (a public keyring) or --recipient age1pq1…")
	}
	if len(out) > crypto.MaxRecipients {
		return nil, withHint(fmt.Errorf("%d recipients: %w", len(out), crypto.ErrTooManyRecipients),
			"seal to fewer keyrings or recipients; -v names where each comes from")
	}
	if err := checkStates(out, keyrings); err != nil {
		return nil, err
	}
	if err := checkNotMixed(recipientsOf(out)); err != nil {
		return nil, err
	}
	return out, nil
}

func (k loadedKeyring) name() string {
	if k.path == "" {
		return k.origin
	}
	return "keyring " + k.path
}

// dedupe keeps each recipient once, in order, joining its origins.
func dedupe(in []recipientSource) []recipientSource {
	var out []recipientSource
	for _, s := range in {
		i := slices.IndexFunc(out, func(x recipientSource) bool { return x.recipient.String() == s.recipient.String() })
		if i < 0 {
			out = append(out, s)
		} else if !strings.Contains(out[i].origin, s.origin) {
			out[i].origin += "; " + s.origin
		}
	}
	return out
}

// checkStates refuses a recipient that a keyring marks compromised or
// retired: a compromised key's holder may not be the cluster, and a retired
// key opens nothing any more.
func checkStates(rs []recipientSource, keyrings []loadedKeyring) error {
	for _, s := range rs {
		for _, k := range keyrings {
			for _, key := range k.kr.Keys {
				if key.ID != s.recipient.KeyID() || key.State != keyring.StateCompromised && key.State != keyring.StateRetired {
					continue
				}
				return withHint(fmt.Errorf("key %s (%s) is marked %s in %s: not sealing to it",
					key.ID, s.origin, key.State, k.name()),
					"remove it from the recipients; a compromised key's values must be changed, not re-sealed")
			}
		}
	}
	return nil
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

// readKeyring reads a public keyring file.
func readKeyring(path string) (*keyring.Keyring, error) {
	b, err := readFileBounded(path)
	if err != nil {
		return nil, err
	}
	kr, err := keyring.Parse(bytes.NewReader(b))
	if err != nil {
		return nil, withHint(fmt.Errorf("keyring %s: %w", path, err),
			"a keyring file has one age1pq1… recipient per line, as 'seal keys fetch' writes it")
	}
	return kr, nil
}

// recipientsOf are the recipients of sources.
func recipientsOf(sources []recipientSource) []*crypto.Recipient {
	rs := make([]*crypto.Recipient, len(sources))
	for i, s := range sources {
		rs[i] = s.recipient
	}
	return rs
}
