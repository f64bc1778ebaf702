package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/workflows"
)

var base = time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)

// healthy fabricates the observations of a run in which everything went right.
// Three single applications named their documents and were issued; the batch
// row (app_d) carries none, so its case asks for them and waits.
func healthy() observations {
	o := observations{batchIDs: map[string]bool{"bat_1": true}, grace: 20 * time.Second,
		approvals: [2]int64{4, 0}, gaveUp: []time.Time{base.Add(15 * time.Second)}, // gave up during R1
		documentsRequired: true, docsAt: base.Add(10 * time.Minute), sweepDue: 10 * time.Second}
	completed := enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
	for i, id := range []string{"app_a", "app_b", "app_c", "app_d"} {
		if i == 3 {
			o.submissions = append(o.submissions, submission{source: "batch", passportHash: "ph_" + id, id: id})
			o.rows = append(o.rows, dbRow{id: id, status: string(domain.StatusInformationRequested),
				product: string(domain.ProductBusiness2Y), passportHash: "ph_" + id, infoRequests: 1})
			o.executions = append(o.executions, execution{workflowID: workflows.WorkflowID(id),
				status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING})
			continue
		}
		var named []string
		for _, kind := range []domain.DocumentKind{domain.DocumentPassportDataPage, domain.DocumentPhotograph,
			domain.DocumentInvitationLetter} {
			up := fmt.Sprintf("upl_%s_%s", id, kind)
			named = append(named, up)
			o.uploads = append(o.uploads, sentUpload{id: up, kind: kind, use: useNamed, app: id})
			o.docs = append(o.docs, docRow{id: up, kind: string(kind), blobRef: "blob_" + up, app: id, opens: true,
				matches: true})
			o.blobs = append(o.blobs, "blob_"+up)
		}
		o.submissions = append(o.submissions, submission{source: "single", passportHash: "ph_" + id, id: id,
			documents: named})
		o.rows = append(o.rows, dbRow{id: id, status: string(domain.StatusIssued),
			product: string(domain.ProductBusiness2Y), passportHash: "ph_" + id,
			decision: string(domain.OutcomeApprove), visas: 1, closingEvents: 1})
		o.executions = append(o.executions, execution{workflowID: workflows.WorkflowID(id), status: completed})
	}
	// An abandoned upload (the letter of app_a uploaded twice: one blob), swept;
	// the copy a retried upload made, which no client heard of, swept too; an
	// upload abandoned late, not yet due; an answer's upload that expired before
	// the worker attached it (the case asked again).
	o.uploads = append(o.uploads,
		sentUpload{id: "upl_abandoned", kind: domain.DocumentInvitationLetter, use: useAbandoned},
		sentUpload{id: "upl_late", kind: domain.DocumentCompanyRegistration, use: useAbandoned},
		sentUpload{id: "upl_answer_expired", kind: domain.DocumentInvitationLetter, use: useAnswer, app: "app_c",
			answered: true})
	o.docs = append(o.docs,
		docRow{id: "upl_abandoned", kind: "invitation_letter", blobRef: "blob_upl_app_a_invitation_letter",
			expiresAt: base.Add(time.Minute), deleted: true},
		docRow{id: "upl_copy", kind: "photograph", blobRef: "blob_upl_app_b_photograph",
			expiresAt: base.Add(2 * time.Minute), deleted: true},
		docRow{id: "upl_late", kind: "company_registration", blobRef: "blob_late",
			expiresAt: base.Add(10*time.Minute - 5*time.Second), opens: true, matches: true},
		docRow{id: "upl_answer_expired", kind: "invitation_letter", blobRef: "blob_answer",
			expiresAt: base.Add(3 * time.Minute), deleted: true})
	o.blobs = append(o.blobs, "blob_late")
	o.executions = append(o.executions, execution{workflowID: workflows.BatchWorkflowID("bat_1"), status: completed})
	for i, name := range []string{"R1", "R2", "R3"} {
		start := base.Add(time.Duration(i) * time.Minute)
		o.disruptions = append(o.disruptions, &disruption{name: name, what: "breaks something", ran: true,
			start: start, end: start.Add(10 * time.Second), confirmed: []string{"it broke"}})
		o.attempts = append(o.attempts,
			attempt{at: start.Add(time.Second), what: "submit", fail: true},
			// Made before the disruption, failed when it landed.
			attempt{start: start.Add(-2 * time.Second), at: start.Add(time.Second / 2), what: "decide", fail: true},
			attempt{at: start.Add(2 * time.Second), what: "submit", retry: true},
			// A late error within the grace still belongs to the disruption.
			attempt{at: start.Add(25 * time.Second), what: "ready", fail: true})
	}
	o.attempts = append(o.attempts, attempt{at: base.Add(5 * time.Minute), what: "submit"})
	return o
}

func failing(vs []verdict) []string {
	var out []string
	for _, v := range vs {
		if !v.ok {
			out = append(out, v.label)
		}
	}
	return out
}

func TestHealthyRunPasses(t *testing.T) {
	vs := judge(healthy())
	if f := failing(vs); len(f) != 0 {
		t.Fatalf("a healthy run fails %v", f)
	}
	if len(vs) < 16 {
		t.Fatalf("only %d summary lines", len(vs))
	}
	if code := printSummary(io.Discard, vs); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

// Every check can fail: each breakage below, fabricated in otherwise healthy
// observations, fails the line that guards it, and the run's exit code.
func TestEachCheckCanFail(t *testing.T) {
	for _, c := range []struct {
		name, fails string
		breakIt     func(o *observations)
	}{
		{"a submission was never acknowledged", "every submission acknowledged", func(o *observations) {
			o.submissions = append(o.submissions, submission{source: "single", passportHash: "ph_x", why: "HTTP 503"})
		}},
		{"an acknowledged row is missing", "acknowledged applications in DB exactly once", func(o *observations) {
			o.rows = o.rows[1:]
		}},
		{"an acknowledged application has a second row", "acknowledged applications in DB exactly once",
			func(o *observations) {
				twin := o.rows[0]
				twin.id = "app_twin"
				o.rows = append(o.rows, twin)
			}},
		{"a row nobody was told about", "DB rows never acknowledged with 202", func(o *observations) {
			o.rows = append(o.rows, dbRow{id: "app_ghost", status: string(domain.StatusReceived),
				product: string(domain.ProductBusiness2Y), passportHash: "ph_ghost"})
		}},
		{"an acknowledged application was not issued", "acknowledged applications issued", func(o *observations) {
			o.rows[2].status, o.rows[2].visas, o.rows[2].closingEvents = string(domain.StatusAwaitingReview), 0, 0
		}},
		{"an application has two executions", "one workflow per acknowledged", func(o *observations) {
			o.executions = append(o.executions, o.executions[0])
		}},
		{"an application's workflow is still running", "one workflow per acknowledged",
			func(o *observations) { o.executions[1].status = enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING }},
		{"a workflow without a row", "every workflow has a DB row", func(o *observations) {
			o.executions = append(o.executions, execution{workflowID: workflows.WorkflowID("app_orphan"),
				status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING})
		}},
		{"a batch workflow without a batch", "every workflow has a DB row", func(o *observations) {
			o.batchIDs = map[string]bool{}
		}},
		{"a case closed twice", "every closed case has one outcome", func(o *observations) {
			o.rows[0].closingEvents = 2
		}},
		{"an issued case without a visa", "every closed case has one outcome", func(o *observations) {
			o.rows[1].visas = 0
		}},
		{"an open case with a closing event", "every closed case has one outcome", func(o *observations) {
			o.rows = append(o.rows, dbRow{id: "app_open", status: string(domain.StatusAwaitingReview),
				passportHash: "ph_open", closingEvents: 1})
			o.submissions = append(o.submissions, submission{source: "single", passportHash: "ph_open", why: "gave up"})
		}},
		{"two rows for one passport", "passport+product with >1 row", func(o *observations) {
			o.rows = append(o.rows, dbRow{id: "app_dup", status: string(domain.StatusWithdrawn),
				product: o.rows[3].product, passportHash: o.rows[3].passportHash, closingEvents: 1})
		}},
		{"a process crashed", "unexpected process exits", func(o *observations) {
			o.crashes = append(o.crashes, crash{name: "worker-2", msg: "exit status 2",
				started: base.Add(-time.Hour), at: base.Add(5 * time.Second)})
		}},
		{"a failed start outside disruptions", "unexpected process exits", func(o *observations) {
			o.crashes = append(o.crashes, crash{name: "api-2", msg: "exit status 1",
				started: base.Add(10 * time.Minute), at: base.Add(10*time.Minute + 5*time.Second)})
		}},
		{"a disruption did not run", "R2 ", func(o *observations) { o.disruptions[1].ran = false }},
		{"a disruption's effect was not confirmed", "R3 ", func(o *observations) {
			o.disruptions[2].unconfirmed = []string{"the database refuses connections"}
		}},
		{"nothing confirmed a disruption", "R1 ", func(o *observations) { o.disruptions[0].confirmed = nil }},
		{"clients saw no error during a disruption", "R1 ", func(o *observations) {
			for i := range o.attempts {
				if o.attempts[i].at.Before(base.Add(time.Minute)) {
					o.attempts[i].fail = false
				}
			}
		}},
		{"clients did not retry during a disruption", "R2 ", func(o *observations) {
			for i := range o.attempts {
				if o.attempts[i].at.After(base.Add(time.Minute)) && o.attempts[i].at.Before(base.Add(2*time.Minute)) {
					o.attempts[i].retry = false
				}
			}
		}},
		{"a disruption failed", "R1 ", func(o *observations) { o.disruptions[0].err = errors.New("no restart") }},
		{"a 5xx outside every disruption", "HTTP failures outside disruptions", func(o *observations) {
			o.attempts = append(o.attempts, attempt{at: base.Add(10 * time.Minute), what: "decide", fail: true})
		}},
		{"an approval gave up outside disruptions", "officer approvals", func(o *observations) {
			o.gaveUp = append(o.gaveUp, base.Add(10*time.Minute))
		}},
		{"fewer approvals than visas", "officer approvals", func(o *observations) { o.approvals = [2]int64{1, 1} }},
		{"a case without documents was issued", "acknowledged applications issued", func(o *observations) {
			o.rows[3].status, o.rows[3].visas, o.rows[3].closingEvents = string(domain.StatusIssued), 1, 1
		}},
		{"a single application waits for documents", "acknowledged applications issued", func(o *observations) {
			o.docs[0].app = "" // its passport page never attached, say
			o.docs[0].expiresAt = o.docsAt
			o.rows[0].status, o.rows[0].visas, o.rows[0].closingEvents = string(domain.StatusInformationRequested), 0, 0
			o.rows[0].infoRequests = 1
			o.executions[0].status = enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
		}},
		{"a case without documents did not ask for them", "acknowledged applications issued",
			func(o *observations) { o.rows[3].infoRequests = 0 }},
		{"a case awaiting documents has ended", "one workflow per acknowledged", func(o *observations) {
			o.executions[3].status = enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
		}},
		{"a named upload is not attached", "uploads attached to their application once", func(o *observations) {
			o.docs[1].app = ""
		}},
		{"a named upload has no row", "uploads attached to their application once", func(o *observations) {
			o.docs = o.docs[1:]
		}},
		{"a named upload was deleted", "uploads attached to their application once", func(o *observations) {
			o.docs[2].deleted = true
		}},
		{"a named upload is attached to another application", "uploads attached to their application once",
			func(o *observations) { o.docs[0].app = "app_b" }},
		{"an application holds a file twice", "uploads attached to their application once", func(o *observations) {
			twin := o.docs[0]
			twin.id = "upl_twin"
			o.docs = append(o.docs, twin)
			o.uploads = append(o.uploads, sentUpload{id: "upl_twin", use: useNamed, app: twin.app})
		}},
		{"an application holds an upload its client did not send it", "uploads attached to their application once",
			func(o *observations) { o.docs[len(o.docs)-2].app, o.docs[len(o.docs)-2].deleted = "app_b", false }},
		{"an answer's upload went to another case", "uploads attached to their application once",
			func(o *observations) { o.docs[len(o.docs)-1].app, o.docs[len(o.docs)-1].deleted = "app_a", false }},
		{"a kept document's blob is missing", "kept documents open", func(o *observations) {
			o.docs[4].opens, o.docs[4].note = false, "blob not found"
		}},
		{"a kept document holds other bytes", "kept documents open", func(o *observations) {
			o.docs[5].matches, o.docs[5].note = false, "a PDF other than the one sent"
		}},
		{"a kept document of an application no client knows does not open", "kept documents open",
			func(o *observations) {
				o.docs = append(o.docs, docRow{id: "upl_x", kind: "photograph", blobRef: "blob_x", app: "app_c"})
			}},
		{"an orphan blob", "blobs without a kept document", func(o *observations) {
			o.blobs = append(o.blobs, "blob_upl_abandoned_only")
		}},
		{"the blob of the last kept row was removed with a shared one", "kept documents open", func(o *observations) {
			o.docs[2].opens, o.docs[2].note = false, "blob not found"
		}},
		{"an expired upload outlived its sweep", "expired uploads swept", func(o *observations) {
			o.docs[len(o.docs)-2].expiresAt = o.docsAt.Add(-11 * time.Second)
		}},
		{"the copy of a retried upload was never swept", "expired uploads swept", func(o *observations) {
			o.docs[len(o.docs)-3].deleted = false
		}},
		{"an abandoned upload has no row", "expired uploads swept", func(o *observations) {
			o.uploads = append(o.uploads, sentUpload{id: "upl_vanished", use: useAbandoned})
		}},
		{"nothing was swept", "expired uploads swept", func(o *observations) {
			for i := range o.docs {
				if o.docs[i].app == "" {
					o.docs[i].deleted, o.docs[i].expiresAt = false, o.docsAt
				}
			}
		}},
		{"a check could not be made", "check could not be made", func(o *observations) {
			o.errs = append(o.errs, "database: connection refused")
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := healthy()
			c.breakIt(&o)
			vs := judge(o)
			f := failing(vs)
			found := false
			for _, label := range f {
				found = found || strings.HasPrefix(label, c.fails)
			}
			if !found {
				t.Errorf("%q did not fail; failing: %v", c.fails, f)
			}
			if printSummary(io.Discard, vs) == 0 {
				t.Error("exit code 0 despite a failing line")
			}
		})
	}
}

// A row whose client gave up (its answer lost, the commit made) is explained,
// not a failure; but the submission itself still fails the acknowledgement line.
func TestRowOfAClientThatGaveUpIsExplained(t *testing.T) {
	o := healthy()
	o.submissions = append(o.submissions, submission{source: "single", passportHash: "ph_late", why: "gave up"})
	o.rows = append(o.rows, dbRow{id: "app_late", status: string(domain.StatusIssued),
		product: string(domain.ProductBusiness2Y), passportHash: "ph_late", decision: string(domain.OutcomeApprove),
		visas: 1, closingEvents: 1})
	o.executions = append(o.executions, execution{workflowID: workflows.WorkflowID("app_late"),
		status: enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED})
	f := failing(judge(o))
	if len(f) != 1 || f[0] != "every submission acknowledged" {
		t.Fatalf("failing %v, want only the acknowledgement line", f)
	}
}

// An upload row no client heard of (its upload was cut short between the row
// and the blob) and no application holds may lack its blob; it is swept
// once it expires.
func TestAnUnansweredUploadWithoutItsBlobIsTolerated(t *testing.T) {
	o := healthy()
	o.docs = append(o.docs, docRow{id: "upl_cut", kind: "photograph", blobRef: "blob_cut",
		expiresAt: o.docsAt.Add(time.Minute), note: "blob not found"})
	if f := failing(judge(o)); len(f) != 0 {
		t.Fatalf("failing %v", f)
	}
}

// A process that fails to start while its dependency is down, within a
// disruption, is restarted and does not fail the run.
func TestFailedStartDuringDisruptionIsExpected(t *testing.T) {
	o := healthy()
	o.crashes = append(o.crashes, crash{name: "worker-1", msg: "exit status 1",
		started: base.Add(5 * time.Second), at: base.Add(25 * time.Second)})
	if f := failing(judge(o)); len(f) != 0 {
		t.Fatalf("failing %v", f)
	}
}
