package webhookcert

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"time"
)

// certBundle is the content of the webhook certificate Secret.
type certBundle struct {
	caPEM   []byte // CA bundle: current CA first, then the previous one
	certPEM []byte // serving certificate
	keyPEM  []byte // serving key
}

// backdate lets a peer whose clock is a little behind accept a new certificate.
const backdate = time.Hour

// issueCerts makes a new CA and a serving certificate for hosts valid from
// now for validity. The CA key signs once and is dropped: nothing can issue
// another certificate under this CA afterwards. previousCA (PEM, may be nil)
// is kept in the bundle while it is still valid.
func issueCerts(now time.Time, validity time.Duration, hosts []string, previousCA []byte) (*certBundle, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	notBefore, notAfter := now.Add(-backdate), now.Add(validity)
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "seal-controller-webhook-ca"},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("creating webhook CA: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: hosts[0]},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("creating webhook serving certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	b := &certBundle{
		caPEM:   pemBlock("CERTIFICATE", caDER),
		certPEM: pemBlock("CERTIFICATE", der),
		keyPEM:  pemBlock("PRIVATE KEY", keyDER),
	}
	if prev, err := firstCert(previousCA); err == nil && now.Before(prev.NotAfter) {
		b.caPEM = append(b.caPEM, pemBlock("CERTIFICATE", prev.Raw)...)
	}
	return b, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return n
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func firstCert(pemData []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(pemData)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

// renewReason says why b must be replaced at now for hosts ("" when it
// need not be): unreadable, key not matching, not issued by its CA, names
// other than hosts, or past two thirds of its life. It also returns when
// the certificate is due for renewal.
func renewReason(b *certBundle, now time.Time, hosts []string) (string, time.Time) {
	if _, err := tls.X509KeyPair(b.certPEM, b.keyPEM); err != nil {
		return "certificate and key unreadable or not matching", time.Time{}
	}
	leaf, err := firstCert(b.certPEM)
	if err != nil {
		return "certificate unreadable", time.Time{}
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b.caPEM) {
		return "CA bundle unreadable", time.Time{}
	}
	opts := x509.VerifyOptions{Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if _, err := leaf.Verify(opts); err != nil {
		return "certificate not valid under its CA bundle", time.Time{}
	}
	if !slices.Equal(sortedCopy(certNames(leaf)), sortedCopy(hosts)) {
		return "certificate names changed", time.Time{}
	}
	due := leaf.NotBefore.Add(leaf.NotAfter.Sub(leaf.NotBefore) * 2 / 3)
	if !now.Before(due) {
		return "certificate due for renewal", due
	}
	return "", due
}

func certNames(c *x509.Certificate) []string {
	names := slices.Clone(c.DNSNames)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	return names
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

func (b *certBundle) equal(o *certBundle) bool {
	return bytes.Equal(b.caPEM, o.caPEM) && bytes.Equal(b.certPEM, o.certPEM) && bytes.Equal(b.keyPEM, o.keyPEM)
}
