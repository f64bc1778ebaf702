package domain

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Machine codes used in FieldError.Code.
const (
	CodeRequired               = "required"
	CodeTooLong                = "too_long"
	CodeOneOf                  = "one_of"
	CodeInvalidEmail           = "invalid_email"
	CodeInvalidPhone           = "invalid_phone"
	CodeInvalidFormat          = "invalid_format"
	CodeInvalidCountry         = "invalid_country"
	CodeInvalidDate            = "invalid_date"
	CodeNotEligibleNationality = "not_eligible_nationality"
	CodeIssueDateInFuture      = "issue_date_in_future"
	CodeExpiryBeforeIssue      = "expiry_before_issue"
	CodePassportValidity       = "passport_validity"
	CodeDateInFuture           = "date_in_future"
	CodeUnderage               = "underage"
	CodeArrivalOutOfRange      = "arrival_out_of_range"
	CodeEvidenceRequired       = "evidence_required"
	CodeMRZFormat              = "mrz_format"
	CodeMRZCheckDigit          = "mrz_check_digit"
	CodeMRZMismatch            = "mrz_mismatch"
	CodeOutOfRange             = "out_of_range"
	CodeNotAMember             = "not_a_member"
	CodeMembershipLapsed       = "membership_lapsed"
	CodeRosterMismatch         = "roster_mismatch"
	// CodeMembershipNotVerified is the one reason an applicant reads for any
	// roster failure (ApplicantReasons); officers see the detail.
	CodeMembershipNotVerified = "membership_not_verified"
)

// FieldError is one problem with the submitted application, located by an
// RFC 6901 JSON pointer into the submitted document.
type FieldError struct {
	Pointer string `json:"pointer"` // e.g. "/passport/expiry_date"
	Detail  string `json:"detail"`  // human sentence; never contains submitted values
	Code    string `json:"code"`    // machine code, see the Code* constants
	// Column names the CSV column of a batch row's field, when it has one.
	Column string `json:"column,omitempty"`
}

// FieldErrors is a list of field errors; it implements error.
//
// Beware the nil-slice-in-interface trap: assigning a nil FieldErrors to an
// error variable yields a non-nil error. Use Err to convert safely.
type FieldErrors []FieldError

// Error lists the offending pointers only, so the message is safe to log:
// details and values are deliberately left out.
func (fe FieldErrors) Error() string {
	if len(fe) == 0 {
		return "no invalid fields"
	}
	var b strings.Builder
	b.WriteString(strconv.Itoa(len(fe)))
	if len(fe) == 1 {
		b.WriteString(" invalid field: ")
	} else {
		b.WriteString(" invalid fields: ")
	}
	for i, e := range fe {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.Pointer)
	}
	return b.String()
}

// Err returns fe as an error, or a nil error when fe is empty.
func (fe FieldErrors) Err() error {
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// Has reports whether fe contains an error with the given pointer and code.
func (fe FieldErrors) Has(pointer, code string) bool {
	return slices.ContainsFunc(fe, func(e FieldError) bool {
		return e.Pointer == pointer && e.Code == code
	})
}

// sortFieldErrors orders errors by pointer, then code (then detail, so the
// output is fully deterministic even for duplicate pointer/code pairs).
func sortFieldErrors(fe FieldErrors) {
	slices.SortStableFunc(fe, func(a, b FieldError) int {
		return cmp.Or(
			strings.Compare(a.Pointer, b.Pointer),
			strings.Compare(a.Code, b.Code),
			strings.Compare(a.Detail, b.Detail),
		)
	})
}

// jsonPointer builds an RFC 6901 pointer from reference tokens.
func jsonPointer(tokens ...string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escapePointerToken(t))
	}
	return b.String()
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

func escapePointerToken(t string) string {
	return pointerEscaper.Replace(t)
}
