package domain

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// latinSpecial maps upper-case Latin letters that carry no combining mark
// after Unicode decomposition (so stripping marks cannot fold them) to their
// usual ASCII spelling.
var latinSpecial = map[rune]string{
	'Ø': "O", 'Ł': "L", 'Đ': "D", 'Ð': "D", 'Ħ': "H", 'Ŧ': "T", 'Ŋ': "N",
	'Þ': "TH", 'ß': "SS", 'ẞ': "SS", 'Æ': "AE", 'Œ': "OE", 'Ĳ': "IJ",
}

// icaoExpansions are the alternative transliterations ICAO Doc 9303 Part 3
// recommends for some letters (e.g. German MRZs write MÜLLER as MUELLER).
var icaoExpansions = strings.NewReplacer(
	"Ä", "AE", "Ö", "OE", "Ü", "UE", "Å", "AA", "Ø", "OE",
)

// foldLatin upper-cases s and folds Latin diacritics to plain ASCII letters.
// With icaoExpand, the ICAO two-letter transliterations are used where they
// exist. Non-Latin scripts are upper-cased but otherwise left alone.
func foldLatin(s string, icaoExpand bool) string {
	// NFC first so the expansion table sees precomposed letters even when the
	// input arrived decomposed.
	s = norm.NFC.String(strings.ToUpper(s))
	if icaoExpand {
		s = icaoExpansions.Replace(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue // combining accent left over from decomposition
		}
		if rep, ok := latinSpecial[r]; ok {
			b.WriteString(rep)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// nameTokens returns the letter runs of an already folded name.
func nameTokens(folded string) []string {
	return strings.FieldsFunc(folded, func(r rune) bool { return !unicode.IsLetter(r) })
}

// mrzNameKeys returns the letters-only spellings of a typed name that an MRZ
// may legitimately contain: plain diacritic folding and the ICAO expansions.
// Separators are dropped entirely because ICAO omits apostrophes (O'BRIEN ->
// OBRIEN) while hyphens and spaces become fillers.
func mrzNameKeys(typed string) []string {
	plain := strings.Join(nameTokens(foldLatin(typed, false)), "")
	expanded := strings.Join(nameTokens(foldLatin(typed, true)), "")
	if plain == expanded {
		return []string{plain}
	}
	return []string{plain, expanded}
}

// surnameMatchesMRZ reports whether the typed surname agrees with the MRZ
// surname. When the MRZ name field is full the surname may have been
// truncated to fit, so a prefix match is accepted.
func surnameMatchesMRZ(typed, mrzSurname string, nameFieldFull bool) bool {
	want := strings.Join(nameTokens(mrzSurname), "")
	if want == "" {
		return false
	}
	for _, key := range mrzNameKeys(typed) {
		if key == want || (nameFieldFull && strings.HasPrefix(key, want)) {
			return true
		}
	}
	return false
}
