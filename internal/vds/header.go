package vds

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Wire values of the header.
const (
	magic         = 0xDC
	wireVersion3  = 0x02
	wireVersion4  = 0x03
	v3CertRefLen  = 5 // characters, version 3 only
	signerIDLen   = 4
	maxCertRefLen = 0xFF
)

// Header is the VDS header. Version is the ICAO version number (3 or 4; on the
// wire 0x02 and 0x03). SignerID (4 characters: the state's 2-letter code and 2
// characters naming the signer) and CertRef (the hexadecimal serial number of
// the document signer certificate) together name the certificate that
// verifies the seal. Dates are calendar dates (UTC).
type Header struct {
	Version        int       `json:"version"`
	IssuingCountry string    `json:"issuing_country"`
	SignerID       string    `json:"signer_identifier"`
	CertRef        string    `json:"certificate_reference"`
	IssueDate      time.Time `json:"document_issue_date"`
	SignatureDate  time.Time `json:"signature_creation_date"`
	FeatureRef     byte      `json:"document_feature_definition_reference"`
	TypeCategory   byte      `json:"document_type_category"`
}

// encode appends the wire form of h to out.
func (h Header) encode(out []byte) ([]byte, error) {
	var version byte
	var signer string
	switch h.Version {
	case 3:
		if len(h.CertRef) > v3CertRefLen {
			return nil, fmt.Errorf("%w: a version 3 certificate reference has at most %d characters, got %q",
				ErrInvalidInput, v3CertRefLen, h.CertRef)
		}
		version = wireVersion3
		signer = h.SignerID + strings.Repeat("0", v3CertRefLen-len(h.CertRef)) + h.CertRef
	case 4:
		if len(h.CertRef) == 0 || len(h.CertRef) > maxCertRefLen {
			return nil, fmt.Errorf("%w: certificate reference must have 1-%d characters", ErrInvalidInput, maxCertRefLen)
		}
		version = wireVersion4
		signer = h.SignerID + fmt.Sprintf("%02X", len(h.CertRef)) + h.CertRef
	default:
		return nil, fmt.Errorf("%w: version %d (only 3 and 4)", ErrUnsupportedVersion, h.Version)
	}
	if len(h.IssuingCountry) != 3 {
		return nil, fmt.Errorf("%w: issuing country must have 3 characters, got %q", ErrInvalidInput, h.IssuingCountry)
	}
	if len(h.SignerID) != signerIDLen {
		return nil, fmt.Errorf("%w: signer identifier must have 4 characters, got %q", ErrInvalidInput, h.SignerID)
	}
	country, err := EncodeC40(h.IssuingCountry)
	if err != nil {
		return nil, fmt.Errorf("issuing country: %w", err)
	}
	signerRef, err := EncodeC40(signer)
	if err != nil {
		return nil, fmt.Errorf("signer identifier and certificate reference: %w", err)
	}
	issued, err := EncodeDate(h.IssueDate)
	if err != nil {
		return nil, fmt.Errorf("document issue date: %w", err)
	}
	signed, err := EncodeDate(h.SignatureDate)
	if err != nil {
		return nil, fmt.Errorf("signature creation date: %w", err)
	}
	out = append(out, magic, version)
	out = append(out, country...)
	out = append(out, signerRef...)
	out = append(out, issued[:]...)
	out = append(out, signed[:]...)
	return append(out, h.FeatureRef, h.TypeCategory), nil
}

// reader walks a seal and reports errors with their offset.
type reader struct {
	b   []byte
	off int
}

func (r *reader) fail(field string, err error) error {
	return &DecodeError{Offset: r.off, Field: field, Err: err}
}

func (r *reader) take(n int, field string) ([]byte, error) {
	if n < 0 || len(r.b)-r.off < n {
		return nil, r.fail(field, fmt.Errorf("%w: need %d bytes, %d left", ErrTruncated, n, len(r.b)-r.off))
	}
	v := r.b[r.off : r.off+n]
	r.off += n
	return v, nil
}

func (r *reader) c40(n int, field string) (string, error) {
	start := r.off
	b, err := r.take(n, field)
	if err != nil {
		return "", err
	}
	s, err := DecodeC40(b)
	if err != nil {
		return "", &DecodeError{Offset: start, Field: field, Err: err}
	}
	return s, nil
}

func (r *reader) date(field string) (time.Time, error) {
	start := r.off
	b, err := r.take(3, field)
	if err != nil {
		return time.Time{}, err
	}
	t, err := DecodeDate([3]byte(b))
	if err != nil {
		return time.Time{}, &DecodeError{Offset: start, Field: field, Err: err}
	}
	return t, nil
}

func decodeHeader(r *reader) (Header, error) {
	var h Header
	mv, err := r.take(2, "header.magic")
	if err != nil {
		return h, err
	}
	if mv[0] != magic {
		r.off = 0
		return h, r.fail("header.magic", ErrNotASeal)
	}
	if h.IssuingCountry, err = r.c40(2, "header.issuing_country"); err != nil {
		return h, err
	}
	switch mv[1] {
	case wireVersion3:
		h.Version = 3
		s, err := r.c40(6, "header.signer")
		if err != nil {
			return h, err
		}
		if len(s) != signerIDLen+v3CertRefLen {
			return h, r.fail("header.signer", fmt.Errorf("%w: %d characters instead of 9", ErrC40, len(s)))
		}
		h.SignerID, h.CertRef = s[:signerIDLen], s[signerIDLen:]
	case wireVersion4:
		h.Version = 4
		s, err := r.c40(4, "header.signer")
		if err != nil {
			return h, err
		}
		if len(s) != 6 {
			return h, r.fail("header.signer", fmt.Errorf("%w: signer identifier and length are not 6 characters", ErrC40))
		}
		n, perr := strconv.ParseUint(s[signerIDLen:], 16, 8)
		if perr != nil || n == 0 {
			return h, r.fail("header.certificate_reference_length",
				fmt.Errorf("%w: %q is not a hexadecimal length", ErrLength, s[signerIDLen:]))
		}
		h.SignerID = s[:signerIDLen]
		if h.CertRef, err = r.c40(c40Len(int(n)), "header.certificate_reference"); err != nil {
			return h, err
		}
		if len(h.CertRef) != int(n) {
			return h, r.fail("header.certificate_reference",
				fmt.Errorf("%w: %d characters, header says %d", ErrLength, len(h.CertRef), n))
		}
	default:
		r.off = 1
		return h, r.fail("header.version", fmt.Errorf("%w: 0x%02X", ErrUnsupportedVersion, mv[1]))
	}
	if h.IssueDate, err = r.date("header.document_issue_date"); err != nil {
		return h, err
	}
	if h.SignatureDate, err = r.date("header.signature_creation_date"); err != nil {
		return h, err
	}
	ft, err := r.take(2, "header.document_feature_definition_reference")
	if err != nil {
		return h, err
	}
	h.FeatureRef, h.TypeCategory = ft[0], ft[1]
	return h, nil
}
