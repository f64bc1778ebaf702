package web

import (
	"net/http"

	"github.com/visad/visad/domain"
)

// The consoles' landing pages, where sign-in sends an account. They are
// placeholders for the officer console (/staff/) and the chamber portal
// (/chamber/): whoever builds those replaces the two routes below.

func (c *Consoles) routeHomes(mux *http.ServeMux) {
	mux.Handle("GET /staff/{$}", c.requireRole(domain.StaffRoles...)(http.HandlerFunc(c.staffHome)))
	mux.Handle("GET /chamber/{$}", c.requireRole(domain.RoleChamber)(http.HandlerFunc(c.chamberHome)))
}

func (c *Consoles) staffHome(w http.ResponseWriter, r *http.Request) {
	pg := c.newPage(w, r, "console.home.title")
	if r.URL.Query().Get("enrolled") != "" {
		pg.Notice = pg.T("console.enrol.done")
	}
	c.render(w, http.StatusOK, "home", pg)
}

func (c *Consoles) chamberHome(w http.ResponseWriter, r *http.Request) {
	pg := c.newPage(w, r, "console.chamber_home.title")
	if r.URL.Query().Get("enrolled") != "" {
		pg.Notice = pg.T("console.enrol.done")
	}
	c.render(w, http.StatusOK, "chamber_home", pg)
}
