package vds

import (
	"fmt"
	"time"
)

const (
	tagSignature   = 0xFF
	maxFeatureSize = 0xFFFF
)

// Feature is one TLV of the message zone, in wire order.
type Feature struct {
	Tag   byte   `json:"tag"`
	Value []byte `json:"value"`
}

// Seal is a decoded VDS. SignedData is the exact header ‖ message zone the
// signature covers; Signature is the raw r‖s of the signature zone.
type Seal struct {
	Header     Header
	Features   []Feature
	Signature  []byte
	SignedData []byte
}

// appendLength writes a DER length: one byte below 0x80, else 0x81 n or 0x82 n n.
func appendLength(out []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(out, byte(n))
	case n <= 0xFF:
		return append(out, 0x81, byte(n))
	default:
		return append(out, 0x82, byte(n>>8), byte(n))
	}
}

func (r *reader) length(field string) (int, error) {
	start := r.off
	b, err := r.take(1, field)
	if err != nil {
		return 0, err
	}
	switch {
	case b[0] < 0x80:
		return int(b[0]), nil
	case b[0] == 0x81 || b[0] == 0x82:
		n := int(b[0] - 0x80)
		v, err := r.take(n, field)
		if err != nil {
			return 0, err
		}
		l := 0
		for _, x := range v {
			l = l<<8 | int(x)
		}
		return l, nil
	}
	return 0, &DecodeError{Offset: start, Field: field,
		Err: fmt.Errorf("%w: length byte 0x%02X (only 0x00-0x7F, 0x81, 0x82)", ErrLength, b[0])}
}

// EncodeUnsigned returns header ‖ message zone: the bytes a signer signs.
func EncodeUnsigned(h Header, features []Feature) ([]byte, error) {
	out, err := h.encode(make([]byte, 0, 128))
	if err != nil {
		return nil, err
	}
	for _, f := range features {
		if f.Tag == tagSignature || f.Tag == 0 {
			return nil, fmt.Errorf("%w: feature tag 0x%02X is reserved", ErrInvalidInput, f.Tag)
		}
		if len(f.Value) > maxFeatureSize {
			return nil, fmt.Errorf("%w: feature 0x%02X has %d bytes", ErrInvalidInput, f.Tag, len(f.Value))
		}
		out = append(out, f.Tag)
		out = appendLength(out, len(f.Value))
		out = append(out, f.Value...)
	}
	return out, nil
}

// appendSignatureZone appends tag 0xFF, the length and the raw signature.
func appendSignatureZone(signed, rawSig []byte) []byte {
	out := make([]byte, 0, len(signed)+3+len(rawSig))
	out = append(out, signed...)
	out = append(out, tagSignature)
	out = appendLength(out, len(rawSig))
	return append(out, rawSig...)
}

// Decode parses a complete seal. It checks structure only, not the
// signature: use Verify or a Verifier for that. Every error is a
// *DecodeError wrapping one of the sentinel errors.
func Decode(b []byte) (*Seal, error) {
	r := &reader{b: b}
	h, err := decodeHeader(r)
	if err != nil {
		return nil, err
	}
	s := &Seal{Header: h}
	for {
		if r.off == len(b) {
			return nil, r.fail("signature", ErrNoSignature)
		}
		tagAt := r.off
		tag := b[r.off]
		r.off++
		if tag == tagSignature {
			s.SignedData = b[:tagAt]
			n, err := r.length("signature.length")
			if err != nil {
				return nil, err
			}
			if n == 0 || n%2 != 0 {
				return nil, r.fail("signature.length", fmt.Errorf("%w: signature of %d bytes is not r‖s", ErrLength, n))
			}
			if s.Signature, err = r.take(n, "signature.value"); err != nil {
				return nil, err
			}
			if r.off != len(b) {
				return nil, r.fail("signature", fmt.Errorf("%w: %d bytes", ErrTrailingData, len(b)-r.off))
			}
			return s, nil
		}
		field := fmt.Sprintf("feature[0x%02X]", tag)
		n, err := r.length(field + ".length")
		if err != nil {
			return nil, err
		}
		v, err := r.take(n, field+".value")
		if err != nil {
			return nil, err
		}
		s.Features = append(s.Features, Feature{Tag: tag, Value: v})
	}
}

// Feature returns the value of the first feature with tag.
func (s *Seal) Feature(tag byte) ([]byte, bool) {
	for _, f := range s.Features {
		if f.Tag == tag {
			return f.Value, true
		}
	}
	return nil, false
}

// dateOnly reduces t to its UTC calendar date.
func dateOnly(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
