package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"

	"github.com/sealkit/sealkit/pkg/crypto"
)

// maxIdentityFile bounds an identity file, encrypted or not.
const maxIdentityFile = 1 << 20

// readIdentityFiles reads every identity file named, in order, wherever
// -i is accepted. An identity file may be encrypted with a passphrase, as
// `age -p` or `age-keygen | age -p` write it (binary or armored): the
// passphrase is asked on the terminal. Errors never quote a file.
func readIdentityFiles(st Streams, paths []string) ([]*crypto.Identity, error) {
	var out []*crypto.Identity
	for _, p := range paths {
		ids, err := readIdentities(st, p)
		if err != nil {
			return nil, err
		}
		out = append(out, ids...)
	}
	return out, nil
}

func readIdentities(st Streams, p string) ([]*crypto.Identity, error) {
	f, err := os.Open(p) //nolint:gosec // opening the file the user named is the point
	if err != nil {
		return nil, fileError(p, err)
	}
	defer func() { _ = f.Close() }() // read-only: nothing to lose
	data, err := readBounded(f, maxIdentityFile, p)
	if err != nil {
		return nil, err
	}
	if crypto.IsFile(data) {
		if data, err = decryptIdentityFile(st, p, data); err != nil {
			return nil, err
		}
		defer clear(data)
	}
	ids, err := crypto.ParseIdentities(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("identity file %s: %w", p, err)
	}
	return ids, nil
}

// decryptIdentityFile opens a passphrase-encrypted identity file, asking
// for the passphrase.
func decryptIdentityFile(st Streams, p string, data []byte) ([]byte, error) {
	pass, err := st.passphrase(fmt.Sprintf("Enter passphrase for identity file %q: ", p))
	if err != nil {
		return nil, withHint(fmt.Errorf("identity file %s is encrypted with a passphrase: %w", p, err),
			"run seal where it can ask for the passphrase on a terminal, or give a decrypted identity file")
	}
	plain, err := crypto.DecryptWithPassphrase(data, pass, maxIdentityFile)
	clear(pass)
	if err != nil {
		return nil, fmt.Errorf("identity file %s: %w", p, err)
	}
	return plain, nil
}

// passphrase asks for a passphrase: through Streams.Passphrase when set
// (tests), else on the terminal, as age does, without echo.
func (st Streams) passphrase(prompt string) ([]byte, error) {
	if st.Passphrase != nil {
		return st.Passphrase(prompt)
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		if !isTerminal(st.In) {
			return nil, errors.New("there is no terminal to ask for it")
		}
		tty = st.In.(*os.File)
	} else {
		defer func() { _ = tty.Close() }()
	}
	fmt.Fprint(tty, prompt)
	pass, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return nil, fmt.Errorf("reading the passphrase: %w", err)
	}
	if len(pass) == 0 {
		return nil, errors.New("no passphrase given")
	}
	return pass, nil
}
