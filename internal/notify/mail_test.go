package notify

import (
	"encoding/json"
	"io/fs"
	"mime"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/visad/visad/domain"
)

// TestMailCataloguesComplete fails when a language lacks a key another has,
// or a key for a status the applicant is told about.
func TestMailCataloguesComplete(t *testing.T) {
	keys := map[string]bool{"mail.subject": true, "mail.reference": true, "mail.link": true}
	for _, k := range notifiedKinds() {
		for _, p := range []string{"mail.subject.", "mail.what.", "mail.body.", "mail.next."} {
			keys[p+k] = true
		}
	}
	cats := map[string]map[string]string{}
	for _, l := range Languages {
		b, err := fs.ReadFile(localeFS, "locales/"+l.String()+".json")
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		cats[l.String()] = m
		for k := range m {
			keys[k] = true
		}
	}
	for lang, m := range cats {
		for k := range keys {
			if strings.TrimSpace(m[k]) == "" {
				t.Errorf("%s.json lacks %q", lang, k)
			}
		}
	}
}

// An e-mail in Russian: text and HTML, the headers mail servers expect, the
// reference, what to do next and a link to the case page without a token.
func TestMailInApplicantsLanguage(t *testing.T) {
	m, err := compose(string(domain.StatusInformationRequested), "PKV-7K3M9-Q2X4A", "ru",
		"https://visa.example/application")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := message("visad <visa@example>", "a@example.kz", "<app_x.3@visad>",
		time.Date(2026, 11, 28, 7, 0, 0, 0, time.UTC), m)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := netmail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if subject != "Заявление на деловую визу PKV-7K3M9-Q2X4A: нужны сведения" {
		t.Errorf("subject %q", subject)
	}
	for _, h := range []string{"Date", "Message-ID", "MIME-Version", "Content-Language"} {
		if msg.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	if !strings.HasPrefix(msg.Header.Get("Content-Type"), "multipart/alternative") {
		t.Errorf("Content-Type %q", msg.Header.Get("Content-Type"))
	}
	for _, part := range []string{m.Text, m.HTML} {
		if !strings.Contains(part, "PKV-7K3M9-Q2X4A") || !strings.Contains(part, "https://visa.example/application") ||
			!strings.Contains(part, "Прочитайте запрос") || strings.Contains(part, "vat_") {
			t.Errorf("part lacks the reference, the next step or the link, or holds a token:\n%s", part)
		}
	}
	if !strings.Contains(m.HTML, `lang="ru"`) {
		t.Error("HTML part does not declare its language")
	}
	en, _ := compose(string(domain.StatusIssued), "PKV-1", "", "https://visa.example/application")
	if en.Lang != "en" || !strings.HasSuffix(en.Subject, ": issued") {
		t.Errorf("default language mail %q (%s)", en.Subject, en.Lang)
	}
}
