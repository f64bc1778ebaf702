package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
)

// Admin (role admin): staff and chamber accounts (create, disable, reset
// the second factor, sign out everywhere), the chambers, and whether the
// audit chain verifies.

func (c *Consoles) routeAdmin(mux *http.ServeMux) {
	admin := func(h http.HandlerFunc) http.Handler { return c.requireRole(domain.RoleAdmin)(h) }
	mux.Handle("GET /staff/admin/{$}", admin(c.adminHome))
	mux.Handle("GET /staff/admin/accounts/new", admin(c.showNewAccount))
	mux.Handle("POST /staff/admin/accounts/new", admin(c.newAccount))
	mux.Handle("POST /staff/admin/accounts/{id}/disable", admin(c.disableAccount))
	mux.Handle("POST /staff/admin/accounts/{id}/reset-second-factor", admin(c.resetSecondFactor))
	mux.Handle("POST /staff/admin/accounts/{id}/sign-out", admin(c.signOutAccount))
}

type adminView struct {
	Accounts []accountView
	Chambers []chamberView
	Audit    auditView
}

type accountView struct {
	ID, Name, Login, Role, Chamber, Created, State, LockedUntil string
	Active, Enrolled, Self                                      bool
	Sessions                                                    int
}

type chamberView struct{ ID, Name, Created string }

type auditView struct {
	Intact       bool
	Entries      int
	BrokenAt     int64
	Reason, Head string
	LastSeq      int64
}

func (c *Consoles) adminHome(w http.ResponseWriter, r *http.Request) {
	pg := c.newPage(w, r, "console.admin.title")
	if done := r.URL.Query().Get("done"); done != "" && pg.Has("console.admin.done."+done) {
		pg.Notice = pg.T("console.admin.done." + done)
	}
	me, _ := staffFrom(r.Context())
	accounts, err := c.accounts.List(r.Context())
	if err != nil {
		c.serverError(w, r, "list accounts", err)
		return
	}
	chambers, err := c.accounts.Chambers(r.Context())
	if err != nil {
		c.serverError(w, r, "list chambers", err)
		return
	}
	report, err := c.accounts.AuditStatus(r.Context())
	if err != nil {
		c.serverError(w, r, "verify audit", err)
		return
	}
	var v adminView
	names := map[string]string{}
	for _, ch := range chambers {
		names[ch.ID] = ch.Name
		v.Chambers = append(v.Chambers,
			chamberView{ID: ch.ID, Name: ch.Name, Created: pg.Date(time.UnixMilli(ch.CreatedAtMS))})
	}
	for _, a := range accounts {
		av := accountView{ID: a.ID, Name: a.Name, Login: a.Login, Role: pg.T("role." + string(a.Role)),
			Chamber: names[a.ChamberID], Created: pg.Date(a.CreatedAt), Active: a.Active, Enrolled: a.Enrolled,
			Sessions: a.Sessions, Self: a.ID == me.UserID}
		switch {
		case !a.Active:
			av.State = pg.T("console.admin.state.disabled")
		case !a.LockedUntil.IsZero():
			av.State = pg.T("console.admin.state.locked", "Until", pg.DateTime(a.LockedUntil))
		case a.Enrolled:
			av.State = pg.T("console.admin.state.active")
		case a.EnrolPending:
			av.State = pg.T("console.admin.state.enrolling")
		default:
			av.State = pg.T("console.admin.state.api_only")
		}
		v.Accounts = append(v.Accounts, av)
	}
	v.Audit = auditView{Intact: report.Intact, Entries: report.Entries, BrokenAt: report.BrokenAt,
		Reason: report.Reason, LastSeq: report.LastSeq, Head: report.Head()}
	pg.Data = v
	c.render(w, http.StatusOK, "admin_home", pg)
}

type newAccountView struct {
	Roles    []option
	Chambers []chamberView
}

func (c *Consoles) newAccountPage(w http.ResponseWriter, r *http.Request) (*consolePage, bool) {
	pg := c.newPage(w, r, "console.admin.new.title")
	chambers, err := c.accounts.Chambers(r.Context())
	if err != nil {
		c.serverError(w, r, "list chambers", err)
		return nil, false
	}
	var v newAccountView
	for _, role := range domain.AccountRoles {
		v.Roles = append(v.Roles, option{Value: string(role), Label: pg.T("role." + string(role))})
	}
	for _, ch := range chambers {
		v.Chambers = append(v.Chambers, chamberView{ID: ch.ID, Name: ch.Name})
	}
	pg.Data = v
	return pg, true
}

// RoleQuestion is the new account form's role radios.
func (pg *consolePage) RoleQuestion() question {
	q := pg.Field("role", "radio", "", "")
	q.Options = pg.Data.(newAccountView).Roles
	return q
}

func (c *Consoles) showNewAccount(w http.ResponseWriter, r *http.Request) {
	if pg, ok := c.newAccountPage(w, r); ok {
		c.render(w, http.StatusOK, "admin_new", pg)
	}
}

func (c *Consoles) newAccount(w http.ResponseWriter, r *http.Request) {
	if !c.checkForm(w, r) {
		return
	}
	pg, ok := c.newAccountPage(w, r)
	if !ok {
		return
	}
	me, _ := staffFrom(r.Context())
	for _, id := range []string{"name", "login", "role", "chamber_id"} {
		pg.Values[id] = strings.TrimSpace(r.PostFormValue(id))
	}
	role := domain.Role(pg.Values["role"])
	chamber := pg.Values["chamber_id"]
	if role != domain.RoleChamber {
		chamber = ""
	}
	created, err := c.accounts.CreateAccount(r.Context(), domain.ActorName(me.Role, me.UserID), casework.NewAccount{
		Name: pg.Values["name"], Login: pg.Values["login"], Role: role, ChamberID: chamber})
	var ce *casework.Error
	if errors.As(err, &ce) && ce.Kind == casework.Invalid {
		for _, fe := range ce.Fields {
			id := strings.TrimPrefix(fe.Pointer, "/")
			pg.fail(id, "console.admin.error."+id+"."+fe.Code)
		}
		c.render(w, http.StatusUnprocessableEntity, "admin_new", pg)
		return
	}
	if err != nil {
		c.serverError(w, r, "create account", err)
		return
	}
	name := pg.Values["name"]
	pg = c.newPage(w, r, "console.admin.created.title")
	pg.Data = struct {
		Name, Login, Role, Link, Until, Token string
	}{name, created.Login, pg.T("role." + string(created.Role)), created.EnrolURL,
		pg.DateTime(created.EnrolUntil), created.APIToken}
	c.render(w, http.StatusOK, "admin_created", pg)
}

// accountAction runs an admin action on the {id} account and says how it went.
func (c *Consoles) accountAction(w http.ResponseWriter, r *http.Request, done string,
	act func(me StaffPrincipal, id string) error) {
	if !c.checkForm(w, r) {
		return
	}
	me, _ := staffFrom(r.Context())
	err := act(me, r.PathValue("id"))
	switch casework.KindOf(err) {
	case casework.NotFound:
		c.notFound(w, r)
		return
	case casework.Conflict:
		http.Redirect(w, r, "/staff/admin/?done=not_self", http.StatusSeeOther)
		return
	}
	if err != nil {
		c.serverError(w, r, "account "+done, err)
		return
	}
	if done != "" {
		http.Redirect(w, r, "/staff/admin/?done="+done, http.StatusSeeOther)
	}
}

func (c *Consoles) disableAccount(w http.ResponseWriter, r *http.Request) {
	c.accountAction(w, r, "disabled", func(me StaffPrincipal, id string) error {
		return c.accounts.Disable(r.Context(), domain.ActorName(me.Role, me.UserID), me.UserID, id)
	})
}

func (c *Consoles) signOutAccount(w http.ResponseWriter, r *http.Request) {
	c.accountAction(w, r, "signed_out", func(me StaffPrincipal, id string) error {
		_, err := c.accounts.SignOutEverywhere(r.Context(), domain.ActorName(me.Role, me.UserID), id)
		return err
	})
}

func (c *Consoles) resetSecondFactor(w http.ResponseWriter, r *http.Request) {
	c.accountAction(w, r, "", func(me StaffPrincipal, id string) error {
		link, until, err := c.accounts.ResetSecondFactor(r.Context(), domain.ActorName(me.Role, me.UserID), me.UserID,
			id)
		if err != nil {
			return err
		}
		pg := c.newPage(w, r, "console.admin.reset.title")
		pg.Data = struct{ ID, Link, Until string }{id, link, pg.DateTime(until)}
		c.render(w, http.StatusOK, "admin_reset", pg)
		return nil
	})
}
