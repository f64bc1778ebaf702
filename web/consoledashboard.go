package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
)

// The supervisors' dashboard: each chart drawn on the server, with its
// numbers beside it as a table and downloadable as CSV.

type dashboardView struct {
	AsOf            string
	BreachesToday   int
	StraightThrough int
	FinalDecisions  int
	STPShare        string
	Charts          []dashboardChart
	DueSoon         []dueSoonRow
}

// dashboardChart is one chart and the table of its numbers.
type dashboardChart struct {
	chart
	Heading   string
	Intro     string
	Head      [2]string // the table's column headings
	CSV       string    // the download's address
	CSVLabel  string
	Rows      [][2]string
	EmptyNote string
}

type dueSoonRow struct {
	ID, Reference, Product, Status, Due string
	Clock                               clockView
}

func bandLabel(tr *translator, within time.Duration, prev time.Duration) string {
	if within == 0 {
		return "Overdue"
	}
	if prev == 0 {
		return "Within " + tr.Duration(within)
	}
	return tr.Duration(prev) + " to " + tr.Duration(within)
}

// dashboardData turns the service's numbers into the page's charts and tables.
func dashboardData(tr *translator, d casework.Dashboard) dashboardView {
	v := dashboardView{AsOf: tr.DateTime(d.Now), BreachesToday: d.BreachesToday, StraightThrough: d.StraightThrough,
		FinalDecisions: d.FinalDecisions, STPShare: "no visas issued or refused yet"}
	if d.FinalDecisions > 0 {
		v.STPShare = strconv.Itoa(d.StraightThrough*100/d.FinalDecisions) + "%"
	}
	near := dashboardChart{chart: chart{ID: "near-deadline", Title: "Open cases near their deadline"},
		Heading: "Cases near their deadline", Head: [2]string{"Deadline", "Open cases"},
		Intro: "Open cases by the time left before their decision deadline (paused clocks left out).",
		CSV:   "/staff/dashboard/near-deadline.csv"}
	prev := time.Duration(0)
	for _, b := range d.Deadlines {
		label := bandLabel(tr, b.Within, prev)
		prev = b.Within
		near.Labels, near.Values = append(near.Labels, label), append(near.Values, float64(b.N))
		near.Rows = append(near.Rows, [2]string{label, strconv.Itoa(b.N)})
	}
	near.Desc = describe(near.Rows, "open cases")
	perHour := dashboardChart{chart: chart{ID: "per-hour", Title: "Decisions per hour, last 24 hours"},
		Heading: "Decisions per hour", Head: [2]string{"Hour starting (UTC)", "Decisions"},
		Intro: "Decisions on cases in each hour of the last 24: visas issued or refused, first and second " +
			"decisions, requests for information, by people and by the system.",
		CSV: "/staff/dashboard/decisions-per-hour.csv"}
	for _, h := range d.DecisionsPerHour {
		label := h.Hour.UTC().Format("15:04")
		perHour.Labels, perHour.Values = append(perHour.Labels, label), append(perHour.Values, float64(h.N))
		perHour.Rows = append(perHour.Rows, [2]string{label, strconv.Itoa(h.N)})
	}
	perHour.Desc = describeSeries(perHour.Rows, "decisions")
	perActor := dashboardChart{chart: chart{ID: "per-officer", Title: "Decisions per officer, last 24 hours",
		Horizontal: true}, Heading: "Decisions per officer", Head: [2]string{"Officer", "Decisions"},
		Intro:     "Decisions each officer and supervisor took in the last 24 hours.",
		CSV:       "/staff/dashboard/decisions-per-officer.csv",
		EmptyNote: "Nobody has decided a case in the last 24 hours."}
	for _, a := range d.DecisionsPerActor {
		perActor.Labels, perActor.Values = append(perActor.Labels, a.Actor), append(perActor.Values, float64(a.N))
		perActor.Rows = append(perActor.Rows, [2]string{a.Actor, strconv.Itoa(a.N)})
	}
	perActor.Desc = describe(perActor.Rows, "decisions")
	depth := dashboardChart{chart: chart{ID: "queue-depth", Title: "Open cases over the last 24 hours", Line: true},
		Heading: "Queue depth", Head: [2]string{"Time (UTC)", "Open cases"},
		Intro: "The number of open cases at the start of each hour of the last 24, and now.",
		CSV:   "/staff/dashboard/queue-depth.csv"}
	for i, p := range d.QueueDepth {
		label := p.At.UTC().Format("15:04")
		if i == len(d.QueueDepth)-1 {
			label = "now"
		}
		depth.Labels, depth.Values = append(depth.Labels, label), append(depth.Values, float64(p.N))
		depth.Rows = append(depth.Rows, [2]string{label, strconv.FormatInt(p.N, 10)})
	}
	depth.Desc = describeSeries(depth.Rows, "open cases")
	v.Charts = []dashboardChart{near, perHour, perActor, depth}
	for _, c := range d.DueSoon {
		v.DueSoon = append(v.DueSoon, dueSoonRow{ID: c.ID, Reference: c.Reference, Product: productTitle(c.Product),
			Status: words(c.Status), Clock: clockOf(tr, domain.SLA{DueAt: c.DueAt}, d.Now)})
	}
	return v
}

// describe says a short chart's numbers in words, for its <desc>.
func describe(rows [][2]string, unit string) string {
	if len(rows) == 0 {
		return "No " + unit + "."
	}
	s := ""
	for i, r := range rows {
		if i > 0 {
			s += "; "
		}
		s += r[0] + ": " + r[1]
	}
	return s + " " + unit + "."
}

// describeSeries says a time series' total, peak and latest value, for its <desc>.
func describeSeries(rows [][2]string, unit string) string {
	if len(rows) == 0 {
		return "No data."
	}
	total, peak, at := 0, -1, ""
	for _, r := range rows {
		n, _ := strconv.Atoi(r[1])
		total += n
		if n > peak {
			peak, at = n, r[0]
		}
	}
	last := rows[len(rows)-1]
	return fmt.Sprintf("Highest %d %s at %s; latest (%s) %s; %d points, total %d.", peak, unit, at, last[0], last[1],
		len(rows), total)
}

func (c *CaseConsole) dashboard(w http.ResponseWriter, r *http.Request, me staffMember) {
	d, err := c.cases.Dashboard(r.Context())
	if err != nil {
		c.serverError(w, r, me, "dashboard", err)
		return
	}
	pg := c.newPage(w, r, me, "Supervisor dashboard")
	pg.Nav = "dashboard"
	pg.Data = dashboardData(pg.translator, d)
	c.render(w, http.StatusOK, "dashboard", pg)
}

// dashboardCSV serves one chart's numbers, or the summary figures, as CSV.
func (c *CaseConsole) dashboardCSV(w http.ResponseWriter, r *http.Request, me staffMember) {
	d, err := c.cases.Dashboard(r.Context())
	if err != nil {
		c.serverError(w, r, me, "dashboard csv", err)
		return
	}
	file := r.PathValue("file")
	var rows [][]string
	switch file {
	case "near-deadline.csv":
		rows = append(rows, []string{"due_within_hours", "open_cases"})
		for _, b := range d.Deadlines {
			rows = append(rows, []string{strconv.FormatFloat(b.Within.Hours(), 'f', -1, 64), strconv.Itoa(b.N)})
		}
	case "decisions-per-hour.csv":
		rows = append(rows, []string{"hour_start_utc", "decisions"})
		for _, h := range d.DecisionsPerHour {
			rows = append(rows, []string{h.Hour.UTC().Format(time.RFC3339), strconv.Itoa(h.N)})
		}
	case "decisions-per-officer.csv":
		rows = append(rows, []string{string(domain.RoleOfficer), "decisions"})
		for _, a := range d.DecisionsPerActor {
			rows = append(rows, []string{a.Actor, strconv.Itoa(a.N)})
		}
	case "queue-depth.csv":
		rows = append(rows, []string{"at_utc", "open_cases"})
		for _, p := range d.QueueDepth {
			rows = append(rows, []string{p.At.UTC().Format(time.RFC3339), strconv.FormatInt(p.N, 10)})
		}
	case "summary.csv":
		rows = append(rows, []string{"as_of_utc", "breaches_today", "straight_through_24h", "issued_or_refused_24h"},
			[]string{d.Now.UTC().Format(time.RFC3339), strconv.Itoa(d.BreachesToday), strconv.Itoa(d.StraightThrough),
				strconv.Itoa(d.FinalDecisions)})
	default:
		c.notFound(w, r, me)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+file+`"`)
	cw := csv.NewWriter(w)
	for _, row := range rows {
		for i := range row {
			row[i] = domain.SpreadsheetSafe(row[i])
		}
		_ = cw.Write(row)
	}
	cw.Flush()
}
