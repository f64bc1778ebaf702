package domain

import (
	"strings"
	"unicode"
)

// Field error codes of the text rules.
const (
	// CodeInvalidCharacters: the text holds a control or format character
	// (NUL, BEL, ESC, line breaks, soft hyphen, zero-width characters, bidi
	// overrides, …) or, in a person's name, anything but letters, combining
	// marks, spaces and the punctuation names use.
	CodeInvalidCharacters = "invalid_characters"
	// CodeNoLetters: the text contains no letter at all.
	CodeNoLetters = "no_letters"
)

const (
	detailNameCharacters = "may contain only letters, spaces, hyphens, apostrophes and periods"
	detailTextCharacters = "must not contain control or invisible formatting characters"
	detailNoLetters      = "must contain at least one letter"
)

// isHiddenOrControl reports runes that have no business in a name or a line
// of free text: controls (Cc, incl. tab and line breaks), format characters
// (Cf: soft hyphen, ZWSP, ZWJ, word joiner, bidi controls, BOM), private use
// (Co), surrogates (Cs), line and paragraph separators, noncharacters,
// unassigned code points and U+FFFD, the mark of text decoded in the wrong
// encoding.
func isHiddenOrControl(r rune) bool {
	switch {
	case unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs, unicode.Zl, unicode.Zp):
		return true
	case r == unicode.ReplacementChar, r&0xFFFE == 0xFFFE, r >= 0xFDD0 && r <= 0xFDEF:
		return true
	default:
		return !unicode.IsGraphic(r) // unassigned code points
	}
}

// isNameRune reports the runes a person's name may contain: letters,
// combining marks, the plain space, and the hyphen, apostrophes (' and ’) and
// period found in real names (Smith-Jones, O'Brien, St. John). Digits and
// symbols are refused, which also keeps formulas such as +SUM(1+1) out.
func isNameRune(r rune) bool {
	switch r {
	case ' ', '-', '\'', '\u2019', '.':
		return true
	}
	return unicode.IsLetter(r) || unicode.Is(unicode.M, r)
}

// textRuleViolation returns the code and detail of the first text rule value breaks,
// or "" when it is acceptable. Names follow isNameRune; free text refuses
// only hidden and control characters. Both must contain a letter.
func textRuleViolation(value string, personName bool) (code, detail string) {
	hasLetter := false
	for _, r := range value {
		switch {
		case isHiddenOrControl(r):
			return CodeInvalidCharacters, detailTextCharacters
		case personName && !isNameRune(r):
			return CodeInvalidCharacters, detailNameCharacters
		case unicode.IsLetter(r):
			hasLetter = true
		}
	}
	if !hasLetter {
		return CodeNoLetters, detailNoLetters
	}
	return "", ""
}

// IsPersonName reports whether s passes the rules for a person's name.
func IsPersonName(s string) bool { code, _ := textRuleViolation(s, true); return code == "" }

// IsFreeText reports whether s passes the rules for a line of free text.
func IsFreeText(s string) bool { code, _ := textRuleViolation(s, false); return code == "" }

// CheckPersonName returns the field errors of a person's name at pointer.
func CheckPersonName(pointer, s string) FieldErrors { return textFieldErrors(pointer, s, true) }

// CheckFreeText returns the field errors of a line of free text (a chamber's
// or an account's name, a company, an address) at pointer.
func CheckFreeText(pointer, s string) FieldErrors { return textFieldErrors(pointer, s, false) }

func textFieldErrors(pointer, s string, personName bool) FieldErrors {
	code, detail := textRuleViolation(s, personName)
	if code == "" {
		return nil
	}
	return FieldErrors{{Pointer: pointer, Code: code, Detail: detail}}
}

// SpreadsheetSafe neutralises a CSV cell that a spreadsheet would evaluate
// as a formula: a cell starting with =, +, -, @, tab or carriage return gets
// a leading apostrophe (OWASP "CSV Injection"). Every cell of a CSV export
// goes through it, since any of them may carry text an outsider chose.
func SpreadsheetSafe(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}
