package web

import (
	"encoding/json"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"

	"github.com/visad/visad/domain"
)

func catalogue(t *testing.T, file string) map[string]any {
	t.Helper()
	b, err := fs.ReadFile(localeFS, file)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return m
}

// catalogueLanguage is the language of a catalogue file: en.json and
// staff.en.json both hold English (go-i18n reads the tag before ".json").
func catalogueLanguage(file string) string {
	name := strings.TrimSuffix(strings.TrimPrefix(file, "locales/"), ".json")
	return name[strings.LastIndexByte(name, '.')+1:]
}

// TestCataloguesComplete fails when any language lacks a key another has,
// or a key the pages build from the domain's vocabulary (every error code,
// status, refusal reason, product and option of the form). A language's
// messages may be split over several files (en.json, staff.en.json), each
// key in one of them only.
func TestCataloguesComplete(t *testing.T) {
	files, _ := fs.Glob(localeFS, "locales/*.json")
	if len(files) < len(Languages) {
		t.Fatalf("catalogues %v, languages %v", files, Languages)
	}
	all := map[string]bool{}
	cats := map[string]map[string]any{}
	for _, f := range files {
		lang := catalogueLanguage(f)
		if cats[lang] == nil {
			cats[lang] = map[string]any{}
		}
		for k, v := range catalogue(t, f) {
			if _, dup := cats[lang][k]; dup {
				t.Errorf("%s: %q is in another %s catalogue too", f, k, lang)
			}
			cats[lang][k] = v
			all[k] = true
		}
	}
	if len(cats) != len(Languages) {
		t.Errorf("catalogues of %d languages, want %d", len(cats), len(Languages))
	}
	for _, want := range requiredKeys() {
		all[want] = true
	}
	for lang, cat := range cats {
		for _, k := range slices.Sorted(maps.Keys(all)) {
			v, ok := cat[k]
			if !ok {
				t.Errorf("%s.json lacks %q", lang, k)
				continue
			}
			if s, isString := v.(string); isString && strings.TrimSpace(s) == "" {
				t.Errorf("%s.json: %q is empty", lang, k)
			}
		}
	}
}

// requiredKeys are the keys the pages look up by the domain's codes.
func requiredKeys() []string {
	keys := []string{}
	for _, code := range []string{domain.CodeRequired, domain.CodeTooLong, domain.CodeOneOf, domain.CodeInvalidEmail,
		domain.CodeInvalidPhone, domain.CodeInvalidFormat, domain.CodeInvalidCountry, domain.CodeInvalidDate,
		domain.CodeNotEligibleNationality, domain.CodeIssueDateInFuture, domain.CodeExpiryBeforeIssue,
		domain.CodePassportValidity, domain.CodeDateInFuture, domain.CodeUnderage, domain.CodeArrivalOutOfRange,
		domain.CodeEvidenceRequired, domain.CodeMRZFormat, domain.CodeMRZCheckDigit, domain.CodeMRZMismatch} {
		keys = append(keys, "error."+code)
	}
	for _, s := range domain.AllStatuses {
		keys = append(keys, "status."+string(s)+".title", "status."+string(s)+".body")
	}
	for _, r := range []domain.ReasonCode{domain.ReasonInsufficientEvidence, domain.ReasonPassportValidity,
		domain.ReasonSecurityScreening, domain.ReasonNotEligible, domain.ReasonIncompleteApplication,
		domain.ReasonOther} {
		keys = append(keys, "reason."+string(r))
	}
	for _, p := range domain.Products() {
		keys = append(keys, "start.product."+string(p.Code), "done.next."+string(p.Code))
	}
	for _, s := range steps {
		keys = append(keys, "step."+s.Slug+".title")
		for _, f := range s.Fields {
			keys = append(keys, "field."+f.ID+".label")
			if f.Options != nil {
				for _, o := range f.Options(&draft{}) {
					keys = append(keys, "option."+f.ID+"."+o)
				}
			}
		}
	}
	for _, code := range []string{domain.CodeUnsupportedType, domain.CodeFileTooLarge, domain.CodeImageTooSmall,
		domain.CodeUnreadableFile, domain.CodeEmptyFile, domain.CodeUnknownUpload, domain.CodeDocumentRequired,
		codeTooManyUploads} {
		keys = append(keys, "error."+code)
	}
	requirements := []string{}
	for _, k := range domain.DocumentKinds {
		requirements = append(requirements, string(k)) // an officer may ask for any kind
	}
	for _, p := range domain.Products() {
		for _, it := range domain.DocumentChecklist(p.Code) {
			requirements = append(requirements, it.Requirement)
		}
	}
	for _, req := range requirements {
		keys = append(keys, "field."+docFieldID(req)+".label", "error."+domain.CodeDocumentRequired+"."+docFieldID(req))
		if len(domain.RequirementKinds(req)) > 1 {
			keys = append(keys, "field."+docFieldID(req)+".hint")
		}
	}
	for m := 1; m <= 12; m++ {
		keys = append(keys, "month."+strconv.Itoa(m))
	}
	return keys
}

// Dates and durations read the way each language writes them.
func TestDatesAndDurationsPerLanguage(t *testing.T) {
	d := time.Date(2026, 11, 28, 14, 5, 0, 0, time.UTC)
	for lang, want := range map[string][2]string{
		"en": {"28 November 2026 at 14:05 UTC", "2 hours 1 minute"},
		"ru": {"28 ноября 2026 г., 14:05 UTC", "2 часа 1 минута"},
	} {
		tr := newTranslator(language.MustParse(lang))
		if got := tr.DateTime(d); got != want[0] {
			t.Errorf("%s: DateTime = %q, want %q", lang, got, want[0])
		}
		if got := tr.Duration(2*time.Hour + time.Minute); got != want[1] {
			t.Errorf("%s: Duration = %q, want %q", lang, got, want[1])
		}
	}
	if got := newTranslator(language.Russian).Duration(5 * time.Hour); got != "5 часов" {
		t.Errorf("ru: 5 hours = %q", got)
	}
}

// File sizes read in the upload rules' units, the language's way.
func TestSizesPerLanguage(t *testing.T) {
	for _, tc := range []struct {
		lang string
		n    int64
		want string
	}{
		{"en", 262, "1 KB"}, {"en", 349_999, "350 KB"}, {"en", 5_000_000, "5 MB"}, {"en", 1_234_567, "1.2 MB"},
		{"ru", 350_000, "350 КБ"}, {"ru", 1_234_567, "1,2 МБ"},
	} {
		if got := newTranslator(language.MustParse(tc.lang)).Size(tc.n); got != tc.want {
			t.Errorf("%s: Size(%d) = %q, want %q", tc.lang, tc.n, got, tc.want)
		}
	}
}
