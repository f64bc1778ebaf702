package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/visad/visad/internal/casework"
	"github.com/visad/visad/internal/keys"
)

// portal is the portal without a database or Temporal: enough for the
// form's steps, which only validate and seal.
func portal(t *testing.T) http.Handler {
	t.Helper()
	k, err := keys.New([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	return New(Deps{Cases: &casework.Service{Keys: k}, Log: slog.New(slog.DiscardHandler)})
}

var tokenRE = regexp.MustCompile(`name="page_token" value="([^"]+)"`)

// get returns the page, its session cookie and its page token.
func get(t *testing.T, h http.Handler, path string) (*http.Response, string, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	var session string
	for _, c := range res.Cookies() {
		if c.Name == sessionCookie {
			session = c.Value
		}
	}
	m := tokenRE.FindSubmatch(body)
	if m == nil {
		t.Fatalf("GET %s: no page token", path)
	}
	return res, session, string(m[1])
}

func post(h http.Handler, path, session string, form url.Values, header ...string) int {
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: session})
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

// Every page carries the strict CSP; a cross-site POST is refused before any
// handler; a POST without this session's page token is refused.
func TestPortalRefusesCrossSiteAndForeignTokens(t *testing.T) {
	h := portal(t)
	res, session, token := get(t, h, "/apply/product")
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") ||
		!strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	form := url.Values{"page_token": {token}, "product": {"business_2y"}} //vocabulary:ignore: a posted value
	for _, h2 := range [][]string{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://evil.example"}} {
		if code := post(h, "/apply/product", session, form, h2...); code != http.StatusForbidden {
			t.Errorf("cross-site POST (%s): %d, want 403", h2, code)
		}
	}
	_, other, _ := get(t, h, "/")
	if code := post(h, "/apply/product", other, form); code != http.StatusForbidden {
		t.Errorf("POST with another session's token: %d, want 403", code)
	}
	if code := post(h, "/apply/product", session, url.Values{"product": form["product"]}); code != http.StatusForbidden {
		t.Errorf("POST without a token: %d, want 403", code)
	}
	if code := post(h, "/apply/product", session, form, "Sec-Fetch-Site", "same-origin"); code != http.StatusSeeOther {
		t.Errorf("same-site POST with the session's token: %d, want 303", code)
	}
}

// A step's errors come from domain.Validate, translated by code, in the
// summary (linked to the field) and next to the field; the title says Error.
func TestStepErrorsFromDomainRules(t *testing.T) {
	h := portal(t)
	_, session, token := get(t, h, "/")
	form := url.Values{"page_token": {token}, "passport-number": {"N1234567"}, "passport-issuing_country": {"KAZ"},
		"passport-issue_date": {"2024-01-10"}, "passport-expiry_date": {"2023-01-10"}}
	req := httptest.NewRequest("POST", "/apply/passport", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "ru")
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: session})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body := rec.Body.String()
	want := "Дата окончания срока действия должна быть позже даты выдачи"
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(body, `<a href="#passport-expiry_date">`+want) ||
		!strings.Contains(body, `id="passport-expiry_date-error"`) || !strings.Contains(body, "<title>Ошибка:") {
		t.Fatalf("%d\n%s", rec.Code, body)
	}
	if strings.Contains(body, "N1234567</title>") || strings.Contains(rec.Header().Get("Location"), "N1234567") {
		t.Error("personal data in the title or a URL")
	}
}
