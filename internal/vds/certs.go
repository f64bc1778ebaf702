package vds

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/brainpool"
)

// SignerCertificate is a document signer certificate as a seal verifier needs
// it. SignerID is the subject's country (C) followed by its common name (CN),
// the convention of BSI TR-03137 and open VDS readers, so a seal's header
// names the certificate by SignerID and serial number (CertRef in hex).
type SignerCertificate struct {
	SignerID  string
	Serial    *big.Int
	Subject   string
	NotBefore time.Time
	NotAfter  time.Time
	PublicKey *ecdsa.PublicKey
	// X509 is nil for certificates Go's x509 package cannot parse (brainpool
	// keys); their chain to a CA is then not checked.
	X509 *x509.Certificate
	Raw  []byte
}

// CertRef is the certificate reference a seal header uses for c: the serial
// number in upper-case hexadecimal.
func (c SignerCertificate) CertRef() string { return strings.ToUpper(c.Serial.Text(16)) }

// matches reports whether the header names c.
func (c SignerCertificate) matches(h Header) bool {
	ref, ok := new(big.Int).SetString(h.CertRef, 16)
	return ok && h.SignerID == c.SignerID && ref.Cmp(c.Serial) == 0
}

// SignerIDOf derives the 4-character signer identifier from a certificate
// subject: country code and a 2-character common name. Empty when the subject
// does not follow that convention.
func SignerIDOf(subject pkix.Name) string {
	if len(subject.Country) != 1 || len(subject.Country[0]) != 2 || len(subject.CommonName) != 2 {
		return ""
	}
	return strings.ToUpper(subject.Country[0] + subject.CommonName)
}

// NewSignerCertificate wraps an x509 certificate with an ECDSA key.
func NewSignerCertificate(cert *x509.Certificate) (SignerCertificate, error) {
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return SignerCertificate{}, fmt.Errorf("%w: certificate %q has a %T key (ECDSA only)",
			ErrUnsupportedKey, cert.Subject, cert.PublicKey)
	}
	return SignerCertificate{
		SignerID: SignerIDOf(cert.Subject), Serial: cert.SerialNumber, Subject: cert.Subject.String(),
		NotBefore: cert.NotBefore, NotAfter: cert.NotAfter, PublicKey: pub, X509: cert, Raw: cert.Raw,
	}, nil
}

// The parts of a certificate a verifier needs, for keys on curves Go's x509
// package does not parse (RFC 5280 layout).
type rawCertificate struct {
	TBS struct {
		Version   int `asn1:"optional,explicit,default:0,tag:0"`
		Serial    *big.Int
		SigAlg    pkix.AlgorithmIdentifier
		Issuer    asn1.RawValue
		Validity  struct{ NotBefore, NotAfter time.Time }
		Subject   asn1.RawValue
		PublicKey struct {
			Algorithm pkix.AlgorithmIdentifier
			Key       asn1.BitString
		}
		IssuerUID  asn1.BitString   `asn1:"optional,tag:1"`
		SubjectUID asn1.BitString   `asn1:"optional,tag:2"`
		Extensions []pkix.Extension `asn1:"omitempty,optional,explicit,tag:3"`
	}
	SigAlg pkix.AlgorithmIdentifier
	Sig    asn1.BitString
}

var (
	oidECPublicKey  = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	brainpoolCurves = map[string]func() elliptic.Curve{
		"1.3.36.3.3.2.8.1.1.7":  brainpool.P256r1,
		"1.3.36.3.3.2.8.1.1.11": brainpool.P384r1,
		"1.3.36.3.3.2.8.1.1.13": brainpool.P512r1,
	}
)

// parseBrainpoolCertificate reads a certificate whose ECDSA key is on a
// brainpool curve. Its signature is not checked (that needs the CA's key).
func parseBrainpoolCertificate(der []byte) (SignerCertificate, error) {
	var rc rawCertificate
	if rest, err := asn1.Unmarshal(der, &rc); err != nil || len(rest) != 0 {
		return SignerCertificate{}, fmt.Errorf("%w: malformed certificate", ErrUnsupportedKey)
	}
	spki := rc.TBS.PublicKey
	var curveOID asn1.ObjectIdentifier
	if !spki.Algorithm.Algorithm.Equal(oidECPublicKey) {
		return SignerCertificate{}, fmt.Errorf("%w: not an EC key", ErrUnsupportedKey)
	}
	if _, err := asn1.Unmarshal(spki.Algorithm.Parameters.FullBytes, &curveOID); err != nil {
		return SignerCertificate{}, fmt.Errorf("%w: EC key without a named curve", ErrUnsupportedKey)
	}
	newCurve, ok := brainpoolCurves[curveOID.String()]
	if !ok {
		return SignerCertificate{}, fmt.Errorf("%w: curve %s", ErrUnsupportedKey, curveOID)
	}
	pub, err := parseUncompressedPoint(newCurve(), spki.Key.RightAlign())
	if err != nil {
		return SignerCertificate{}, err
	}
	var subject pkix.RDNSequence
	if _, err := asn1.Unmarshal(rc.TBS.Subject.FullBytes, &subject); err != nil {
		return SignerCertificate{}, fmt.Errorf("%w: malformed subject", ErrUnsupportedKey)
	}
	var name pkix.Name
	name.FillFromRDNSequence(&subject)
	return SignerCertificate{
		SignerID: SignerIDOf(name), Serial: rc.TBS.Serial, Subject: name.String(),
		NotBefore: rc.TBS.Validity.NotBefore, NotAfter: rc.TBS.Validity.NotAfter, PublicKey: pub, Raw: der,
	}, nil
}

// parseUncompressedPoint reads an uncompressed point (0x04 ‖ X ‖ Y) on curve.
func parseUncompressedPoint(curve elliptic.Curve, b []byte) (*ecdsa.PublicKey, error) {
	size := (curve.Params().BitSize + 7) / 8
	if len(b) != 1+2*size || b[0] != 4 {
		return nil, fmt.Errorf("%w: not an uncompressed %s point", ErrUnsupportedKey, curve.Params().Name)
	}
	x, y := new(big.Int).SetBytes(b[1:1+size]), new(big.Int).SetBytes(b[1+size:])
	if !curve.IsOnCurve(x, y) {
		return nil, fmt.Errorf("%w: point is not on %s", ErrUnsupportedKey, curve.Params().Name)
	}
	return &ecdsa.PublicKey{Curve: curve, X: x, Y: y}, nil
}

// BrainpoolP256r1PublicKey parses an uncompressed brainpoolP256r1 point, for
// states that publish bare keys.
func BrainpoolP256r1PublicKey(b []byte) (*ecdsa.PublicKey, error) {
	return parseUncompressedPoint(brainpool.P256r1(), b)
}

// Verifier checks seals against a set of certificates: CA certificates are
// trust anchors, the others are document signers.
type Verifier struct {
	roots   *x509.CertPool
	nRoots  int
	signers []SignerCertificate
}

// NewVerifier reads PEM "CERTIFICATE" blocks. Certificates with the CA flag
// become trust anchors; the rest are document signers. With no CA in the set,
// signers are trusted as given (a bare signer list).
func NewVerifier(pemData []byte) (*Verifier, error) {
	v := &Verifier{roots: x509.NewCertPool()}
	for rest := pemData; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			sc, berr := parseBrainpoolCertificate(block.Bytes)
			if berr != nil {
				return nil, fmt.Errorf("vds: certificate %d: %w", len(v.signers)+v.nRoots+1, errors.Join(err, berr))
			}
			v.signers = append(v.signers, sc)
			continue
		}
		if cert.IsCA {
			v.roots.AddCert(cert)
			v.nRoots++
			continue
		}
		sc, err := NewSignerCertificate(cert)
		if err != nil {
			return nil, err
		}
		v.signers = append(v.signers, sc)
	}
	if len(v.signers) == 0 {
		return nil, fmt.Errorf("vds: no document signer certificate in the set")
	}
	return v, nil
}

// Result is a verified seal.
type Result struct {
	Seal   *Seal
	Signer SignerCertificate
	// Chained is true when the signer certificate was checked against a CA
	// certificate of the set.
	Chained bool
}

// Verify decodes raw and checks it: a certificate of the set must match the
// header's signer identifier and certificate reference, be valid on the
// signature creation date, chain to a CA of the set (when the set has one and
// the certificate is parseable by Go's x509), and its key must verify the
// signature. The decoded seal is returned with the error when decoding
// succeeded, so callers can show what a rejected seal claims.
func (v *Verifier) Verify(raw []byte) (*Result, error) {
	s, err := Decode(raw)
	if err != nil {
		return nil, err
	}
	res := &Result{Seal: s}
	var candidates []SignerCertificate
	for _, c := range v.signers {
		if c.matches(s.Header) {
			candidates = append(candidates, c)
		}
	}
	if len(candidates) == 0 {
		return res, fmt.Errorf(
			"%w: signer %q, certificate reference %q",
			ErrUnknownSigner,
			s.Header.SignerID,
			s.Header.CertRef,
		)
	}
	var errs []error
	for _, c := range candidates {
		res.Signer = c
		chained, err := v.check(c, s)
		if err == nil {
			res.Chained = chained
			return res, nil
		}
		errs = append(errs, err)
	}
	return res, errs[0]
}

func (v *Verifier) check(c SignerCertificate, s *Seal) (chained bool, err error) {
	signed := s.Header.SignatureDate
	if signed.Before(dateOnly(c.NotBefore)) || signed.After(dateOnly(c.NotAfter)) {
		return false, fmt.Errorf("%w: signed on %s, certificate valid %s to %s", ErrSignerNotValid,
			signed.Format(time.DateOnly), c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly))
	}
	if v.nRoots > 0 && c.X509 != nil {
		// Day granularity: check the chain at a moment of the signing day
		// within the certificate's validity.
		at := signed.Add(12 * time.Hour)
		if at.Before(c.NotBefore) {
			at = c.NotBefore
		}
		if at.After(c.NotAfter) {
			at = c.NotAfter
		}
		_, err := c.X509.Verify(x509.VerifyOptions{Roots: v.roots, CurrentTime: at,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		if err != nil {
			return false, fmt.Errorf("%w: %w", ErrUntrustedSigner, err)
		}
		chained = true
	}
	if err := s.VerifySignature(c.PublicKey); err != nil {
		return false, err
	}
	return chained, nil
}

// Signers lists the document signer certificates of the set.
func (v *Verifier) Signers() []SignerCertificate { return v.signers }
