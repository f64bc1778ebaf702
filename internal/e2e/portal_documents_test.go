package e2e_test

import (
	"bytes"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/documents/doctest"
	"github.com/visad/visad/internal/testenv"
)

// portalFile is one file input of a portal form.
type portalFile struct {
	kind domain.DocumentKind
	name string
	data []byte
}

// postFiles posts a multipart form as a browser does: the page token first
// (unless tokenLast), then the fields, then the files.
func (c *portalClient) postFiles(path string, fields url.Values, files []portalFile, tokenLast bool,
	header ...string) (*http.Response, string) {
	c.t.Helper()
	token := c.token(path)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if !tokenLast {
		_ = mw.WriteField("page_token", token)
	}
	for k, vs := range fields {
		_ = mw.WriteField(k, vs[0])
	}
	for _, f := range files {
		w, _ := mw.CreateFormFile("documents-"+string(f.kind), f.name)
		_, _ = w.Write(f.data)
	}
	if tokenLast {
		_ = mw.WriteField("page_token", token)
	}
	_ = mw.Close()
	req, _ := http.NewRequest("POST", c.base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Cookie", c.cookieHeader())
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.client.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	for _, ck := range res.Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	return res, b.String()
}

var summaryLinkRE = regexp.MustCompile(`<li><a href="([^"]+)">([^<]+)</a></li>`)

// summary is a page's error summary: each link's target and text.
func summary(page string) [][2]string {
	var out [][2]string
	for _, m := range summaryLinkRE.FindAllStringSubmatch(page, -1) {
		out = append(out, [2]string{html.UnescapeString(m[1]), html.UnescapeString(m[2])})
	}
	return out
}

func countDocuments(t *testing.T, env *testenv.Env) int {
	t.Helper()
	var n int
	if err := env.Store.DB().Get(&n, "SELECT COUNT(*) FROM documents"); err != nil {
		t.Fatal(err)
	}
	return n
}

// The portal's documents step refuses what POST /v1/uploads refuses (the
// same service code decides), each refusal in the error summary linked to
// its file input and next to it, in English and Russian; a file over 5 MB
// is refused on the page, not with a bare 413. The form is not sent without
// the required documents, and once they are there it is, with them.
func TestPortalDocumentsRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("real stack")
	}
	env := testenv.Start(t, testenv.Options{DocumentsRequired: true})
	c := newPortalClient(t, env)
	fillPortalQuestions(c, testenv.UniquePassport())
	passport := doctest.PDF("Passport data page (specimen)")
	photo := doctest.Photograph()

	parent := t
	for _, tc := range []struct {
		name, lang string
		file       portalFile
		want       string
	}{
		{"a program renamed .pdf", "en", portalFile{domain.DocumentPassportDataPage, "scan.pdf", doctest.Program()},
			"Passport data page must be a JPEG, PNG or PDF file"},
		{"a PDF as the photograph", "en", portalFile{domain.DocumentPhotograph, "me.jpg", passport},
			"The photograph must be a JPEG or PNG file"},
		{"a photograph of 300×300 pixels", "en", portalFile{domain.DocumentPhotograph, "me.jpg",
			doctest.JPEG(doctest.Plain(300, 300), 85)}, "The photograph must be at least 600 × 600 pixels"},
		{"a photograph of 400 KB", "en", portalFile{domain.DocumentPhotograph, "me.jpg",
			doctest.PaddedTo(photo, 400_000)}, "The photograph must be 350 KB or smaller"},
		{"a scan of 6 MB", "en", portalFile{domain.DocumentPassportDataPage, "scan.jpg",
			doctest.PaddedTo(doctest.Photograph(), 6_000_000)}, "Passport data page must be 5 MB or smaller"},
		{"an empty file", "en", portalFile{domain.DocumentInvitationLetter, "letter.pdf", []byte{}},
			"Invitation letter from your host: the file you chose is empty"},
		{"a photograph of 300×300 pixels, in Russian", "ru", portalFile{domain.DocumentPhotograph, "me.jpg",
			doctest.JPEG(doctest.Plain(300, 300), 85)}, "Фотография должна быть не меньше 600 × 600 пикселей"},
		{"a 400 KB photograph, in Russian", "ru", portalFile{domain.DocumentPhotograph, "me.jpg",
			doctest.PaddedTo(photo, 400_000)}, "Фотография должна быть не больше 350 КБ"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			defer func() { c.t = parent }()
			before := countDocuments(t, env)
			res, body := c.postFiles("/apply/documents", nil, []portalFile{tc.file}, false, "Accept-Language", tc.lang)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422\n%.2000s", res.StatusCode, body)
			}
			id := "documents-" + string(tc.file.kind)
			if got := summary(body); !slices.Contains(got, [2]string{"#" + id, tc.want}) {
				t.Errorf("error summary %q, want [#%s %q] in it", got, id, tc.want)
			}
			if !strings.Contains(body, `id="`+id+`-error"`) ||
				!strings.Contains(body, `aria-describedby="`+id+`-hint `+id+`-error"`) {
				t.Errorf("no inline error described by the input %s", id)
			}
			if strings.Contains(body, tc.file.name) {
				t.Errorf("the page echoes the file's name %q", tc.file.name)
			}
			if n := countDocuments(t, env); n != before {
				t.Errorf("%d documents stored for a refused file", n-before)
			}
		})
	}

	// A form whose page token does not come before its files is refused before any file is stored.
	before := countDocuments(t, env)
	res, _ := c.postFiles("/apply/documents", nil, []portalFile{{domain.DocumentPassportDataPage, "p.pdf", passport}},
		true)
	if res.StatusCode != http.StatusForbidden || countDocuments(t, env) != before {
		t.Errorf("token after the file: %d, %d stored; want 403, none", res.StatusCode, countDocuments(t, env)-before)
	}

	// Nothing uploaded: each required document is named, linked to its input.
	wantMissing := [][2]string{
		{"#documents-passport_data_page", "Upload your passport's data page"},
		{"#documents-photograph", "Upload a photograph of yourself"},
		{"#documents-invitation_letter",
			"Upload the invitation letter from your host or the recommendation letter from your Chamber of Commerce"},
	}
	res, body := c.postFiles("/apply/documents", nil, nil, false)
	if got := summary(body); res.StatusCode != http.StatusUnprocessableEntity ||
		fmt.Sprint(got) != fmt.Sprint(wantMissing) {
		t.Errorf("no documents: %d %q, want 422 %q", res.StatusCode, got, wantMissing)
	}
	// Check your answers does not send the form without them either.
	res, body = c.do("POST", "/apply/check", url.Values{"page_token": {c.token("/apply/check")}})
	got := summary(body)
	if res.StatusCode != http.StatusUnprocessableEntity || len(got) != 3 ||
		got[0][0] != "/apply/documents?return=check#documents-passport_data_page" || got[2][1] != wantMissing[2][1] {
		t.Errorf("submit without documents: %d %q", res.StatusCode, got)
	}
	if n := countApplications(t, env); n != 0 {
		t.Fatalf("%d applications sent without their documents", n)
	}

	// The chamber's letter satisfies the choice as well as the host's would; the files taken are kept.
	res, body = c.postFiles("/apply/documents", nil, []portalFile{
		{domain.DocumentPassportDataPage, "passport.pdf", passport},
		{domain.DocumentChamberRecommendation, "recommendation.pdf", doctest.PDF("Atameken recommends")},
	}, false)
	if got := summary(body); res.StatusCode != http.StatusUnprocessableEntity || len(got) != 1 ||
		got[0][0] != "#documents-photograph" {
		t.Fatalf("without the photograph: %d %q", res.StatusCode, got)
	}
	res, body = c.postFiles("/apply/documents", nil, []portalFile{{domain.DocumentPhotograph, "nurlan.jpg", photo}}, false)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/apply/check" {
		t.Fatalf("with every document: %d %s\n%.2000s", res.StatusCode, res.Header.Get("Location"), body)
	}
	_, check := c.do("GET", "/apply/check", nil)
	for _, want := range []string{"PDF, 2 KB", "JPEG, "} {
		if !strings.Contains(check, want) {
			t.Errorf("check your answers lacks %q", want)
		}
	}
	for _, name := range []string{"passport.pdf", "nurlan.jpg", "recommendation.pdf", "upl_"} {
		if strings.Contains(check, name) || strings.Contains(c.cookieHeader(), name) {
			t.Errorf("%q is on the page or in a cookie in the clear", name)
		}
	}
	res, body = c.do("POST", "/apply/check", url.Values{"page_token": {c.token("/apply/check")}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/apply/done" {
		t.Fatalf("submit: %d %s\n%.2000s", res.StatusCode, res.Header.Get("Location"), body)
	}
	id, _, _ := strings.Cut(c.cookies["visad_case"], ".")
	docs, err := env.Store.ApplicationDocuments(t.Context(), id)
	if err != nil || len(docs) != 3 {
		t.Fatalf("the application holds %d documents (%v), want 3", len(docs), err)
	}
}
