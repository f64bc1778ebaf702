package vds

import (
	"errors"
	"fmt"
)

// Sentinel errors; every error returned by this package wraps one of them, so
// callers test with errors.Is.
var (
	ErrTruncated          = errors.New("seal is truncated")
	ErrNotASeal           = errors.New("not a visible digital seal (magic byte is not 0xDC)")
	ErrUnsupportedVersion = errors.New("unsupported seal version")
	ErrC40                = errors.New("invalid C40 data")
	ErrDate               = errors.New("invalid date")
	ErrLength             = errors.New("invalid length")
	ErrNoSignature        = errors.New("seal has no signature zone")
	ErrTrailingData       = errors.New("data after the signature zone")
	ErrNotVisa            = errors.New("seal is not a visa (feature reference 0x5D, category 0x01)")
	ErrFeature            = errors.New("invalid visa feature")
	ErrInvalidInput       = errors.New("invalid value for a seal")
	ErrUnsupportedKey     = errors.New("unsupported signature key")
	ErrBadSignature       = errors.New("signature does not verify")
	ErrUnknownSigner      = errors.New("no certificate for the seal's signer")
	ErrSignerNotValid     = errors.New("signer certificate was not valid on the signature date")
	ErrUntrustedSigner    = errors.New("signer certificate does not chain to a trusted CA")
)

// DecodeError says where in the seal decoding failed and why.
type DecodeError struct {
	Offset int    // byte offset in the seal
	Field  string // what was being read, e.g. "header.issuing_country"
	Err    error  // one of the sentinel errors, possibly wrapped with detail
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("vds: %s at byte %d: %v", e.Field, e.Offset, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// ErrorCode names the reason a seal was rejected, for JSON answers:
// "bad_signature", "unknown_signer", "signer_not_valid", "untrusted_signer",
// "not_a_visa", "truncated" or "malformed"; "" for nil.
func ErrorCode(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrBadSignature), errors.Is(err, ErrUnsupportedKey):
		return "bad_signature"
	case errors.Is(err, ErrUnknownSigner):
		return "unknown_signer"
	case errors.Is(err, ErrSignerNotValid):
		return "signer_not_valid"
	case errors.Is(err, ErrUntrustedSigner):
		return "untrusted_signer"
	case errors.Is(err, ErrNotVisa), errors.Is(err, ErrFeature):
		return "not_a_visa"
	case errors.Is(err, ErrTruncated):
		return "truncated"
	}
	return "malformed"
}
