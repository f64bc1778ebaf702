package e2e_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/documents/doctest"
	"github.com/visad/visad/internal/testenv"
)

// portalClient is a browser stand-in for the portal's form tests: cookies
// kept by hand, so a test can replay a request exactly.
type portalClient struct {
	t       *testing.T
	base    string
	cookies map[string]string
	client  *http.Client
}

func newPortalClient(t *testing.T, env *testenv.Env) *portalClient {
	return &portalClient{t: t, base: env.HTTP.URL, cookies: map[string]string{},
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *portalClient) cookieHeader() string {
	var parts []string
	for k, v := range c.cookies {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, "; ")
}

func (c *portalClient) do(method, path string, form url.Values, header ...string) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Cookie", c.cookieHeader())
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.client.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, ck := range res.Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	return res, string(b)
}

var pageTokenRE = regexp.MustCompile(`name="page_token" value="([^"]+)"`)

// token reads the page token of the page at path.
func (c *portalClient) token(path string) string {
	c.t.Helper()
	res, body := c.do("GET", path, nil)
	m := pageTokenRE.FindStringSubmatch(body)
	if res.StatusCode != 200 || m == nil {
		c.t.Fatalf("GET %s: %d, no page token", path, res.StatusCode)
	}
	return m[1]
}

// step posts one step of the form and expects to be sent on.
func (c *portalClient) step(slug string, values map[string]string) {
	c.t.Helper()
	form := url.Values{"page_token": {c.token("/apply/" + slug)}}
	for k, v := range values {
		form.Set(k, v)
	}
	res, body := c.do("POST", "/apply/"+slug, form)
	if res.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("POST /apply/%s: %d %s", slug, res.StatusCode, body)
	}
}

// fillPortalForm answers every step with a valid two-year application, its documents uploaded.
func fillPortalForm(c *portalClient, passport string) {
	fillPortalQuestions(c, passport)
	res, body := c.postFiles("/apply/documents", nil, []portalFile{
		{domain.DocumentPassportDataPage, "passport.pdf", doctest.PDF("Passport data page (specimen)")},
		{domain.DocumentPhotograph, "photo.jpg", doctest.Photograph()},
		{domain.DocumentInvitationLetter, "invitation.pdf", doctest.PDF("Lahore Textiles Ltd invites you")},
	}, false)
	if res.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("POST /apply/documents: %d %s", res.StatusCode, body)
	}
}

// fillPortalQuestions answers the form's questions, up to the documents step.
func fillPortalQuestions(c *portalClient, passport string) {
	today := time.Now().UTC()
	c.step("product", map[string]string{"product": "business_2y"}) //vocabulary:ignore: the form's posted value
	c.step("about-you", map[string]string{"applicant-given_names": "Nurlan", "applicant-surname": "Abenov",
		"applicant-sex": "M", "applicant-date_of_birth": "1985-03-14", "applicant-place_of_birth": "Almaty",
		"applicant-nationality": "KAZ", "applicant-email": "nurlan.abenov@example.kz", "applicant-phone": "+7 701 555 0101"})
	c.step("passport", map[string]string{"passport-number": passport, "passport-issuing_country": "KAZ",
		"passport-issue_date":  today.AddDate(-2, 0, 0).Format(time.DateOnly),
		"passport-expiry_date": today.AddDate(8, 0, 0).Format(time.DateOnly)})
	c.step("your-work", map[string]string{"employment-company": "Steppe Grain LLP",
		"employment-position": "Export Director"})
	c.step("your-visit", map[string]string{"visit-purpose": "business_forum",
		"visit-intended_arrival": today.AddDate(0, 0, 14).Format(time.DateOnly)})
	c.step("host-or-chamber", map[string]string{"evidence": "host", "visit-host-company": "Lahore Textiles Ltd",
		"visit-host-city": "Lahore"})
}

// Posting the submit form twice with the same page token (a double click,
// a browser retry) yields one application, its documents attached once; a cross-site POST is refused
// before any handler runs, and a form without this session's token too.
func TestPortalSubmitIdempotentAndCrossSiteRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("real stack")
	}
	env := testenv.Start(t, testenv.Options{DocumentsRequired: true})
	c := newPortalClient(t, env)
	fillPortalForm(c, testenv.UniquePassport())

	token := c.token("/apply/check")
	before := map[string]string{}
	for k, v := range c.cookies {
		before[k] = v
	}
	var cases []string
	for range 2 {
		c.cookies = map[string]string{}
		for k, v := range before {
			c.cookies[k] = v
		}
		res, body := c.do("POST", "/apply/check", url.Values{"page_token": {token}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/apply/done" {
			t.Fatalf("submit: %d %s %s", res.StatusCode, res.Header.Get("Location"), body)
		}
		cases = append(cases, c.cookies["visad_case"])
	}
	if cases[0] == "" || cases[0] != cases[1] {
		t.Fatalf("two posts of one page token made different applications: %q", cases)
	}
	id, _, _ := strings.Cut(cases[0], ".")
	if n := countApplications(t, env); n != 1 {
		t.Fatalf("%d applications after a double post, want 1 (%s)", n, id)
	}
	if docs, err := env.Store.ApplicationDocuments(t.Context(), id); err != nil || len(docs) != 3 {
		t.Fatalf("the application holds %d documents (%v), want 3", len(docs), err)
	}
	res, body := c.do("GET", "/apply/done", nil)
	if res.StatusCode != 200 || !strings.Contains(body, "PKV-") {
		t.Fatalf("confirmation: %d", res.StatusCode)
	}

	// Cross-site: the browser says so (Sec-Fetch-Site), or the Origin is another site's.
	fresh := newPortalClient(t, env)
	tok := fresh.token("/apply/product")
	form := url.Values{"page_token": {tok}, "product": {"business_2y"}} //vocabulary:ignore: a posted value
	for _, h := range [][]string{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://evil.example"}} {
		if res, _ := fresh.do("POST", "/apply/product", form, h...); res.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site POST with %s: %d, want 403", h, res.StatusCode)
		}
	}
	// Same site, but a token this session was not given.
	other := newPortalClient(t, env)
	other.token("/")
	if res, _ := other.do("POST", "/apply/product", form); res.StatusCode != http.StatusForbidden {
		t.Errorf("POST with another session's page token: %d, want 403", res.StatusCode)
	}
	if res, _ := fresh.do("POST", "/apply/product", form); res.StatusCode != http.StatusSeeOther {
		t.Errorf("same-site POST with the session's token: %d, want 303", res.StatusCode)
	}
}
