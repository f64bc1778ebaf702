package e2e_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/testenv"
)

// The officer console in a real Chromium, with axe-core on every page: an
// officer claims a case, asks for information, sees the page say the case
// changed when the applicant answers through the API, and approves; a
// five-year case needs a second, different supervisor; the dashboard.
// Screenshots for docs/consoles.md (VISA_UPDATE_SCREENSHOTS=1).

// staffBrowserAs is a browser whose new account of role enrolled (password
// and TOTP) and is signed in to the console; it returns the account's id.
func staffBrowserAs(t *testing.T, chromium string, env *testenv.Env, role domain.Role) (*browser, string) {
	t.Helper()
	b := newBrowser(t, chromium, env.HTTP.URL, "en", true)
	b.shots = false // the pages worth showing are saved by shot, under names of their own
	return b, signInStaffInBrowser(t, env, b, role)
}

// waitFor waits until the selector matches (the page's script may add it).
func (b *browser) waitFor(sel string, within time.Duration) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, within)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		b.t.Fatalf("%s never appeared: %v", sel, err)
	}
}

// shot saves a screenshot under a name of its own (docs/screenshots/NAME.png):
// of the part of the page sel selects, or of the whole page.
func (b *browser) shot(name string, sel ...string) {
	b.t.Helper()
	if os.Getenv("VISA_UPDATE_SCREENSHOTS") != "1" {
		return
	}
	action := chromedp.FullScreenshot(100)
	if len(sel) > 0 {
		action = chromedp.Screenshot(chromedp.CSS(sel[0]))
	}
	png, err := chromedp.Run(b.ctx, action)
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile("../../docs/screenshots/"+name+".png", png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func TestOfficerConsoleInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("real stack and browser")
	}
	chromium := browserPath(t)
	env := testenv.Start(t, testenv.Options{NoSTP: true})

	two := submit(t, env, testenv.ValidApplication(domain.ProductBusiness2Y))
	five := submit(t, env, enrolledFiveYear(env))
	other := submit(t, env, testenv.ValidApplication(domain.ProductBusiness2Y))
	withDocs := withDocuments(t, env)
	for _, s := range []submitted{two, five, other, withDocs} {
		env.WaitForStatus(s.ID, s.AccessToken, "awaiting_review")
	}

	b, officerID := staffBrowserAs(t, chromium, env, domain.RoleOfficer)
	b.open("/staff/")
	b.check("console-queue")
	b.shot("console-queue")
	// j moves to the first case, Enter opens it.
	b.do("j", chromedp.KeyEvent("j"))
	if got := eval[string](b, `document.activeElement.textContent`); got != two.Reference {
		t.Fatalf("j focused %q, want the first case %s", got, two.Reference)
	}
	b.pressEnter()
	b.waitFor("#claim", 10*time.Second)
	b.check("console-case-unclaimed")
	// c claims.
	b.navigate("claim by keyboard", chromedp.KeyEvent("c"))
	if !strings.Contains(b.text("#notice"), "You claimed this case") || b.text("#case-holder") != "You" {
		t.Fatalf("after claiming: notice %q, holder %q", b.text("#notice"), b.text("#case-holder"))
	}
	b.check("console-case-claimed")
	// Request information: an empty message first (the error summary), then with a message and a due date.
	b.submit("request-information")
	if s := b.text(".error-summary"); !strings.Contains(s, "Enter what the applicant needs") {
		t.Fatalf("error summary %q", s)
	}
	b.check("console-case-error")
	b.fill("message", "Please send the invitation letter from your host.")
	b.fill("due-in-days", "10")
	b.submit("request-information")
	if !strings.Contains(b.text("#request"), "invitation letter") || !strings.Contains(b.text("#case-clock"), "Paused") {
		t.Fatalf("after the request: %q / %q", b.text("#request"), b.text("#case-clock"))
	}
	b.check("console-case-information-requested")
	// The applicant answers through the API: the open page says the case changed.
	if r := env.Do("POST", "/v1/applications/"+two.ID+"/information", two.AccessToken,
		map[string]string{"message": "The letter is attached."}); r.Status != 200 {
		t.Fatalf("answer: %d %s", r.Status, r.Body)
	}
	b.waitFor("#reload", 30*time.Second)
	b.check("console-case-changed")
	b.navigate("reload", chromedp.Click(chromedp.CSS("#reload")))
	if got := b.text("#case-status"); got != "Awaiting review" {
		t.Fatalf("after the answer the case is %q", got)
	}
	b.shot("console-case")
	b.submit("approve")
	env.WaitForStatus(two.ID, two.AccessToken, "issued")
	b.open("/staff/cases/" + two.ID)
	if !b.exists("#visa") {
		t.Fatal("the issued case shows no visa")
	}
	b.check("console-case-issued")

	// A case with documents lists them; viewing the photograph loads it, under the page's strict CSP, through
	// the route that audits the view.
	b.open("/staff/cases/" + withDocs.ID)
	if rows := eval[int](b, `document.querySelectorAll("#documents-table tbody tr").length`); rows != 3 {
		t.Fatalf("the documents table has %d rows, want 3", rows)
	}
	b.check("console-case-documents")
	b.shot("console-case-documents", "#documents")
	b.navigate("view the photograph", chromedp.Click(chromedp.CSS(`a[id^="preview-"]`)))
	shown := eval[int](b, `new Promise(done => { const img = document.getElementById("preview");
		const size = () => done(img.naturalWidth);
		if (img.complete) size(); else { img.onload = size; img.onerror = size; } })`, chromedp.EvalAwaitPromise)
	if shown < domain.MinPhotographPixels {
		t.Fatalf("the photograph shows %d pixels wide: the page could not load it", shown)
	}
	b.check("console-document-preview")
	if n := auditCount(t, env, "document.read", withDocs.ID, domain.ActorName(domain.RoleOfficer, officerID)); n != 1 {
		t.Errorf("viewing the photograph wrote %d document.read entries, want 1", n)
	}

	// Five years: supervisor A approves first, cannot approve again; supervisor B gives the second approval.
	a, supAID := staffBrowserAs(t, chromium, env, domain.RoleSupervisor)
	a.open("/staff/cases/" + five.ID)
	a.submit("approve")
	env.WaitForStatus(five.ID, five.AccessToken, "awaiting_second_approval")
	a.open("/staff/cases/" + five.ID)
	a.check("console-case-second-approval")
	a.submit("second-approve")
	if s := a.text(".error-summary"); !strings.Contains(s, "different person") {
		t.Fatalf("the first supervisor's second approval: %q", s)
	}
	a.check("console-case-four-eyes-error")
	bsup, _ := staffBrowserAs(t, chromium, env, domain.RoleSupervisor)
	bsup.open("/staff/cases/" + five.ID)
	bsup.submit("second-approve")
	env.WaitForStatus(five.ID, five.AccessToken, "issued")

	bsup.open("/staff/dashboard")
	if table := eval[string](bsup, `document.getElementById("per-officer-table").textContent`); !strings.Contains(
		table, "supervisor:"+supAID) {
		t.Errorf("the dashboard's per-officer table: %q", table)
	}
	bsup.check("console-dashboard")
	bsup.shot("console-dashboard")
	bsup.open("/staff/?status=all")
	bsup.check("console-queue-all")
}
