package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Messages live in catalogues, one JSON file per language (go-i18n's format);
// TestCataloguesComplete fails when a language misses a key another has.

//go:embed locales/*.json
var localeFS embed.FS

// Languages are the portal's languages, the default first.
var Languages = []language.Tag{language.English, language.Russian}

var (
	bundle  = newBundle()
	matcher = language.NewMatcher(Languages)
)

func newBundle() *i18n.Bundle {
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	files, err := fs.Glob(localeFS, "locales/*.json")
	if err != nil {
		panic(err)
	}
	for _, f := range files {
		if _, err := b.LoadMessageFileFS(localeFS, f); err != nil {
			panic(fmt.Sprintf("web: catalogue %s: %v", f, err))
		}
	}
	return b
}

const langCookie = "visad_lang"

// chooseLanguage takes the remembered choice, then Accept-Language, then English.
func chooseLanguage(r *http.Request) language.Tag {
	var prefs []language.Tag
	if c, err := r.Cookie(langCookie); err == nil {
		if t, err := language.Parse(c.Value); err == nil {
			prefs = append(prefs, t)
		}
	}
	if accept, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language")); err == nil {
		prefs = append(prefs, accept...)
	}
	_, i, conf := matcher.Match(prefs...)
	if conf == language.No {
		return Languages[0]
	}
	return Languages[i]
}

// supported reports whether code names one of the portal's languages.
func supported(code string) (language.Tag, bool) {
	for _, l := range Languages {
		if l.String() == code {
			return l, true
		}
	}
	return language.Tag{}, false
}

// translator speaks one language.
type translator struct {
	lang language.Tag
	loc  *i18n.Localizer
}

func newTranslator(lang language.Tag) *translator {
	return &translator{lang: lang, loc: i18n.NewLocalizer(bundle, lang.String())}
}

// T translates id with key-value template data; a missing message shows its id
// (the catalogue test keeps that from shipping).
func (t *translator) T(id string, kv ...any) string {
	s, ok := t.lookup(id, kv...)
	if !ok {
		return id
	}
	return s
}

func (t *translator) lookup(id string, kv ...any) (string, bool) {
	data := map[string]any{}
	var count any
	for i := 0; i+1 < len(kv); i += 2 {
		k := fmt.Sprint(kv[i])
		data[k] = kv[i+1]
		if k == "Count" {
			count = kv[i+1]
		}
	}
	s, err := t.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data, PluralCount: count})
	if err != nil {
		return "", false
	}
	return s, true
}

// Has reports whether the catalogue has id.
func (t *translator) Has(id string) bool {
	_, ok := t.lookup(id)
	return ok
}

// Date formats a calendar date the language's way ("28 November 2026", "28 ноября 2026 г.").
func (t *translator) Date(d time.Time) string {
	if d.IsZero() {
		return ""
	}
	d = d.UTC()
	return t.T("date.long", "Day", d.Day(), "Month", t.T("month."+strconv.Itoa(int(d.Month()))), "Year", d.Year())
}

// DateString formats a "YYYY-MM-DD" date, or returns it unchanged if it is not one.
func (t *translator) DateString(s string) string {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return s
	}
	return t.Date(d)
}

// DateTime formats an instant, in UTC and said so.
func (t *translator) DateTime(d time.Time) string {
	if d.IsZero() {
		return ""
	}
	return t.T("date.time", "Date", t.Date(d), "Time", d.UTC().Format("15:04"))
}

// Duration says how long d is in hours and minutes ("23 hours 5 minutes").
func (t *translator) Duration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	h, m := int(d.Hours()), int(d.Minutes())%60
	switch {
	case h == 0:
		return t.T("duration.minutes", "Count", m)
	case m == 0:
		return t.T("duration.hours", "Count", h)
	}
	return t.T("duration.hours", "Count", h) + " " + t.T("duration.minutes", "Count", m)
}
