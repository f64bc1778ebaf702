package e2e_test

import (
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/documents/doctest"
	"github.com/visad/visad/internal/testenv"
)

// regexpAll returns the first group of every match of pattern in s.
func regexpAll(s, pattern string) []string {
	var out []string
	for _, m := range regexp.MustCompile(pattern).FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// auditCount counts the audit entries of an action on a case by an actor.
func auditCount(t *testing.T, env *testenv.Env, action, subject, actor string) int {
	t.Helper()
	var n int
	if err := env.Store.DB().Get(&n, env.Store.DB().Rebind(`SELECT COUNT(*) FROM audit_log
		WHERE action = ? AND subject = ? AND actor = ?`), action, subject, actor); err != nil {
		t.Fatal(err)
	}
	return n
}

// withDocuments submits a two-year application carrying a passport page
// (PDF), a photograph (JPEG) and a host's letter, uploaded anonymously; it
// returns the case.
func withDocuments(t *testing.T, env *testenv.Env) submitted {
	t.Helper()
	form := testenv.ValidApplication(domain.ProductBusiness2Y)
	form.Documents = []domain.DocumentRef{
		{Kind: domain.DocumentPassportDataPage, UploadID: env.UploadID(domain.DocumentPassportDataPage, "p.pdf",
			"application/pdf", doctest.PDF("Passport data page"))},
		{Kind: domain.DocumentPhotograph, UploadID: env.UploadID(domain.DocumentPhotograph, "me.jpg", "image/jpeg",
			doctest.Photograph())},
		{Kind: domain.DocumentInvitationLetter, UploadID: env.UploadID(domain.DocumentInvitationLetter, "l.pdf",
			"application/pdf", doctest.PDF("Invitation to the Lahore trade fair"))},
	}
	return submit(t, env, form)
}

// The console's case page lists the case's documents and opens each through
// a staff route that audits the view (document.read, as the API does) and
// serves it with the API's headers; a picture has a page of its own. Anyone
// but an officer or a supervisor — no session, an applicant's, a chamber's,
// an admin's — gets 404 there. A request for information asks for ticked
// documents.
func TestConsoleCaseDocuments(t *testing.T) {
	env := testenv.Start(t, testenv.Options{NoSTP: true})
	s := withDocuments(t, env)
	plain := submit(t, env, testenv.ValidApplication(domain.ProductBusiness2Y))
	env.WaitForStatus(s.ID, s.AccessToken, domain.StatusAwaitingReview)
	env.WaitForStatus(plain.ID, plain.AccessToken, domain.StatusAwaitingReview)
	o, officerID := newStaffBrowser(t, env, domain.RoleOfficer)
	actor := domain.ActorName(domain.RoleOfficer, officerID)

	page := o.get("/staff/cases/"+s.ID, http.StatusOK)
	for _, want := range []string{`id="documents-table"`, "Passport data page", "Photograph",
		"Host&#39;s invitation letter", "PDF", "JPEG picture"} {
		if !strings.Contains(page, want) {
			t.Errorf("the case page lacks %q", want)
		}
	}
	links := regexpAll(page, `href="(/staff/cases/`+s.ID+`/documents/upl_[a-z2-7]+)"`)
	previews := regexpAll(page, `href="(/staff/cases/`+s.ID+`/documents/upl_[a-z2-7]+/preview)"`)
	if len(links) != 3 || len(previews) != 1 {
		t.Fatalf("the case page links %d documents and %d previews, want 3 and 1", len(links), len(previews))
	}
	if n := auditCount(t, env, "documents.list", s.ID, actor); n != 1 {
		t.Errorf("%d documents.list entries after the page, want 1", n)
	}
	if p := o.get("/staff/cases/"+plain.ID, http.StatusOK); !strings.Contains(p, `id="no-documents"`) {
		t.Error("a case without documents does not say so")
	}

	// Opening the photograph: its bytes as the API serves them, the same headers, one audit entry.
	photo := strings.TrimSuffix(previews[0], "/preview")
	status, body, h := o.do("GET", photo, nil)
	officerToken, _ := env.StaffToken(domain.RoleOfficer, "API officer")
	api := env.Do("GET", "/v1/applications/"+s.ID+"/documents/"+photo[strings.LastIndex(photo, "/")+1:],
		officerToken, nil)
	if status != http.StatusOK || !bytes.Equal([]byte(body), api.Body) {
		t.Fatalf("open the photograph: %d, %d bytes (the API: %d bytes)", status, len(body), len(api.Body))
	}
	for _, k := range []string{"Content-Type", "Content-Security-Policy", "X-Content-Type-Options",
		"Content-Disposition", "Cache-Control", "Cross-Origin-Resource-Policy"} {
		if h.Get(k) == "" || h.Get(k) != api.Header.Get(k) {
			t.Errorf("%s: console %q, API %q", k, h.Get(k), api.Header.Get(k))
		}
	}
	if h.Get("Content-Type") != string(domain.MediaJPEG) || !strings.HasPrefix(h.Get("Content-Disposition"),
		"attachment") || !strings.HasPrefix(h.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("headers: %v", h)
	}
	if n := auditCount(t, env, "document.read", s.ID, actor); n != 1 {
		t.Errorf("%d document.read entries by the officer after opening one, want 1", n)
	}
	// The picture's page shows it through the same (audited) route.
	view := o.get(previews[0], http.StatusOK)
	if !strings.Contains(view, `<img class="document-preview" id="preview" src="`+photo+`"`) {
		t.Errorf("the preview page does not show the picture:\n%s", view)
	}
	// Another case's document, or a document id under the wrong case, is not found.
	o.get("/staff/cases/"+plain.ID+"/documents/"+photo[strings.LastIndex(photo, "/")+1:], http.StatusNotFound)
	o.get("/staff/cases/"+s.ID+"/documents/upl_"+strings.Repeat("a", 32), http.StatusNotFound)
	o.get("/staff/cases/"+s.ID+"/documents/not-an-id", http.StatusNotFound)

	// Nobody else reaches the route: no session, an applicant's, a chamber's, an admin's.
	anon := &staffBrowser{t: t, c: newPortalClient(t, env)}
	applicant := &staffBrowser{t: t, c: newPortalClient(t, env)}
	fillPortalForm(applicant.c, testenv.UniquePassport())
	checkToken := applicant.c.token("/apply/check")
	res, _ := applicant.c.do("POST", "/apply/check", url.Values{"page_token": {checkToken}})
	if res.StatusCode != http.StatusSeeOther || applicant.c.cookies["visad_case"] == "" {
		t.Fatalf("the applicant's submission: %d", res.StatusCode)
	}
	chamberID, _ := env.Chamber("Aktobe Chamber of Commerce")
	cc, _ := signInChamberHTTP(t, env, chamberID)
	admin, _ := newStaffBrowser(t, env, domain.RoleAdmin)
	for name, b := range map[string]*staffBrowser{"no session": anon, "applicant": applicant,
		"chamber": {t: t, c: cc}, "admin": admin} {
		for _, path := range []string{photo, previews[0], "/staff/cases/" + s.ID} {
			if status, body, _ := b.do("GET", path, nil); status != http.StatusNotFound ||
				strings.Contains(body, "JFIF") {
				t.Errorf("%s: GET %s answers %d", name, path, status)
			}
		}
	}
	if n := auditCount(t, env, "document.read", s.ID, actor); n != 1 {
		t.Errorf("%d document.read entries, want still 1", n)
	}

	// A request for information asking for particular documents.
	o.get("/staff/cases/"+plain.ID, http.StatusOK)
	bad := o.post("/staff/cases/"+plain.ID+"/decision", url.Values{"decision": {"request_information"},
		"message": {"Your host's letter, please."}, "due_in_days": {"10"}, "documents": {"selfie"}},
		http.StatusUnprocessableEntity)
	if !strings.Contains(bad, `href="#documents-asked"`) {
		t.Errorf("an unknown document kind is not a field error:\n%s", errorSummary(bad))
	}
	o.post("/staff/cases/"+plain.ID+"/decision", url.Values{"decision": {"request_information"},
		"message": {"Your host's letter, please."}, "due_in_days": {"10"},
		"documents": {string(domain.DocumentInvitationLetter), string(domain.DocumentCompanyRegistration)}},
		http.StatusSeeOther)
	v := env.WaitForStatus(plain.ID, plain.AccessToken, domain.StatusInformationRequested)
	ir, _ := v["information_request"].(map[string]any)
	if docs, _ := ir["documents"].([]any); len(docs) != 2 {
		t.Errorf("the request asks for %v, want the two ticked documents", ir)
	}
	asked := o.get("/staff/cases/"+plain.ID, http.StatusOK)
	if !strings.Contains(asked, `id="request-documents"`) || !strings.Contains(asked, "Company registration") {
		t.Errorf("the case page does not say which documents were asked for")
	}
}
