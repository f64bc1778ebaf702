package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
)

// The officers' queue: escalated cases first, then by deadline; filters by
// status, product, escalation and screening hit; keyset pages.

// queuePageSize is the rows of one page of the queue.
const queuePageSize = 25

// Queue filter parameters (the values are the domain's codes).
const (
	paramStatus    = "status"
	paramProduct   = "product"
	paramEscalated = "escalated_only"
	paramHit       = "screening_hit"
	paramCursor    = "cursor"
	statusAll      = "all" // every status, closed ones too; absent: the open cases
)

type choice struct {
	Value, Label string
	Selected     bool
}

type queueView struct {
	Rows      []queueRow
	Statuses  []choice
	Products  []choice
	Escalated bool
	Hit       bool
	Next      string // the next page's address
	First     string // the first page's address, when this is not it
	Refresh   string // this page's address
	Filtered  bool
}

type queueRow struct {
	ID, Reference, Product, Status string
	Hit                            bool
	Assignee                       string
	Mine                           bool
	Clock                          clockView
	Duplicate                      bool
}

// clockView is a case's decision clock in words, with its urgency for the colour.
type clockView struct {
	Urgency domain.Urgency
	Tag     string // the urgency in a word or two: the colour is never alone
	Text    string // the time left (or over)
	Due     string // the deadline, when the clock runs
	DueISO  string
}

func clockOf(tr *translator, sla domain.SLA, now time.Time) clockView {
	u := domain.UrgencyOf(sla, now)
	v := clockView{Urgency: u}
	left := sla.Remaining(now)
	if !sla.Paused {
		v.Due, v.DueISO = tr.DateTime(sla.DueAt), sla.DueAt.UTC().Format(time.RFC3339)
	}
	switch u {
	case domain.UrgencyOverdue:
		v.Tag, v.Text = "Overdue", "overdue by "+tr.Duration(-left)
		if left > 0 {
			v.Text = tr.Duration(left) + " left"
		}
	case domain.UrgencyPaused:
		v.Tag, v.Text = "Paused", tr.Duration(left)+" left when the applicant answers"
	case domain.UrgencyDueSoon:
		v.Tag, v.Text = "Due soon", tr.Duration(left)+" left"
	default:
		v.Tag, v.Text = "On track", tr.Duration(left)+" left"
	}
	return v
}

// queueFilter reads the filter from the query; a value the console never
// offers is ignored, as if absent.
func queueFilter(q url.Values) (casework.QueueFilter, string) {
	f := casework.QueueFilter{Limit: queuePageSize, OpenOnly: true}
	status := q.Get(paramStatus)
	switch s := domain.Status(status); {
	case status == statusAll:
		f.OpenOnly = false
	case s.IsKnown():
		f.Status, f.OpenOnly = s, false
	default:
		status = ""
	}
	if _, ok := domain.LookupProduct(domain.Product(q.Get(paramProduct))); ok {
		f.Product = domain.Product(q.Get(paramProduct))
	}
	f.EscalatedOnly = q.Get(paramEscalated) == "on"
	f.ScreeningHitOnly = q.Get(paramHit) == "on"
	if cur := q.Get(paramCursor); casework.ValidQueueCursor(cur) {
		f.Cursor = cur
	}
	return f, status
}

func filterQuery(f casework.QueueFilter, status string) url.Values {
	q := url.Values{}
	if status != "" {
		q.Set(paramStatus, status)
	}
	if f.Product != "" {
		q.Set(paramProduct, string(f.Product))
	}
	if f.EscalatedOnly {
		q.Set(paramEscalated, "on")
	}
	if f.ScreeningHitOnly {
		q.Set(paramHit, "on")
	}
	return q
}

func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

func (c *CaseConsole) queue(w http.ResponseWriter, r *http.Request, me staffMember) {
	f, status := queueFilter(r.URL.Query())
	page, err := c.cases.Queue(r.Context(), f)
	if err != nil {
		c.serverError(w, r, me, "queue", err)
		return
	}
	pg := c.newPage(w, r, me, "Case queue")
	pg.Nav = "queue"
	if r.URL.Query().Get("enrolled") != "" { // just enrolled (staffsignin.go)
		pg.Notice = pg.T("console.enrol.done")
	}
	base := filterQuery(f, status)
	v := queueView{Escalated: f.EscalatedOnly, Hit: f.ScreeningHitOnly, Filtered: len(base) > 0}
	v.Statuses = append(v.Statuses, choice{Value: "", Label: "Open cases", Selected: status == ""})
	for _, s := range domain.AllStatuses {
		v.Statuses = append(v.Statuses, choice{Value: string(s), Label: words(s), Selected: status == string(s)})
	}
	v.Statuses = append(v.Statuses, choice{Value: statusAll, Label: "All cases", Selected: status == statusAll})
	v.Products = append(v.Products, choice{Value: "", Label: "Any visa", Selected: f.Product == ""})
	for _, p := range domain.Products() {
		v.Products = append(v.Products, choice{Value: string(p.Code), Label: p.Title, Selected: f.Product == p.Code})
	}
	for _, it := range page.Items {
		v.Rows = append(v.Rows, queueRow{ID: it.ID, Reference: it.Reference, Product: productTitle(it.Product),
			Status: words(it.Status), Hit: it.ScreeningHit, Assignee: it.Assignee, Mine: it.Assignee == me.ID,
			Clock: clockOf(pg.translator, it.SLA, pg.now), Duplicate: len(it.SuspectedDuplicate) > 0})
	}
	self := base
	if f.Cursor != "" {
		self = filterQuery(f, status)
		self.Set(paramCursor, f.Cursor)
		v.First = withQuery("/staff/", base)
	}
	v.Refresh = withQuery("/staff/", self)
	if page.NextCursor != "" {
		next := filterQuery(f, status)
		next.Set(paramCursor, page.NextCursor)
		v.Next = withQuery("/staff/", next)
	}
	pg.Poll = withQuery("/staff/queue/version", self)
	if pg.Version, err = c.cases.QueueVersion(r.Context(), f); err != nil {
		c.serverError(w, r, me, "queue version", err)
		return
	}
	pg.Data = v
	c.render(w, http.StatusOK, "queue", pg)
}

func productTitle(p domain.Product) string {
	if spec, ok := domain.LookupProduct(p); ok {
		return spec.Title
	}
	return string(p)
}

func (c *CaseConsole) queueVersion(w http.ResponseWriter, r *http.Request, me staffMember) {
	f, _ := queueFilter(r.URL.Query())
	v, err := c.cases.QueueVersion(r.Context(), f)
	if err != nil {
		c.log.Warn("console queue version", "error", err)
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	writeVersion(w, v)
}

func writeVersion(w http.ResponseWriter, v string) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"version": v})
}
