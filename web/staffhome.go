package web

import (
	"net/http"

	"github.com/visad/visad/domain"
)

// The consoles' landing pages, where sign-in sends an account. /staff/ is a
// placeholder for the officer console; the chamber portal (chamber.go)
// serves /chamber/.

func (c *Consoles) routeHomes(mux *http.ServeMux) {
	mux.Handle("GET /staff/{$}", c.requireRole(domain.StaffRoles...)(http.HandlerFunc(c.staffHome)))
}

func (c *Consoles) staffHome(w http.ResponseWriter, r *http.Request) {
	pg := c.newPage(w, r, "console.home.title")
	if r.URL.Query().Get("enrolled") != "" {
		pg.Notice = pg.T("console.enrol.done")
	}
	c.render(w, http.StatusOK, "home", pg)
}
