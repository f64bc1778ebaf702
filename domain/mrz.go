package domain

import (
	"strings"
)

// TD3 geometry (ICAO Doc 9303 Part 4): two lines of 44 characters.
const (
	td3LineLen     = 44
	td3NameLen     = 39 // line 1, positions 6-44
	td3DocNumLen   = 9
	td3OptionalLen = 14
	mrzFiller      = '<'
)

// JSON pointers of the MRZ in the submitted application.
var (
	pointerMRZ      = jsonPointer("passport", "mrz")
	pointerMRZLine1 = jsonPointer("passport", "mrz", "0")
	pointerMRZLine2 = jsonPointer("passport", "mrz", "1")
)

// MRZ is the decoded content of a TD3 (passport) machine readable zone.
type MRZ struct {
	DocumentCode   string // e.g. "P" or "PO" (trailing filler removed)
	IssuingState   string
	Surname        string // fillers turned into spaces, trimmed
	GivenNames     string
	DocumentNumber string // without filler
	Nationality    string
	BirthDate      string // YYMMDD as in the MRZ
	Sex            string // M, F or X ('<' in the MRZ means unspecified)
	ExpiryDate     string // YYMMDD
	OptionalData   string // personal number, filler stripped
}

// CheckDigit computes the ICAO 9303 check digit of s: character values
// (digits as themselves, A-Z as 10-35, '<' as 0) weighted 7, 3, 1 repeating,
// summed modulo 10. Characters outside the MRZ alphabet count as 0.
func CheckDigit(s string) int {
	weights := [3]int{7, 3, 1}
	sum := 0
	for i := 0; i < len(s); i++ {
		sum += mrzCharValue(s[i]) * weights[i%3]
	}
	return sum % 10
}

func mrzCharValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	default: // '<' and anything invalid
		return 0
	}
}

// isMRZLine reports whether s has the TD3 length and only MRZ characters.
func isMRZLine(s string) bool {
	return len(s) == td3LineLen && isMRZCharset(s)
}

func isMRZCharset(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == mrzFiller) {
			return false
		}
	}
	return true
}

// mrzLineFormatErrors checks the length and alphabet of one MRZ line.
func mrzLineFormatErrors(pointer, line string) FieldErrors {
	var errs FieldErrors
	if len(line) != td3LineLen {
		errs = append(errs, FieldError{Pointer: pointer, Detail: "must be exactly 44 characters long", Code: CodeMRZFormat})
	}
	if !isMRZCharset(line) {
		errs = append(
			errs,
			FieldError{Pointer: pointer, Detail: "may only contain the characters A-Z, 0-9 and <", Code: CodeMRZFormat},
		)
	}
	return errs
}

// stripFiller removes trailing (and leading) filler characters.
func stripFiller(s string) string {
	return strings.Trim(s, string(mrzFiller))
}

// fillerToSpace turns fillers into single spaces and trims.
func fillerToSpace(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == mrzFiller }), " ")
}

// ParseTD3 decodes a TD3 MRZ and verifies every check digit. Errors point at
// "/passport/mrz/0" or "/passport/mrz/1" with code mrz_format or
// mrz_check_digit, and say which check failed. The composite check digit is
// reported only when every field check digit is correct, because a wrong
// field check digit necessarily breaks the composite too and would only add
// noise. The decoded MRZ is returned even when there are check-digit errors,
// but it should not be trusted then.
func ParseTD3(line1, line2 string) (MRZ, FieldErrors) {
	var errs FieldErrors
	errs = append(errs, mrzLineFormatErrors(pointerMRZLine1, line1)...)
	errs = append(errs, mrzLineFormatErrors(pointerMRZLine2, line2)...)
	if len(errs) > 0 {
		return MRZ{}, errs
	}

	if line1[0] != 'P' {
		errs = append(
			errs,
			FieldError{
				Pointer: pointerMRZLine1,
				Detail:  "is not a passport machine readable zone: the document code must start with P",
				Code:    CodeMRZFormat,
			},
		)
	}

	surname, given, _ := strings.Cut(line1[5:], "<<")
	m := MRZ{
		DocumentCode:   stripFiller(line1[0:2]),
		IssuingState:   stripFiller(line1[2:5]),
		Surname:        fillerToSpace(surname),
		GivenNames:     fillerToSpace(given),
		DocumentNumber: stripFiller(line2[0:9]),
		Nationality:    stripFiller(line2[10:13]),
		BirthDate:      line2[13:19],
		ExpiryDate:     line2[21:27],
		OptionalData:   stripFiller(line2[28:42]),
	}
	if m.Surname == "" {
		errs = append(errs, FieldError{Pointer: pointerMRZLine1, Detail: "does not contain a surname", Code: CodeMRZFormat})
	}

	switch sex := line2[20]; sex {
	case 'M', 'F', 'X':
		m.Sex = string(sex)
	case mrzFiller:
		m.Sex = "X"
	default:
		errs = append(errs, FieldError{Pointer: pointerMRZLine2, Detail: "has an invalid sex indicator", Code: CodeMRZFormat})
	}

	fieldChecks := []struct {
		what     string
		data     string
		digit    byte
		fillerOK bool // '<' is an acceptable check digit for all-filler data
	}{
		{"document number", line2[0:9], line2[9], false},
		{"date of birth", line2[13:19], line2[19], false},
		{"expiry date", line2[21:27], line2[27], false},
		{"personal number (optional data)", line2[28:42], line2[42], true},
	}
	fieldChecksOK := true
	for _, c := range fieldChecks {
		if c.fillerOK && c.digit == mrzFiller && stripFiller(c.data) == "" {
			continue
		}
		if !checkDigitMatches(c.data, c.digit) {
			fieldChecksOK = false
			errs = append(
				errs,
				FieldError{
					Pointer: pointerMRZLine2,
					Detail:  "the check digit of the " + c.what + " is wrong",
					Code:    CodeMRZCheckDigit,
				},
			)
		}
	}
	// The composite covers document number, birth date, expiry and optional
	// data including their check digits (ICAO 9303 Part 4, 4.2.2.2).
	composite := line2[0:10] + line2[13:20] + line2[21:43]
	if fieldChecksOK && !checkDigitMatches(composite, line2[43]) {
		errs = append(
			errs,
			FieldError{Pointer: pointerMRZLine2, Detail: "the composite check digit is wrong", Code: CodeMRZCheckDigit},
		)
	}
	if len(errs) > 0 {
		sortFieldErrors(errs)
		return m, errs
	}
	return m, nil
}

func checkDigitMatches(data string, digit byte) bool {
	return digit >= '0' && digit <= '9' && int(digit-'0') == CheckDigit(data)
}

// BuildTD3 encodes doc as a TD3 MRZ with correct check digits. Values are
// upper-cased, Latin diacritics are folded, spaces, hyphens and other
// characters outside the MRZ alphabet become fillers, and over-long fields
// are truncated (names to the 39-character name field). Sex "X" or empty is
// written as '<'. It is the inverse of ParseTD3 for well-formed input and is
// meant for tests, demos and fixtures.
func BuildTD3(doc MRZ) (line1, line2 string) {
	var names strings.Builder
	names.WriteString(mrzField(doc.Surname))
	if g := mrzField(doc.GivenNames); g != "" {
		names.WriteString("<<")
		names.WriteString(g)
	}
	line1 = pad(mrzField(doc.DocumentCode), 2) +
		pad(mrzField(doc.IssuingState), 3) +
		pad(names.String(), td3NameLen)

	docNum := pad(mrzField(doc.DocumentNumber), td3DocNumLen)
	birth := pad(mrzField(doc.BirthDate), 6)
	expiry := pad(mrzField(doc.ExpiryDate), 6)
	optional := pad(mrzField(doc.OptionalData), td3OptionalLen)
	optionalCheck := string(mrzFiller)
	if stripFiller(optional) != "" {
		optionalCheck = digitString(CheckDigit(optional))
	}
	sex := string(mrzFiller)
	if s := mrzField(doc.Sex); s == "M" || s == "F" {
		sex = s
	}

	docPart := docNum + digitString(CheckDigit(docNum))
	birthPart := birth + digitString(CheckDigit(birth))
	expiryPart := expiry + digitString(CheckDigit(expiry))
	optionalPart := optional + optionalCheck
	composite := digitString(CheckDigit(docPart + birthPart + expiryPart + optionalPart))

	line2 = docPart + pad(mrzField(doc.Nationality), 3) + birthPart + sex +
		expiryPart + optionalPart + composite
	return line1, line2
}

// mrzField converts free text into MRZ characters: folded, upper-cased, and
// every run of other characters turned into one filler.
func mrzField(s string) string {
	var b strings.Builder
	pendingFiller := false
	for _, r := range foldLatin(strings.TrimSpace(s), false) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			if pendingFiller && b.Len() > 0 {
				b.WriteByte(mrzFiller)
			}
			pendingFiller = false
			b.WriteRune(r)
			continue
		}
		pendingFiller = true
	}
	return b.String()
}

// pad truncates or right-pads s with filler to exactly n characters.
func pad(s string, n int) string {
	if len(s) >= n {
		return s[:n]
	}
	return s + strings.Repeat(string(mrzFiller), n-len(s))
}

func digitString(d int) string {
	return string(rune('0' + d))
}
