package crypto

import "testing"

func TestSmoke(t *testing.T) {
	id, _ := GenerateIdentity()
	other, _ := GenerateIdentity()
	f := Frame{Scope: ScopeStrict, Namespace: "ns", Name: "n", Key: "k"}
	enc, err := Seal([]*Recipient{id.Recipient()}, f, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	t.Log(len(enc), enc[:60])
	v, kid, err := Open(enc, f, []*Identity{other, id})
	if err != nil || string(v) != "hello" || kid != id.KeyID() {
		t.Fatal(err, v, kid)
	}
	_, _, err = Open(enc, f, []*Identity{other})
	t.Log(err)
	f2 := f
	f2.Key = "x"
	_, _, err = Open(enc, f2, []*Identity{id})
	t.Log(err)
}
