package domain

import "time"

// dateLayout is the only date format accepted on the wire.
const dateLayout = "2006-01-02"

// ParseDate parses a strict YYYY-MM-DD calendar date and returns it at UTC
// midnight. Impossible dates such as 2026-02-30 and any other spelling
// (single-digit months, surrounding spaces, time parts) are rejected.
func ParseDate(s string) (time.Time, bool) {
	if len(s) != len(dateLayout) {
		return time.Time{}, false
	}
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return time.Time{}, false
	}
	// Round-tripping guards against anything time.Parse is lenient about.
	if t.Format(dateLayout) != s {
		return time.Time{}, false
	}
	return t, true
}

// dateOf truncates t to its calendar date in UTC, at midnight.
func dateOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// addDateClamped adds years and months to a date, clamping the day to the
// last day of the target month instead of overflowing into the next one as
// time.AddDate does: 2028-02-29 + 2y is 2030-02-28 (not 2030-03-01) and
// 2026-08-31 + 6m is 2027-02-28. This keeps "N years/months later" from ever
// landing in a later month than intended.
func addDateClamped(t time.Time, years, months int) time.Time {
	t = dateOf(t)
	first := time.Date(t.Year()+years, t.Month()+time.Month(months), 1, 0, 0, 0, 0, time.UTC)
	day := min(t.Day(), daysIn(first.Year(), first.Month()))
	return time.Date(first.Year(), first.Month(), day, 0, 0, 0, 0, time.UTC)
}

// daysIn returns the number of days in the given month.
func daysIn(year int, month time.Month) int {
	// Day 0 of the next month normalises to the last day of this month.
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// VisaTerms are the computed terms of an issued visa.
type VisaTerms struct {
	ValidFrom   time.Time // date (UTC midnight)
	ValidUntil  time.Time // date (UTC midnight)
	Entries     string
	MaxStayDays int
}

// ComputeVisaTerms derives the terms of a visa issued on issuedOn: it is
// valid from the issue date for the product's validity period, but never
// beyond the passport's expiry (a visa outliving its passport is useless and
// misleading). Both inputs are reduced to their UTC calendar dates. Adding
// years clamps to the end of the month, so a visa issued on 29 February ends
// on 28 February of a non-leap year.
func ComputeVisaTerms(spec ProductSpec, issuedOn time.Time, passportExpiry time.Time) VisaTerms {
	from := dateOf(issuedOn)
	until := addDateClamped(from, spec.ValidityYears, 0)
	if expiry := dateOf(passportExpiry); expiry.Before(until) {
		until = expiry
	}
	return VisaTerms{
		ValidFrom:   from,
		ValidUntil:  until,
		Entries:     spec.Entries,
		MaxStayDays: spec.MaxStayDays,
	}
}

// CheckPassportAtIssue re-applies the passport validity rule on the day the
// visa is issued, because a case can wait: the passport must remain valid for
// six months after the first day the visa can be used (the later of the
// issue day and the intended arrival). A passport that passes also makes
// ComputeVisaTerms end after it starts. The error's code is
// CodePassportValidity; the workflow refuses with ReasonPassportValidity.
func CheckPassportAtIssue(issuedOn time.Time, intendedArrival string, passportExpiry time.Time) *FieldError {
	first := dateOf(issuedOn)
	if arrival, ok := ParseDate(intendedArrival); ok && arrival.After(first) {
		first = arrival
	}
	need := addDateClamped(first, 0, passportMarginMonths)
	expiry := dateOf(passportExpiry)
	if !expiry.Before(need) {
		return nil
	}
	detail := "the passport expires on " + expiry.Format(dateLayout) + ": on the issue day " +
		dateOf(issuedOn).Format(dateLayout) + " it must remain valid until at least " + need.Format(dateLayout)
	if !expiry.After(dateOf(issuedOn)) {
		detail = "the passport expired on " + expiry.Format(dateLayout) + ", before the issue day " +
			dateOf(issuedOn).Format(dateLayout)
	}
	return &FieldError{Pointer: ptrExpiryDate, Code: CodePassportValidity, Detail: detail}
}
