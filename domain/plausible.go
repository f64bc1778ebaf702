package domain

import "time"

// Plausible ranges for the dates of a person and a passport. They refuse
// values no real document carries (0001-01-01, 9999-12-31) without judging
// anything a genuine applicant could present.
//
//   - Birth date: not before 1900-01-01 (the oldest living people were born
//     after 1900) and, as before, not in the future.
//   - Passport validity: ICAO Doc 9303 leaves the validity period to the
//     issuing state; ordinary passports are issued for at most 10 years
//     (Kazakhstan: 10). maxPassportValidityYears adds slack for extensions
//     and emergency documents, so the expiry may be at most that many years
//     after the issue date, and the issue date at most that many years in the
//     past (an older passport has necessarily expired).
//   - A passport cannot be issued before its holder was born.
const maxPassportValidityYears = 15

// earliestBirthDate is the first plausible date of birth.
var earliestBirthDate = time.Date(1900, time.January, 1, 0, 0, 0, 0, time.UTC)

// CodeDateOutOfRange marks a date outside its plausible range.
const CodeDateOutOfRange = "date_out_of_range"

// plausibleDates checks the ranges above; each date is used only when it is
// structurally valid.
func (r *rules) plausibleDates() {
	a, p := r.app.Applicant, r.app.Passport
	birth, birthOK := r.date(ptrDateOfBirth, a.DateOfBirth)
	issue, issueOK := r.date(ptrIssueDate, p.IssueDate)
	expiry, expiryOK := r.date(ptrExpiryDate, p.ExpiryDate)

	if birthOK && birth.Before(earliestBirthDate) {
		r.add(ptrDateOfBirth, CodeDateOutOfRange, "must not be before 1900-01-01")
	}
	// An implausible birth date is reported once, at its own field.
	birthOK = birthOK && !birth.Before(earliestBirthDate) && !birth.After(r.today)
	switch {
	case !issueOK:
	case issue.Before(addDateClamped(r.today, -maxPassportValidityYears, 0)):
		r.add(ptrIssueDate, CodeDateOutOfRange, "must not be more than 15 years ago")
	case birthOK && issue.Before(birth):
		r.add(ptrIssueDate, CodeDateOutOfRange, "must not be before the date of birth")
	}
	latestExpiry := addDateClamped(r.today, maxPassportValidityYears, 0)
	if issueOK {
		latestExpiry = addDateClamped(issue, maxPassportValidityYears, 0)
	}
	if expiryOK && expiry.After(latestExpiry) {
		r.add(ptrExpiryDate, CodeDateOutOfRange, "must not be more than 15 years after the issue date")
	}
}

// NormalizePassportNumber removes white space and upper-cases ASCII letters.
func NormalizePassportNumber(s string) string { return asciiUpper(removeSpace(s)) }

// asciiUpper upper-cases ASCII letters only. strings.ToUpper would turn the
// Turkish dotless "ı" into "I" and so let "ıb123456" pass as "IB123456";
// leaving every other rune alone lets the document-number pattern refuse it.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
