package domain

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Machine readable visas, ICAO Doc 9303 Part 7: MRV-A has two lines of 44
// characters, MRV-B two of 36 (for visas that leave a clear area on the page).
const (
	MRVALineLen = 44
	MRVBLineLen = 36
	visaNumLen  = 9
	sealedPart  = 28 // line 2 up to the valid-until check digit
)

// ErrVisaMRZ is wrapped by every error of BuildVisaMRZ.
var ErrVisaMRZ = errors.New("visa MRZ")

// VisaMRZFields are the typed data a visa's MRZ is built from.
type VisaMRZFields struct {
	// TypeCode is the second character of the document code (at the issuing
	// state's discretion, e.g. "B" for business); empty gives "V<".
	TypeCode     string
	IssuingState string // ICAO 3-letter code, e.g. "PAK"
	Surname      string // any spelling: Latin diacritics and Cyrillic are transliterated (Doc 9303 Part 3)
	GivenNames   string
	VisaNumber   string // 1-9 letters or digits (separators are dropped)
	Nationality  string // ICAO 3-letter code
	BirthDate    time.Time
	Sex          string // M, F or X (X is written as '<')
	ValidUntil   time.Time
	OptionalData string // 16 characters on MRV-A, 8 on MRV-B; a visible digital seal cannot carry it
}

// BuildVisaMRZ returns the two MRZ lines of an MRV-A (lineLen 44) or MRV-B
// (lineLen 36) visa with every check digit (visa number, birth date, valid
// until; a visa MRZ has no composite check digit). Names are transliterated
// and, when too long, truncated as Doc 9303 Part 3 describes: the given names
// are shortened first, down to one character, then the surname.
func BuildVisaMRZ(f VisaMRZFields, lineLen int) ([2]string, error) {
	if lineLen != MRVALineLen && lineLen != MRVBLineLen {
		return [2]string{}, fmt.Errorf("%w: line length %d (44 for MRV-A, 36 for MRV-B)", ErrVisaMRZ, lineLen)
	}
	typeCode := string(mrzFiller)
	if f.TypeCode != "" {
		if len(f.TypeCode) != 1 || !isMRZCharset(f.TypeCode) || f.TypeCode == "V" {
			return [2]string{}, fmt.Errorf("%w: type code %q is not one letter or digit", ErrVisaMRZ, f.TypeCode)
		}
		typeCode = f.TypeCode
	}
	for _, c := range [][2]string{{"issuing state", f.IssuingState}, {"nationality", f.Nationality}} {
		if len(c[1]) < 1 || len(c[1]) > 3 || !isMRZCharset(c[1]) {
			return [2]string{}, fmt.Errorf("%w: %s %q is not an ICAO code", ErrVisaMRZ, c[0], c[1])
		}
	}
	number := mrzField(f.VisaNumber)
	number = strings.ReplaceAll(number, string(mrzFiller), "")
	if number == "" || len(number) > visaNumLen {
		return [2]string{}, fmt.Errorf("%w: visa number must have 1-9 letters or digits", ErrVisaMRZ)
	}
	if f.BirthDate.IsZero() || f.ValidUntil.IsZero() {
		return [2]string{}, fmt.Errorf("%w: birth date and valid-until date are required", ErrVisaMRZ)
	}
	surname, err := mrzNameComponents(f.Surname)
	if err != nil {
		return [2]string{}, fmt.Errorf("%w: surname: %w", ErrVisaMRZ, err)
	}
	given, err := mrzNameComponents(f.GivenNames)
	if err != nil {
		return [2]string{}, fmt.Errorf("%w: given names: %w", ErrVisaMRZ, err)
	}
	if surname == "" {
		return [2]string{}, fmt.Errorf("%w: surname is empty", ErrVisaMRZ)
	}
	optionalLen := lineLen - sealedPart
	optional := mrzField(f.OptionalData)
	if len(optional) > optionalLen {
		return [2]string{}, fmt.Errorf("%w: optional data has more than %d characters", ErrVisaMRZ, optionalLen)
	}
	sex := string(mrzFiller)
	switch s := strings.ToUpper(strings.TrimSpace(f.Sex)); s {
	case "M", "F":
		sex = s
	case "X", "":
	default:
		return [2]string{}, fmt.Errorf("%w: sex %q is not M, F or X", ErrVisaMRZ, f.Sex)
	}

	line1 := "V" + typeCode + pad(f.IssuingState, 3) + truncateName(surname, given, lineLen-5)
	num := pad(number, visaNumLen)
	birth := f.BirthDate.Format("060102")
	until := f.ValidUntil.Format("060102")
	line2 := num + digitString(CheckDigit(num)) + pad(f.Nationality, 3) +
		birth + digitString(CheckDigit(birth)) + sex +
		until + digitString(CheckDigit(until)) + pad(optional, optionalLen)
	return [2]string{line1, line2}, nil
}

// truncateName lays out SURNAME<<GIVEN<NAMES in n positions. When it does
// not fit, the given names lose characters from the end (keeping at least
// one), then the surname is cut to leave room for "<<" and that initial.
func truncateName(surname, given string, n int) string {
	full := surname
	if given != "" {
		full += "<<" + given
	}
	if len(full) <= n {
		return pad(full, n)
	}
	if given == "" {
		return full[:n]
	}
	if room := n - len(surname) - 2; room >= 1 {
		return surname + "<<" + strings.TrimRight(given[:room], string(mrzFiller))
	}
	return surname[:n-3] + "<<" + given[:1]
}

// mrzNameComponents transliterates a name into MRZ letters: Latin
// diacritics as Doc 9303 Part 3 recommends (Ä → AE, Ø → OE), Cyrillic by the
// Part 3 table, apostrophes dropped, other separators (spaces, hyphens) as a
// single filler. Letters of other scripts are an error rather than a silent
// gap in the name.
func mrzNameComponents(s string) (string, error) {
	var b strings.Builder
	pendingFiller := false
	for _, r := range foldLatin(strings.TrimSpace(s), true) {
		latin := string(r)
		if t, ok := icaoCyrillic[r]; ok {
			latin = t
		}
		switch {
		case r == '\'' || r == '’' || r == 'Ь':
			continue
		case latin != "" && latin[0] >= 'A' && latin[0] <= 'Z':
			if pendingFiller && b.Len() > 0 {
				b.WriteByte(mrzFiller)
			}
			pendingFiller = false
			b.WriteString(latin)
		case r == ' ' || r == '-' || r == ',' || r == '.' || r == '<':
			pendingFiller = true
		default:
			return "", fmt.Errorf("character %q cannot be transliterated", r)
		}
	}
	return b.String(), nil
}

// icaoCyrillic is the Cyrillic transliteration of Doc 9303 Part 3
// (Russian, Ukrainian and Belarusian letters); Ь is omitted.
var icaoCyrillic = map[rune]string{
	'А': "A", 'Б': "B", 'В': "V", 'Г': "G", 'Д': "D", 'Е': "E", 'Ё': "E", 'Ж': "ZH", 'З': "Z", 'И': "I",
	'Й': "I", 'К': "K", 'Л': "L", 'М': "M", 'Н': "N", 'О': "O", 'П': "P", 'Р': "R", 'С': "S", 'Т': "T",
	'У': "U", 'Ф': "F", 'Х': "KH", 'Ц': "TS", 'Ч': "CH", 'Ш': "SH", 'Щ': "SHCH", 'Ъ': "IE", 'Ы': "Y",
	'Э': "E", 'Ю': "IU", 'Я': "IA", 'Є': "IE", 'І': "I", 'Ї': "I", 'Ґ': "G", 'Ў': "U",
}
