package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The e-visa's rules: how a visa number and a passport number fit the
// 9-character fields of the visa MRZ and the visible digital seal, what goes
// into the seal, and why a visa may be revoked.

// RevocationReasons is the catalogue of machine codes a supervisor gives when
// revoking an issued visa.
var RevocationReasons = []string{
	"issued_in_error",
	"fraud_or_misrepresentation",
	"security_concern",
	"passport_lost_or_stolen",
	"holder_request",
	"conditions_breached",
}

// IsRevocationReason reports whether code is in RevocationReasons.
func IsRevocationReason(code string) bool { return slices.Contains(RevocationReasons, code) }

// visaNumberLen is the length of a visa number such as "PK2Y-26-7K3M9Q2X-4":
// country and product, issue year, 8 characters derived from the application
// id, a check character.
const visaNumberLen = 18

// VisaMRZNumber maps a visa number to the 9 characters of the MRZ's (and the
// seal's) document number field: the 8-character random part and the check
// character, e.g. "PK2Y-26-7K3M9Q2X-4" → "7K3M9Q2X4". The issued visas'
// random parts are unique (a database index), so this number names one visa.
// ok is false for a number of another shape.
func VisaMRZNumber(visaNumber string) (mrz string, ok bool) {
	if len(visaNumber) != visaNumberLen || !strings.HasPrefix(visaNumber, "PK") || visaNumber[4] != '-' ||
		visaNumber[7] != '-' || visaNumber[16] != '-' {
		return "", false
	}
	mrz = visaNumber[8:16] + visaNumber[17:]
	if !isMRZCharset(mrz) || strings.Contains(mrz, string(mrzFiller)) {
		return "", false
	}
	return mrz, true
}

// sealPassportChars is the width of the seal's passport number feature.
const sealPassportChars = 9

// SealPassportNumber is the passport number as the seal carries it: at most 9
// characters. A longer number (visad accepts up to 20) keeps its first 9, which
// is what the passport's own TD3 MRZ shows in its document number field (Doc
// 9303 Part 4: the rest goes to the optional data, which the seal has no room
// for). A reader compares it with that MRZ field; the PDF prints the full number.
func SealPassportNumber(number string) string {
	number = strings.ToUpper(strings.ReplaceAll(number, " ", ""))
	if len(number) > sealPassportChars {
		return number[:sealPassportChars]
	}
	return number
}

// SealEntries is the seal's number-of-entries feature: 0 means multiple.
func SealEntries(entries string) (int, error) {
	switch entries {
	case "single":
		return 1, nil
	case "double":
		return 2, nil
	case "multiple":
		return 0, nil
	}
	return 0, fmt.Errorf("unknown number of entries %q", entries)
}

// EVisaFields are what the visa MRZ and seal of an issued visa are built from.
type EVisaFields struct {
	VisaNumber  string
	Surname     string
	GivenNames  string
	Nationality string // ICAO 3-letter code
	DateOfBirth string // YYYY-MM-DD
	Sex         string
	ValidUntil  string // YYYY-MM-DD
}

// IssuingState is visad's state in MRZs and seals.
const IssuingState = "PAK"

// BuildEVisaMRZ returns the MRV-A MRZ of an issued visa, without optional data
// (a seal cannot carry it, and the printed and sealed MRZ must agree).
func BuildEVisaMRZ(f EVisaFields) ([2]string, error) {
	number, ok := VisaMRZNumber(f.VisaNumber)
	if !ok {
		return [2]string{}, fmt.Errorf("%w: visa number %q is not of the form PK2Y-26-XXXXXXXX-C", ErrVisaMRZ, f.VisaNumber)
	}
	birth, ok := ParseDate(f.DateOfBirth)
	if !ok {
		return [2]string{}, fmt.Errorf("%w: birth date is not a date", ErrVisaMRZ)
	}
	until, ok := ParseDate(f.ValidUntil)
	if !ok {
		return [2]string{}, fmt.Errorf("%w: valid-until is not a date", ErrVisaMRZ)
	}
	return BuildVisaMRZ(VisaMRZFields{
		IssuingState: IssuingState, Surname: f.Surname, GivenNames: f.GivenNames, VisaNumber: number,
		Nationality: f.Nationality, BirthDate: birth, Sex: f.Sex, ValidUntil: until,
	}, MRVALineLen)
}

// SealSignatureDate is the seal's signature creation date: the day of issue,
// or the first day of the signer certificate's validity when that is later (a
// retried issuing step after a signer rotation), so a verifier that checks the
// certificate on the signature date accepts it. It depends on its inputs only,
// which keeps a retried signature identical.
func SealSignatureDate(issuedOn, signerNotBefore time.Time) time.Time {
	day := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }
	d := day(issuedOn.UTC())
	if nb := day(signerNotBefore.UTC()); d.Before(nb) {
		return nb
	}
	return d
}
