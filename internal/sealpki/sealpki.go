// Package sealpki keeps the keys that sign visad's visible digital seals the
// way a state keeps them: a country signing CA (self-signed, long-lived,
// offline in production) issues document signer certificates (short key
// usage period), and every seal names its signer in the header. Old signer
// certificates stay in the published set after rotation, so seals they
// signed keep verifying.
package sealpki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"slices"
	"time"

	"github.com/visad/visad/internal/vds"
)

// Identity of visad's signing authority.
const (
	Country        = "PK"  // ISO 3166 alpha-2, first half of the signer identifier
	IssuingState   = "PAK" // ICAO code written in the seal header
	SignerName     = "VD"  // second half of the signer identifier: "PKVD"
	Organization   = "visad"
	CAValidity     = 15 * 365 * 24 * time.Hour
	KeyUsagePeriod = 365 * 24 * time.Hour
	// A signer certificate outlives its key's usage period by the longest
	// visa validity, as Doc 9303 Part 12 advises for document signers.
	SignerValidity = KeyUsagePeriod + 5*366*24*time.Hour
)

// PKI is the CA, the published document signer certificates and the active
// signer's key.
type PKI struct {
	ca      *x509.Certificate
	signers []*x509.Certificate // published, oldest first; the active one included
	active  *x509.Certificate
	key     crypto.Signer
}

// New checks and assembles a PKI: every signer certificate must be issued by
// ca, and key must belong to active (which is added to signers if missing).
// Any crypto.Signer works as key, so an HSM or KMS can sign.
func New(ca *x509.Certificate, signers []*x509.Certificate, active *x509.Certificate, key crypto.Signer) (*PKI, error) {
	if ca == nil || active == nil || key == nil {
		return nil, errors.New("sealpki: CA certificate, active signer certificate and key are required")
	}
	if !ca.IsCA {
		return nil, fmt.Errorf("sealpki: %q is not a CA certificate", ca.Subject)
	}
	if !slices.ContainsFunc(signers, active.Equal) {
		signers = append(slices.Clone(signers), active)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	for _, c := range signers {
		if _, err := c.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: c.NotBefore,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			return nil, fmt.Errorf("sealpki: signer certificate %s is not issued by the CA: %w", c.SerialNumber.Text(16), err)
		}
		if vds.SignerIDOf(c.Subject) == "" {
			return nil, fmt.Errorf("sealpki: signer certificate %q: subject needs C and a 2-character CN", c.Subject)
		}
	}
	pub, ok := key.Public().(*ecdsa.PublicKey)
	if !ok || !pub.Equal(active.PublicKey) {
		return nil, errors.New("sealpki: the signing key does not belong to the active signer certificate")
	}
	slices.SortStableFunc(signers, func(a, b *x509.Certificate) int { return a.NotBefore.Compare(b.NotBefore) })
	return &PKI{ca: ca, signers: signers, active: active, key: key}, nil
}

// CA returns the country signing CA certificate.
func (p *PKI) CA() *x509.Certificate { return p.ca }

// Active returns the certificate of the signer that signs new seals.
func (p *PKI) Active() *x509.Certificate { return p.active }

// Signer returns the active signer's key.
func (p *PKI) Signer() crypto.Signer { return p.key }

// Header returns a seal header naming the active signer: signer identifier
// "PKVD" style and the certificate's serial number as reference.
func (p *PKI) Header(issueDate, signatureDate time.Time) vds.Header {
	return vds.Header{
		Version: 4, IssuingCountry: IssuingState,
		SignerID: vds.SignerIDOf(p.active.Subject), CertRef: certRef(p.active),
		IssueDate: issueDate, SignatureDate: signatureDate,
	}
}

// SignVisa signs a visa seal with the active signer. A software ECDSA key
// signs deterministically (RFC 6979): the same visa and dates always give the
// same seal bytes, which keeps a retried issuing step idempotent.
func (p *PKI) SignVisa(issueDate, signatureDate time.Time, v vds.Visa) ([]byte, error) {
	var random = rand.Reader
	if _, ok := p.key.(*ecdsa.PrivateKey); ok {
		random = nil
	}
	return vds.SignVisa(p.key, random, p.Header(issueDate, signatureDate), v)
}

// PublishedPEM is the certificate set a verifier needs: the CA, then every
// signer certificate, oldest first (GET /.well-known/visad/seal-certificates).
func (p *PKI) PublishedPEM() []byte {
	var b bytes.Buffer
	for _, c := range append([]*x509.Certificate{p.ca}, p.signers...) {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

// Verifier checks seals against the published set.
func (p *PKI) Verifier() (*vds.Verifier, error) { return vds.NewVerifier(p.PublishedPEM()) }

func certRef(c *x509.Certificate) string {
	return vds.SignerCertificate{Serial: c.SerialNumber}.CertRef()
}

// newSerial draws a random serial of exactly 8 hex digits, so certificate
// references are short and distinct.
func newSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(0xF0000000))
	if err != nil {
		return nil, err
	}
	return n.Add(n, big.NewInt(0x10000000)), nil
}

// NewCA creates a self-signed country signing CA on P-256.
func NewCA(commonName string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{Country: []string{Country}, Organization: []string{Organization}, CommonName: commonName},
		NotBefore:    now.Add(-time.Hour), NotAfter: now.Add(CAValidity),
		IsCA: true, BasicConstraintsValid: true, MaxPathLen: 0, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

// NewSigner creates a document signer key on P-256 and its certificate,
// issued by ca, valid from now for SignerValidity.
func NewSigner(ca *x509.Certificate, caKey crypto.Signer, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{Country: []string{Country}, Organization: []string{Organization},
			OrganizationalUnit: []string{"Visa document signer"}, CommonName: SignerName},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(SignerValidity),
		KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

// Files names the PEM files of a production PKI (VISA_SEAL_* settings).
type Files struct {
	CACert     string // the CA certificate
	SignerCert string // the active signer's certificate
	SignerKey  string // the active signer's PKCS#8 private key (mode 0600)
	// RetiredCerts are files of earlier signer certificates (PEM blocks)
	// that stay published so their seals keep verifying. A file with no PEM
	// block at all is an empty list: `visad seal init` writes one before the
	// first rotation, so the setting never has to change.
	RetiredCerts []string
}

// Load reads a PKI from files. The CA key is not needed (it stays offline).
func Load(f Files) (*PKI, error) {
	ca, err := readCert(f.CACert)
	if err != nil {
		return nil, err
	}
	active, err := readCert(f.SignerCert)
	if err != nil {
		return nil, err
	}
	key, err := readKey(f.SignerKey)
	if err != nil {
		return nil, err
	}
	var signers []*x509.Certificate
	for _, name := range f.RetiredCerts {
		certs, err := readCertsOrNone(name)
		if err != nil {
			return nil, err
		}
		signers = append(signers, certs...)
	}
	return New(ca, signers, active, key)
}

func readCerts(name string) ([]*x509.Certificate, error) {
	certs, err := readCertsOrNone(name)
	if err == nil && len(certs) == 0 {
		err = fmt.Errorf("sealpki: %s holds no PEM certificate", name)
	}
	return certs, err
}

// readCertsOrNone reads the certificates of a PEM file; a file without any
// PEM block gives none, one whose blocks hold no certificate is an error.
func readCertsOrNone(name string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("sealpki: %w", err)
	}
	var certs []*x509.Certificate
	blocks := 0
	for rest := data; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		blocks++
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("sealpki: %s: %w", name, err)
		}
		certs = append(certs, c)
	}
	if blocks > 0 && len(certs) == 0 {
		return nil, fmt.Errorf("sealpki: %s holds no PEM certificate", name)
	}
	return certs, nil
}

func readCert(name string) (*x509.Certificate, error) {
	certs, err := readCerts(name)
	if err != nil {
		return nil, err
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("sealpki: %s holds %d certificates, want 1", name, len(certs))
	}
	return certs[0], nil
}

func readKey(name string) (crypto.Signer, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("sealpki: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("sealpki: %s holds no PEM \"PRIVATE KEY\" (PKCS#8)", name)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("sealpki: %s: %w", name, err)
	}
	signer, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("sealpki: %s: %T is not an ECDSA key", name, key)
	}
	return signer, nil
}
