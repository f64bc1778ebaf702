package web

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
	"github.com/visad/visad/web/assets"
)

// The staff console: the officers' queue and case pages and the
// supervisors' dashboard, under /staff/. Like the portal it is rendered on
// the server and works without JavaScript (console.js adds keyboard
// shortcuts and a notice when the page's case or queue changes). It acts
// through the same casework methods as the JSON API, so every action is the
// same signed Update on the case's workflow.

//go:embed templates/officer/*.html
var officerFS embed.FS

// StaffMember is the member of staff signed in to the console.
type StaffMember struct {
	ID   string
	Name string
	Role domain.Role
}

// Actor is the member of staff acting on a case.
func (m StaffMember) Actor() domain.Actor { return domain.Actor{ID: m.ID, Role: m.Role} }

// IsSupervisor reports whether the member of staff is a supervisor.
func (m StaffMember) IsSupervisor() bool { return m.Role == domain.RoleSupervisor }

// CaseConsoleDeps is what the console needs.
type CaseConsoleDeps struct {
	Cases *casework.Service
	Log   *slog.Logger
	// Secure marks the console's cookie Secure (served over TLS).
	Secure bool
	// Staff says who is signed in (the staff sign-in's session); false: nobody.
	Staff func(r *http.Request) (StaffMember, bool)
	// SignIn is where a browser with no staff session is sent (default /staff/sign-in).
	SignIn string
	// PollInterval is how often console.js asks whether the page changed (default 5 s).
	PollInterval time.Duration
}

// CaseConsole serves the staff pages.
type CaseConsole struct {
	deps  CaseConsoleDeps
	pages map[string]*template.Template
}

// CaseConsoleRoutes are the paths the console answers.
var CaseConsoleRoutes = []string{"/staff/{$}", "/staff/queue/", "/staff/cases/", "/staff/dashboard",
	"/staff/dashboard/"}

// NewCaseConsole builds the console's handler, behind the same security headers
// and cross-origin protection as the portal (and a page token in every form).
func NewCaseConsole(deps CaseConsoleDeps) http.Handler {
	if deps.SignIn == "" {
		deps.SignIn = "/staff/sign-in"
	}
	if deps.PollInterval <= 0 {
		deps.PollInterval = 5 * time.Second
	}
	c := &CaseConsole{deps: deps, pages: parseOfficerPages()}
	mux := http.NewServeMux()
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", cacheFor(time.Hour, http.FileServerFS(assets.FS))))
	mux.HandleFunc("GET /staff/{$}", c.staff(c.queue))
	mux.HandleFunc("GET /staff/queue/version", c.staff(c.queueVersion))
	mux.HandleFunc("GET /staff/cases/{id}", c.staff(c.showCase))
	mux.HandleFunc("GET /staff/cases/{id}/version", c.staff(c.caseVersion))
	mux.HandleFunc("POST /staff/cases/{id}/claim", c.staff(c.claim))
	mux.HandleFunc("POST /staff/cases/{id}/release", c.staff(c.release))
	mux.HandleFunc("POST /staff/cases/{id}/decision", c.staff(c.decide))
	mux.HandleFunc("GET /staff/dashboard", c.staff(c.supervisor(c.dashboard)))
	mux.HandleFunc("GET /staff/dashboard/{file}", c.staff(c.supervisor(c.dashboardCSV)))
	protect := http.NewCrossOriginProtection()
	return securityHeaders(protect.Handler(mux))
}

func parseOfficerPages() map[string]*template.Template {
	names, err := fs.Glob(officerFS, "templates/officer/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/officer/"), ".html")
		if name == "layout" {
			continue
		}
		pages[name] = template.Must(template.New("layout.html").Funcs(officerFuncs).
			ParseFS(officerFS, "templates/officer/layout.html", n))
	}
	return pages
}

var officerFuncs = template.FuncMap{
	"words": words,
	"args":  formArgs,
}

// formArgs hands a decision form its page, heading, button and id prefix.
func formArgs(p *officerPage, heading, button, prefix string) decisionForm {
	return decisionForm{P: p, Heading: heading, Button: button, Prefix: prefix}
}

type decisionForm struct {
	P                       *officerPage
	Heading, Button, Prefix string
}

// words turns a vocabulary code into words ("awaiting_review": "Awaiting review").
func words(code any) string {
	s := strings.ReplaceAll(toString(code), "_", " ")
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case interface{ String() string }:
		return x.String()
	case domain.Status:
		return string(x)
	case domain.Event:
		return string(x)
	case domain.Outcome:
		return string(x)
	case domain.Role:
		return string(x)
	case domain.ReasonCode:
		return string(x)
	case domain.Urgency:
		return string(x)
	}
	return ""
}

type staffHandler func(w http.ResponseWriter, r *http.Request, me StaffMember)

// staff admits the staff who handle cases; a browser with no staff session
// goes to the sign-in page, and any other account (an admin's, a chamber's)
// finds nothing here.
func (c *CaseConsole) staff(h staffHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		me, ok := StaffMember{}, false
		if c.deps.Staff != nil {
			me, ok = c.deps.Staff(r)
		}
		if !ok {
			if r.Method == http.MethodGet && !strings.HasSuffix(r.URL.Path, "/version") {
				http.Redirect(w, r, c.deps.SignIn, http.StatusSeeOther)
				return
			}
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		if !me.Role.HandlesCases() {
			c.notFound(w, r, me)
			return
		}
		h(w, r, me)
	}
}

// supervisor keeps a page to supervisors.
func (c *CaseConsole) supervisor(h staffHandler) staffHandler {
	return func(w http.ResponseWriter, r *http.Request, me StaffMember) {
		if !me.IsSupervisor() {
			pg := c.newPage(w, r, me, "Only supervisors can see this page")
			c.render(w, http.StatusForbidden, "forbidden", pg)
			return
		}
		h(w, r, me)
	}
}

// officerPage is what every console template gets.
type officerPage struct {
	*translator
	Title  string
	Me     StaffMember
	Token  string
	Nav    string // the header link of this page: queue or dashboard
	Errors []fieldError
	Notice string
	// Poll is the address console.js polls for this page's version, and Version the one shown.
	Poll    string
	Version string
	Every   int // poll interval in milliseconds
	Data    any
	now     time.Time
}

const officerCookie = "visad_console"

func (c *CaseConsole) newPage(w http.ResponseWriter, r *http.Request, me StaffMember, title string) *officerPage {
	return &officerPage{translator: newTranslator(language.English), Title: title, Me: me,
		Token: c.deps.Cases.PageToken(c.session(w, r)), Every: int(c.deps.PollInterval.Milliseconds()),
		now: time.Now()}
}

func (c *CaseConsole) session(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(officerCookie); err == nil && len(ck.Value) >= 16 {
		return ck.Value
	}
	s := casework.NewSession()
	http.SetCookie(w, &http.Cookie{Name: officerCookie, Value: s, Path: "/staff/", HttpOnly: true,
		Secure: c.deps.Secure, SameSite: http.SameSiteStrictMode})
	r.AddCookie(&http.Cookie{Name: officerCookie, Value: s})
	return s
}

// checkToken refuses a form whose page token this browser was not given.
func (c *CaseConsole) checkToken(w http.ResponseWriter, r *http.Request) bool {
	ck, err := r.Cookie(officerCookie)
	if err == nil && c.deps.Cases.VerifyPageToken(ck.Value, r.PostFormValue("page_token")) {
		return true
	}
	http.Error(w, "This form has expired. Go back, reload the page and try again.", http.StatusForbidden)
	return false
}

func (c *CaseConsole) render(w http.ResponseWriter, status int, name string, pg *officerPage) {
	if len(pg.Errors) > 0 {
		pg.Title = "Error: " + pg.Title
	}
	pg.Title += " – Visa casework"
	var b bytes.Buffer
	if err := c.pages[name].Execute(&b, pg); err != nil {
		c.deps.Log.Error("render console page", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", "en")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

func (c *CaseConsole) notFound(w http.ResponseWriter, r *http.Request, me StaffMember) {
	pg := c.newPage(w, r, me, "Page not found")
	c.render(w, http.StatusNotFound, "notfound", pg)
}

// serverError logs what failed (never the case's data) and shows a plain page.
func (c *CaseConsole) serverError(w http.ResponseWriter, r *http.Request, me StaffMember, what string, err error) {
	if errors.Is(err, casework.ErrUnavailable) {
		pg := c.newPage(w, r, me, "Case processing is unavailable")
		c.render(w, http.StatusServiceUnavailable, "unavailable", pg)
		return
	}
	c.deps.Log.Error("console", "action", what, "error", err)
	pg := c.newPage(w, r, me, "Sorry, there is a problem with the service")
	c.render(w, http.StatusInternalServerError, "problem", pg)
}
