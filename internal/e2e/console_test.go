package e2e_test

import (
	"encoding/csv"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/testenv"
)

// The staff console's handlers on the real stack (Temporal, database,
// worker), each member of staff signed in for real (password and TOTP):
// the queue's order and filters, claiming, conflicting actions, a request for
// information answered through the API, the five-year second approval, and
// the dashboard with its CSV.

// staffBrowser is one member of staff's signed-in HTTP client (no redirects followed).
type staffBrowser struct {
	t     *testing.T
	c     *portalClient
	acct  *staffAccount
	token string // the page token of the last page fetched
}

// newStaffBrowser creates an account of role, enrols it and signs it in; it returns the browser and the account's id.
func newStaffBrowser(t *testing.T, env *testenv.Env, role domain.Role) (*staffBrowser, string) {
	t.Helper()
	c, acct := signInStaffHTTP(t, env, role)
	return &staffBrowser{t: t, c: c, acct: acct}, acct.ID
}

var consoleTokenRE = regexp.MustCompile(`name="page_token" value="([^"]+)"`)

func (b *staffBrowser) do(method, path string, form url.Values) (int, string, http.Header) {
	b.t.Helper()
	var header []string
	if form != nil {
		header = []string{"Origin", b.c.base}
	}
	res, text := b.c.do(method, path, form, header...)
	if m := consoleTokenRE.FindStringSubmatch(text); m != nil {
		b.token = html.UnescapeString(m[1])
	}
	if strings.Contains(text, "goroutine ") || strings.Contains(text, "panic") {
		b.t.Fatalf("%s %s: a stack trace in the page:\n%s", method, path, text)
	}
	return res.StatusCode, text, res.Header
}

func (b *staffBrowser) get(path string, want int) string {
	b.t.Helper()
	status, text, _ := b.do("GET", path, nil)
	if status != want {
		b.t.Fatalf("GET %s: %d, want %d\n%s", path, status, want, text)
	}
	return text
}

// post submits a form of the case page, with the page's token; it returns the status and the page or redirect.
func (b *staffBrowser) post(path string, form url.Values, want int) string {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("page_token", b.token)
	status, text, h := b.do("POST", path, form)
	if status != want {
		b.t.Fatalf("POST %s: %d, want %d\n%s", path, status, want, text)
	}
	if status == http.StatusSeeOther {
		return h.Get("Location")
	}
	return text
}

// errorSummary is the text of the page's GOV.UK error summary ("" when none).
func errorSummary(page string) string {
	i := strings.Index(page, `class="error-summary"`)
	if i < 0 {
		return ""
	}
	end := strings.Index(page[i:], "</ul>")
	return html.UnescapeString(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(page[i:i+end], " "))
}

func TestConsoleQueueAndCaseActions(t *testing.T) {
	env := testenv.Start(t, testenv.Options{NoSTP: true,
		Watchlist: "surname,given_names,date_of_birth\nZhakupov,Daniyar,1979-01-02\n"})
	a, _ := newStaffBrowser(t, env, domain.RoleOfficer)
	bOfficer, _ := newStaffBrowser(t, env, domain.RoleOfficer)

	plain := submit(t, env, testenv.ValidApplication(domain.ProductBusiness2Y))
	hitForm := testenv.ValidApplication(domain.ProductBusiness2Y)
	hitForm.Applicant.Surname, hitForm.Applicant.GivenNames, hitForm.Applicant.DateOfBirth =
		"Zhakupov", "Daniyar", "1979-01-02"
	hit := submit(t, env, testenv.WithMRZ(hitForm))
	five := submit(t, env, enrolledFiveYear(env))
	for _, s := range []submitted{plain, hit, five} {
		env.WaitForStatus(s.ID, s.AccessToken, "awaiting_review")
	}

	// The queue: every open case, in queue order (all three were submitted with the same SLA: by deadline).
	queue := a.get("/staff/", http.StatusOK)
	pos := func(page, ref string) int { return strings.Index(page, ">"+ref+"<") }
	for _, s := range []submitted{plain, hit, five} {
		if pos(queue, s.Reference) < 0 {
			t.Fatalf("queue lacks %s:\n%s", s.Reference, queue)
		}
	}
	if !(pos(queue, plain.Reference) < pos(queue, hit.Reference)) {
		t.Errorf("queue not by deadline: %s (earlier) after %s", plain.Reference, hit.Reference)
	}
	if !strings.Contains(queue, "On track") || !strings.Contains(queue, "sla-on_track") {
		t.Error("the countdown has no words and colour class")
	}
	// Filters: watchlist matches only; five-year visas only.
	hits := a.get("/staff/?screening_hit=on", http.StatusOK)
	if pos(hits, hit.Reference) < 0 || pos(hits, plain.Reference) >= 0 || !strings.Contains(hits, "Watchlist match") {
		t.Errorf("screening filter:\n%s", hits)
	}
	fives := a.get("/staff/?product="+string(domain.ProductBusiness5YMulti), http.StatusOK)
	if pos(fives, five.Reference) < 0 || pos(fives, plain.Reference) >= 0 {
		t.Errorf("product filter:\n%s", fives)
	}
	// Keyset pages: a page-size-1 walk is not possible from the form, but a junk cursor is ignored, not a 500.
	a.get("/staff/?cursor=junk", http.StatusOK)

	// The case page: the decrypted form, the screening result, the clock, and the audit of the read.
	page := a.get("/staff/cases/"+hit.ID, http.StatusOK)
	for _, want := range []string{"Zhakupov", "Match", "Awaiting review", "Claim this case", "Reload this case"} {
		if !strings.Contains(page, want) {
			t.Errorf("case page lacks %q", want)
		}
	}
	// Claim; a second officer's claim from a page opened before is refused with a message in the
	// error summary, not a trace.
	bOfficer.get("/staff/cases/"+plain.ID, http.StatusOK)
	if loc := a.post("/staff/cases/"+plain.ID+"/claim", nil, http.StatusSeeOther); !strings.Contains(loc, "done=claim") {
		t.Fatalf("claim went to %s", loc)
	}
	page = a.get("/staff/cases/"+plain.ID+"?done=claim", http.StatusOK)
	if !strings.Contains(page, "You claimed this case") || !strings.Contains(page, `id="case-holder">You<`) {
		t.Errorf("after claiming:\n%s", page)
	}
	conflict := bOfficer.post("/staff/cases/"+plain.ID+"/claim", nil, http.StatusConflict)
	if s := errorSummary(conflict); !strings.Contains(s, "claimed by another officer") {
		t.Errorf("second claim's error summary: %q", s)
	}
	if !strings.HasPrefix(regexp.MustCompile(`<title>([^<]*)`).FindStringSubmatch(conflict)[1], "Error: ") {
		t.Error("the error page's title does not start with Error:")
	}
	// The other officer cannot decide a case someone else holds.
	refused := bOfficer.post("/staff/cases/"+plain.ID+"/decision", url.Values{"decision": {"approve"}},
		http.StatusForbidden)
	if s := errorSummary(refused); !strings.Contains(s, "claimed by another officer") {
		t.Errorf("deciding another's case: %q", s)
	}
	// A refusal without a reason and a request without a message are field errors.
	a.get("/staff/cases/"+plain.ID, http.StatusOK)
	noReason := a.post("/staff/cases/"+plain.ID+"/decision", url.Values{"decision": {"refuse"}},
		http.StatusUnprocessableEntity)
	if s := errorSummary(noReason); !strings.Contains(s, "Choose the reason") ||
		!strings.Contains(noReason, `href="#reason-code"`) {
		t.Errorf("refusal without reason: %q", s)
	}
	noMessage := a.post("/staff/cases/"+plain.ID+"/decision",
		url.Values{"decision": {"request_information"}, "due_in_days": {"99"}}, http.StatusUnprocessableEntity)
	if s := errorSummary(noMessage); !strings.Contains(s, "Enter what the applicant needs") ||
		!strings.Contains(s, "from 1 to 60") {
		t.Errorf("request without message: %q", s)
	}
	// Request information with a due date; the applicant answers through the API; approve.
	a.post("/staff/cases/"+plain.ID+"/decision", url.Values{"decision": {"request_information"},
		"message": {"Please send the invitation letter."}, "due_in_days": {"7"}}, http.StatusSeeOther)
	page = a.get("/staff/cases/"+plain.ID, http.StatusOK)
	if !strings.Contains(page, "Please send the invitation letter.") || !strings.Contains(page, "Paused") {
		t.Errorf("after the request:\n%s", page)
	}
	r := env.Do("POST", "/v1/applications/"+plain.ID+"/information", plain.AccessToken,
		map[string]string{"message": "Attached."})
	if r.Status != http.StatusOK {
		t.Fatalf("answer: %d %s", r.Status, r.Body)
	}
	env.WaitForStatus(plain.ID, plain.AccessToken, "awaiting_review")
	a.get("/staff/cases/"+plain.ID, http.StatusOK)
	a.post("/staff/cases/"+plain.ID+"/decision", url.Values{"decision": {"approve"}}, http.StatusSeeOther)
	env.WaitForStatus(plain.ID, plain.AccessToken, "issued")
	if page := a.get("/staff/cases/"+plain.ID, http.StatusOK); !strings.Contains(page, `id="visa"`) {
		t.Errorf("issued case shows no visa:\n%s", page)
	}
	// An officer cannot approve a watchlist match: said in the summary.
	a.get("/staff/cases/"+hit.ID, http.StatusOK)
	if s := errorSummary(a.post("/staff/cases/"+hit.ID+"/decision", url.Values{"decision": {"approve"}},
		http.StatusForbidden)); !strings.Contains(s, "only a supervisor may approve") {
		t.Errorf("officer approving a hit: %q", s)
	}
	// A form without its page token is refused.
	if status, _, _ := a.do("POST", "/staff/cases/"+hit.ID+"/claim", url.Values{"page_token": {"x.y"}}); status !=
		http.StatusForbidden {
		t.Errorf("forged page token: %d", status)
	}
}

func TestConsoleFiveYearSecondApproval(t *testing.T) {
	env := testenv.Start(t, testenv.Options{NoSTP: true})
	a, supA := newStaffBrowser(t, env, domain.RoleSupervisor)
	b, supB := newStaffBrowser(t, env, domain.RoleSupervisor)
	o, _ := newStaffBrowser(t, env, domain.RoleOfficer)
	five := submit(t, env, enrolledFiveYear(env))
	env.WaitForStatus(five.ID, five.AccessToken, "awaiting_review")

	a.get("/staff/cases/"+five.ID, http.StatusOK)
	a.post("/staff/cases/"+five.ID+"/decision", url.Values{"decision": {"approve"}}, http.StatusSeeOther)
	env.WaitForStatus(five.ID, five.AccessToken, "awaiting_second_approval")
	page := a.get("/staff/cases/"+five.ID, http.StatusOK)
	if !strings.Contains(page, "You made the first decision") || !strings.Contains(page, `id="second-approve"`) {
		t.Errorf("second approval page for the first decider:\n%s", page)
	}
	// The same supervisor's second approval: four eyes, in the error summary.
	same := a.post("/staff/cases/"+five.ID+"/decision", url.Values{"decision": {"approve"}}, http.StatusConflict)
	if s := errorSummary(same); !strings.Contains(s, "different person") {
		t.Errorf("same supervisor's second approval: %q", s)
	}
	// An officer is offered no second approval, and one posted anyway is refused.
	if page := o.get("/staff/cases/"+five.ID, http.StatusOK); strings.Contains(page, `id="second-approve"`) ||
		!strings.Contains(page, "Waiting for a supervisor") {
		t.Errorf("officer's view of a second approval:\n%s", page)
	}
	if s := errorSummary(o.post("/staff/cases/"+five.ID+"/decision", url.Values{"decision": {"approve"}},
		http.StatusForbidden)); !strings.Contains(s, "supervisor") {
		t.Errorf("officer's second approval: %q", s)
	}
	b.get("/staff/cases/"+five.ID, http.StatusOK)
	b.post("/staff/cases/"+five.ID+"/decision", url.Values{"decision": {"approve"}}, http.StatusSeeOther)
	env.WaitForStatus(five.ID, five.AccessToken, "issued")

	// The dashboard: supervisors only (others find nothing there); charts with titles and
	// descriptions; the CSV behind each.
	o.get("/staff/dashboard", http.StatusNotFound)
	o.get("/staff/dashboard/summary.csv", http.StatusNotFound)
	dash := b.get("/staff/dashboard", http.StatusOK)
	for _, want := range []string{`<svg`, `role="img"`, `<title id="per-hour-title">`, `<desc id="queue-depth-desc">`,
		`id="per-officer-table"`, "supervisor:" + supA, "near-deadline.csv"} {
		if !strings.Contains(dash, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	status, body, h := b.do("GET", "/staff/dashboard/decisions-per-officer.csv", nil)
	if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %d %s", status, h.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows[1:] {
		got[r[0]] = r[1]
	}
	if got["supervisor:"+supA] != "1" || got["supervisor:"+supB] != "1" {
		t.Errorf("decisions per officer: %v", rows)
	}
	for _, f := range []string{"near-deadline", "decisions-per-hour", "queue-depth", "summary"} {
		if status, _, _ := b.do("GET", "/staff/dashboard/"+f+".csv", nil); status != http.StatusOK {
			t.Errorf("%s.csv: %d", f, status)
		}
	}
	b.get("/staff/dashboard/nothing.csv", http.StatusNotFound)
}

// Nobody signed in, a chamber's session and an admin's find nothing on the
// queue, case and dashboard pages (the console's 404); an admin lands on its
// own home at /staff/.
func TestConsoleNeedsCaseStaff(t *testing.T) {
	env := testenv.Start(t, testenv.Options{NoSTP: true})
	plain := submit(t, env, testenv.ValidApplication(domain.ProductBusiness2Y))
	env.WaitForStatus(plain.ID, plain.AccessToken, "awaiting_review")
	anon := &staffBrowser{t: t, c: newPortalClient(t, env)}
	anon.get("/staff/", http.StatusNotFound)
	anon.get("/staff/cases/"+plain.ID, http.StatusNotFound)
	if status, _, _ := anon.do("POST", "/staff/cases/"+plain.ID+"/claim", url.Values{}); status !=
		http.StatusNotFound {
		t.Errorf("anonymous claim: %d", status)
	}
	chamberID, _ := env.Chamber("Almaty Chamber of Commerce")
	cc, _ := signInChamberHTTP(t, env, chamberID)
	chamber := &staffBrowser{t: t, c: cc}
	chamber.get("/staff/", http.StatusNotFound)
	chamber.get("/staff/cases/"+plain.ID, http.StatusNotFound)
	chamber.get("/staff/dashboard", http.StatusNotFound)
	admin, _ := newStaffBrowser(t, env, domain.RoleAdmin)
	if page := admin.get("/staff/", http.StatusOK); strings.Contains(page, plain.Reference) {
		t.Error("an admin's landing page shows the queue")
	}
	admin.get("/staff/cases/"+plain.ID, http.StatusNotFound)
	admin.get("/staff/dashboard", http.StatusNotFound)
	o, _ := newStaffBrowser(t, env, domain.RoleOfficer)
	o.get("/staff/cases/not-an-id", http.StatusNotFound)
	o.get("/staff/cases/app_"+strings.Repeat("0", 25), http.StatusNotFound) // well-formed, no such case
	// Signed out, the same session's cookie opens nothing.
	o.get("/staff/cases/"+plain.ID, http.StatusOK)
	o.post("/staff/sign-out", nil, http.StatusSeeOther)
	if status, _, _ := o.do("GET", "/staff/cases/"+plain.ID, nil); status == http.StatusOK {
		t.Errorf("after sign-out the case page answers %d", status)
	}
}

// enrolledFiveYear is a five-year application whose applicant is on a chamber's roster.
func enrolledFiveYear(env *testenv.Env) domain.Application {
	form := testenv.ValidApplication(domain.ProductBusiness5YMulti)
	env.EnrolMember(&form)
	return form
}
