package e2e_test

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/documents/doctest"
	"github.com/visad/visad/internal/testenv"
)

// The applicant portal in a real Chromium: the whole journey in English and
// Russian, with JavaScript on (driven by the keyboard alone) and off (by
// clicks), axe-core in every page, screenshots for docs/portal.md.

//go:embed testdata/axe/axe.min.js
var axeSource string

// browserPath finds Debian's chromium. Locally the browser tests skip
// without it; .ci/run sets VISA_TEST_BROWSER=required, which makes a missing
// browser a failure.
func browserPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("VISA_TEST_BROWSER") == "required" {
		t.Fatal("VISA_TEST_BROWSER=required but no chromium is installed (Debian package chromium)")
	}
	t.Skip("chromium not installed (Debian package chromium; .ci/run installs it)")
	return ""
}

// browser is one fresh Chromium (own profile) speaking one language.
type browser struct {
	t      *testing.T
	ctx    context.Context
	base   string
	lang   string
	js     bool
	shots  bool // write docs/screenshots (VISA_UPDATE_SCREENSHOTS=1)
	seen   map[string]bool
	cancel func()
}

func newBrowser(t *testing.T, path, base, lang string, js bool) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1000, 900),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("accept-lang", lang), chromedp.Flag("lang", lang),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	b := &browser{t: t, ctx: ctx, base: base, lang: lang, js: js, seen: map[string]bool{},
		shots:  os.Getenv("VISA_UPDATE_SCREENSHOTS") == "1" && js,
		cancel: func() { cancelCtx(); cancelAlloc() }}
	t.Cleanup(b.cancel)
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders,
			network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": lang}})
		return err
	})); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	b.scripts(js)
	return b
}

func (b *browser) scripts(on bool) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, emulation.SetScriptExecutionDisabled,
		emulation.SetScriptExecutionDisabledParams{Value: !on}); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval runs a script for the test (DevTools may run it with the page's own script switched off).
func eval[T any](b *browser, expr string, opts ...chromedp.EvaluateOption) T {
	b.t.Helper()
	if !b.js {
		b.scripts(true)
		defer b.scripts(false)
	}
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		b.t.Fatalf("evaluate %.60q: %v", expr, err)
	}
	return v
}

// navigate follows a link or submits a form, and waits for the next page.
func (b *browser) navigate(what string, action chromedp.Action[chromedp.Void]) int {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, action)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	if res == nil {
		return 0
	}
	return int(res.Status)
}

func (b *browser) open(path string) int {
	return b.navigate("open "+path, chromedp.Navigate(b.base+path))
}

// check runs axe-core in the page and fails on serious or critical
// violations; it also checks the page's language and saves a screenshot.
func (b *browser) check(name string) {
	b.t.Helper()
	if lang := eval[string](b, `document.documentElement.lang`); lang != b.lang {
		b.t.Errorf("%s: <html lang=%q>, want %q", name, lang, b.lang)
	}
	if !eval[bool](b, `typeof axe !== "undefined"`) {
		eval[chromedp.Void](b, axeSource)
	}
	type violation struct {
		ID, Impact, Help string
		Nodes            []string
	}
	raw := eval[string](b, `axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(
		r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({
			ID: v.id, Impact: v.impact, Help: v.help, Nodes: v.nodes.map(n => n.target.join(" "))}))))`,
		chromedp.EvalAwaitPromise)
	var vs []violation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		b.t.Fatalf("%s: axe result %q: %v", name, raw, err)
	}
	for _, v := range vs {
		b.t.Errorf("%s (%s, js=%v): axe %s %s: %s at %v", name, b.lang, b.js, v.Impact, v.ID, v.Help, v.Nodes)
	}
	b.seen[name] = true
	if b.shots {
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			b.t.Fatal(err)
		}
		path := filepath.Join("..", "..", "docs", "screenshots", b.lang+"-"+name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
}

// keyTo moves the focus with Tab alone until it reaches the element id: the
// element is reachable by keyboard, in a sensible order.
func (b *browser) keyTo(id string) {
	b.t.Helper()
	for range 80 {
		if eval[string](b, `(document.activeElement || {}).id || ""`) == id {
			return
		}
		b.do("tab", chromedp.KeyEvent(kb.Tab))
	}
	b.t.Fatalf("Tab never reached #%s", id)
}

// fill answers a text question: by keyboard with JavaScript on, by the
// element's value (as a user without scripts types it) otherwise.
func (b *browser) fill(id, value string) {
	b.t.Helper()
	if b.js {
		b.keyTo(id)
		b.do("type into #"+id, chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
			chromedp.KeyEvent(kb.Backspace), chromedp.KeyEvent(value))
		return
	}
	b.do("fill #"+id, chromedp.Focus(chromedp.CSS("#"+id)),
		chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)), chromedp.KeyEvent(kb.Backspace),
		chromedp.KeyEvent(value))
}

// choose selects the radio option at index of the group id.
func (b *browser) choose(id string, index int) {
	b.t.Helper()
	if !b.js {
		sel := "#" + id
		if index > 0 {
			sel = fmt.Sprintf(".radios .radio:nth-child(%d) input[name=%q]", index+1, id)
		}
		b.do("choose "+sel, chromedp.Click(chromedp.CSS(sel)))
		return
	}
	b.keyTo(id)
	b.do("select first", chromedp.KeyEvent(" "))
	for range index {
		b.do("next option", chromedp.KeyEvent(kb.ArrowDown))
	}
}

// submit presses the form's button (Enter on it, or a click) and waits for the next page.
func (b *browser) submit(id string) int {
	b.t.Helper()
	if b.js {
		b.keyTo(id)
		return b.navigate("press #"+id, chromedp.KeyEvent(kb.Enter))
	}
	return b.navigate("click #"+id, chromedp.Click(chromedp.CSS("#"+id)))
}

// pressEnter presses Enter as a keyboard does: one keydown with its text, one
// keyup. (chromedp's KeyEvent adds a char event, a second keypress that lands on
// whatever the first one focused.)
func (b *browser) pressEnter() {
	b.t.Helper()
	for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeKeyDown,
		input.DispatchKeyEventTypeKeyUp} {
		p := input.DispatchKeyEventParams{Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13}
		if typ == input.DispatchKeyEventTypeKeyDown {
			p.Text = "\r"
		}
		if _, err := chromedp.Call(b.ctx, input.DispatchKeyEvent, p); err != nil {
			b.t.Fatal(err)
		}
	}
	b.do("settle", chromedp.Sleep(300*time.Millisecond))
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func (b *browser) exists(sel string) bool {
	return eval[bool](b, fmt.Sprintf(`document.querySelector(%q) !== null`, sel))
}

// upload chooses a file for the file input id, as the file chooser would
// (DevTools sets the input's files; the page needs no script for it).
func (b *browser) upload(id, path string) {
	b.t.Helper()
	b.do("choose a file for #"+id, chromedp.SetUploadFiles(chromedp.CSS("#"+id), []string{path}))
}

// portalFiles are real files to upload: a scan of the passport's data page
// and a letter (small valid PDFs), a photograph (a JPEG of 600×800 pixels,
// well under 350 KB) and a picture too small for a photograph (300×300).
type portalFiles struct {
	passport, letter, photo, smallPhoto string
}

func newPortalFiles(t *testing.T) portalFiles {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	photo := doctest.Photograph()
	if len(photo) > domain.MaxPhotographBytes {
		t.Fatalf("fixture photograph: %d bytes", len(photo))
	}
	return portalFiles{
		passport:   write("passport.pdf", doctest.PDF("Passport data page (specimen)")),
		letter:     write("invitation.pdf", doctest.PDF("Lahore Textiles Ltd invites Nurlan Abenov to Lahore.")),
		photo:      write("nurlan-abenov.jpg", photo),
		smallPhoto: write("small.jpg", doctest.JPEG(doctest.Plain(300, 300), 85)),
	}
}

func (b *browser) cookie(name string) string {
	b.t.Helper()
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.base}})
	if err != nil {
		b.t.Fatal(err)
	}
	for _, c := range res.Cookies {
		if c.Name == name {
			if !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict {
				b.t.Errorf("cookie %s: HttpOnly=%v SameSite=%s, want HttpOnly, Strict", name, c.HTTPOnly, c.SameSite)
			}
			return c.Value
		}
	}
	return ""
}

func TestPortalInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("real stack and browser")
	}
	chromium := browserPath(t)
	env := testenv.Start(t, testenv.Options{DocumentsRequired: true})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer Ayesha")
	files := newPortalFiles(t)
	for _, lang := range []string{"en", "ru"} {
		for _, js := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/js=%v", lang, js), func(t *testing.T) {
				portalJourney(t, env, newBrowser(t, chromium, env.HTTP.URL, lang, js), officer, files)
			})
		}
	}
}

func portalJourney(t *testing.T, env *testenv.Env, b *browser, officer string, files portalFiles) {
	today := time.Now().UTC()
	date := func(years, days int) string { return today.AddDate(years, 0, days).Format(time.DateOnly) }

	b.open("/")
	b.check("start")
	if b.submit("start") != 200 {
		t.Fatal("start page's button")
	}
	b.check("step-product")
	b.choose("product", 0)
	b.submit("continue")

	b.check("step-about-you")
	b.fill("applicant-given_names", "Nurlan")
	b.fill("applicant-surname", "Abenov")
	b.choose("applicant-sex", 1)
	b.fill("applicant-date_of_birth", "1985-03-14")
	b.fill("applicant-place_of_birth", "Almaty")
	b.fill("applicant-nationality", "KAZ")
	b.fill("applicant-email", "nurlan.abenov@example.kz")
	b.fill("applicant-phone", "+7 701 555 0101")
	b.submit("continue")

	// A passport that expires before it was issued: the error summary, linked, with the focus on it.
	b.check("step-passport")
	passport := testenv.UniquePassport()
	b.fill("passport-number", passport)
	b.fill("passport-issuing_country", "KAZ")
	b.fill("passport-issue_date", date(-2, 0))
	b.fill("passport-expiry_date", date(-3, 0))
	if status := b.submit("continue"); status != http.StatusUnprocessableEntity {
		t.Fatalf("bad expiry: status %d, want 422", status)
	}
	b.check("step-passport-error")
	if !strings.HasPrefix(eval[string](b, `document.title`), map[string]string{"en": "Error:", "ru": "Ошибка:"}[b.lang]) {
		t.Errorf("title %q does not start with the error prefix", eval[string](b, `document.title`))
	}
	want := map[string]string{"en": "Date of expiry must be after the date of issue",
		"ru": "Дата окончания срока действия должна быть позже даты выдачи"}[b.lang]
	if got := b.text(".error-summary a"); got != want {
		t.Errorf("error summary %q, want %q", got, want)
	}
	if href := eval[string](b, `document.querySelector(".error-summary a").getAttribute("href")`); href !=
		"#passport-expiry_date" {
		t.Errorf("error summary links to %q", href)
	}
	if !strings.Contains(b.text("#passport-expiry_date-error"), want) {
		t.Errorf("inline error missing next to the field")
	}
	if b.js && !eval[bool](b, `document.activeElement.classList.contains("error-summary")`) {
		t.Errorf("focus is on %q, not the error summary", eval[string](b, `document.activeElement.outerHTML`))
	}
	if b.js {
		// Follow the summary's link by keyboard: the focus lands on the field.
		b.do("tab to the summary link", chromedp.KeyEvent(kb.Tab))
		b.pressEnter()
		if id := eval[string](b, `(document.activeElement || {}).id || ""`); id != "passport-expiry_date" {
			t.Errorf("summary link moved the focus to %q", id)
		}
	}
	b.fill("passport-expiry_date", date(8, 0))
	b.submit("continue")

	b.check("step-your-work")
	b.fill("employment-company", "Steppe Grain LLP")
	b.fill("employment-position", "Export Director")
	b.submit("continue")

	b.check("step-your-visit")
	b.choose("visit-purpose", 1)
	b.fill("visit-intended_arrival", date(0, 14))
	b.submit("continue")

	b.check("step-host-or-chamber")
	b.choose("evidence", 0)
	b.fill("visit-host-company", "Lahore Textiles Ltd")
	b.fill("visit-host-city", "Lahore")
	b.submit("continue")

	// The documents: without the letter the form goes no further, and says which document it lacks.
	b.check("step-documents")
	b.upload("documents-passport_data_page", files.passport)
	b.upload("documents-photograph", files.photo)
	if status := b.submit("continue"); status != http.StatusUnprocessableEntity {
		t.Fatalf("documents without the letter: status %d, want 422", status)
	}
	b.check("step-documents-error")
	want = map[string]string{
		"en": "Upload the invitation letter from your host or the recommendation letter from your Chamber of Commerce",
		"ru": "Загрузите приглашение от принимающей компании или рекомендательное письмо торговой палаты"}[b.lang]
	if got := b.text(".error-summary a"); got != want {
		t.Errorf("error summary %q, want %q", got, want)
	}
	if href := eval[string](b, `document.querySelector(".error-summary a").getAttribute("href")`); href !=
		"#documents-invitation_letter" {
		t.Errorf("error summary links to %q", href)
	}
	if eval[int](b, `document.querySelectorAll(".error-summary li").length`) != 1 {
		t.Errorf("error summary: %s", b.text(".error-summary"))
	}
	// The two files taken are kept, shown by type and size, never by the file's name.
	if !b.exists("#documents-passport_data_page-uploaded") || !b.exists("#documents-photograph-uploaded") ||
		strings.Contains(b.text("main"), "nurlan-abenov") {
		t.Errorf("the documents step after the refusal: %s", b.text("main"))
	}
	b.upload("documents-invitation_letter", files.letter)
	b.submit("continue")

	b.check("check-answers")
	if !strings.Contains(b.text("main"), passport) {
		t.Error("check your answers does not show the passport number")
	}
	for _, id := range []string{"passport_data_page", "photograph", "invitation_letter"} {
		if !eval[bool](b, fmt.Sprintf(`[...document.querySelectorAll(".summary-actions a")].some(a =>
			a.getAttribute("href").endsWith("#documents-%s") &&
			/(JPEG|PDF), [0-9]+/.test(a.closest(".summary-row").querySelector(".summary-value").textContent))`, id)) {
			t.Errorf("check your answers does not show the %s's type and size: %s", id, b.text("main"))
		}
	}
	if strings.Contains(b.text("main"), "nurlan-abenov") || strings.Contains(b.text("main"), "invitation.pdf") {
		t.Error("check your answers shows a file's name")
	}
	if b.submit("submit") != 200 {
		t.Fatal("submit")
	}
	b.check("confirmation")
	reference := b.text("#reference")
	if !strings.HasPrefix(reference, "PKV-") {
		t.Fatalf("reference %q", reference)
	}
	if strings.Contains(eval[string](b, `location.href`), reference) {
		t.Error("the reference is in the URL")
	}
	capability := b.cookie("visad_case")
	id, token, _ := strings.Cut(capability, ".")
	if !domain.IsApplicationID(id) {
		t.Fatalf("case cookie %q", capability)
	}
	docs, err := env.Store.ApplicationDocuments(t.Context(), id)
	if err != nil || len(docs) != 3 {
		t.Fatalf("the application holds %d documents (%v), want the 3 uploaded", len(docs), err)
	}

	// Follow the case: an officer approves it through the API unless it went straight through.
	b.submit("view-application")
	b.check("application-open")
	if b.js && b.exists("#clock") && eval[string](b, `document.getElementById("clock").dataset.live || ""`) != "on" {
		t.Error("the decision clock is not live with JavaScript on")
	}
	if waitForDecisionOrReview(t, env, id, token) != domain.StatusIssued {
		approve := map[string]string{"decision": "approve"}
		if r := env.Do("POST", "/v1/cases/"+id+"/decision", officer, approve); r.Status != 200 {
			t.Fatalf("approve: %d %s", r.Status, r.Body)
		}
	}
	for i := 0; ; i++ {
		b.open("/application")
		if b.exists("#download") {
			break
		}
		if i > 50 {
			t.Fatalf("no e-visa download on the case page: %s", b.text("main"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.check("application-issued")
	if b.js && eval[string](b, `document.querySelector("#clock") ? "clock" : ""`) != "" {
		t.Error("an issued case shows the decision clock")
	}
	// The download link serves the e-visa to this browser's cookie.
	href := eval[string](b, `document.querySelector("#download").getAttribute("href")`)
	req, _ := http.NewRequest("GET", b.base+href, nil)
	req.AddCookie(&http.Cookie{Name: "visad_case", Value: capability})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(string(pdf), "%PDF-") {
		t.Fatalf("e-visa download: %d %q", res.StatusCode, pdf[:min(len(pdf), 20)])
	}
}

// waitForDecisionOrReview waits until the case is with an officer, or issued straight through.
func waitForDecisionOrReview(t *testing.T, env *testenv.Env, id, token string) domain.Status {
	t.Helper()
	var last domain.Status
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		var view struct {
			Status domain.Status `json:"status"`
		}
		if r := env.Do("GET", "/v1/applications/"+id, token, nil); r.Status == http.StatusOK {
			r.JSON(t, &view)
			last = view.Status
			if last == domain.StatusAwaitingReview || last == domain.StatusIssued {
				return last
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("case %s stayed %q", id, last)
	return last
}

// The case page's actions and "find your application", in a real browser:
// answer the request for documents by upload (a picture too small for a
// photograph first), answer an officer's request for information (an empty
// answer first), withdraw after the confirmation step, and find the case
// from another device.
func TestPortalCaseActionsInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("real stack and browser")
	}
	chromium := browserPath(t)
	env := testenv.Start(t, testenv.Options{DocumentsRequired: true})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer Ayesha")
	files := newPortalFiles(t)
	for _, lang := range []string{"en", "ru"} {
		t.Run(lang, func(t *testing.T) {
			b := newBrowser(t, chromium, env.HTTP.URL, lang, true)
			// Sent through the API without documents: the case asks for them at once.
			form := testenv.ValidApplication(domain.ProductBusiness2Y)
			r := env.Do("POST", "/v1/applications", "", form)
			var sub struct {
				ID          string `json:"id"`
				Reference   string `json:"reference"`
				AccessToken string `json:"access_token"`
			}
			r.JSON(t, &sub)
			env.WaitForStatus(sub.ID, sub.AccessToken, domain.StatusInformationRequested)
			// The browser that applied holds the capability (as after applying in the portal).
			if _, err := chromedp.Call(b.ctx, network.SetCookie, network.SetCookieParams{Name: "visad_case",
				Value: sub.ID + "." + sub.AccessToken, URL: b.base, HTTPOnly: new(true),
				SameSite: network.CookieSameSiteStrict}); err != nil {
				t.Fatal(err)
			}
			b.open("/application")
			for _, id := range []string{"passport_data_page", "photograph", "invitation_letter",
				"chamber_recommendation_letter"} {
				if !b.exists("#documents-" + id) {
					t.Fatalf("no file input for the %s on the case page: %s", id, b.text("main"))
				}
			}
			b.check("application-documents-requested")
			b.upload("documents-passport_data_page", files.passport)
			b.upload("documents-photograph", files.smallPhoto)
			if b.submit("send-answer") != http.StatusUnprocessableEntity {
				t.Fatal("a photograph of 300×300 pixels was taken")
			}
			b.check("application-documents-error")
			want := map[string]string{"en": "The photograph must be at least 600 × 600 pixels",
				"ru": "Фотография должна быть не меньше 600 × 600 пикселей"}[lang]
			if got := b.text(".error-summary a"); got != want {
				t.Errorf("error summary %q, want %q", got, want)
			}
			if href := eval[string](b, `document.querySelector(".error-summary a").getAttribute("href")`); href !=
				"#documents-photograph" {
				t.Errorf("error summary links to %q", href)
			}
			if !b.exists("#documents-passport_data_page-uploaded") {
				t.Errorf("the passport scan taken is not shown as kept: %s", b.text("main"))
			}
			if docs, _ := env.Store.ApplicationDocuments(t.Context(), sub.ID); len(docs) != 0 {
				t.Fatalf("a refused answer attached %d documents", len(docs))
			}
			b.upload("documents-photograph", files.photo)
			b.upload("documents-invitation_letter", files.letter)
			b.submit("send-answer")
			if !b.exists(".notice") {
				t.Errorf("no confirmation after answering with the documents: %s", b.text("main"))
			}
			b.check("application-documents-sent")
			waitForDecisionOrReview(t, env, sub.ID, sub.AccessToken)
			if docs, _ := env.Store.ApplicationDocuments(t.Context(), sub.ID); len(docs) != 3 {
				t.Fatalf("the answer attached %d documents, want 3", len(docs))
			}

			rfi := map[string]any{"decision": "request_information", "message": "Please send the host's letter."}
			if r := env.Do("POST", "/v1/cases/"+sub.ID+"/decision", officer, rfi); r.Status != 200 {
				t.Fatalf("request information: %d %s", r.Status, r.Body)
			}
			b.open("/application")
			if !b.exists("#message") {
				t.Fatalf("no answer form on the case page: %s", b.text("main"))
			}
			b.check("application-information-requested")
			if b.submit("send-answer") != http.StatusUnprocessableEntity {
				t.Error("an empty answer was not refused")
			}
			b.check("application-answer-error")
			b.fill("message", "The letter from Lahore Textiles Ltd is attached.")
			b.submit("send-answer")
			if !b.exists(".notice") {
				t.Errorf("no confirmation after answering: %s", b.text("main"))
			}
			b.check("application-answered")

			b.open("/application/withdraw")
			b.check("withdraw-confirm")
			b.submit("confirm-withdraw")
			if !b.exists(".status-closed") {
				t.Errorf("not withdrawn: %s", b.text("main"))
			}
			b.check("application-withdrawn")

			// Another device: no cookie; the reference, passport number and birth date find the status.
			other := newBrowser(t, chromium, env.HTTP.URL, lang, true)
			other.open("/application") // sends the browser without a capability to "find"
			other.check("find")
			other.fill("reference", sub.Reference)
			other.fill("passport_number", form.Passport.Number)
			other.fill("date_of_birth", "1990-01-01")
			if other.submit("find") != http.StatusUnprocessableEntity {
				t.Error("wrong birth date was not refused")
			}
			other.check("find-no-match")
			other.fill("date_of_birth", form.Applicant.DateOfBirth)
			other.submit("find")
			if !other.exists("#status") || strings.Contains(other.text("main"), form.Passport.Number) {
				t.Errorf("found page: %s", other.text("main"))
			}
			other.check("found")

			// To act from there, the code e-mailed to the application's address (read from its outbox row).
			challenge := other.cookie("visad_sign_in")
			row, err := env.Store.GetSignInCode(t.Context(), challenge)
			if err != nil {
				t.Fatalf("sign-in code for the browser's challenge: %v", err)
			}
			code, err := env.Services.Keys.Open(row.CodeSealed, "sign-in:"+row.ApplicationID)
			if err != nil {
				t.Fatal(err)
			}
			other.fill("code", "12345x")
			if other.submit("send-code") != http.StatusUnprocessableEntity {
				t.Error("a wrong code was accepted")
			}
			other.check("code-wrong")
			other.fill("code", string(code))
			other.submit("send-code")
			if got := other.cookie("visad_case"); !strings.HasPrefix(got, sub.ID+".") {
				t.Fatalf("after the code the browser holds %q, not the case's capability", got)
			}
			if !other.exists(".status-closed") {
				t.Errorf("the second device does not see the case: %s", other.text("main"))
			}
		})
	}
}
