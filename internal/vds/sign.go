package vds

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	_ "crypto/sha256" // SHA-224 and SHA-256 for 224- and 256-bit curves
	_ "crypto/sha512" // SHA-384 and SHA-512 for 384- and 512/521-bit curves
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"
)

// hashFor picks the hash Part 13 pairs with the curve's size, and the byte
// length of r and s in the raw signature.
func hashFor(curve elliptic.Curve) (crypto.Hash, int) {
	bits := curve.Params().BitSize
	h := crypto.SHA512
	switch {
	case bits <= 224:
		h = crypto.SHA224
	case bits <= 256:
		h = crypto.SHA256
	case bits <= 384:
		h = crypto.SHA384
	}
	return h, (bits + 7) / 8
}

// Sign encodes the header and features and signs them with signer, whose
// public key must be ECDSA. With rand nil an *ecdsa.PrivateKey signs
// deterministically (RFC 6979), so the same input always gives the same seal;
// hardware signers generally need a real random source. The signature is
// checked before it is returned, so a faulty signer cannot emit a bad seal.
func Sign(signer crypto.Signer, rand io.Reader, h Header, features []Feature) ([]byte, error) {
	pub, ok := signer.Public().(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: %T (ECDSA only)", ErrUnsupportedKey, signer.Public())
	}
	signed, err := EncodeUnsigned(h, features)
	if err != nil {
		return nil, err
	}
	hash, size := hashFor(pub.Curve)
	d := hash.New()
	d.Write(signed)
	der, err := signer.Sign(rand, d.Sum(nil), hash)
	if err != nil {
		return nil, fmt.Errorf("vds: signing: %w", err)
	}
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &rs); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("vds: signer returned a malformed ECDSA signature")
	}
	if rs.R.Sign() <= 0 || rs.S.Sign() <= 0 || rs.R.BitLen() > size*8 || rs.S.BitLen() > size*8 {
		return nil, fmt.Errorf("vds: signer returned an out-of-range ECDSA signature")
	}
	raw := make([]byte, 2*size)
	rs.R.FillBytes(raw[:size])
	rs.S.FillBytes(raw[size:])
	if err := verifyRaw(pub, signed, raw); err != nil {
		return nil, fmt.Errorf("vds: signer produced a signature that does not verify: %w", err)
	}
	return appendSignatureZone(signed, raw), nil
}

// SignVisa signs a visa seal: h gets the visa feature reference and category.
func SignVisa(signer crypto.Signer, rand io.Reader, h Header, v Visa) ([]byte, error) {
	fs, err := v.Features()
	if err != nil {
		return nil, err
	}
	return Sign(signer, rand, VisaHeader(h), fs)
}

// VerifySignature checks the seal's signature with pub alone; it does not
// look at certificates or dates (a Verifier does).
func (s *Seal) VerifySignature(pub *ecdsa.PublicKey) error {
	return verifyRaw(pub, s.SignedData, s.Signature)
}

func verifyRaw(pub *ecdsa.PublicKey, signed, raw []byte) error {
	if pub == nil || pub.Curve == nil {
		return fmt.Errorf("%w: no public key", ErrUnsupportedKey)
	}
	hash, size := hashFor(pub.Curve)
	if len(raw) != 2*size {
		return fmt.Errorf("%w: signature has %d bytes, a %s key signs %d", ErrBadSignature, len(raw),
			pub.Curve.Params().Name, 2*size)
	}
	d := hash.New()
	d.Write(signed)
	r := new(big.Int).SetBytes(raw[:size])
	s := new(big.Int).SetBytes(raw[size:])
	if !ecdsa.Verify(pub, d.Sum(nil), r, s) {
		return ErrBadSignature
	}
	return nil
}
