package sealpki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/visad/visad/internal/vds"
)

// The revocation list lets an offline reader learn which visas visad has
// revoked. It is JSON, signed by the active document signer: an ECDSA
// signature (SHA-256, ASN.1 DER, as openssl dgst writes it) over the exact
// bytes of the JSON, sent base64-encoded in the RevocationSignatureHeader,
// and the signer's certificate reference in RevocationSignerHeader. A reader
// checks the signature with the published certificate of that serial.
const (
	RevocationSignatureHeader = "Visad-Signature"
	RevocationSignerHeader    = "Visad-Signer"
	// RevocationListValidity is how long a list is current; readers should
	// fetch a new one by next_update.
	RevocationListValidity = 24 * time.Hour
)

// RevocationList is the signed list of revoked visas.
type RevocationList struct {
	Issuer     string            `json:"issuer"` // the issuing state, "PAK"
	IssuedAt   time.Time         `json:"issued_at"`
	NextUpdate time.Time         `json:"next_update"`
	Signer     string            `json:"signer_certificate_reference"`
	Entries    []RevocationEntry `json:"entries"`
}

// RevocationEntry is one revoked visa. MRZVisaNumber is the visa number as
// the seal's MRZ carries it, which is what a reader of the seal can compare.
type RevocationEntry struct {
	VisaNumber    string    `json:"visa_number"`
	MRZVisaNumber string    `json:"mrz_visa_number"`
	RevokedAt     time.Time `json:"revoked_at"`
	ReasonCode    string    `json:"reason_code"`
}

// Find returns the entry whose MRZ visa number is mrzNumber.
func (l RevocationList) Find(mrzNumber string) (RevocationEntry, bool) {
	for _, e := range l.Entries {
		if e.MRZVisaNumber == mrzNumber {
			return e, true
		}
	}
	return RevocationEntry{}, false
}

// SignRevocationList fills in the issuer, dates and signer and signs the
// list with the active document signer. It returns the exact JSON body and
// the DER signature over it.
func (p *PKI) SignRevocationList(entries []RevocationEntry, now time.Time) (body, signature []byte, err error) {
	if entries == nil {
		entries = []RevocationEntry{}
	}
	now = now.UTC().Truncate(time.Second)
	list := RevocationList{Issuer: IssuingState, IssuedAt: now, NextUpdate: now.Add(RevocationListValidity),
		Signer: certRef(p.active), Entries: entries}
	body, err = json.MarshalIndent(list, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	body = append(body, '\n')
	digest := sha256.Sum256(body)
	// ECDSA signers return ASN.1 DER; a fresh random nonce is fine, the list is re-signed on every request.
	signature, err = p.key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, nil, fmt.Errorf("sealpki: sign revocation list: %w", err)
	}
	return body, signature, nil
}

// Errors of VerifyRevocationList.
var (
	ErrRevocationSigner    = errors.New("revocation list: no published signer certificate of that reference")
	ErrRevocationSignature = errors.New("revocation list: signature does not verify")
	ErrRevocationList      = errors.New("revocation list: not a valid list")
)

// VerifyRevocationList checks a list's signature with the certificate set
// (PEM, as published): the signer named by certRef must be in the set, chain
// to a CA of the set (when the set has one), and its key must verify the
// signature over body.
func VerifyRevocationList(body, signature []byte, certRef string, pemSet []byte) (RevocationList, error) {
	verifier, err := vds.NewVerifier(pemSet)
	if err != nil {
		return RevocationList{}, err
	}
	var signer *vds.SignerCertificate
	for _, c := range verifier.Signers() {
		if strings.EqualFold(c.CertRef(), certRef) {
			signer = &c
			break
		}
	}
	if signer == nil {
		return RevocationList{}, fmt.Errorf("%w: %q", ErrRevocationSigner, certRef)
	}
	digest := sha256.Sum256(body)
	if !ecdsa.VerifyASN1(signer.PublicKey, digest[:], signature) {
		return RevocationList{}, ErrRevocationSignature
	}
	var list RevocationList
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&list); err != nil {
		return RevocationList{}, fmt.Errorf("%w: %v", ErrRevocationList, err)
	}
	if !strings.EqualFold(list.Signer, certRef) {
		return RevocationList{}, fmt.Errorf("%w: signed by %s but names %s", ErrRevocationList, certRef, list.Signer)
	}
	if err := chainsToCA(signer.X509, pemSet, list.IssuedAt); err != nil {
		return RevocationList{}, err
	}
	return list, nil
}

// chainsToCA checks cert against the CA certificates of pemSet on day at;
// a set without a CA trusts its signers as given.
func chainsToCA(cert *x509.Certificate, pemSet []byte, at time.Time) error {
	if cert == nil {
		return nil
	}
	roots := x509.NewCertPool()
	hasCA := false
	for rest := pemSet; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		if c, err := x509.ParseCertificate(block.Bytes); err == nil && c.IsCA {
			roots.AddCert(c)
			hasCA = true
		}
	}
	if !hasCA {
		return nil
	}
	if at.Before(cert.NotBefore) {
		at = cert.NotBefore
	}
	if at.After(cert.NotAfter) {
		at = cert.NotAfter
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return fmt.Errorf("revocation list: signer certificate does not chain to the CA: %w", err)
	}
	return nil
}
