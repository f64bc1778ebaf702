package web

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
	"github.com/visad/visad/internal/credentials"
)

// Signing in: the password, then the authenticator's code; enrolment from
// the one-time link `visad users create` (or an admin) hands out.

func (c *Consoles) routeSignIn(mux *http.ServeMux) {
	mux.HandleFunc("GET /staff/sign-in", c.showSignIn)
	mux.HandleFunc("POST /staff/sign-in", c.signIn)
	mux.HandleFunc("GET /staff/sign-in/code", c.showCode)
	mux.HandleFunc("POST /staff/sign-in/code", c.code)
	mux.HandleFunc("GET "+casework.EnrolPath+"{link}", c.enrolLink)
	mux.HandleFunc("GET /staff/enrol", c.showEnrol)
	mux.HandleFunc("GET /staff/enrol/qr.png", c.enrolQR)
	mux.HandleFunc("POST /staff/enrol", c.enrol)
	mux.Handle("POST /staff/sign-out", c.signedIn(c.signOut))
	mux.Handle("GET /staff/account", c.signedIn(c.showAccount))
	mux.Handle("POST /staff/account/sign-out-everywhere", c.signedIn(c.signOutEverywhere))
}

// field is a labelled input of a console form (the portal's "question" template).
func (pg *consolePage) Field(id, kind, autocomplete, width string) question {
	q := question{ID: id, Kind: kind, Label: pg.T("console.field." + id), Error: pg.Fields[id],
		ErrorPrefix: pg.T("errors.prefix"), Autocomplete: autocomplete, Width: width}
	if kind != "password" {
		q.Value = pg.Values[id]
	}
	if key := "console.field." + id + ".hint"; pg.Has(key) {
		q.Hint = pg.T(key)
	}
	return q
}

func (pg *consolePage) fail(id, key string, kv ...any) {
	m := pg.T(key, kv...)
	pg.Errors = append(pg.Errors, fieldError{Href: "#" + id, Message: m})
	pg.Fields[id] = m
}

func (c *Consoles) showSignIn(w http.ResponseWriter, r *http.Request) {
	pg := c.newPage(w, r, "console.sign_in.title")
	switch {
	case r.URL.Query().Get("ended") != "":
		pg.Notice = pg.T("console.sign_in.ended")
	case r.URL.Query().Get("signed_out") != "":
		pg.Notice = pg.T("console.sign_in.signed_out")
	}
	c.render(w, http.StatusOK, "sign_in", pg)
}

// backedOff answers 429 when the client's address must wait before its next attempt.
func (c *Consoles) backedOff(w http.ResponseWriter, pg *consolePage, r *http.Request, page, field string) bool {
	wait := c.failures.wait(clientAddress(r), time.Now())
	if wait <= 0 {
		return false
	}
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	pg.fail(field, "console.sign_in.wait", "Count", secs)
	c.render(w, http.StatusTooManyRequests, page, pg)
	return true
}

func (c *Consoles) signIn(w http.ResponseWriter, r *http.Request) {
	if !c.portal.checkToken(w, r) {
		return
	}
	pg := c.newPage(w, r, "console.sign_in.title")
	login, password := strings.TrimSpace(r.PostFormValue("login")), r.PostFormValue("password")
	pg.Values["login"] = login
	if login == "" {
		pg.fail("login", "console.error.login_required")
	}
	if password == "" {
		pg.fail("password", "console.error.password_required")
	}
	if len(pg.Errors) > 0 {
		c.render(w, http.StatusUnprocessableEntity, "sign_in", pg)
		return
	}
	if c.backedOff(w, pg, r, "sign_in", "login") {
		return
	}
	s, err := c.accounts.SignIn(r.Context(), login, password)
	if casework.KindOf(err) == casework.Unauthenticated {
		c.failures.fail(clientAddress(r), time.Now())
		pg.fail("login", "console.sign_in.wrong", "Count", domain.MaxFailedSignIns)
		c.render(w, http.StatusUnauthorized, "sign_in", pg)
		return
	}
	if err != nil {
		c.serverError(w, r, "sign in", err)
		return
	}
	c.setSession(w, s.Secret)
	if s.SignedIn {
		http.Redirect(w, r, homeOf(s.Account.Role), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/staff/sign-in/code", http.StatusSeeOther)
}

func (c *Consoles) showCode(w http.ResponseWriter, r *http.Request) {
	if !c.accounts.PendingSession(r.Context(), c.sessionSecret(r)) {
		http.Redirect(w, r, "/staff/sign-in", http.StatusSeeOther)
		return
	}
	c.render(w, http.StatusOK, "sign_in_code", c.newPage(w, r, "console.code.title"))
}

func (c *Consoles) code(w http.ResponseWriter, r *http.Request) {
	if !c.portal.checkToken(w, r) {
		return
	}
	pg := c.newPage(w, r, "console.code.title")
	code := strings.TrimSpace(r.PostFormValue("code"))
	if code == "" {
		pg.fail("code", "console.error.code_required")
		c.render(w, http.StatusUnprocessableEntity, "sign_in_code", pg)
		return
	}
	if c.backedOff(w, pg, r, "sign_in_code", "code") {
		return
	}
	s, err := c.accounts.SecondFactor(r.Context(), c.sessionSecret(r), code)
	if casework.KindOf(err) == casework.Unauthenticated {
		c.failures.fail(clientAddress(r), time.Now())
		if !c.accounts.PendingSession(r.Context(), c.sessionSecret(r)) {
			// Too late, locked, or the session was never there: start again.
			c.setSession(w, "")
			http.Redirect(w, r, "/staff/sign-in?ended=1", http.StatusSeeOther)
			return
		}
		pg.fail("code", "console.code.wrong")
		c.render(w, http.StatusUnauthorized, "sign_in_code", pg)
		return
	}
	if err != nil {
		c.serverError(w, r, "second factor", err)
		return
	}
	c.setSession(w, s.Secret)
	http.Redirect(w, r, homeOf(s.Account.Role), http.StatusSeeOther)
}

func (c *Consoles) signOut(w http.ResponseWriter, r *http.Request) {
	if !c.checkForm(w, r) {
		return
	}
	p, _ := staffFrom(r.Context())
	if err := c.accounts.SignOut(r.Context(), p.secret); err != nil {
		c.serverError(w, r, "sign out", err)
		return
	}
	c.setSession(w, "")
	http.Redirect(w, r, "/staff/sign-in?signed_out=1", http.StatusSeeOther)
}

func (c *Consoles) showAccount(w http.ResponseWriter, r *http.Request) {
	pg := c.newPage(w, r, "console.account.title")
	c.render(w, http.StatusOK, "account", pg)
}

func (c *Consoles) signOutEverywhere(w http.ResponseWriter, r *http.Request) {
	if !c.checkForm(w, r) {
		return
	}
	p, _ := staffFrom(r.Context())
	if _, err := c.accounts.SignOutEverywhere(r.Context(), domain.ActorName(p.Role, p.UserID), p.UserID); err != nil {
		c.serverError(w, r, "sign out everywhere", err)
		return
	}
	c.setSession(w, "")
	http.Redirect(w, r, "/staff/sign-in?signed_out=1", http.StatusSeeOther)
}

// Enrolment. The link's secret leaves the address bar at once: it moves to
// a cookie scoped to /staff/enrol, so it is not in the history or a Referer.

const enrolCookie = "visad_enrol"

func (c *Consoles) setEnrolCookie(w http.ResponseWriter, value string) {
	ck := &http.Cookie{Name: enrolCookie, Value: value, Path: "/staff/enrol", HttpOnly: true,
		Secure: c.portal.deps.Secure, SameSite: http.SameSiteLaxMode, MaxAge: 3600}
	if value == "" {
		ck.MaxAge = -1
	}
	http.SetCookie(w, ck)
}

func (c *Consoles) enrolLink(w http.ResponseWriter, r *http.Request) {
	link := r.PathValue("link")
	if err := c.accounts.CheckEnrolLink(r.Context(), link); err != nil {
		c.enrolProblem(w, r, err)
		return
	}
	c.setEnrolCookie(w, link)
	http.Redirect(w, r, "/staff/enrol", http.StatusSeeOther)
}

func (c *Consoles) enrolProblem(w http.ResponseWriter, r *http.Request, err error) {
	if casework.KindOf(err) != casework.NotFound {
		c.serverError(w, r, "enrol", err)
		return
	}
	pg := c.newPage(w, r, "console.enrol.invalid_title")
	c.render(w, http.StatusNotFound, "enrol_invalid", pg)
}

func (c *Consoles) enrolment(w http.ResponseWriter, r *http.Request) (casework.Enrolling, string, bool) {
	ck, err := r.Cookie(enrolCookie)
	if err != nil {
		c.enrolProblem(w, r, casework.ErrNotFound)
		return casework.Enrolling{}, "", false
	}
	e, err := c.accounts.Enrolment(r.Context(), ck.Value)
	if err != nil {
		c.enrolProblem(w, r, err)
		return casework.Enrolling{}, "", false
	}
	return e, ck.Value, true
}

type enrolView struct {
	Name, Login, Role, Secret string
	NewPassword               bool
}

func (c *Consoles) enrolPage(w http.ResponseWriter, r *http.Request, e casework.Enrolling) *consolePage {
	pg := c.newPage(w, r, "console.enrol.title")
	pg.Data = enrolView{Name: e.Name, Login: e.Login, Role: pg.T("role." + string(e.Role)),
		Secret: credentials.FormatSecret(e.Secret), NewPassword: e.NewPassword}
	return pg
}

func (c *Consoles) showEnrol(w http.ResponseWriter, r *http.Request) {
	e, _, ok := c.enrolment(w, r)
	if !ok {
		return
	}
	c.render(w, http.StatusOK, "enrol", c.enrolPage(w, r, e))
}

func (c *Consoles) enrolQR(w http.ResponseWriter, r *http.Request) {
	ck, err := r.Cookie(enrolCookie)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	e, err := c.accounts.Enrolment(r.Context(), ck.Value)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	png, err := credentials.QRPNG(e.URI)
	if err != nil {
		c.serverError(w, r, "enrolment QR code", err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(png)
}

func (c *Consoles) enrol(w http.ResponseWriter, r *http.Request) {
	if !c.portal.checkToken(w, r) {
		return
	}
	e, link, ok := c.enrolment(w, r)
	if !ok {
		return
	}
	pg := c.enrolPage(w, r, e)
	if c.backedOff(w, pg, r, "enrol", "code") {
		return
	}
	s, err := c.accounts.CompleteEnrolment(r.Context(), link, casework.EnrolForm{Password: r.PostFormValue("password"),
		Confirm: r.PostFormValue("confirm"), Code: r.PostFormValue("code")})
	var ce *casework.Error
	if errors.As(err, &ce) && ce.Kind == casework.Invalid {
		if !e.NewPassword {
			c.failures.fail(clientAddress(r), time.Now())
		}
		for _, fe := range ce.Fields {
			id := strings.TrimPrefix(fe.Pointer, "/")
			pg.fail(id, "console.enrol.error."+id+"."+fe.Code)
		}
		c.render(w, http.StatusUnprocessableEntity, "enrol", pg)
		return
	}
	if err != nil {
		c.enrolProblem(w, r, err)
		return
	}
	c.setEnrolCookie(w, "")
	c.setSession(w, s.Secret)
	http.Redirect(w, r, homeOf(s.Account.Role)+"?enrolled=1", http.StatusSeeOther)
}
