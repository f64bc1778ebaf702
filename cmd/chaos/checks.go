package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	"io"
	iofs "io/fs"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/app"
	"github.com/visad/visad/internal/blobstore"
	"github.com/visad/visad/internal/codec"
	"github.com/visad/visad/internal/config"
	"github.com/visad/visad/internal/documents"
	"github.com/visad/visad/workflows"
)

// The verdict is judged on observations only: what the clients were told,
// what the database holds, what Temporal ran, and what each disruption was
// seen to do. judge is a pure function of them, so its checks are tested with
// fabricated observations (checks_test.go) and each can be shown to fail.

// submission is one application a client tried to submit.
type submission struct {
	source       string   // "single" or "batch"
	passportHash string   // the keyed hash the database stores for its passport
	id           string   // the application id the client was given (202, or the batch report); "" if none
	why          string   // why it was not acknowledged
	documents    []string // the uploads it named (single submissions)
}

// dbRow is one row of applications, with what the database holds of its outcome.
type dbRow struct {
	id, status, product, passportHash, decision string
	visas                                       int // visa rows of the application
	closingEvents                               int // timeline events that close a case
	infoRequests                                int // information_requested events (a request for documents is one)
}

// docRow is one row of documents, with what opening its blob showed.
type docRow struct {
	id, kind, blobRef string
	app               string    // the application it is attached to ("": an upload no application named)
	expiresAt         time.Time // an unattached upload's expiry
	deleted           bool      // the sweeper deleted it
	opens             bool      // (kept rows) the blob is in the store and opens with the payload keys
	matches           bool      // (kept rows of known uploads) it holds what the client sent
	note              string    // why it does not open or match
}

// execution is one workflow execution in Temporal (all runs, open and closed).
type execution struct {
	workflowID string
	status     enumspb.WorkflowExecutionStatus
}

// attempt is one HTTP attempt of a client.
type attempt struct {
	start, at time.Time // when it was made and when it ended
	what      string    // submit, batch, decide, read, ready
	status    int       // 0: no HTTP answer
	fail      bool      // no HTTP answer, 429 or 5xx
	retry     bool      // made because an earlier attempt of the request failed
}

// during reports whether the attempt overlaps d or the grace after it: an
// attempt made just before a kill fails when the kill lands.
func (a attempt) during(d *disruption, grace time.Duration) bool {
	start := a.start
	if start.IsZero() {
		start = a.at
	}
	return d.ran && !a.at.Before(d.start) && !start.After(d.end.Add(grace))
}

type observations struct {
	submissions []submission
	rows        []dbRow
	batchIDs    map[string]bool
	executions  []execution
	approvals   [2]int64    // answered 200, answered 409 (already decided)
	gaveUp      []time.Time // approvals that gave up after their retries (the next poll tries again)
	attempts    []attempt
	disruptions []*disruption
	grace       time.Duration // how long after a disruption its errors may still show
	crashes     []crash
	errs        []string // a check could not be made: always a failure

	// Documents: the checklist is enforced; what clients uploaded; the rows and
	// the blob store as read at docsAt; how long after its expiry an upload
	// must be gone (a sweep interval and some slack).
	documentsRequired bool
	uploads           []sentUpload
	docs              []docRow
	blobs             []string // blob names in the store
	tempFiles         []string // unfinished writes (a process killed while it wrote a blob)
	docsAt            time.Time
	sweepDue          time.Duration
}

// verdict is one line of the summary.
type verdict struct {
	label, value string
	ok           bool
	details      []string
}

// startLimit is how long a process may take to give up starting.
const startLimit = 60 * time.Second

// sweepSlack is how long a sweep may take, beyond its interval, to have deleted an expired upload.
const sweepSlack = 10 * time.Second

// closingEvents are the timeline events that end a case; a closed case has exactly one.
var closingEvents = []domain.Event{domain.EventIssued, domain.EventRefused, domain.EventWithdrawn,
	domain.EventLapsed, domain.EventValidationFailed}

func firstFew(items []string, n int) []string {
	sort.Strings(items)
	if len(items) > n {
		return append(items[:n:n], fmt.Sprintf("… %d more", len(items)-n))
	}
	return items
}

// inWindow reports whether t falls in a disruption or the grace after it.
func (o observations) inWindow(t time.Time) (*disruption, bool) {
	for _, d := range o.disruptions {
		if d.ran && !t.Before(d.start) && !t.After(d.end.Add(o.grace)) {
			return d, true
		}
	}
	return nil, false
}

func judge(o observations) []verdict {
	var out []verdict
	add := func(label string, ok bool, value string, details ...string) {
		out = append(out, verdict{label: label, value: value, ok: ok, details: details})
	}
	rowsByID := map[string]dbRow{}
	rowsByPassport := map[string][]dbRow{}
	for _, r := range o.rows {
		rowsByID[r.id] = r
		rowsByPassport[r.passportHash+"/"+r.product] = append(rowsByPassport[r.passportHash+"/"+r.product], r)
	}
	runs := map[string][]execution{}
	for _, e := range o.executions {
		runs[e.workflowID] = append(runs[e.workflowID], e)
	}

	// What the clients were told.
	acked := map[string]submission{}
	unackedPassports := map[string]bool{}
	singles, batch := 0, 0
	var notAcked []string
	for _, s := range o.submissions {
		if s.id == "" {
			unackedPassports[s.passportHash] = true
			notAcked = append(notAcked, s.source+": "+s.why)
			continue
		}
		acked[s.id] = s
		if s.source == "batch" {
			batch++
		} else {
			singles++
		}
	}
	add("every submission acknowledged", len(acked) == len(o.submissions) && len(o.submissions) > 0,
		fmt.Sprintf("%d of %d (%d single + %d batch)", len(acked), len(o.submissions), singles, batch),
		firstFew(notAcked, 5)...)

	// Every acknowledged application is in the database exactly once: its id is
	// there, and no other row holds the same passport (a second row under another
	// id would be the same application accepted twice).
	var missing, doubled []string
	for id, s := range acked {
		r, ok := rowsByID[id]
		if !ok {
			missing = append(missing, "no row for acknowledged "+id)
			continue
		}
		if n := len(rowsByPassport[s.passportHash+"/"+r.product]); n != 1 {
			doubled = append(doubled, fmt.Sprintf("%s: %d rows for its passport", id, n))
		}
	}
	add("acknowledged applications in DB exactly once", len(missing)+len(doubled) == 0,
		fmt.Sprintf("%d of %d", len(acked)-len(missing)-len(doubled), len(acked)),
		firstFew(append(missing, doubled...), 8)...)

	// Every row was acknowledged, or is explained: a submission whose client gave
	// up may have been committed before its answer was lost.
	explained := 0
	var unexplained []string
	for _, r := range o.rows {
		if _, ok := acked[r.id]; ok {
			continue
		}
		if unackedPassports[r.passportHash] {
			explained++
			continue
		}
		unexplained = append(unexplained, r.id+" ("+r.status+")")
	}
	add("DB rows never acknowledged with 202", len(unexplained) == 0,
		fmt.Sprintf("%d unexplained, %d of a client that gave up", len(unexplained), explained),
		firstFew(unexplained, 8)...)

	// Every acknowledged application was issued (the scripted officer approves
	// them all) — except, with documents required, a chamber's row, which
	// carries none: its case must ask for them and wait. A single applicant
	// sends its documents, with the application or in its answer: its case is issued.
	kinds := map[string][]domain.DocumentKind{}
	for _, d := range o.docs {
		if d.app != "" && !d.deleted {
			kinds[d.app] = append(kinds[d.app], domain.DocumentKind(d.kind))
		}
	}
	awaitsDocuments := func(r dbRow) bool {
		return o.documentsRequired && acked[r.id].source == "batch" &&
			len(domain.MissingRequirements(domain.Product(r.product), kinds[r.id])) > 0
	}
	issued, awaiting, byStatus := 0, 0, map[string]int{}
	for id := range acked {
		r, ok := rowsByID[id]
		switch {
		case !ok:
		case awaitsDocuments(r) && r.status == string(domain.StatusInformationRequested) && r.infoRequests > 0:
			awaiting++
		case awaitsDocuments(r):
			byStatus["without documents, "+r.status]++
		case r.status == string(domain.StatusIssued):
			issued++
		default:
			byStatus[r.status]++
		}
	}
	var notIssued []string
	for st, n := range byStatus {
		notIssued = append(notIssued, fmt.Sprintf("%d %s", n, st))
	}
	add("acknowledged applications issued", issued+awaiting == len(acked) && issued > 0,
		fmt.Sprintf("%d of %d (+%d without documents, asking for them)", issued, len(acked)-awaiting, awaiting),
		firstFew(notIssued, 8)...)

	// Temporal: one completed execution per acknowledged application; one
	// still running for a case waiting for its documents.
	var badRuns []string
	for id := range acked {
		rs := runs[workflows.WorkflowID(id)]
		want := enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
		if r, ok := rowsByID[id]; ok && awaitsDocuments(r) {
			want = enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
		}
		switch {
		case len(rs) == 0:
			badRuns = append(badRuns, id+": no workflow")
		case len(rs) > 1:
			badRuns = append(badRuns, fmt.Sprintf("%s: %d executions", id, len(rs)))
		case rs[0].status != want:
			badRuns = append(badRuns, id+": "+rs[0].status.String())
		}
	}
	add("one workflow per acknowledged, ended if issued", len(badRuns) == 0,
		fmt.Sprintf("%d of %d", len(acked)-len(badRuns), len(acked)), firstFew(badRuns, 8)...)

	// Every workflow belongs to a row: nothing runs for an application or batch
	// the database does not know.
	var orphans []string
	for wid := range runs {
		switch {
		case strings.HasPrefix(wid, workflows.WorkflowID("")):
			if _, ok := rowsByID[strings.TrimPrefix(wid, workflows.WorkflowID(""))]; !ok {
				orphans = append(orphans, wid)
			}
		case strings.HasPrefix(wid, workflows.BatchWorkflowID("")):
			if !o.batchIDs[strings.TrimPrefix(wid, workflows.BatchWorkflowID(""))] {
				orphans = append(orphans, wid)
			}
		default:
			orphans = append(orphans, wid+" (unknown kind)")
		}
	}
	add("every workflow has a DB row", len(orphans) == 0 && len(runs) > 0,
		fmt.Sprintf("%d orphans of %d", len(orphans), len(runs)), firstFew(orphans, 8)...)

	// One outcome per case: a closed case has exactly one closing event, an
	// issued one exactly one visa and an approval; no other case has either.
	var outcomes []string
	closed := 0
	for _, r := range o.rows {
		st := domain.Status(r.status)
		if st.IsClosed() {
			closed++
		}
		switch {
		case st.IsClosed() && r.closingEvents != 1:
			outcomes = append(outcomes, fmt.Sprintf("%s %s: %d closing events", r.id, st, r.closingEvents))
		case !st.IsClosed() && r.closingEvents != 0:
			outcomes = append(outcomes, fmt.Sprintf("%s open (%s) with %d closing events", r.id, st, r.closingEvents))
		case st == domain.StatusIssued && (r.visas != 1 || r.decision != string(domain.OutcomeApprove)):
			outcomes = append(outcomes, fmt.Sprintf("%s issued: %d visas, decision %q", r.id, r.visas, r.decision))
		case st != domain.StatusIssued && r.visas != 0:
			outcomes = append(outcomes, fmt.Sprintf("%s %s with %d visas", r.id, st, r.visas))
		}
	}
	add("every closed case has one outcome", len(outcomes) == 0 && closed > 0,
		fmt.Sprintf("%d of %d closed", closed-len(outcomes), closed), firstFew(outcomes, 8)...)

	dupGroups := 0
	for _, rs := range rowsByPassport {
		if len(rs) > 1 {
			dupGroups++
		}
	}
	add("passport+product with >1 row", dupGroups == 0, fmt.Sprint(dupGroups))

	// A process that cannot reach a dependency while it starts exits, and is
	// restarted as systemd would: expected for a start during a disruption (or
	// its grace) that ends within startLimit. Any other exit is a failure.
	var failedStarts, exits []string
	for _, c := range o.crashes {
		if _, in := o.inWindow(c.at); in && c.at.Sub(c.started) <= startLimit {
			failedStarts = append(failedStarts, c.String())
		} else {
			exits = append(exits, c.String())
		}
	}
	add("unexpected process exits", len(exits) == 0,
		fmt.Sprintf("%d (+%d failed starts during disruptions)", len(exits), len(failedStarts)),
		append(exits, failedStarts...)...)

	// Each disruption took effect: what it did was checked (process gone, port
	// or database unreachable), and clients saw errors and retried meanwhile.
	for _, d := range o.disruptions {
		errs, retries := 0, 0
		byWhat := map[string]int{}
		for _, a := range o.attempts {
			if a.during(d, o.grace) {
				if a.fail {
					errs++
					byWhat[a.what]++
				}
				if a.retry {
					retries++
				}
			}
		}
		var details []string
		for _, c := range d.confirmed {
			details = append(details, "confirmed: "+c)
		}
		for _, c := range d.unconfirmed {
			details = append(details, "NOT confirmed: "+c)
		}
		if d.err != nil {
			details = append(details, "error: "+d.err.Error())
		}
		if !d.ran {
			details = append(details, "did not run")
		}
		var split []string
		for w, n := range byWhat {
			split = append(split, fmt.Sprintf("%s %d", w, n))
		}
		sort.Strings(split)
		details = append(details, "client errors by request: "+strings.Join(split, ", "))
		ok := d.ran && d.err == nil && len(d.confirmed) > 0 && len(d.unconfirmed) == 0 && errs > 0 && retries > 0
		add(d.name+" "+d.what, ok, fmt.Sprintf("%d errors, %d retries", errs, retries), details...)
	}

	// Clients fail only because of a disruption: no 5xx, 429 or lost connection
	// outside the disruptions and their grace.
	outside, total, retries := 0, 0, 0
	var when []string
	for _, a := range o.attempts {
		if a.retry {
			retries++
		}
		if !a.fail {
			continue
		}
		total++
		in := false
		for _, d := range o.disruptions {
			in = in || a.during(d, o.grace)
		}
		if !in {
			outside++
			when = append(when, fmt.Sprintf("%s %s: HTTP %d (%.1f s)", a.at.Format("15:04:05.000"), a.what, a.status,
				a.at.Sub(a.start).Seconds()))
		}
	}
	add(fmt.Sprintf("HTTP failures outside disruptions+%s", o.grace), outside == 0,
		fmt.Sprintf("%d (of %d; %d retries)", outside, total, retries), firstFew(when, 8)...)

	// The officer's approvals: at least one answered per issued case (straight-
	// through processing is off, so every visa needed one). An approval gives up
	// after 10 attempts, about 30 s, and the next poll tries the case again: that
	// is expected during a disruption as long as the database outage, never outside one.
	ok200, ok409 := o.approvals[0], o.approvals[1]
	var gaveUpOutside []string
	for _, at := range o.gaveUp {
		if _, in := o.inWindow(at); !in {
			gaveUpOutside = append(gaveUpOutside, "gave up at "+at.Format("15:04:05.000"))
		}
	}
	add("officer approvals 200/409/gave up", len(gaveUpOutside) == 0 && ok200 > 0 && ok200+ok409 >= int64(issued),
		fmt.Sprintf("%d/%d/%d (%d outside disruptions)", ok200, ok409, len(o.gaveUp), len(gaveUpOutside)),
		gaveUpOutside...)

	out = append(out, judgeDocuments(o, acked)...)
	for _, e := range o.errs {
		add("check could not be made", false, "", e)
	}
	return out
}

// judgeDocuments checks the uploads: none lost (every upload an acknowledged
// application named is attached to it, kept, once), every kept document's
// blob in the store and opening to what was sent, no blob without a kept
// row, and every upload nobody named gone one sweep after it expired.
func judgeDocuments(o observations, acked map[string]submission) []verdict {
	var out []verdict
	add := func(label string, ok bool, value string, details ...string) {
		out = append(out, verdict{label: label, value: value, ok: ok, details: details})
	}
	docs := map[string]docRow{}
	attached := map[string][]docRow{} // kept documents of each application
	for _, d := range o.docs {
		docs[d.id] = d
		if d.app != "" && !d.deleted {
			attached[d.app] = append(attached[d.app], d)
		}
	}
	sent := map[string]sentUpload{}
	for _, u := range o.uploads {
		sent[u.id] = u
	}
	due := o.docsAt.Add(-o.sweepDue) // an upload that expired before this must be gone
	expiredUnused := func(d docRow) bool { return d.app == "" && (d.deleted || !d.expiresAt.Before(due)) }

	// None lost: what each acknowledged application named is attached to it,
	// and an accepted answer's upload too — unless it expired before the worker
	// attached it (then the case asked again, and it was swept).
	var lost []string
	named, answered, late := 0, 0, 0
	for _, u := range o.uploads {
		d, ok := docs[u.id]
		switch {
		case u.use == useNamed && u.app != "":
			named++
			if !ok || d.app != u.app || d.deleted {
				lost = append(lost, fmt.Sprintf("%s named by %s: %s", u.id, u.app, docState(d, ok)))
			}
		case u.use == useAnswer && u.answered:
			answered++
			if ok && expiredUnused(d) {
				late++
			} else if !ok || d.app != u.app || d.deleted {
				lost = append(lost, fmt.Sprintf("%s sent in an answer for %s: %s", u.id, u.app, docState(d, ok)))
			}
		}
	}
	// Once: an acknowledged application holds nothing it did not name, and no file twice.
	var extra []string
	for id := range acked {
		seen := map[string]bool{}
		for _, d := range attached[id] {
			u, ok := sent[d.id]
			if !ok || u.app != id || u.use != useNamed && u.use != useAnswer {
				extra = append(extra, fmt.Sprintf("%s holds %s (%s), which its client did not send it", id, d.id, d.kind))
			}
			if key := d.kind + "/" + d.blobRef; seen[key] {
				extra = append(extra, fmt.Sprintf("%s holds its %s twice", id, d.kind))
			} else {
				seen[key] = true
			}
		}
	}
	add("uploads attached to their application once", len(lost)+len(extra) == 0 && named > 0,
		fmt.Sprintf("%d named + %d answered (%d expired first, asked again); %d lost, %d extra",
			named, answered, late, len(lost), len(extra)), firstFew(append(lost, extra...), 8)...)

	// Every kept document opens: its blob is in the store, decrypts with the
	// payload keys, and holds what its client sent. A row no client heard of
	// and no application holds may lack its blob: its upload was cut short
	// (a process killed between the row and the blob) and was never answered.
	var broken []string
	kept, incomplete := 0, 0
	for _, d := range o.docs {
		if d.deleted {
			continue
		}
		kept++
		_, known := sent[d.id]
		switch {
		case !d.opens && !known && d.app == "":
			incomplete++
		case !d.opens || known && !d.matches:
			broken = append(broken, fmt.Sprintf("%s (%s): %s", d.id, d.kind, d.note))
		}
	}
	add("kept documents open to what was sent", len(broken) == 0 && kept > 0,
		fmt.Sprintf("%d of %d (+%d unanswered uploads without a blob)", kept-incomplete-len(broken), kept-incomplete,
			incomplete), firstFew(broken, 8)...)

	// No orphan: every blob in the store belongs to a kept row.
	keptRefs := map[string]bool{}
	for _, d := range o.docs {
		if !d.deleted {
			keptRefs[d.blobRef] = true
		}
	}
	var orphans []string
	for _, b := range o.blobs {
		if !keptRefs[b] {
			orphans = append(orphans, "blob "+b[:min(16, len(b))]+"… has no kept row")
		}
	}
	add("blobs without a kept document", len(orphans) == 0 && len(o.blobs) > 0,
		fmt.Sprintf("%d of %d (+%d unfinished temporary files)", len(orphans), len(o.blobs), len(o.tempFiles)),
		firstFew(orphans, 8)...)

	// Swept: every upload that no application holds is deleted once it expired
	// and a sweep ran, the abandoned ones the clients know and the copies a
	// retried upload made; and each abandoned upload did reach the server.
	var overdue []string
	swept, waiting := 0, 0
	for _, d := range o.docs {
		switch {
		case d.app != "" || d.expiresAt.IsZero():
		case d.deleted:
			swept++
		case d.expiresAt.Before(due):
			overdue = append(overdue, fmt.Sprintf("%s expired at %s, still kept at %s", d.id,
				d.expiresAt.Format("15:04:05"), o.docsAt.Format("15:04:05")))
		default:
			waiting++
		}
	}
	abandoned := 0
	for _, u := range o.uploads {
		if u.use != useAbandoned {
			continue
		}
		abandoned++
		if d, ok := docs[u.id]; !ok || d.app != "" {
			overdue = append(overdue, fmt.Sprintf("abandoned %s: %s", u.id, docState(d, ok)))
		}
	}
	add(fmt.Sprintf("expired uploads swept within +%s", o.sweepDue), len(overdue) == 0 && swept > 0,
		fmt.Sprintf("%d swept (%d abandoned by clients), %d not yet due, %d overdue", swept, abandoned, waiting,
			len(overdue)), firstFew(overdue, 8)...)
	return out
}

func docState(d docRow, ok bool) string {
	switch {
	case !ok:
		return "no row"
	case d.deleted && d.app == "":
		return "swept unattached"
	case d.deleted:
		return "deleted from " + d.app
	case d.app == "":
		return "not attached"
	}
	return "attached to " + d.app
}

// printSummary writes the verdicts and returns the exit code: 1 if any failed.
func printSummary(w io.Writer, vs []verdict) int {
	code := 0
	fmt.Fprintln(w)
	fmt.Fprintln(w, "==================== visad chaos summary ====================")
	for _, v := range vs {
		mark := "PASS"
		if !v.ok {
			mark, code = "FAIL", 1
		}
		fmt.Fprintf(w, "  %-4s  %-46s %s\n", mark, v.label, v.value)
		for _, d := range v.details {
			fmt.Fprintf(w, "          %s\n", d)
		}
	}
	result := "PASS"
	if code != 0 {
		result = "FAIL"
	}
	fmt.Fprintf(w, "  result: %s\n", result)
	fmt.Fprintln(w, "=============================================================")
	return code
}

// countSettled counts the applications among ids that are issued, and those
// of mayAwait that lack documents and ask for them.
func countSettled(ctx context.Context, url string, ids []string, mayAwait map[string]bool) (issued, awaiting int,
	err error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT a.id, a.status, a.product, COALESCE(d.kind, '')
		FROM applications a LEFT JOIN documents d ON d.application_id = a.id AND d.deleted_at IS NULL
		WHERE a.id = ANY($1)`, ids)
	if err != nil {
		return 0, 0, err
	}
	type app struct {
		status, product string
		kinds           []domain.DocumentKind
	}
	apps := map[string]*app{}
	for rows.Next() {
		var id, status, product, kind string
		if err := rows.Scan(&id, &status, &product, &kind); err != nil {
			rows.Close()
			return 0, 0, err
		}
		a := apps[id]
		if a == nil {
			a = &app{status: status, product: product}
			apps[id] = a
		}
		if kind != "" {
			a.kinds = append(a.kinds, domain.DocumentKind(kind))
		}
	}
	rows.Close()
	for id, a := range apps {
		switch {
		case a.status == string(domain.StatusIssued):
			issued++
		case mayAwait[id] && a.status == string(domain.StatusInformationRequested) &&
			len(domain.MissingRequirements(domain.Product(a.product), a.kinds)) > 0:
			awaiting++
		}
	}
	return issued, awaiting, rows.Err()
}

// observe reads the database and Temporal and joins them with what the harness saw.
func (h *harness) observe(ctx context.Context) observations {
	h.mu.Lock()
	o := observations{
		submissions: append([]submission(nil), h.submissions...),
		batchIDs:    map[string]bool{},
		approvals:   [2]int64{h.approvedOK.Load(), h.approve409.Load()},
		gaveUp:      append([]time.Time(nil), h.approveGaveUp...),
		disruptions: h.disrupt[:],
		grace:       h.o.grace,

		documentsRequired: true,
		uploads:           append([]sentUpload(nil), h.uploads...),
		sweepDue:          h.o.sweepEvery + sweepSlack,
	}
	h.mu.Unlock()
	o.attempts = h.api.log()

	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := h.readDatabase(cctx, &o); err != nil {
		o.errs = append(o.errs, "database: "+err.Error())
	}
	if err := h.readDocuments(cctx, &o); err != nil {
		o.errs = append(o.errs, "documents: "+err.Error())
	}
	if err := h.readTemporal(cctx, &o); err != nil {
		o.errs = append(o.errs, "temporal: "+err.Error())
	}
	for _, p := range append(append([]*proc{h.temporal}, h.workers...), h.apis...) {
		for _, c := range p.crashList() {
			o.crashes = append(o.crashes, c)
		}
	}
	return o
}

func (h *harness) readDatabase(ctx context.Context, o *observations) error {
	conn, err := pgx.Connect(ctx, h.dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	closing := make([]string, len(closingEvents))
	for i, e := range closingEvents {
		closing[i] = string(e)
	}
	rows, err := conn.Query(ctx, `SELECT a.id, a.status, a.product, a.passport_hash, COALESCE(a.decision, ''),
			(SELECT COUNT(*) FROM visas v WHERE v.application_id = a.id),
			(SELECT COUNT(*) FROM timeline_events e WHERE e.application_id = a.id AND e.event = ANY($1)),
			(SELECT COUNT(*) FROM timeline_events e WHERE e.application_id = a.id AND e.event = $2)
		FROM applications a`, closing, string(domain.EventInformationRequested))
	if err != nil {
		return err
	}
	for rows.Next() {
		var r dbRow
		if err := rows.Scan(&r.id, &r.status, &r.product, &r.passportHash, &r.decision, &r.visas,
			&r.closingEvents, &r.infoRequests); err != nil {
			rows.Close()
			return err
		}
		o.rows = append(o.rows, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	batches, err := conn.Query(ctx, `SELECT id FROM batches`)
	if err != nil {
		return err
	}
	defer batches.Close()
	for batches.Next() {
		var id string
		if err := batches.Scan(&id); err != nil {
			return err
		}
		o.batchIDs[id] = true
	}
	return batches.Err()
}

// readDocuments reads every row of documents, opens each kept row's blob
// through the vault (the payload keys the services use) and compares it with
// what its client sent, and lists the blobs in the store.
func (h *harness) readDocuments(ctx context.Context, o *observations) error {
	conn, err := pgx.Connect(ctx, h.dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	o.docsAt = time.Now()
	rows, err := conn.Query(ctx, `SELECT id, kind, blob_ref, COALESCE(application_id, ''), expires_at,
		deleted_at IS NOT NULL FROM documents`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var d docRow
		var expires *int64
		if err := rows.Scan(&d.id, &d.kind, &d.blobRef, &d.app, &expires, &d.deleted); err != nil {
			rows.Close()
			return err
		}
		if expires != nil {
			d.expiresAt = time.UnixMilli(*expires)
		}
		o.docs = append(o.docs, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	list, err := codec.ParseKeys(h.keySpec)
	if err != nil {
		return err
	}
	fs, err := blobstore.NewFS(h.docsDir)
	if err != nil {
		return err
	}
	vault, err := documents.NewVault(fs, list, h.keys.DocumentAddress)
	if err != nil {
		return err
	}
	sent := map[string]sentUpload{}
	for _, u := range o.uploads {
		sent[u.id] = u
	}
	for i := range o.docs {
		d := &o.docs[i]
		if d.deleted {
			continue
		}
		plain, err := vault.Get(ctx, d.blobRef)
		if err != nil {
			d.note = err.Error()
			continue
		}
		d.opens = true
		d.matches, d.note = sameContent(sent[d.id], plain)
	}
	o.blobs, o.tempFiles, err = listBlobs(h.docsDir)
	return err
}

// sameContent reports whether a stored document is what its client sent: a
// PDF byte for byte; a picture (re-encoded by the server) of the same size.
func sameContent(u sentUpload, plain []byte) (bool, string) {
	switch {
	case u.id == "":
		return false, "no client sent it"
	case u.pdf && sha256.Sum256(plain) == u.sum:
		return true, ""
	case u.pdf:
		return false, "a PDF other than the one sent"
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(plain))
	if err != nil || cfg.Width != u.w || cfg.Height != u.h {
		return false, fmt.Sprintf("not the %d×%d picture sent (%v)", u.w, u.h, err)
	}
	return true, ""
}

// listBlobs lists the blob names in a filesystem store (<dir>/<ab>/<name>),
// and apart the temporary files of writes cut short.
func listBlobs(dir string) (blobs, temp []string, err error) {
	err = filepath.WalkDir(dir, func(path string, e iofs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, iofs.ErrNotExist) && path == dir {
				return nil
			}
			return err
		}
		if e.IsDir() {
			return nil
		}
		if strings.HasPrefix(e.Name(), ".") {
			temp = append(temp, e.Name())
		} else {
			blobs = append(blobs, e.Name())
		}
		return nil
	})
	return blobs, temp, err
}

// readTemporal lists every execution in the namespace (open and closed) and
// describes each acknowledged application's workflow, which also finds one the
// visibility list has not caught up with.
func (h *harness) readTemporal(ctx context.Context, o *observations) error {
	cfg := config.Config{TemporalAddress: h.tAddr, Namespace: "default", PayloadKeys: h.keySpec}
	tc, err := app.DialTemporal(ctx, cfg, slog.New(slog.DiscardHandler), nil, nil)
	if err != nil {
		return err
	}
	defer tc.Close()
	listed := map[string]bool{}
	var token []byte
	for page := 0; page < 500; page++ {
		var resp *workflowservice.ListWorkflowExecutionsResponse
		for try := 0; try < 3; try++ {
			lctx, lcancel := context.WithTimeout(ctx, 30*time.Second)
			resp, err = tc.ListWorkflow(lctx, &workflowservice.ListWorkflowExecutionsRequest{
				Namespace: "default", PageSize: 100, NextPageToken: token})
			lcancel()
			if err == nil {
				break
			}
		}
		if err != nil {
			return fmt.Errorf("list workflows: %w", err)
		}
		for _, e := range resp.Executions {
			o.executions = append(o.executions, execution{workflowID: e.Execution.WorkflowId, status: e.Status})
			listed[e.Execution.WorkflowId] = true
		}
		if token = resp.NextPageToken; len(token) == 0 {
			break
		}
	}
	var mu sync.Mutex
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, s := range o.submissions {
		wid := workflows.WorkflowID(s.id)
		if s.id == "" || listed[wid] {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			var d *workflowservice.DescribeWorkflowExecutionResponse
			var err error
			for try := 0; try < 3; try++ {
				if d, err = tc.DescribeWorkflowExecution(ctx, wid, ""); err == nil {
					break
				}
				time.Sleep(500 * time.Millisecond)
			}
			if err == nil {
				mu.Lock()
				o.executions = append(o.executions, execution{workflowID: wid, status: d.WorkflowExecutionInfo.Status})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return nil
}
