package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/repoconfig"
)

func newRecipient(t *testing.T) *crypto.Recipient {
	t.Helper()
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id.Recipient()
}

// TestPlanRecipients: where recipients come from is decided from the flags
// and the rule alone, before anything is read or fetched.
func TestPlanRecipients(t *testing.T) {
	rec := newRecipient(t)
	c, err := repoconfig.Parse([]byte("defaults:\n  recovery: ["+rec.String()+"]\n  scope: namespace\nrules:\n"+
		"- path: keys/**\n  keys: [prod.keys]\n- path: ctx/**\n  context: prod\n- path: none/**\n  scope: cluster\n"), "/r/.sealkit.yaml")
	if err != nil {
		t.Fatal(err)
	}
	flags := &recipientFlags{keyFiles: []string{"a.keys"}, recipients: []string{rec.String()}}
	if err := flags.parse(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		flags    *recipientFlags
		rule     *repoconfig.Applied
		scopeSet bool
		want     string
	}{
		{"flags, no rule", flags, nil, false, "keyrings=[a.keys] direct=1 recovery=0 fetch=false scope=strict(default)"},
		{"flags win over the rule's keys; its recovery and scope stay", flags, c.Lookup("/r/keys/x.yaml"), false, "keyrings=[a.keys] direct=1 recovery=1 fetch=false scope=namespace(/r/.sealkit.yaml:2: defaults)"},
		{"the rule's keys", &recipientFlags{}, c.Lookup("/r/keys/x.yaml"), false, "keyrings=[/r/prod.keys] direct=0 recovery=1 fetch=false scope=namespace(/r/.sealkit.yaml:2: defaults)"},
		{"a rule with only a context fetches from it", &recipientFlags{}, c.Lookup("/r/ctx/x.yaml"), false, "keyrings=[] direct=0 recovery=1 fetch=true context=prod scope=namespace(/r/.sealkit.yaml:2: defaults)"},
		{"nothing: fetch", &recipientFlags{}, nil, false, "keyrings=[] direct=0 recovery=0 fetch=true scope=strict(default)"},
		{"--scope wins", &recipientFlags{}, c.Lookup("/r/keys/x.yaml"), true, "keyrings=[/r/prod.keys] direct=0 recovery=1 fetch=false scope=cluster(--scope)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := planRecipients(tt.flags, tt.rule, crypto.ScopeCluster, tt.scopeSet)
			if err != nil {
				t.Fatal(err)
			}
			var files []string
			for _, k := range p.keyrings {
				files = append(files, k.path)
			}
			got := "keyrings=[" + strings.Join(files, " ") + "]" +
				" direct=" + strconv.Itoa(len(p.direct)) + " recovery=" + strconv.Itoa(len(p.recovery)) + " fetch=" + strconv.FormatBool(p.fetch)
			if p.fetch && p.context != "" {
				got += " context=" + p.context
			}
			got += " scope=" + string(p.scope) + "(" + p.scopeOrigin + ")"
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	if _, err := planRecipients(&recipientFlags{}, c.Lookup("/r/none/x.yaml"), "", false); err == nil || !strings.Contains(err.Error(), "gives no keys or recipients") {
		t.Errorf("a rule with nothing to seal to: %v", err)
	}
}

// TestResolveRecipients: duplicates are joined with their origins; a key a
// keyring marks compromised or retired, too many keys, and none are
// refused.
func TestResolveRecipients(t *testing.T) {
	a, b, c := newRecipient(t), newRecipient(t), newRecipient(t)
	kr := &keyring.Keyring{Keys: []keyring.Key{
		{ID: a.KeyID(), Recipient: a, State: keyring.StateActive},
		{ID: b.KeyID(), Recipient: b, State: keyring.StateCompromised},
		{ID: c.KeyID(), Recipient: c, State: keyring.StateRetired},
	}}
	loaded := []loadedKeyring{{keyringRef{"prod.keys", "keyring prod.keys"}, kr}}
	got, err := resolveRecipients(recipientPlan{direct: []recipientSource{{a, "--recipient"}}}, loaded)
	if err != nil || len(got) != 1 || got[0].origin != "--recipient; keyring prod.keys" {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, bad := range []*crypto.Recipient{b, c} {
		_, err := resolveRecipients(recipientPlan{recovery: []recipientSource{{bad, "recovery, x"}}}, loaded)
		if err == nil || !strings.Contains(err.Error(), "is marked") || !strings.Contains(err.Error(), "(recovery, x)") {
			t.Errorf("%s: %v", bad.KeyID(), err)
		}
	}
	var many []recipientSource
	for range crypto.MaxRecipients + 1 {
		many = append(many, recipientSource{newRecipient(t), "--recipient"})
	}
	if _, err := resolveRecipients(recipientPlan{direct: many}, nil); err == nil || !strings.Contains(err.Error(), "17 recipients") {
		t.Errorf("17 recipients: %v", err)
	}
	if _, err := resolveRecipients(recipientPlan{}, nil); err == nil || exitCode(err) != ExitUsage {
		t.Errorf("none: %v", err)
	}
}
