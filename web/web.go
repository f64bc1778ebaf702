// Package web is visad's browser front end: server-rendered pages
// (html/template) with their assets embedded, that work without JavaScript.
// Handlers call the service layer (internal/casework) only. Today it serves
// the applicant portal; the staff consoles are to reuse its layout, styles,
// language handling and form protection.
package web

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/visad/visad/internal/casework"
	"github.com/visad/visad/web/assets"
)

//go:embed templates/*.html templates/console/*.html
var templateFS embed.FS

// CSP allows script and style from this origin only: no inline script, no
// framing, forms post only here.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Deps is what the pages need.
type Deps struct {
	Cases  *casework.Service
	EVisas *casework.EVisas
	Log    *slog.Logger
	// Secure marks cookies Secure (the portal is served over TLS, directly or behind a proxy).
	Secure bool
	// LookupsPerMinute bounds "find my application" per client address (default 10).
	LookupsPerMinute int
	// Accounts signs staff and chambers in to the consoles (staffsession.go).
	Accounts *casework.Accounts
	// DocumentsRequired enforces each product's document checklist in the
	// portal as the workflow does (VISA_DOCUMENTS_REQUIRED): the form is not
	// sent without the required documents.
	DocumentsRequired bool
}

// Portal serves the applicant's pages.
type Portal struct {
	deps    Deps
	pages   map[string]*template.Template
	lookups *limiter
	uploads *limiter
}

// Routes are the paths the portal answers; the binary sends the rest to the API.
var Routes = []string{
	"GET /{$}", "/apply/", "/application", "/application/", "/find", "/find/", "/language", "/assets/",
}

// New builds the portal's handler: every route behind the security headers
// and Go's cross-origin protection (a cross-site POST is refused before any
// handler runs; each form also carries a page token bound to the session).
func New(deps Deps) http.Handler {
	if deps.LookupsPerMinute <= 0 {
		deps.LookupsPerMinute = 10
	}
	p := &Portal{deps: deps, pages: parsePages(), lookups: newLimiter(deps.LookupsPerMinute),
		uploads: newLimiter(uploadsPerMinute)}
	mux := http.NewServeMux()
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", cacheFor(time.Hour, http.FileServerFS(assets.FS))))
	mux.HandleFunc("GET /{$}", p.start)
	mux.HandleFunc("POST /language", p.setLanguage)
	p.routeApply(mux)
	p.routeCase(mux)
	if deps.Accounts != nil {
		newConsoles(p).routes(mux)
	}
	protect := http.NewCrossOriginProtection()
	return securityHeaders(protect.Handler(mux))
}

func parsePages() map[string]*template.Template {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || name == "fields" {
			continue
		}
		pages[name] = template.Must(template.New("layout.html").
			ParseFS(templateFS, "templates/layout.html", "templates/fields.html", n))
	}
	return pages
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		if h.Get("Cache-Control") == "" {
			// Pages show personal data: no shared or back-button cache.
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

func cacheFor(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(d.Seconds())))
		next.ServeHTTP(w, r)
	})
}

// page is what every template gets: the language, the session's page token,
// the error summary and the page's own data.
type page struct {
	*translator
	Lang    string
	Title   string // already translated; starts "Error: " when the page shows errors
	Token   string
	Path    string // this page's path, for the language switcher (paths hold no personal data)
	Errors  []fieldError
	Notice  string
	Data    any
	Values  map[string]string
	Fields  map[string]string // field id -> inline error
	Step    *step
	heading string
	Product string
	now     time.Time
}

// fieldError is one line of the error summary.
type fieldError struct {
	Href    string
	Message string
}

const sessionCookie = "visad_session"

// newPage starts a page for r, making sure the browser has a session (for page tokens).
func (p *Portal) newPage(w http.ResponseWriter, r *http.Request, titleKey string) *page {
	tr := newTranslator(chooseLanguage(r))
	session := p.session(w, r)
	return &page{translator: tr, Lang: tr.lang.String(), Title: tr.T(titleKey), heading: tr.T(titleKey), Path: r.URL.Path,
		Token: p.deps.Cases.PageToken(session), Values: map[string]string{}, Fields: map[string]string{},
		now: time.Now()}
}

func (p *Portal) session(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(sessionCookie); err == nil && len(c.Value) >= 16 {
		return c.Value
	}
	s := casework.NewSession()
	p.setCookie(w, sessionCookie, s, 0)
	r.AddCookie(&http.Cookie{Name: sessionCookie, Value: s})
	return s
}

// checkToken refuses a form whose page token this session was not given.
func (p *Portal) checkToken(w http.ResponseWriter, r *http.Request) bool {
	if p.tokenOK(r, r.PostFormValue("page_token")) {
		return true
	}
	p.refuseToken(w, r)
	return false
}

// tokenOK reports whether this session was given the page token.
func (p *Portal) tokenOK(r *http.Request, token string) bool {
	c, err := r.Cookie(sessionCookie)
	return err == nil && p.deps.Cases.VerifyPageToken(c.Value, token)
}

func (p *Portal) refuseToken(w http.ResponseWriter, r *http.Request) {
	tr := newTranslator(chooseLanguage(r))
	http.Error(w, tr.T("error.page_token"), http.StatusForbidden)
}

// setCookie sets an HttpOnly, SameSite=Strict cookie (Secure behind TLS);
// maxAge 0 makes a session cookie, -1 deletes it.
func (p *Portal) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: p.deps.Secure, SameSite: http.SameSiteStrictMode})
}

func (p *Portal) render(w http.ResponseWriter, status int, name string, pg *page) {
	if len(pg.Errors) > 0 {
		pg.Title = pg.T("title.error_prefix") + " " + pg.Title
	}
	pg.Title += " – " + pg.T("service.name")
	var b bytes.Buffer
	if err := p.pages[name].Execute(&b, pg); err != nil {
		p.deps.Log.Error("render page", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", pg.Lang)
	w.Header().Set("Vary", "Accept-Language, Cookie")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// serverError logs what failed (never the request's data) and shows a plain page.
func (p *Portal) serverError(w http.ResponseWriter, r *http.Request, what string, err error) {
	p.deps.Log.Error("portal", "action", what, "error", err)
	pg := p.newPage(w, r, "error.title")
	p.render(w, http.StatusInternalServerError, "problem", pg)
}

func (p *Portal) start(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "start.title")
	pg.Data = p.products()
	p.render(w, http.StatusOK, "start", pg)
}

// setLanguage remembers the chosen language for a year and goes back to the page.
func (p *Portal) setLanguage(w http.ResponseWriter, r *http.Request) {
	if !p.checkToken(w, r) {
		return
	}
	p.applyLanguage(w, r)
}

// applyLanguage sets the language cookie from a checked form and goes back.
func (p *Portal) applyLanguage(w http.ResponseWriter, r *http.Request) {
	if lang, ok := supported(r.PostFormValue("lang")); ok {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang.String(), Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: p.deps.Secure, SameSite: http.SameSiteLaxMode})
	}
	back := r.PostFormValue("back")
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") || strings.ContainsAny(back, "\\?#") {
		back = "/"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
