package e2e_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/sample"
	"github.com/visad/visad/internal/testenv"
)

// The chamber portal's pages over HTTP on the real stack (Temporal, the
// database, the worker): the roster upload with its per-row errors and the
// search, a batch upload, its progress until every case is decided, its
// report filtered and as CSV, the applications list; and that nobody but the
// chamber's own account sees any of it.

// portalSession is a browser-like client: a cookie jar, no redirects followed.
type portalSession struct {
	t      *testing.T
	base   string
	client *http.Client
}

func newPortalSession(t *testing.T, base string) *portalSession {
	jar, _ := cookiejar.New(nil)
	return &portalSession{t: t, base: base, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (s *portalSession) get(path string) (int, string, http.Header) {
	s.t.Helper()
	resp, err := s.client.Get(s.base + path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

var pageTokenField = regexp.MustCompile(`name="page_token" value="([^"]+)"`)

// token reads the form token from a page of the session.
func (s *portalSession) token(path string) string {
	s.t.Helper()
	code, body, _ := s.get(path)
	m := pageTokenField.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		s.t.Fatalf("GET %s: %d, no form token:\n%.500s", path, code, body)
	}
	return m[1]
}

// upload posts a multipart form with a CSV file, as the upload pages do.
func (s *portalSession) upload(formPath, action string, fields map[string]string, file []byte) (int, string,
	http.Header) {
	s.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("page_token", s.token(formPath))
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if file != nil {
		fw, _ := mw.CreateFormFile("file", "upload.csv")
		_, _ = fw.Write(file)
	}
	_ = mw.Close()
	req, _ := http.NewRequest("POST", s.base+action, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", s.base)
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// signInChamber signs a new account of the chamber in (enrolling its TOTP
// over HTTP) and carries its session cookie into a portalSession.
func signInChamber(t *testing.T, env *testenv.Env, chamberID string) *portalSession {
	t.Helper()
	c, _ := signInChamberHTTP(t, env, chamberID)
	s := newPortalSession(t, env.HTTP.URL)
	u, _ := url.Parse(env.HTTP.URL)
	var cookies []*http.Cookie
	for k, v := range c.cookies {
		cookies = append(cookies, &http.Cookie{Name: k, Value: v, Path: "/"})
	}
	s.client.Jar.SetCookies(u, cookies)
	return s
}

func rosterCSV(t *testing.T, people []sample.Person) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := sample.WriteRosterCSV(&buf, people); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestChamberPortalPages(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	chamberID, _ := env.Chamber("Almaty Chamber of Commerce")
	otherID, _ := env.Chamber("Astana Chamber of Commerce")
	s := signInChamber(t, env, chamberID)
	other := signInChamber(t, env, otherID)
	people := sample.Generate(sample.Options{Rows: 60, Seed: 42})

	// A roster with bad rows: each problem in a row of the table, nothing stored.
	bad := rosterCSV(t, people)
	bad = bytes.Replace(bad, []byte(",KAZ,"), []byte(",XXXX,"), 2)
	code, body, _ := s.upload("/chamber/roster/upload", "/chamber/roster", nil, bad)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="row-errors"`) ||
		!strings.Contains(body, "<td>1</td>") || !strings.Contains(body, "<td>2</td>") ||
		strings.Contains(body, "<td>3</td>") {
		t.Fatalf("bad roster: %d\n%s", code, body)
	}
	if _, body, _ := s.get("/chamber/roster"); !strings.Contains(body, `id="no-members"`) {
		t.Fatalf("a refused roster stored members:\n%s", body)
	}
	// The roster itself; search by membership number, page by page.
	code, _, h := s.upload("/chamber/roster/upload", "/chamber/roster", nil, rosterCSV(t, people))
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/chamber/roster?uploaded=60") {
		t.Fatalf("roster upload: %d %v", code, h)
	}
	_, body, _ = s.get("/chamber/roster?q=KZ-0001")
	if n := strings.Count(body, `<td class="mono">KZ-0001`); n != 10 || strings.Contains(body, "KZ-00020") {
		t.Fatalf("search KZ-0001 found %d members:\n%s", n, body)
	}
	_, body, _ = s.get("/chamber/roster")
	if n := strings.Count(body, `<td class="mono">KZ-`); n != 50 || !strings.Contains(body, `rel="next"`) {
		t.Fatalf("first roster page has %d members", n)
	}
	_, body, _ = s.get("/chamber/roster?after=KZ-00050")
	if n := strings.Count(body, `<td class="mono">KZ-`); n != 10 || strings.Contains(body, `rel="next"`) {
		t.Fatalf("second roster page has %d members", n)
	}
	if _, body, _ := other.get("/chamber/roster"); strings.Contains(body, "KZ-000") {
		t.Fatal("another chamber sees this roster")
	}

	// A batch with two bad rows.
	rows := make([]sample.Person, len(people))
	copy(rows, people)
	for _, i := range []int{4, 9} {
		v := map[string]string{}
		for k, val := range rows[i].Row.Values {
			v[k] = val
		}
		v["email"] = "not-an-email"
		rows[i].Row.Values = v
	}
	code, _, h = s.upload("/chamber/batches/new", "/chamber/batches", map[string]string{"reference": "forum-2026"},
		batchCSV(t, rows))
	loc := h.Get("Location")
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/chamber/batches/bat_") {
		t.Fatalf("batch upload: %d %v", code, h)
	}
	if code, body, _ := s.upload("/chamber/batches/new", "/chamber/batches", map[string]string{"reference": ""},
		nil); code != http.StatusUnprocessableEntity || !strings.Contains(body, `href="#reference"`) ||
		!strings.Contains(body, `href="#file"`) {
		t.Fatalf("empty batch form: %d\n%s", code, body)
	}
	// The upload page explains the documents column, every kind included.
	if _, body, _ := s.get("/chamber/batches/new"); !strings.Contains(body, `id="documents-help"`) ||
		!strings.Contains(body, "POST /v1/uploads") ||
		strings.Count(body, "<li><code>") != len(domain.DocumentKinds) {
		t.Errorf("the batch upload page does not explain the documents column:\n%s", body)
	}
	// Progress, as the page's script polls it, until every case is decided (STP issues them).
	deadline := time.Now().Add(3 * time.Minute)
	var p struct {
		Total, Started, Decided int
		SetAside                int `json:"set_aside"`
		StartedPercent          int `json:"started_percent"`
		DecidedPercent          int `json:"decided_percent"`
		Stage                   string
	}
	for {
		code, body, _ := s.get(loc + "/progress")
		if code != http.StatusOK {
			t.Fatalf("progress: %d %s", code, body)
		}
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatal(err)
		}
		if p.Stage == "done" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("batch never finished: %+v", p)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if p.Total != 60 || p.SetAside != 2 || p.Started != 58 || p.Decided != 58 || p.DecidedPercent != 100 {
		t.Fatalf("final progress %+v", p)
	}
	_, body, _ = s.get(loc)
	if !strings.Contains(body, `<progress id="bar-decided" max="100" value="100">`) {
		t.Fatalf("the batch page's bar is not full:\n%s", body)
	}
	// The report, filtered: the two invalid rows, with their field.
	_, body, _ = s.get(loc + "?outcome=invalid")
	if n := strings.Count(body, "/email</span>"); n != 2 || !strings.Contains(body, "<td>5</td>") ||
		!strings.Contains(body, "<td>10</td>") {
		t.Fatalf("invalid rows (%d):\n%s", n, body)
	}
	// The CSV, with the same filter.
	code, body, h = s.get(loc + "/report.csv?outcome=invalid")
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || err != nil ||
		len(recs) != 3 || recs[1][0] != "5" || recs[2][0] != "10" {
		t.Fatalf("report CSV: %d %v %q", code, err, body)
	}
	code, body, _ = s.get(loc + "/report.csv")
	if recs, _ := csv.NewReader(strings.NewReader(body)).ReadAll(); code != 200 || len(recs) != 61 {
		t.Fatalf("full report CSV has %d lines", len(recs))
	}
	// Each member's application and where it stands.
	_, body, _ = s.get("/chamber/applications")
	if n := strings.Count(body, `<td class="mono">`); n != 50 || !strings.Contains(body, `rel="next"`) {
		t.Fatalf("applications page 1 has %d rows", n)
	}
	_, body, _ = s.get("/chamber/applications?status=awaiting_review")
	if strings.Count(body, `<td class="mono">`) != 0 {
		t.Fatalf("no case awaits review, yet:\n%s", body)
	}
	_, body, _ = s.get("/chamber/batches")
	if !strings.Contains(body, "forum-2026") {
		t.Fatalf("batch list:\n%s", body)
	}

	// Nobody else: another chamber's session, no session at all.
	anonymous := newPortalSession(t, env.HTTP.URL)
	for _, path := range []string{loc, loc + "/progress", loc + "/report.csv"} {
		if code, body, _ := other.get(path); code != http.StatusNotFound || strings.Contains(body, "forum-2026") {
			t.Errorf("another chamber: GET %s = %d", path, code)
		}
		if code, _, _ := anonymous.get(path); code != http.StatusNotFound {
			t.Errorf("no session: GET %s = %d", path, code)
		}
	}
	if _, body, _ := other.get("/chamber/applications"); strings.Contains(body, `<td class="mono">`) {
		t.Error("another chamber lists this chamber's applications")
	}
	// An officer's session: the chamber portal does not exist for it.
	officer, _ := signInStaffHTTP(t, env, domain.RoleOfficer)
	for _, path := range []string{"/chamber/", "/chamber/roster", loc} {
		if res, _ := officer.do("GET", path, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("officer: GET %s = %d", path, res.StatusCode)
		}
	}
	// A cross-site upload is refused before it is read.
	req, _ := http.NewRequest("POST", env.HTTP.URL+"/chamber/batches", strings.NewReader("x"))
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site upload: %d", resp.StatusCode)
	}
}
