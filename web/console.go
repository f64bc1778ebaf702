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
)

// The staff console: the officers' queue and case pages and the
// supervisors' dashboard, under /staff/. Like the portal it is rendered on
// the server and works without JavaScript (console.js adds keyboard
// shortcuts and a notice when the page's case or queue changes). It acts
// through the same casework methods as the JSON API, so every action is the
// same signed Update on the case's workflow.

//go:embed templates/officer/*.html
var officerFS embed.FS

// staffMember is the member of staff signed in to the console (from staffFrom).
type staffMember struct {
	ID   string
	Name string
	Role domain.Role
}

// Actor is the member of staff acting on a case.
func (m staffMember) Actor() domain.Actor { return domain.Actor{ID: m.ID, Role: m.Role} }

// IsSupervisor reports whether the member of staff is a supervisor.
func (m staffMember) IsSupervisor() bool { return m.Role == domain.RoleSupervisor }

// CaseConsole serves the officers' queue and case pages and the
// supervisors' dashboard, inside the consoles (Consoles.routeCaseConsole):
// requireRole admits the session, checkForm checks its form token.
type CaseConsole struct {
	consoles *Consoles
	cases    *casework.Service
	log      *slog.Logger
	// every is how often console.js asks whether the page changed.
	every time.Duration
	pages map[string]*template.Template
}

// routeCaseConsole mounts the queue (also the officers' and supervisors'
// landing page, /staff/), the case pages and the dashboard (supervisors only).
func (c *Consoles) routeCaseConsole(mux *http.ServeMux) {
	cc := &CaseConsole{consoles: c, cases: c.portal.deps.Cases, log: c.portal.deps.Log,
		every: 5 * time.Second, pages: parseOfficerPages()}
	officers := c.requireRole(domain.RoleOfficer, domain.RoleSupervisor)
	supervisors := c.requireRole(domain.RoleSupervisor)
	mux.Handle("GET /staff/{$}", c.requireRole(domain.StaffRoles...)(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			if p, _ := staffFrom(r.Context()); p.Role.HandlesCases() {
				cc.staff(cc.queue)(w, r)
				return
			}
			c.staffHome(w, r)
		})))
	mux.Handle("GET /staff/queue/version", officers(cc.staff(cc.queueVersion)))
	mux.Handle("GET /staff/cases/{id}", officers(cc.staff(cc.showCase)))
	mux.Handle("GET /staff/cases/{id}/version", officers(cc.staff(cc.caseVersion)))
	mux.Handle("POST /staff/cases/{id}/claim", officers(cc.staff(cc.claim)))
	mux.Handle("POST /staff/cases/{id}/release", officers(cc.staff(cc.release)))
	mux.Handle("POST /staff/cases/{id}/decision", officers(cc.staff(cc.decide)))
	mux.Handle("GET /staff/cases/{id}/documents/{doc}", officers(cc.staff(cc.openDocument)))
	mux.Handle("GET /staff/cases/{id}/documents/{doc}/preview", officers(cc.staff(cc.previewDocument)))
	mux.Handle("GET /staff/dashboard", supervisors(cc.staff(cc.dashboard)))
	mux.Handle("GET /staff/dashboard/{file}", supervisors(cc.staff(cc.dashboardCSV)))
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

type staffHandler func(w http.ResponseWriter, r *http.Request, me staffMember)

// staff hands a handler the member of staff requireRole admitted.
func (c *CaseConsole) staff(h staffHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := staffFrom(r.Context())
		if !ok || !p.Role.HandlesCases() {
			c.consoles.notFound(w, r)
			return
		}
		h(w, r, staffMember{ID: p.UserID, Name: p.Name, Role: p.Role})
	}
}

// officerPage is what every console template gets.
type officerPage struct {
	*translator
	Title  string
	Me     staffMember
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

// newPage starts a page; its Token is a fresh form token of the console
// session (unique per render, so it doubles as a decision's idempotency key).
func (c *CaseConsole) newPage(w http.ResponseWriter, r *http.Request, me staffMember, title string) *officerPage {
	return &officerPage{translator: newTranslator(language.English), Title: title, Me: me,
		Token: c.consoles.formToken(r), Every: int(c.every.Milliseconds()), now: time.Now()}
}

// checkToken refuses a form whose token this console session was not given.
func (c *CaseConsole) checkToken(w http.ResponseWriter, r *http.Request) bool {
	return c.consoles.checkForm(w, r)
}

func (c *CaseConsole) render(w http.ResponseWriter, status int, name string, pg *officerPage) {
	if len(pg.Errors) > 0 {
		pg.Title = "Error: " + pg.Title
	}
	pg.Title += " – Visa casework"
	var b bytes.Buffer
	if err := c.pages[name].Execute(&b, pg); err != nil {
		c.log.Error("render console page", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", "en")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

func (c *CaseConsole) notFound(w http.ResponseWriter, r *http.Request, _ staffMember) {
	c.consoles.notFound(w, r)
}

// serverError logs what failed (never the case's data) and shows a plain page.
func (c *CaseConsole) serverError(w http.ResponseWriter, r *http.Request, me staffMember, what string, err error) {
	if errors.Is(err, casework.ErrUnavailable) {
		pg := c.newPage(w, r, me, "Case processing is unavailable")
		c.render(w, http.StatusServiceUnavailable, "unavailable", pg)
		return
	}
	c.log.Error("console", "action", what, "error", err)
	pg := c.newPage(w, r, me, "Sorry, there is a problem with the service")
	c.render(w, http.StatusInternalServerError, "problem", pg)
}
