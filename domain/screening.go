package domain

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"

	edlib "github.com/hbollon/go-edlib"
	"github.com/mtibben/confusables"
	"golang.org/x/text/unicode/norm"
)

// Watchlist screening: a listed person hits when the applicant's name is
// similar enough after normalisation, and the birth dates do not rule the
// match out. docs/screening.md explains the rule and shows the test corpus.
//
// Each name is reduced to two comparison keys:
//
//   - the transliteration key: Unicode NFKC (fullwidth and other
//     compatibility forms become plain letters), format characters (Cf: soft
//     hyphen, zero-width space and joiner, word joiner, bidi controls)
//     removed, upper case, Cyrillic (Russian and Kazakh letters) transliterated
//     to Latin per ICAO Doc 9303 Part 3, Latin diacritics folded;
//   - the skeleton key: the same, with Unicode TR39 confusable folding before
//     the transliteration, so a Cyrillic "В" in an otherwise Latin name reads
//     as the "B" it imitates rather than the "V" it transliterates to.
//
// The name score is the best Jaro-Winkler similarity over both keys, with
// surname compared to surname and given names to given names (also crosswise,
// for applicants who swapped the two), the less similar part weighing twice
// (combineNameParts). Spelling variants such as
// -OV/-OFF/-OW or -EV/-EFF are left to Jaro-Winkler, which weighs the shared
// beginning of a name most.

// ScreeningThreshold is the score at or above which a listed person is a hit.
const ScreeningThreshold = 0.90

// Birth-date adjustments of the name score.
const (
	birthDateMatchBonus   = 0.05 // the same full date of birth
	birthDateNearPenalty  = 0.05 // same year, or day and month swapped: a clerical slip
	screeningScoreDecimal = 1000 // scores are rounded to three decimals
)

// ListedPerson is one entry of the watchlist.
type ListedPerson struct {
	Ref         string // stable reference shown to officers, never a name
	Surname     string
	GivenNames  string
	DateOfBirth string // YYYY-MM-DD, a bare year YYYY, or "" when not listed
}

// ScreeningSubject is the applicant being screened.
type ScreeningSubject struct {
	Surname     string
	GivenNames  string
	DateOfBirth string // YYYY-MM-DD
}

// ScreeningMatch is the comparison of the subject with one listed person.
// It names the entry by Index and Ref and explains the score without
// repeating any name, so it is safe to log and to store in a workflow.
type ScreeningMatch struct {
	Index  int     // position in the list
	Ref    string  // the entry's reference
	Score  float64 // 0..1 after the birth-date adjustment
	Hit    bool    // Score >= ScreeningThreshold and not excluded by birth date
	Reason string  // how the score came about
}

// ScreeningList is a prepared watchlist; it is immutable and safe for
// concurrent use.
type ScreeningList struct {
	entries []screeningEntry
}

type screeningEntry struct {
	person ListedPerson
	keys   nameKeys
}

// nameKeys are the transliteration key, the skeleton key and the
// transliteration key of the name as displayed (see displayOrder).
type nameKeys [3]namePair

type namePair struct{ surname, given string }

// NewScreeningList prepares people for screening.
func NewScreeningList(people []ListedPerson) *ScreeningList {
	l := &ScreeningList{entries: make([]screeningEntry, 0, len(people))}
	for _, p := range people {
		l.entries = append(l.entries, screeningEntry{person: p, keys: screeningKeys(p.Surname, p.GivenNames)})
	}
	return l
}

// Len is the number of listed people.
func (l *ScreeningList) Len() int { return len(l.entries) }

// Screen returns the hits for s, best first (ties in list order).
func (l *ScreeningList) Screen(s ScreeningSubject) []ScreeningMatch {
	subject := screeningKeys(s.Surname, s.GivenNames)
	var hits []ScreeningMatch
	for i, e := range l.entries {
		m := compareScreening(subject, s.DateOfBirth, e)
		if m.Hit {
			m.Index = i
			hits = append(hits, m)
		}
	}
	slices.SortStableFunc(hits, func(a, b ScreeningMatch) int { return cmp.Compare(b.Score, a.Score) })
	return hits
}

// ScreenOne compares s with a single listed person (for tests and reports).
func ScreenOne(s ScreeningSubject, p ListedPerson) ScreeningMatch {
	return compareScreening(screeningKeys(s.Surname, s.GivenNames), s.DateOfBirth,
		screeningEntry{person: p, keys: screeningKeys(p.Surname, p.GivenNames)})
}

func compareScreening(subject nameKeys, subjectDOB string, e screeningEntry) ScreeningMatch {
	name, swapped := 0.0, false
	for k := range subject {
		if score, sw := nameScore(subject[k], e.keys[k]); score > name {
			name, swapped = score, sw
		}
	}
	var reason strings.Builder
	fmt.Fprintf(&reason, "name %.3f", name)
	if swapped {
		reason.WriteString(" (surname and given names swapped)")
	}
	adjust, excluded, why := birthDateAdjustment(subjectDOB, e.person.DateOfBirth)
	reason.WriteString("; " + why)
	score := math.Round(min(1, max(0, name+adjust))*screeningScoreDecimal) / screeningScoreDecimal
	return ScreeningMatch{Ref: e.person.Ref, Score: score, Hit: !excluded && score >= ScreeningThreshold,
		Reason: reason.String()}
}

// nameScore compares two names surname-to-surname and given-to-given, and
// crosswise; it returns the better of the two and whether it was crosswise.
// When either side has no given names, the surnames alone decide.
func nameScore(a, b namePair) (score float64, swapped bool) {
	if a.surname == "" || b.surname == "" {
		return 0, false
	}
	if a.given == "" || b.given == "" {
		return jaroWinkler(a.surname, b.surname), false
	}
	direct := combineNameParts(jaroWinkler(a.surname, b.surname), jaroWinkler(a.given, b.given))
	crosswise := combineNameParts(jaroWinkler(a.surname, b.given), jaroWinkler(a.given, b.surname))
	if crosswise > direct {
		return crosswise, true
	}
	return direct, false
}

// combineNameParts weighs the less similar part twice, so that an exact
// given name cannot carry a different surname (GOODGUY OSKAR is not BADGUY
// OSKAR), nor an exact surname a different given name.
func combineNameParts(x, y float64) float64 {
	return (2*min(x, y) + max(x, y)) / 3
}

func jaroWinkler(a, b string) float64 {
	if a == b {
		return 1
	}
	return float64(edlib.JaroWinklerSimilarity(a, b))
}

// birthDateAdjustment applies the birth-date rule to a name score:
//
//   - same full date: +birthDateMatchBonus;
//   - the list gives no date, or the subject's is unknown: no change;
//   - the list gives a bare year: no change when it is the subject's year,
//     excluded otherwise;
//   - different full dates in the same year (a mistyped day or month, or day
//     and month swapped): -birthDateNearPenalty;
//   - different years: excluded, whatever the name score.
func birthDateAdjustment(subject, listed string) (adjust float64, excluded bool, reason string) {
	subjectDate, subjectOK := ParseDate(subject)
	switch {
	case listed == "":
		return 0, false, "birth date not listed"
	case !subjectOK:
		return 0, false, "applicant's birth date unknown"
	case len(listed) == 4:
		if subjectDate.Format("2006") == listed {
			return 0, false, "birth year matches"
		}
		return 0, true, "birth year differs: excluded"
	}
	listedDate, ok := ParseDate(listed)
	switch {
	case !ok:
		return 0, false, "listed birth date unreadable"
	case listedDate.Equal(subjectDate):
		return birthDateMatchBonus, false, "birth date matches"
	case listedDate.Year() == subjectDate.Year():
		return -birthDateNearPenalty, false, "birth date differs within the same year"
	default:
		return 0, true, "birth date differs: excluded"
	}
}

// screeningKeys returns the comparison keys of a name.
func screeningKeys(surname, given string) nameKeys {
	return nameKeys{
		{screeningKey(surname, false), screeningKey(given, false)},
		{screeningKey(surname, true), screeningKey(given, true)},
		{screeningKey(displayOrder(surname), false), screeningKey(displayOrder(given), false)},
	}
}

// displayOrder returns s as a reader sees it when it holds a right-to-left
// override (U+202E): the overridden run, up to the matching pop (U+202C) or
// the end, is shown reversed, so "\u202EYUGDAB" reads BADGUY.
func displayOrder(s string) string {
	before, overridden, found := strings.Cut(s, "\u202E")
	if !found {
		return s
	}
	overridden, after, _ := strings.Cut(overridden, "\u202C")
	runes := []rune(displayOrder(overridden))
	slices.Reverse(runes)
	return before + string(runes) + displayOrder(after)
}

// screeningKey reduces one name field to upper-case Latin letter runs
// separated by single spaces.
func screeningKey(s string, skeleton bool) string {
	s = norm.NFKC.String(s)
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.Is(unicode.Cf, r):
			return -1 // invisible: joins what it separated ("Bad\u00ADguy")
		case r == '\'' || r == '\u2019' || r == '`':
			return -1 // ICAO drops apostrophes: O'BRIEN -> OBRIEN
		case unicode.Is(unicode.Cc, r):
			return ' '
		}
		return r
	}, s)
	s = strings.ToUpper(s)
	if skeleton {
		// TR39 skeletons are defined on the exact letters, so fold after
		// upper-casing (a Cyrillic capital ES imitates a Latin C); the
		// mapping may yield lower-case prototypes such as "l" for "I".
		s = strings.ToUpper(confusables.Skeleton(s))
	}
	s = transliterateCyrillic(s)
	return strings.Join(nameTokens(foldLatin(s, false)), " ")
}

// cyrillicToLatin transliterates upper-case Cyrillic per ICAO Doc 9303
// Part 3 (Russian, and the table's other letters), extended with the Kazakh
// letters the ICAO table lacks as Kazakhstan writes them in passports. Only
// І is in both. The soft sign is dropped, as ICAO prescribes.
var cyrillicToLatin = map[rune]string{
	'А': "A", 'Б': "B", 'В': "V", 'Г': "G", 'Д': "D", 'Е': "E", 'Ё': "E", 'Ж': "ZH", 'З': "Z", 'И': "I",
	'Й': "I", 'К': "K", 'Л': "L", 'М': "M", 'Н': "N", 'О': "O", 'П': "P", 'Р': "R", 'С': "S", 'Т': "T",
	'У': "U", 'Ф': "F", 'Х': "KH", 'Ц': "TS", 'Ч': "CH", 'Ш': "SH", 'Щ': "SHCH", 'Ъ': "IE", 'Ы': "Y",
	'Ь': "", 'Э': "E", 'Ю': "IU", 'Я': "IA",
	// The ICAO table's letters of other Cyrillic alphabets.
	'Ґ': "G", 'Ђ': "D", 'Ѓ': "G", 'Є': "IE", 'Ѕ': "DZ", 'І': "I", 'Ї': "I", 'Ј': "J", 'Љ': "LJ",
	'Њ': "NJ", 'Ћ': "C", 'Ќ': "K", 'Ў': "U", 'Џ': "DZ", 'Ѫ': "U",
	// Kazakh.
	'Ә': "A", 'Ғ': "G", 'Қ': "K", 'Ң': "N", 'Ө': "O", 'Ұ': "U", 'Ү': "U", 'Һ': "H",
	// Latin schwa, used in some Latin spellings of Kazakh names for Ә.
	'Ə': "A",
}

func transliterateCyrillic(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if latin, ok := cyrillicToLatin[r]; ok {
			b.WriteString(latin)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
