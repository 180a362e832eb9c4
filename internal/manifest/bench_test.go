package manifest

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkApply: re-sealing a typical file, one SealedSecret of five
// post-quantum values (about 2.4 KB each) with comments, all five replaced.
func BenchmarkApply(b *testing.B) {
	value := "sealkit:v1:0123456789abcdef:" + strings.Repeat("QUJD", 600)
	var doc strings.Builder
	doc.WriteString("# the shop's database\napiVersion: sealkit.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db, namespace: shop}\nspec:\n  encryptedData:\n")
	var changes []Change
	for i := range 5 {
		fmt.Fprintf(&doc, "    k%d: %s   # value %d\n", i, value, i)
		changes = append(changes, ch(0, strings.Replace(value, "QUJD", "REVG", 1), enc(fmt.Sprintf("k%d", i))...))
	}
	data := []byte(doc.String())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Apply(data, changes); err != nil {
			b.Fatal(err)
		}
	}
}
