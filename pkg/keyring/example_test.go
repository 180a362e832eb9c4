package keyring_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/sealkit/sealkit/pkg/keyring"
)

func ExampleParse() {
	kr, err := keyring.Parse(strings.NewReader(`# sealkit public keyring
# id: cf7e568231315068 created: 2026-10-26T23:00:00Z state: retained
age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
`))
	if err != nil {
		log.Fatal(err)
	}
	for _, k := range kr.Keys {
		fmt.Println(k.ID, k.State, k.Created.Format("2006-01-02"))
	}
	_, err = kr.SealingRecipients()
	fmt.Println(err)
	// Output:
	// cf7e568231315068 retained 2026-10-26
	// keyring has no active key to seal to
}
