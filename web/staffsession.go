package web

import (
	"bytes"
	"context"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
)

// The consoles: pages for staff under /staff/ and for chambers under
// /chamber/, behind one sign-in (/staff/sign-in). Every console page is
// wrapped in requireRole, which admits a signed-in session of one of its
// roles and answers 404 to everyone else: an applicant, a visitor without
// a session, a chamber on a staff page or an officer on an admin page all
// see the same "page not found" (a session that has ended is sent to sign
// in again). Console forms carry a token bound to the session
// (Consoles.checkForm), on top of Go's cross-origin protection.
//
// To add a page, in a routeXxx(mux) called from Consoles.routes:
//
//	mux.Handle("GET /staff/queue", c.requireRole(domain.RoleOfficer, domain.RoleSupervisor)(http.HandlerFunc(c.queue)))
//
// and in the handler: who, _ := staffFrom(r.Context()); pg := c.newPage(w, r, "title.key"); …;
// c.render(w, http.StatusOK, "queue", pg) for templates/console/queue.html; POST handlers start with
// if !c.checkForm(w, r) { return }.

// StaffPrincipal is who a console request is from.
type StaffPrincipal struct {
	UserID    string
	Role      domain.Role
	Name      string // the person's (or chamber account's) display name
	Login     string
	ChamberID string // chamber accounts only
	secret    string // the session cookie's value, for form tokens
}

// IsChamber reports whether the principal works for a chamber.
func (s StaffPrincipal) IsChamber() bool { return s.Role == domain.RoleChamber }

// Actor is the principal acting on a case.
func (s StaffPrincipal) Actor() domain.Actor { return domain.Actor{ID: s.UserID, Role: s.Role} }

type staffKey struct{}

// staffFrom returns the principal requireRole admitted.
func staffFrom(ctx context.Context) (StaffPrincipal, bool) {
	p, ok := ctx.Value(staffKey{}).(StaffPrincipal)
	return p, ok
}

// Consoles serves the staff and chamber pages.
type Consoles struct {
	portal   *Portal
	accounts *casework.Accounts
	pages    map[string]*template.Template
	failures *addressFailures
}

func newConsoles(p *Portal) *Consoles {
	return &Consoles{portal: p, accounts: p.deps.Accounts, pages: parseConsolePages(),
		failures: &addressFailures{seen: map[string]addressRecord{}}}
}

// ConsoleRoutes are the consoles' paths, which the binary sends to this handler.
var ConsoleRoutes = []string{"/staff/", "/chamber/"}

func (c *Consoles) routes(mux *http.ServeMux) {
	mux.HandleFunc("POST /staff/language", c.setLanguage)
	c.routeSignIn(mux)
	c.routeCaseConsole(mux)
	c.routeAdmin(mux)
	c.routeChamber(mux)
	mux.HandleFunc("/staff/", c.notFound)
	mux.HandleFunc("/chamber/", c.notFound)
}

func parseConsolePages() map[string]*template.Template {
	names, err := fs.Glob(templateFS, "templates/console/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/console/"), ".html")
		if name == "layout" {
			continue
		}
		files := []string{"templates/console/layout.html", "templates/fields.html", n}
		if strings.HasPrefix(name, "chamber_") && name != "chamber_parts" {
			files = append(files, "templates/console/chamber_parts.html")
		}
		pages[name] = template.Must(template.New("layout.html").ParseFS(templateFS, files...))
	}
	return pages
}

// staffCookie names the session cookie: __Host- when served over TLS, so
// no subdomain or plain-HTTP page can set or shadow it.
func (c *Consoles) staffCookie() string {
	if c.portal.deps.Secure {
		return "__Host-visad_staff"
	}
	return "visad_staff"
}

// setSession sets (or with an empty value deletes) the session cookie:
// HttpOnly, SameSite=Lax, Secure behind TLS, for the browser session only
// (the server ends it sooner: idle and absolute timeouts).
func (c *Consoles) setSession(w http.ResponseWriter, value string) {
	ck := &http.Cookie{Name: c.staffCookie(), Value: value, Path: "/", HttpOnly: true, Secure: c.portal.deps.Secure,
		SameSite: http.SameSiteLaxMode}
	if value == "" {
		ck.MaxAge = -1
	}
	http.SetCookie(w, ck)
}

func (c *Consoles) sessionSecret(r *http.Request) string {
	if ck, err := r.Cookie(c.staffCookie()); err == nil {
		return ck.Value
	}
	return ""
}

// requireRole admits signed-in sessions of the roles and puts their
// principal in the request's context (staffFrom); it answers 404 to
// everyone else, and sends a browser whose session ended to sign in.
func (c *Consoles) requireRole(roles ...domain.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			secret := c.sessionSecret(r)
			if secret == "" {
				c.notFound(w, r)
				return
			}
			s, err := c.accounts.Session(r.Context(), secret)
			if casework.KindOf(err) == casework.Unauthenticated {
				c.setSession(w, "")
				http.Redirect(w, r, "/staff/sign-in?ended=1", http.StatusSeeOther)
				return
			}
			if err != nil {
				c.serverError(w, r, "console session", err)
				return
			}
			if !slices.Contains(roles, s.Account.Role) {
				c.notFound(w, r)
				return
			}
			p := StaffPrincipal{UserID: s.Account.ID, Role: s.Account.Role, Name: s.Name, Login: s.Login,
				ChamberID: s.Account.ChamberID, secret: secret}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), staffKey{}, p)))
		})
	}
}

// signedIn is requireRole for every account role (pages any account uses).
func (c *Consoles) signedIn(h http.HandlerFunc) http.Handler {
	return c.requireRole(domain.AccountRoles...)(h)
}

// formToken is a fresh form token of the request's console session.
func (c *Consoles) formToken(r *http.Request) string {
	p, ok := staffFrom(r.Context())
	if !ok {
		return ""
	}
	return c.accounts.FormToken(p.secret)
}

// checkForm refuses a console form whose token this session was not given.
func (c *Consoles) checkForm(w http.ResponseWriter, r *http.Request) bool {
	p, ok := staffFrom(r.Context())
	if ok && c.accounts.VerifyFormToken(p.secret, r.PostFormValue("page_token")) {
		return true
	}
	http.Error(w, newTranslator(chooseLanguage(r)).T("error.page_token"), http.StatusForbidden)
	return false
}

// homeOf is where an account lands after signing in.
func homeOf(role domain.Role) string {
	if role == domain.RoleChamber {
		return "/chamber/"
	}
	return "/staff/"
}

// consolePage is what console templates get: the portal's page (language,
// errors, values) plus who is signed in. Token is the console form token
// when signed in (the anonymous page token otherwise), for every form of
// the page, the language switcher's included.
type consolePage struct {
	*page
	Staff *StaffPrincipal
	Home  string
}

func (c *Consoles) newPage(w http.ResponseWriter, r *http.Request, titleKey string) *consolePage {
	pg := &consolePage{page: c.portal.newPage(w, r, titleKey), Home: "/staff/sign-in"}
	if p, ok := staffFrom(r.Context()); ok {
		pg.Staff = &p
		pg.Token = c.accounts.FormToken(p.secret)
		pg.Home = homeOf(p.Role)
	}
	return pg
}

// ServiceName is the header's name: the chamber portal for chambers, the casework console otherwise.
func (pg *consolePage) ServiceName() string {
	if pg.Staff != nil && pg.Staff.IsChamber() {
		return pg.T("console.chamber_service")
	}
	return pg.T("console.service")
}

// RoleName is the signed-in account's role in words.
func (pg *consolePage) RoleName() string {
	if pg.Staff == nil {
		return ""
	}
	return pg.T("role." + string(pg.Staff.Role))
}

// HandlesCases reports whether the signed-in account works the officers' queue.
func (pg *consolePage) HandlesCases() bool { return pg.Staff != nil && pg.Staff.Role.HandlesCases() }

// IsSupervisor reports whether the signed-in account is a supervisor (who sees the dashboard).
func (pg *consolePage) IsSupervisor() bool {
	return pg.Staff != nil && pg.Staff.Role == domain.RoleSupervisor
}

// IsAdmin reports whether the signed-in account manages accounts.
func (pg *consolePage) IsAdmin() bool { return pg.Staff != nil && pg.Staff.Role.ManagesAccounts() }

func (c *Consoles) render(w http.ResponseWriter, status int, name string, pg *consolePage) {
	if len(pg.Errors) > 0 {
		pg.Title = pg.T("title.error_prefix") + " " + pg.Title
	}
	pg.Title += " – " + pg.ServiceName()
	var b bytes.Buffer
	t, ok := c.pages[name]
	if !ok {
		c.portal.deps.Log.Error("render console page", "page", name, "error", "no such template")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := t.Execute(&b, pg); err != nil {
		c.portal.deps.Log.Error("render console page", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", pg.Lang)
	w.Header().Set("Vary", "Accept-Language, Cookie")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// notFound is every console page a request may not see.
func (c *Consoles) notFound(w http.ResponseWriter, r *http.Request) {
	pg := c.newPage(w, r, "console.not_found.title")
	c.render(w, http.StatusNotFound, "not_found", pg)
}

func (c *Consoles) serverError(w http.ResponseWriter, r *http.Request, what string, err error) {
	c.portal.deps.Log.Error("console", "action", what, "error", err)
	pg := c.newPage(w, r, "error.title")
	c.render(w, http.StatusInternalServerError, "problem", pg)
}

// addressFailures counts failed sign-ins per client address (in this
// process): past domain.FreeAddressFailures the address waits
// domain.AddressBackoff between attempts, whichever accounts it tries.
type addressFailures struct {
	mu   sync.Mutex
	seen map[string]addressRecord
}

type addressRecord struct {
	n    int
	last time.Time
}

func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// wait is how long the address must still wait before its next attempt.
func (f *addressFailures) wait(addr string, now time.Time) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec := f.seen[addr]
	if now.Sub(rec.last) > domain.AddressFailureMemory {
		return 0
	}
	return max(0, rec.last.Add(domain.AddressBackoff(rec.n)).Sub(now))
}

func (f *addressFailures) fail(addr string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, rec := range f.seen {
		if now.Sub(rec.last) > domain.AddressFailureMemory {
			delete(f.seen, k)
		}
	}
	rec := f.seen[addr]
	f.seen[addr] = addressRecord{n: rec.n + 1, last: now}
}

// setLanguage is the consoles' language switcher: a signed-in page's form
// carries the session's token, a sign-in page's the anonymous page token.
func (c *Consoles) setLanguage(w http.ResponseWriter, r *http.Request) {
	if secret := c.sessionSecret(r); secret != "" {
		if _, err := c.accounts.Session(r.Context(), secret); err == nil {
			if !c.accounts.VerifyFormToken(secret, r.PostFormValue("page_token")) {
				http.Error(w, newTranslator(chooseLanguage(r)).T("error.page_token"), http.StatusForbidden)
				return
			}
			c.portal.applyLanguage(w, r)
			return
		}
	}
	if c.portal.checkToken(w, r) {
		c.portal.applyLanguage(w, r)
	}
}
