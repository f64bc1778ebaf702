package web

import (
	"net/http"

	"github.com/visad/visad/domain"
)

// The consoles' landing pages, where sign-in sends an account. /staff/ is
// the officers' queue (routeCaseConsole; staffHome is an admin's landing);
// /chamber/ is a placeholder for the chamber portal.

func (c *Consoles) routeHomes(mux *http.ServeMux) {
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
