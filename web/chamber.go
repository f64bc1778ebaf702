package web

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
)

// The chamber portal (/chamber/): a chamber's roster, its batches with their
// progress and reports, and where each application it endorsed stands. Every
// page is for a signed-in chamber account and reads only its own chamber:
// another chamber's batch is "page not found", as is any page for a visitor.

// maxChamberUpload bounds a roster or batch upload (the API's bound, with
// room for the multipart envelope).
const maxChamberUpload = 16<<20 + 64<<10

// chamberPageRows is how many rows a roster, batch list or report page shows.
const chamberPageRows = 50

func (c *Consoles) routeChamber(mux *http.ServeMux) {
	chamber := func(h http.HandlerFunc) http.Handler { return c.requireRole(domain.RoleChamber)(h) }
	mux.Handle("GET /chamber/{$}", chamber(c.chamberBatches))
	mux.Handle("GET /chamber/batches", chamber(c.chamberBatches))
	mux.Handle("GET /chamber/batches/new", chamber(c.chamberNewBatch))
	mux.Handle("POST /chamber/batches", chamber(c.chamberSubmitBatch))
	mux.Handle("GET /chamber/batches/{id}", chamber(c.chamberBatch))
	mux.Handle("GET /chamber/batches/{id}/progress", chamber(c.chamberBatchProgress))
	mux.Handle("GET /chamber/batches/{id}/report.csv", chamber(c.chamberBatchCSV))
	mux.Handle("GET /chamber/roster", chamber(c.chamberRoster))
	mux.Handle("GET /chamber/roster/upload", chamber(c.chamberRosterForm))
	mux.Handle("POST /chamber/roster", chamber(c.chamberRosterUpload))
	mux.Handle("GET /chamber/applications", chamber(c.chamberApplications))
}

func chamberOf(r *http.Request) string {
	p, _ := staffFrom(r.Context())
	return p.ChamberID
}

// --- batches ---

type batchListData struct {
	Batches []casework.Batch
	Next    string
}

func (c *Consoles) chamberBatches(w http.ResponseWriter, r *http.Request) {
	batches, next, err := c.portal.deps.Cases.ChamberBatches(r.Context(), chamberOf(r), r.URL.Query().Get("after"),
		chamberPageRows)
	if err != nil {
		c.serverError(w, r, "chamber batches", err)
		return
	}
	pg := c.newPage(w, r, "chamber.batches.title")
	if r.URL.Query().Get("enrolled") != "" {
		pg.Notice = pg.T("console.enrol.done")
	}
	pg.Data = batchListData{Batches: batches, Next: next}
	c.render(w, http.StatusOK, "chamber_batches", pg)
}

// batchNewData is what the upload page says of the documents column.
type batchNewData struct {
	Kinds   []domain.DocumentKind
	Example string
}

func newBatchData() batchNewData {
	return batchNewData{Kinds: domain.DocumentKinds, Example: string(domain.DocumentChamberRecommendation) +
		":upl_…;" + string(domain.DocumentPhotograph) + ":upl_…"}
}

func (c *Consoles) chamberNewBatch(w http.ResponseWriter, r *http.Request) {
	pg := c.newPage(w, r, "chamber.batch_new.title")
	pg.Data = newBatchData()
	c.render(w, http.StatusOK, "chamber_batch_new", pg)
}

// readUploadForm reads a multipart form with one file ("file") within the
// bound, and checks its form token. ok is false when it answered.
func (c *Consoles) readUploadForm(w http.ResponseWriter, r *http.Request) (file []byte, ok bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxChamberUpload)
	if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, newTranslator(chooseLanguage(r)).T("chamber.upload.too_large"),
				http.StatusRequestEntityTooLarge)
			return nil, false
		}
		http.Error(w, newTranslator(chooseLanguage(r)).T("error.page_token"), http.StatusBadRequest)
		return nil, false
	}
	if !c.checkForm(w, r) {
		return nil, false
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		return nil, true // no file: the caller says so on the form
	}
	defer f.Close()
	body, err := io.ReadAll(f)
	if err != nil {
		return nil, true
	}
	return body, true
}

func (c *Consoles) chamberSubmitBatch(w http.ResponseWriter, r *http.Request) {
	body, ok := c.readUploadForm(w, r)
	if !ok {
		return
	}
	pg := c.newPage(w, r, "chamber.batch_new.title")
	pg.Data = newBatchData()
	reference := strings.TrimSpace(r.PostFormValue("reference"))
	pg.Values["reference"] = reference
	if reference == "" || len(reference) > 100 {
		pg.fail("reference", "chamber.batch_new.reference_required")
	}
	var rows []domain.BatchRow
	if len(body) == 0 {
		pg.fail("file", "chamber.upload.file_required")
	} else {
		var err error
		if rows, err = domain.ParseBatchCSV(body, domain.MaxBatchRows); err != nil {
			pg.fail("file", "chamber.upload.unreadable", "Detail", formatErrorText(err))
		}
	}
	if len(pg.Errors) > 0 {
		c.render(w, http.StatusUnprocessableEntity, "chamber_batch_new", pg)
		return
	}
	batch, _, err := c.portal.deps.Cases.SubmitBatch(r.Context(), chamberOf(r), reference, domain.BatchFormatCSV, body,
		rows)
	if casework.KindOf(err) == casework.QuotaExceeded {
		pg.fail("file", "chamber.batch_new.quota")
		c.render(w, http.StatusTooManyRequests, "chamber_batch_new", pg)
		return
	}
	if err != nil {
		c.serverError(w, r, "chamber submit batch", err)
		return
	}
	http.Redirect(w, r, "/chamber/batches/"+url.PathEscape(batch.ID), http.StatusSeeOther)
}

// formatErrorText is what a chamber is told about an upload it cannot read:
// the row and column where reading stopped, never the cell's content.
func formatErrorText(err error) string {
	var fe *domain.BatchFormatError
	if !errors.As(err, &fe) {
		return ""
	}
	var parts []string
	if fe.Row > 0 {
		parts = append(parts, "row "+strconv.Itoa(fe.Row))
	}
	if fe.Column != "" {
		parts = append(parts, fe.Column)
	}
	parts = append(parts, fe.Message)
	return strings.Join(parts, ", ")
}

// loadBatch loads a batch of the signed-in chamber, or answers 404.
func (c *Consoles) loadBatch(w http.ResponseWriter, r *http.Request) (casework.Batch, casework.BatchProgress, bool) {
	cases := c.portal.deps.Cases
	b, err := cases.ChamberBatch(r.Context(), chamberOf(r), r.PathValue("id"))
	if casework.KindOf(err) == casework.NotFound {
		c.notFound(w, r)
		return b, casework.BatchProgress{}, false
	}
	if err != nil {
		c.serverError(w, r, "chamber batch", err)
		return b, casework.BatchProgress{}, false
	}
	p, err := cases.Progress(r.Context(), b)
	if err != nil {
		c.serverError(w, r, "chamber batch progress", err)
		return b, p, false
	}
	return b, p, true
}

// reportFilter is the report table's filter, from the query.
type reportFilter struct {
	Outcome string
	Status  domain.Status
	From    int // first row number shown
}

func (f reportFilter) keep(row casework.ReportRow) bool {
	return (f.Outcome == "" || row.Outcome == f.Outcome) && (f.Status == "" || row.Status == f.Status)
}

// Query is the filter as a query string, with from set to the given row.
func (f reportFilter) Query(from int) string {
	v := url.Values{}
	if f.Outcome != "" {
		v.Set("outcome", f.Outcome)
	}
	if f.Status != "" {
		v.Set("status", string(f.Status))
	}
	if from > 0 {
		v.Set("from", strconv.Itoa(from))
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

func readReportFilter(r *http.Request) reportFilter {
	q := r.URL.Query()
	f := reportFilter{}
	if o := q.Get("outcome"); slices.Contains(casework.BatchRowOutcomes, o) {
		f.Outcome = o
	}
	if s := domain.Status(q.Get("status")); s.IsKnown() {
		f.Status = s
	}
	f.From, _ = strconv.Atoi(q.Get("from"))
	return f
}

type batchPageData struct {
	Batch    casework.Batch
	Progress casework.BatchProgress
	Bar      domain.BatchBar
	Stage    string // translated
	Filter   reportFilter
	Rows     []casework.ReportRow
	Shown    int // rows that pass the filter
	Next     string
	Prev     string
	CSV      string
	Outcomes []string
	Statuses []domain.Status
}

func (c *Consoles) chamberBatch(w http.ResponseWriter, r *http.Request) {
	b, p, ok := c.loadBatch(w, r)
	if !ok {
		return
	}
	report, err := c.portal.deps.Cases.Report(r.Context(), b)
	if err != nil {
		c.serverError(w, r, "chamber batch report", err)
		return
	}
	pg := c.newPage(w, r, "chamber.batch.title")
	f := readReportFilter(r)
	d := batchPageData{Batch: b, Progress: p, Bar: p.Bar(b.TotalRows), Filter: f, Outcomes: casework.BatchRowOutcomes,
		Statuses: domain.AllStatuses, CSV: "/chamber/batches/" + url.PathEscape(b.ID) + "/report.csv" + f.Query(0)}
	d.Stage = pg.T("chamber.stage." + string(d.Bar.Stage()))
	var kept []casework.ReportRow
	for _, row := range report {
		if f.keep(row) {
			kept = append(kept, row)
		}
	}
	d.Shown = len(kept)
	start := 0
	for start < len(kept) && kept[start].Row < f.From {
		start++
	}
	end := min(len(kept), start+chamberPageRows)
	d.Rows = kept[start:end]
	if end < len(kept) {
		d.Next = f.Query(kept[end].Row)
	}
	if start > 0 {
		d.Prev = f.Query(kept[max(0, start-chamberPageRows)].Row)
	}
	pg.Data = d
	c.render(w, http.StatusOK, "chamber_batch", pg)
}

// batchProgressJSON is what the batch page's script polls.
type batchProgressJSON struct {
	Total          int    `json:"total"`
	Processed      int    `json:"processed"`
	Started        int    `json:"started"`
	Decided        int    `json:"decided"`
	SetAside       int    `json:"set_aside"`
	StartedPercent int    `json:"started_percent"`
	DecidedPercent int    `json:"decided_percent"`
	Stage          string `json:"stage"`
	StageText      string `json:"stage_text"`
	StartedText    string `json:"started_text"`
	DecidedText    string `json:"decided_text"`
}

func (c *Consoles) chamberBatchProgress(w http.ResponseWriter, r *http.Request) {
	b, p, ok := c.loadBatch(w, r)
	if !ok {
		return
	}
	tr := newTranslator(chooseLanguage(r))
	bar := p.Bar(b.TotalRows)
	out := batchProgressJSON{Total: bar.Total, Processed: bar.Processed, Started: bar.Started, Decided: bar.Decided,
		SetAside: bar.SetAside, StartedPercent: bar.StartedPercent(), DecidedPercent: bar.DecidedPercent(),
		Stage: string(bar.Stage()), StageText: tr.T("chamber.stage." + string(bar.Stage())),
		StartedText: tr.T("chamber.batch.started_text", "Percent", bar.StartedPercent()),
		DecidedText: tr.T("chamber.batch.decided_text", "Percent", bar.DecidedPercent())}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func (c *Consoles) chamberBatchCSV(w http.ResponseWriter, r *http.Request) {
	b, _, ok := c.loadBatch(w, r)
	if !ok {
		return
	}
	report, err := c.portal.deps.Cases.Report(r.Context(), b)
	if err != nil {
		c.serverError(w, r, "chamber batch report", err)
		return
	}
	f := readReportFilter(r)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="batch-report-`+b.ID+`.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"row", "outcome", "application_id", "reference", "status", "errors"})
	for _, row := range report {
		if !f.keep(row) {
			continue
		}
		var errs []string
		for _, e := range row.Errors {
			errs = append(errs, strings.TrimPrefix(e.Pointer, "/")+": "+e.Code)
		}
		cells := []string{strconv.Itoa(row.Row), row.Outcome, row.ApplicationID, row.Reference, string(row.Status),
			strings.Join(errs, "; ")}
		for i := range cells {
			cells[i] = domain.SpreadsheetSafe(cells[i])
		}
		_ = cw.Write(cells)
	}
	cw.Flush()
}

// --- roster ---

type rosterData struct {
	Query   string
	Members []casework.RosterMember
	Next    string
	Errors  []rosterRowError
}

// rosterRowError is one problem of an upload that was refused.
type rosterRowError struct {
	Row     int
	Field   string
	Message string
}

func (c *Consoles) chamberRoster(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 100 {
		q = q[:100]
	}
	after := r.URL.Query().Get("after")
	members, next, err := c.portal.deps.Cases.SearchMembers(r.Context(), chamberOf(r), q, after, chamberPageRows)
	if err != nil {
		c.serverError(w, r, "chamber roster", err)
		return
	}
	pg := c.newPage(w, r, "chamber.roster.title")
	pg.Values["q"] = q
	d := rosterData{Query: q, Members: members}
	if next != "" {
		v := url.Values{"after": {next}}
		if q != "" {
			v.Set("q", q)
		}
		d.Next = "?" + v.Encode()
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("uploaded")); err == nil && n > 0 {
		pg.Notice = pg.T("chamber.roster.uploaded", "Rows", n)
	}
	pg.Data = d
	c.render(w, http.StatusOK, "chamber_roster", pg)
}

func (c *Consoles) chamberRosterForm(w http.ResponseWriter, r *http.Request) {
	pg := c.newPage(w, r, "chamber.roster_upload.title")
	pg.Data = rosterData{}
	c.render(w, http.StatusOK, "chamber_roster_upload", pg)
}

func (c *Consoles) chamberRosterUpload(w http.ResponseWriter, r *http.Request) {
	body, ok := c.readUploadForm(w, r)
	if !ok {
		return
	}
	pg := c.newPage(w, r, "chamber.roster_upload.title")
	d := rosterData{}
	pg.Data = &d
	if len(body) == 0 {
		pg.fail("file", "chamber.upload.file_required")
		c.render(w, http.StatusUnprocessableEntity, "chamber_roster_upload", pg)
		return
	}
	members, err := domain.ParseRosterCSV(body)
	if err != nil {
		pg.fail("file", "chamber.upload.unreadable", "Detail", formatErrorText(err))
		c.render(w, http.StatusUnprocessableEntity, "chamber_roster_upload", pg)
		return
	}
	_, _, err = c.portal.deps.Cases.UpsertRoster(r.Context(), chamberOf(r), members)
	var ce *casework.Error
	if errors.As(err, &ce) && ce.Kind == casework.Invalid {
		for _, fe := range ce.Fields {
			d.Errors = append(d.Errors, rowError(pg.translator, fe))
		}
		pg.fail("file", "chamber.roster_upload.invalid", "Count", countRows(d.Errors))
		c.render(w, http.StatusUnprocessableEntity, "chamber_roster_upload", pg)
		return
	}
	if err != nil {
		c.serverError(w, r, "chamber roster upload", err)
		return
	}
	http.Redirect(w, r, "/chamber/roster?uploaded="+strconv.Itoa(len(members)), http.StatusSeeOther)
}

// rowError reads a pointer /rows/<n>/<field> into a row and a field; the
// message is the translated error code where there is one.
func rowError(tr *translator, fe domain.FieldError) rosterRowError {
	parts := strings.Split(strings.TrimPrefix(fe.Pointer, "/"), "/")
	out := rosterRowError{Message: fe.Detail}
	if len(parts) >= 2 && parts[0] == "rows" {
		out.Row, _ = strconv.Atoi(parts[1])
		out.Field = strings.Join(parts[2:], "/")
	}
	if key := "chamber.roster_error." + fe.Code; tr.Has(key) {
		out.Message = tr.T(key)
	}
	return out
}

func countRows(errs []rosterRowError) int {
	seen := map[int]bool{}
	for _, e := range errs {
		seen[e.Row] = true
	}
	return len(seen)
}

// --- applications ---

type applicationsData struct {
	Status   domain.Status
	Statuses []domain.Status
	Items    []casework.ChamberApplication
	Next     string
}

func (c *Consoles) chamberApplications(w http.ResponseWriter, r *http.Request) {
	status := domain.Status(r.URL.Query().Get("status"))
	if !status.IsKnown() {
		status = ""
	}
	items, next, err := c.portal.deps.Cases.ChamberApplications(r.Context(), chamberOf(r), status,
		r.URL.Query().Get("after"), chamberPageRows)
	if err != nil {
		c.serverError(w, r, "chamber applications", err)
		return
	}
	pg := c.newPage(w, r, "chamber.applications.title")
	d := applicationsData{Status: status, Statuses: domain.AllStatuses, Items: items}
	if next != "" {
		v := url.Values{"after": {next}}
		if status != "" {
			v.Set("status", string(status))
		}
		d.Next = "?" + v.Encode()
	}
	pg.Data = d
	c.render(w, http.StatusOK, "chamber_applications", pg)
}
