package workflows_test

// The history recorder: it drives every path of the workflows on the real
// embedded Temporal server and writes the histories the replay tests read
// (docs/replay.md, "Recording histories").

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
	"github.com/visad/visad/internal/codec"
	"github.com/visad/visad/internal/sample"
	"github.com/visad/visad/internal/testenv"
	"github.com/visad/visad/workflows"
)

// RecordHistoriesEnv makes TestRecordHistories record into testdata/: set to
// 1 it (over)writes <name>.json for every path of its table (for example
// application_approve.json); set to a suffix such as v2 it writes
// <name>_v2.json next to the histories of earlier releases.
const RecordHistoriesEnv = "VISA_RECORD_HISTORIES"

// Decision deadlines of the two-year visa on the stacks that record the SLA
// timers: escalation fires at 75 %, so a decision taken right after it
// (with a quarter of the deadline to spare) meets the breach timer unfired.
const (
	escalationSLA = 40 * time.Second
	breachSLA     = 4 * time.Second
)

// recordingStack is one running test stack and its staff.
type recordingStack struct {
	env                                        *testenv.Env
	officer, officerB, supervisor, supervisorB string
}

// stackKind names how a stack differs from the default one.
type stackKind string

const (
	defaultStack     stackKind = ""
	escalationStack  stackKind = "escalation" // two-year SLA of escalationSLA
	breachStack      stackKind = "breach"     // two-year SLA of breachSLA
	smallBatchsStack stackKind = "small-batch-pages"
)

// recordedPath drives one path of a workflow and names its history.
type recordedPath struct {
	name  string    // file name without suffix and .json
	stack stackKind // the stack it runs on
	// want is the ApplicationWorkflow's final status; "" for a BatchWorkflow.
	want domain.Status
	// runs is how many runs the workflow takes (continue-as-new); each is
	// written to <name>_run<n>.json. 0 means one, written to <name>.json.
	runs int
	run  func(t *testing.T, s *recordingStack) string // drives the case; returns the workflow id
}

// TestRecordHistories runs every path of the table on the embedded Temporal
// server, driven through the HTTP API, and writes their histories to
// testdata/. Payloads are encrypted with the test key (testenv.PayloadKeys),
// as on every test stack. It runs only with VISA_RECORD_HISTORIES set:
//
//	VISA_RECORD_HISTORIES=1 go test -count=1 -run TestRecordHistories -v ./workflows/
func TestRecordHistories(t *testing.T) {
	suffix := recordSuffix(t)
	stacks := map[stackKind]*recordingStack{}
	stackFor := func(kind stackKind) *recordingStack {
		if s := stacks[kind]; s != nil {
			return s
		}
		var opts testenv.Options
		switch kind {
		case escalationStack:
			opts.SLABusiness2Y = escalationSLA
		case breachStack:
			opts.SLABusiness2Y = breachSLA
		}
		env := testenv.Start(t, opts)
		if kind == smallBatchsStack {
			env.Services.Cases.BatchPageRows, env.Services.Cases.BatchPagesPerRun = 2, 2
		}
		s := &recordingStack{env: env}
		s.officer, _ = env.StaffToken(domain.RoleOfficer, "Officer")
		s.officerB, _ = env.StaffToken(domain.RoleOfficer, "Second Officer")
		s.supervisor, _ = env.StaffToken(domain.RoleSupervisor, "Supervisor")
		s.supervisorB, _ = env.StaffToken(domain.RoleSupervisor, "Second Supervisor")
		stacks[kind] = s
		return s
	}

	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	c := testCodec(t)
	for _, p := range recordedPaths() {
		t.Run(p.name, func(t *testing.T) {
			s := stackFor(p.stack)
			wid := p.run(t, s)
			hists := s.finishedHistories(t, wid, p.want)
			want := max(p.runs, 1)
			if len(hists) != want {
				t.Fatalf("workflow %s took %d runs, want %d", wid, len(hists), want)
			}
			for i, hist := range hists {
				name := p.name
				if p.runs > 0 {
					name = fmt.Sprintf("%s_run%d", p.name, i+1)
				}
				writeHistory(t, c, filepath.Join("testdata", name+suffix+".json"), hist)
			}
		})
	}
}

func recordSuffix(t *testing.T) string {
	suffix := os.Getenv(RecordHistoriesEnv)
	switch {
	case suffix == "":
		t.Skipf("set %s=1 (or =v2, a file-name suffix) to record workflow histories into testdata/", RecordHistoriesEnv)
	case suffix == "1":
		return ""
	case !regexp.MustCompile(`^[a-z0-9]+$`).MatchString(suffix):
		t.Fatalf("%s=%q: use 1 or a lower-case suffix such as v2", RecordHistoriesEnv, suffix)
	}
	return "_" + suffix
}

// informationRequest is an officer's request for information. Its message
// reaches the workflow's payloads: keep it free of the fixture's personal data.
func informationRequest(dueInDays int) map[string]any {
	return map[string]any{
		"decision": "request_information", "message": "Please upload the invitation letter from your host.",
		"due_in_days": dueInDays,
	}
}

var (
	approval = map[string]string{"decision": "approve"}
	refusal  = map[string]string{"decision": "refuse", "reason_code": "insufficient_evidence"}
)

func recordedPaths() []recordedPath {
	return []recordedPath{
		{name: "application_approve", want: domain.StatusIssued, run: func(t *testing.T, s *recordingStack) string {
			a := s.submit(t, domain.ProductBusiness2Y)
			s.post(t, "/v1/cases/"+a.ID+"/claim", s.officer, nil)
			s.post(t, decision(a.ID), s.officer, approval)
			return workflows.WorkflowID(a.ID)
		}},
		{name: "application_refuse", want: domain.StatusRefused, run: func(t *testing.T, s *recordingStack) string {
			a := s.submit(t, domain.ProductBusiness2Y)
			s.post(t, decision(a.ID), s.officer, refusal)
			return workflows.WorkflowID(a.ID)
		}},
		{name: "application_withdraw", want: domain.StatusWithdrawn, run: func(t *testing.T, s *recordingStack) string {
			a := s.submit(t, domain.ProductBusiness2Y)
			s.post(t, "/v1/applications/"+a.ID+"/withdraw", a.AccessToken, nil)
			return workflows.WorkflowID(a.ID)
		}},
		{name: "application_ineligible", want: domain.StatusIneligible, run: func(t *testing.T, s *recordingStack) string {
			// The API refuses an ineligible form outright, so store one directly,
			// as a form accepted under an older policy would be, and start its workflow.
			form := testenv.ValidApplication(domain.ProductBusiness2Y)
			form.Applicant.Nationality = "FRA"
			app := s.storeApplication(t, form)
			if err := s.env.Services.Cases.StartWorkflow(context.Background(), app); err != nil {
				t.Fatal(err)
			}
			return workflows.WorkflowID(app.ID)
		}},
		{name: "application_straight_through", want: domain.StatusIssued,
			run: func(t *testing.T, s *recordingStack) string {
				// A clean two-year case endorsed by a chamber whose roster lists the
				// applicant is issued by the system, with no officer.
				form := testenv.ValidApplication(domain.ProductBusiness2Y)
				s.env.EnrolMember(&form)
				return workflows.WorkflowID(s.submitForm(t, form).ID)
			}},
		{name: "application_four_eyes", want: domain.StatusIssued, run: func(t *testing.T, s *recordingStack) string {
			a := s.submit(t, domain.ProductBusiness5YMulti)
			s.post(t, decision(a.ID), s.officer, approval)
			s.post(t, decision(a.ID), s.supervisor, approval)
			return workflows.WorkflowID(a.ID)
		}},
		{name: "application_four_eyes_refused", want: domain.StatusRefused,
			run: func(t *testing.T, s *recordingStack) string {
				// The officer refuses; the supervisor agrees at the second decision.
				a := s.submit(t, domain.ProductBusiness5YMulti)
				s.post(t, decision(a.ID), s.officer, refusal)
				s.post(t, decision(a.ID), s.supervisor, refusal)
				return workflows.WorkflowID(a.ID)
			}},
		{name: "application_four_eyes_disagreement", want: domain.StatusIssued,
			run: func(t *testing.T, s *recordingStack) string {
				// The officer approves, the supervisor refuses: a disagreement a second supervisor resolves.
				a := s.submit(t, domain.ProductBusiness5YMulti)
				s.post(t, decision(a.ID), s.officer, approval)
				s.post(t, decision(a.ID), s.supervisor, refusal)
				s.post(t, decision(a.ID), s.supervisorB, approval)
				return workflows.WorkflowID(a.ID)
			}},
		{name: "application_rfi_answered", want: domain.StatusIssued, run: func(t *testing.T, s *recordingStack) string {
			a := s.submit(t, domain.ProductBusiness2Y)
			s.post(t, decision(a.ID), s.officer, informationRequest(10))
			s.post(t, "/v1/applications/"+a.ID+"/information", a.AccessToken,
				map[string]string{"message": "The invitation letter is uploaded."})
			s.post(t, decision(a.ID), s.officer, approval)
			return workflows.WorkflowID(a.ID)
		}},
		{name: "application_rfi_withdraw", want: domain.StatusWithdrawn,
			run: func(t *testing.T, s *recordingStack) string {
				a := s.submit(t, domain.ProductBusiness2Y)
				s.post(t, decision(a.ID), s.officer, informationRequest(10))
				s.post(t, "/v1/applications/"+a.ID+"/withdraw", a.AccessToken, nil)
				return workflows.WorkflowID(a.ID)
			}},
		{name: "application_rfi_lapsed", want: domain.StatusLapsed, run: func(t *testing.T, s *recordingStack) string {
			// Days of an information deadline last a second here
			// (ApplicationInput.InformationDay), so the request lapses in seconds.
			app := s.storeApplication(t, testenv.ValidApplication(domain.ProductBusiness2Y))
			wid := workflows.WorkflowID(app.ID)
			if _, err := s.env.Services.Temporal.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
				ID: wid, TaskQueue: s.env.Services.Config.TaskQueue,
			}, workflows.ApplicationWorkflow, workflows.ApplicationInput{
				ApplicationID: app.ID, Product: domain.Product(app.Product), SubmittedAt: app.SubmittedAt(),
				InformationDay: time.Second,
			}); err != nil {
				t.Fatal(err)
			}
			s.awaitState(t, wid, "awaiting review", func(c workflows.CaseState) bool {
				return c.Status == domain.StatusAwaitingReview
			})
			s.post(t, decision(app.ID), s.officer, informationRequest(2))
			return wid
		}},
		{name: "application_claim_release", want: domain.StatusIssued, run: func(t *testing.T, s *recordingStack) string {
			// One officer claims the case and lets it go; another claims it and approves.
			a := s.submit(t, domain.ProductBusiness2Y)
			s.post(t, "/v1/cases/"+a.ID+"/claim", s.officer, nil)
			s.post(t, "/v1/cases/"+a.ID+"/release", s.officer, nil)
			s.post(t, "/v1/cases/"+a.ID+"/claim", s.officerB, nil)
			s.post(t, decision(a.ID), s.officerB, approval)
			return workflows.WorkflowID(a.ID)
		}},
		{name: "application_sla_escalated", stack: escalationStack, want: domain.StatusIssued,
			run: func(t *testing.T, s *recordingStack) string {
				// The escalation timer fires; the officer approves before the breach timer.
				a := s.submit(t, domain.ProductBusiness2Y)
				wid := workflows.WorkflowID(a.ID)
				s.awaitState(t, wid, "escalated", func(c workflows.CaseState) bool { return c.SLA != nil && c.SLA.Escalated })
				final := s.decide(t, a.ID, s.officer, approval)
				if final.SLA == nil || final.SLA.Breached {
					t.Fatalf("SLA %+v at the decision, want escalated only (machine too slow? re-run)", final.SLA)
				}
				return wid
			}},
		{name: "application_sla_breached", stack: breachStack, want: domain.StatusRefused,
			run: func(t *testing.T, s *recordingStack) string {
				// Both SLA timers fire before the officer refuses.
				a := s.submit(t, domain.ProductBusiness2Y)
				wid := workflows.WorkflowID(a.ID)
				s.awaitState(t, wid, "breached", func(c workflows.CaseState) bool { return c.SLA != nil && c.SLA.Breached })
				s.post(t, decision(a.ID), s.officer, refusal)
				return wid
			}},
		{name: "batch_one_page", run: func(t *testing.T, s *recordingStack) string {
			// A chamber's CSV batch of three generated delegates: one page, one run.
			return s.postBatch(t, "recording-1", sample.Generate(sample.Options{Rows: 3, Seed: 7}))
		}},
		{name: "batch_continue_as_new", stack: smallBatchsStack, runs: 2, run: func(t *testing.T, s *recordingStack) string {
			// Pages of two rows, two pages a run: rows 1-2 are admitted, rows
			// 3-4 are invalid (nothing to admit), the run continues as new, and
			// the next run admits rows 5-6 and 7 and completes the batch.
			people := sample.Generate(sample.Options{Rows: 7, Seed: 11})
			for _, i := range []int{2, 3} {
				people[i].Row.Values["nationality"] = "FRA"
			}
			return s.postBatch(t, "recording-2", people)
		}},
	}
}

func decision(id string) string { return "/v1/cases/" + id + "/decision" }

type submitted struct {
	ID          string `json:"id"`
	AccessToken string `json:"access_token"`
}

func (s *recordingStack) post(t *testing.T, path, token string, body any) {
	t.Helper()
	if r := s.env.Do("POST", path, token, body); r.Status != http.StatusOK {
		t.Fatalf("POST %s: %d %s", path, r.Status, r.Body)
	}
}

// decide posts a decision and returns the case as the decision left it.
func (s *recordingStack) decide(t *testing.T, id, token string, body any) workflows.CaseState {
	t.Helper()
	s.post(t, decision(id), token, body)
	var state workflows.CaseState
	s.awaitState(t, workflows.WorkflowID(id), "decided", func(c workflows.CaseState) bool {
		state = c
		return c.Decision != nil
	})
	return state
}

func (s *recordingStack) submitForm(t *testing.T, form domain.Application) submitted {
	t.Helper()
	r := s.env.Do("POST", "/v1/applications", "", form)
	if r.Status != http.StatusAccepted {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	var a submitted
	r.JSON(t, &a)
	return a
}

// submit files an application and waits for it to reach the officers. A
// five-year one is endorsed by a chamber (its rule); a two-year one is not,
// so it is not straight-through processed.
func (s *recordingStack) submit(t *testing.T, product domain.Product) submitted {
	t.Helper()
	form := testenv.ValidApplication(product)
	if product == domain.ProductBusiness5YMulti {
		s.env.EnrolMember(&form)
	}
	a := s.submitForm(t, form)
	s.env.WaitForStatus(a.ID, a.AccessToken, domain.StatusAwaitingReview)
	return a
}

// storeApplication records an application directly in the store, without
// starting its workflow.
func (s *recordingStack) storeApplication(t *testing.T, form domain.Application) db.Application {
	t.Helper()
	form = domain.Normalize(testenv.WithMRZ(form))
	id := casework.NewApplicationID()
	keys := s.env.Services.Keys
	sealed, _, err := keys.SealForm(id, form)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	app, _, err := s.env.Store.CreateApplication(context.Background(), db.NewApplication{
		ID: id, Reference: casework.NewReference(), Product: string(form.Product),
		PassportHash: keys.PassportHash(form.Passport.IssuingCountry, form.Passport.Number),
		FormSealed:   sealed, RequestHash: "recorded", SubmittedAt: now, SLADueAt: now.Add(24 * time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// postBatch posts people as a chamber's CSV batch and returns its workflow id.
func (s *recordingStack) postBatch(t *testing.T, reference string, people []sample.Person) string {
	t.Helper()
	chamberID, token := s.env.Chamber("Recording Chamber " + reference)
	var buf bytes.Buffer
	if err := sample.WriteBatchCSV(&buf, people); err != nil {
		t.Fatal(err)
	}
	r := s.env.Do("POST", "/v1/chambers/"+chamberID+"/batches", token, buf.Bytes(),
		"Content-Type", "text/csv", "Idempotency-Key", reference)
	if r.Status != http.StatusAccepted {
		t.Fatalf("post batch: %d %s", r.Status, r.Body)
	}
	var a struct {
		BatchID string `json:"batch_id"`
	}
	r.JSON(t, &a)
	return workflows.BatchWorkflowID(a.BatchID)
}

// awaitState polls the case's state query until cond holds.
func (s *recordingStack) awaitState(t *testing.T, wid, what string, cond func(workflows.CaseState) bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	var last workflows.CaseState
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		v, err := s.env.Services.Temporal.QueryWorkflow(ctx, wid, "", workflows.QueryState)
		cancel()
		if err == nil && v.Get(&last) == nil && cond(last) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never %s; last state %+v", wid, what, last)
}

// finishedHistories waits for the workflow to finish (with status want, for
// an ApplicationWorkflow) and returns the histories of its runs, first first.
func (s *recordingStack) finishedHistories(t *testing.T, wid string, want domain.Status) []*historypb.History {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tc := s.env.Services.Temporal
	if want == "" {
		if err := tc.GetWorkflow(ctx, wid, "").Get(ctx, nil); err != nil {
			t.Fatalf("workflow %s: %v", wid, err)
		}
	} else {
		var final workflows.CaseState
		if err := tc.GetWorkflow(ctx, wid, "").Get(ctx, &final); err != nil {
			t.Fatalf("workflow %s: %v", wid, err)
		}
		if final.Status != want {
			t.Fatalf("workflow ended %q, want %q", final.Status, want)
		}
	}
	var runs []*historypb.History
	for runID := ""; ; {
		hist := &historypb.History{}
		iter := tc.GetWorkflowHistory(ctx, wid, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for iter.HasNext() {
			ev, err := iter.Next()
			if err != nil {
				t.Fatal(err)
			}
			hist.Events = append(hist.Events, ev)
		}
		runs = append([]*historypb.History{hist}, runs...)
		runID = hist.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId()
		if runID == "" {
			return runs
		}
	}
}

// writeHistory writes a history as JSON, unless the test codec cannot decode
// it or it holds personal data.
func writeHistory(t *testing.T, c *codec.Codec, file string, hist *historypb.History) {
	t.Helper()
	raw, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(hist)
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := decodedPayloads(c, hist)
	if err != nil {
		t.Fatalf("%s not written: %v", file, err)
	}
	if found := piiIn(raw, decoded); len(found) > 0 {
		t.Fatalf("%s contains personal data, not written: %v", file, found)
	}
	if err := os.WriteFile(file, append(raw, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d events)", file, len(hist.Events))
}
