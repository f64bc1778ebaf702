package web

import (
	"net/http"
)

// The consoles' landing pages, where sign-in sends an account: /staff/ is
// the officers' queue (routeCaseConsole), and staffHome is an admin's
// landing there; the chamber portal (chamber.go) serves /chamber/.

func (c *Consoles) staffHome(w http.ResponseWriter, r *http.Request) {
	pg := c.newPage(w, r, "console.home.title")
	if r.URL.Query().Get("enrolled") != "" {
		pg.Notice = pg.T("console.enrol.done")
	}
	c.render(w, http.StatusOK, "home", pg)
}
