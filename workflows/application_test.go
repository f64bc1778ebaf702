package workflows_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/visad/visad/activities"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/workflows"
)

// These are unit tests of ApplicationWorkflow on the SDK's test environment:
// every activity is mocked, so no database or Temporal server is needed. The
// end-to-end behaviour over a real server is covered by api/integration_test.go.

// acts names the activity methods; its fields are never used because every
// activity is mocked.
var acts = &activities.Activities{}

var (
	officer   = domain.Actor{ID: "off_1", Role: "officer"}
	applicant = domain.Actor{ID: "app_1", Role: "applicant"}

	approve = domain.DecisionRequest{Decision: "approve", Note: "host letter verified", Actor: officer}

	testVisa = domain.Visa{
		VisaNumber: "PK2Y-26-7K3M9Q2X-4", ValidFrom: "2026-06-01", ValidUntil: "2028-06-01",
		Entries: "multiple", MaxStayDays: 90,
	}
)

func refuse(reason domain.ReasonCode) domain.DecisionRequest {
	return domain.DecisionRequest{Decision: "refuse", ReasonCode: reason, Actor: officer}
}

// scenario configures the mocked activities of one test.
type scenario struct {
	validation activities.ValidateResult
	// validationDelay is the workflow (mock-clock) time ValidateApplication
	// takes. The test environment checks StartToCloseTimeout on the wall
	// clock, so this may exceed the activity timeout without a retry.
	validationDelay time.Duration
	validateErr     error // returned by ValidateApplication instead of the result
	screening       activities.ScreenResult
	issueErr        error // returned by IssueVisa instead of the visa
	// stp is what CheckSTP answers; the zero value declines (Eligible=false),
	// so by default every clean case goes to an officer.
	stp activities.STPResult
	// attach is what AttachDocuments answers, one result per call (the last repeats).
	attach []activities.AttachResult
	// writeTime is the wall-clock time each read-model write takes, so that
	// writes the workflow runs at the same time overlap (see writeOrder).
	writeTime time.Duration
}

// harness runs ApplicationWorkflow with mocked activities and records, in
// order, every activity call the workflow makes.
type harness struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment

	mu sync.Mutex
	// calls: "RecordStatus:<status>", "ValidateApplication", "ScreenApplication", "CheckSTP",
	// "IssueVisa:<status>", "RecordSLAEvent:<event>", "RecordAssignment:<assignee>".
	calls       []string
	statuses    []activities.StatusInput
	issues      []activities.IssueInput
	validate    []activities.ValidateInput
	screen      []activities.ScreenInput
	stp         []activities.STPInput
	slaEvents   []activities.SLAEventInput
	assignments []activities.AssignmentInput
	// Read-model writes: their seqs in the order they began, how many ran at
	// once at most.
	attached              []activities.AttachInput
	writeSeqs             []int64
	inFlight, maxInFlight int
}

// unitDeadlockWindow widens the SDK's 1 s deadlock detection in unit tests: the
// first workflow task of a test binary pays one-time initialisation, which on a
// loaded 2-core machine took longer than 1 s and failed tests that were correct.
const unitDeadlockWindow = 10 * time.Second

func newHarness(t *testing.T, sc scenario) *harness {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	h := &harness{t: t, env: suite.NewTestWorkflowEnvironment()}
	env := h.env
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: unitDeadlockWindow})
	// The workflow starts when the application was submitted, so the SLA clock
	// (which runs from SubmittedAt) starts with it rather than months late.
	env.SetStartTime(submittedAt)
	env.RegisterWorkflow(workflows.ApplicationWorkflow)
	env.RegisterActivity(acts)

	env.OnActivity(acts.RecordStatus, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.StatusInput) error {
			defer h.write(in.Seq, sc.writeTime)()
			h.record("RecordStatus:"+string(in.Status), func() { h.statuses = append(h.statuses, in) })
			return nil
		})
	validate := env.OnActivity(acts.ValidateApplication, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ValidateInput) (activities.ValidateResult, error) {
			h.record("ValidateApplication", func() { h.validate = append(h.validate, in) })
			if sc.validateErr != nil {
				return activities.ValidateResult{}, sc.validateErr
			}
			return sc.validation, nil
		})
	if sc.validationDelay > 0 {
		validate.After(sc.validationDelay)
	}
	env.OnActivity(acts.ScreenApplication, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ScreenInput) (activities.ScreenResult, error) {
			h.record("ScreenApplication", func() { h.screen = append(h.screen, in) })
			return sc.screening, nil
		})
	env.OnActivity(acts.IssueVisa, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.IssueInput) (domain.Visa, error) {
			defer h.write(in.Status.Seq, sc.writeTime)()
			h.record("IssueVisa:"+string(in.Status.Status), func() { h.issues = append(h.issues, in) })
			if sc.issueErr != nil {
				return domain.Visa{}, sc.issueErr
			}
			return testVisa, nil
		})
	env.OnActivity(acts.CheckSTP, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.STPInput) (activities.STPResult, error) {
			h.record("CheckSTP", func() { h.stp = append(h.stp, in) })
			return sc.stp, nil
		})
	env.OnActivity(acts.RecordSLAEvent, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SLAEventInput) error {
			defer h.write(in.Seq, sc.writeTime)()
			h.record("RecordSLAEvent:"+string(in.Event), func() { h.slaEvents = append(h.slaEvents, in) })
			return nil
		})
	env.OnActivity(acts.AttachDocuments, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.AttachInput) (activities.AttachResult, error) {
			var res activities.AttachResult
			h.record("AttachDocuments", func() {
				h.attached = append(h.attached, in)
				if n := len(sc.attach); n > 0 {
					res = sc.attach[min(len(h.attached), n)-1]
				}
			})
			return res, nil
		})
	env.OnActivity(acts.RecordAssignment, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.AssignmentInput) error {
			defer h.write(in.Seq, sc.writeTime)()
			h.record("RecordAssignment:"+in.Assignee, func() { h.assignments = append(h.assignments, in) })
			return nil
		})
	return h
}

// write notes a read-model write beginning, takes d, and returns the
// function that notes it ended.
func (h *harness) write(seq int64, d time.Duration) func() {
	h.mu.Lock()
	h.writeSeqs = append(h.writeSeqs, seq)
	h.inFlight++
	h.maxInFlight = max(h.maxInFlight, h.inFlight)
	h.mu.Unlock()
	time.Sleep(d)
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.inFlight--
	}
}

func (h *harness) record(call string, more func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, call)
	more()
}

func (h *harness) callLog() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.calls)
}

func (h *harness) statusLog() []activities.StatusInput {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.statuses)
}

var submittedAt = time.Date(2026, 6, 1, 9, 30, 0, 0, time.UTC)

// run executes the workflow to completion (or until it blocks with nothing left to do).
func (h *harness) run() {
	h.t.Helper()
	h.runWith(workflows.ApplicationInput{
		ApplicationID: "app_x", Product: domain.ProductBusiness2Y, SubmittedAt: submittedAt,
	})
}

// runWith executes the workflow with the given input.
func (h *harness) runWith(in workflows.ApplicationInput) {
	h.t.Helper()
	h.env.ExecuteWorkflow(workflows.ApplicationWorkflow, in)
}

// updateOutcome is what the callbacks of one update saw.
type updateOutcome struct {
	accepted  bool
	rejectErr error
	completed bool
	result    workflows.CaseState
	err       error
}

// update sends an update after delay (workflow time) and returns where its outcome will be recorded.
func (h *harness) update(delay time.Duration, name, id string, arg any) *updateOutcome {
	out := &updateOutcome{}
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(name, id, &testsuite.TestUpdateCallback{
			OnAccept: func() { out.accepted = true },
			OnReject: func(err error) { out.rejectErr = err },
			OnComplete: func(result any, err error) {
				out.completed = true
				out.err = err
				if err == nil {
					out.result = decodeState(h.t, result)
				}
			},
		}, arg)
	}, delay)
	return out
}

// decodeState accepts the update result either as the Go value or as encoded payloads.
func decodeState(t *testing.T, v any) workflows.CaseState {
	t.Helper()
	switch r := v.(type) {
	case workflows.CaseState:
		return r
	case *workflows.CaseState:
		return *r
	case interface{ Get(valuePtr ...any) error }:
		var s workflows.CaseState
		if err := r.Get(&s); err != nil {
			t.Fatalf("decoding update result: %v", err)
		}
		return s
	default:
		t.Fatalf("update result of unexpected type %T", v)
		return workflows.CaseState{}
	}
}

// queryAt queries the state after delay (workflow time) and stores it in *into.
func (h *harness) queryAt(delay time.Duration, into *workflows.CaseState) {
	h.env.RegisterDelayedCallback(func() { *into = h.query() }, delay)
}

func (h *harness) query() workflows.CaseState {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(workflows.QueryState)
	if err != nil {
		h.t.Fatalf("query %s: %v", workflows.QueryState, err)
	}
	var s workflows.CaseState
	if err := v.Get(&s); err != nil {
		h.t.Fatalf("decoding state: %v", err)
	}
	return s
}

// finalState asserts the workflow completed without error and returns its result.
func (h *harness) finalState() workflows.CaseState {
	h.t.Helper()
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatalf("workflow did not complete; activity calls: %v", h.callLog())
	}
	if err := h.env.GetWorkflowError(); err != nil {
		h.t.Fatalf("workflow failed: %v", err)
	}
	var s workflows.CaseState
	if err := h.env.GetWorkflowResult(&s); err != nil {
		h.t.Fatalf("workflow result: %v", err)
	}
	return s
}

// assertCalls compares the ordered activity call log.
func (h *harness) assertCalls(want ...string) {
	h.t.Helper()
	if got := h.callLog(); !slices.Equal(got, want) {
		h.t.Errorf("activity calls\n got %q\nwant %q", got, want)
	}
}

// assertSeq checks that the recorded events (status changes, the issued one,
// SLA events and assignments share one sequence) are numbered 1, 2, 3, …
func (h *harness) assertSeq() {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	var seqs []int64
	for _, s := range h.statuses {
		seqs = append(seqs, s.Seq)
	}
	for _, in := range h.issues {
		seqs = append(seqs, in.Status.Seq)
	}
	for _, in := range h.slaEvents {
		seqs = append(seqs, in.Seq)
	}
	for _, in := range h.assignments {
		seqs = append(seqs, in.Seq)
	}
	slices.Sort(seqs)
	for i, s := range seqs {
		if s != int64(i+1) {
			h.t.Errorf("status change sequence numbers %v, want 1..%d without gaps or repeats", seqs, len(seqs))
			return
		}
	}
	// Recorded in call order, the RecordStatus numbers strictly increase.
	for i := 1; i < len(h.statuses); i++ {
		if h.statuses[i].Seq <= h.statuses[i-1].Seq {
			h.t.Errorf("RecordStatus Seq not strictly increasing: %d then %d", h.statuses[i-1].Seq, h.statuses[i].Seq)
		}
	}
}

func mustAccept(t *testing.T, what string, o *updateOutcome) {
	t.Helper()
	if o.rejectErr != nil {
		t.Fatalf("%s rejected: %v", what, o.rejectErr)
	}
	if !o.accepted || !o.completed {
		t.Fatalf("%s: accepted=%v completed=%v, want both", what, o.accepted, o.completed)
	}
	if o.err != nil {
		t.Fatalf("%s failed: %v", what, o.err)
	}
}

func mustReject(t *testing.T, what string, o *updateOutcome, is func(error) bool, kind string) {
	t.Helper()
	if o.accepted || o.completed {
		t.Fatalf("%s: accepted=%v completed=%v (result %+v), want a rejection", what, o.accepted, o.completed, o.result)
	}
	if o.rejectErr == nil {
		t.Fatalf("%s: neither accepted nor rejected", what)
	}
	if !is(o.rejectErr) {
		t.Fatalf("%s rejected with %v, want %s", what, o.rejectErr, kind)
	}
}

func TestWorkflowID(t *testing.T) {
	if got := workflows.WorkflowID("app_x"); got != "application/app_x" {
		t.Fatalf("WorkflowID(app_x) = %q, want application/app_x", got)
	}
}

func TestApproveIssuesVisa(t *testing.T) {
	h := newHarness(t, scenario{})
	var awaiting workflows.CaseState
	h.queryAt(time.Minute, &awaiting)
	dec := h.update(2*time.Minute, workflows.UpdateDecide, "decide-1", approve)
	h.run()

	if awaiting.Status != domain.StatusAwaitingReview || awaiting.ApplicationID != "app_x" ||
		awaiting.Product != "business_2y" {
		t.Errorf("state while awaiting review = %+v", awaiting)
	}
	if awaiting.ScreeningHit || awaiting.Decision != nil || awaiting.Visa != nil {
		t.Errorf("state while awaiting review has a hit, decision or visa: %+v", awaiting)
	}

	mustAccept(t, "approve", dec)
	if dec.result.Status != domain.StatusIssued {
		t.Errorf("update result status %q, want issued", dec.result.Status)
	}
	if dec.result.Visa == nil || *dec.result.Visa != testVisa {
		t.Errorf("update result visa %+v, want %+v", dec.result.Visa, testVisa)
	}
	if d := dec.result.Decision; d == nil || d.Outcome != "approve" || d.DecidedBy != "officer:off_1" ||
		d.DecidedAt.IsZero() {
		t.Errorf("update result decision %+v", d)
	}

	final := h.finalState()
	if final.Status != domain.StatusIssued || final.Visa == nil || *final.Visa != testVisa {
		t.Errorf("final state %+v", final)
	}

	h.assertCalls(
		"RecordStatus:validating", "ValidateApplication",
		"RecordStatus:screening", "ScreenApplication", "CheckSTP",
		"RecordStatus:awaiting_review",
		"IssueVisa:issued",
	)
	h.assertSeq()
	if s := h.statusLog(); len(s) == 0 || s[0].Seq != 1 {
		t.Errorf("first RecordStatus %+v, want Seq 1", s)
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.validate) != 1 ||
		h.validate[0] != (activities.ValidateInput{ApplicationID: "app_x", SubmittedAt: submittedAt}) {
		t.Errorf("ValidateApplication inputs %+v", h.validate)
	}
	if len(h.screen) != 1 || h.screen[0].ApplicationID != "app_x" {
		t.Errorf("ScreenApplication inputs %+v", h.screen)
	}
	if len(h.stp) != 1 || h.stp[0].ApplicationID != "app_x" || h.stp[0].ScreeningHit {
		t.Errorf("CheckSTP inputs %+v, want one for app_x with a clean screening", h.stp)
	}
	if len(h.issues) != 1 {
		t.Fatalf("IssueVisa called %d times", len(h.issues))
	}
	in := h.issues[0]
	if in.Status.ApplicationID != "app_x" || in.Status.Status != domain.StatusIssued || in.Status.Event != "issued" ||
		in.Status.Actor != "officer:off_1" {
		t.Errorf("IssueVisa status input %+v", in.Status)
	}
	if in.Status.Decision == nil || in.Status.Decision.Outcome != "approve" ||
		in.Status.Decision.DecidedBy != "officer:off_1" {
		t.Errorf("IssueVisa decision %+v", in.Status.Decision)
	}
	if in.IssuedOn.IsZero() || !in.IssuedOn.Equal(in.Status.At) {
		t.Errorf("IssuedOn %v, status At %v: want the same non-zero workflow time", in.IssuedOn, in.Status.At)
	}
	for _, s := range h.statuses {
		if s.Decision != nil {
			t.Errorf("status %q recorded with a decision before one was made", s.Status)
		}
		if s.ApplicationID != "app_x" || s.At.IsZero() {
			t.Errorf("status change %+v: wrong application or no time", s)
		}
	}
	if aw := h.statuses[len(h.statuses)-1]; aw.Status != domain.StatusAwaitingReview || aw.ScreeningHit == nil ||
		*aw.ScreeningHit {
		t.Errorf("awaiting_review recorded as %+v, want ScreeningHit=false", aw)
	}
}

func TestRefuseWithReasonCode(t *testing.T) {
	h := newHarness(t, scenario{})
	dec := h.update(time.Minute, workflows.UpdateDecide, "decide-1", refuse("insufficient_evidence"))
	h.run()

	mustAccept(t, "refuse", dec)
	if dec.result.Status != domain.StatusRefused || dec.result.Visa != nil {
		t.Errorf("update result %+v, want refused without visa", dec.result)
	}
	if d := dec.result.Decision; d == nil || d.Outcome != "refuse" || d.ReasonCode != "insufficient_evidence" ||
		d.DecidedBy != "officer:off_1" {
		t.Errorf("update result decision %+v", d)
	}
	final := h.finalState()
	if final.Status != domain.StatusRefused || final.Decision == nil ||
		final.Decision.ReasonCode != "insufficient_evidence" {
		t.Errorf("final state %+v", final)
	}
	if q := h.query(); q.Status != domain.StatusRefused {
		t.Errorf("queried state after completion %+v", q)
	}

	h.assertCalls(
		"RecordStatus:validating", "ValidateApplication",
		"RecordStatus:screening", "ScreenApplication", "CheckSTP",
		"RecordStatus:awaiting_review", "RecordStatus:refused",
	)
	h.assertSeq()
	h.env.AssertActivityNotCalled(t, "IssueVisa", mock.Anything, mock.Anything)

	s := h.statusLog()
	last := s[len(s)-1]
	want := activities.StatusInput{Status: domain.StatusRefused, Event: "refused", Actor: "officer:off_1"}
	if last.Status != want.Status || last.Event != want.Event || last.Actor != want.Actor {
		t.Errorf("refusal recorded as %+v", last)
	}
	if last.Decision == nil || last.Decision.Outcome != "refuse" || last.Decision.ReasonCode != "insufficient_evidence" ||
		last.Decision.DecidedBy != "officer:off_1" {
		t.Errorf("refusal decision %+v", last.Decision)
	}
}

func TestDecideRejectedBeforeAwaitingReview(t *testing.T) {
	h := newHarness(t, scenario{validationDelay: 20 * time.Second})
	var during workflows.CaseState
	h.queryAt(5*time.Second, &during)
	early := h.update(10*time.Second, workflows.UpdateDecide, "early", approve)
	earlyRefuse := h.update(11*time.Second, workflows.UpdateDecide, "early-refuse", refuse("other"))
	later := h.update(time.Minute, workflows.UpdateDecide, "later", approve)
	h.run()

	if during.Status != domain.StatusValidating {
		t.Errorf("status while ValidateApplication runs = %q, want validating", during.Status)
	}
	mustReject(t, "approve while validating", early, workflows.IsInvalidTransition, "InvalidTransition")
	mustReject(t, "refuse while validating", earlyRefuse, workflows.IsInvalidTransition, "InvalidTransition")
	if workflows.IsInvalidRequest(early.rejectErr) {
		t.Errorf("early decide is both InvalidTransition and InvalidRequest: %v", early.rejectErr)
	}
	// The rejected early decision left no trace: the case still waits for an officer.
	mustAccept(t, "approve once awaiting review", later)
	if h.finalState().Status != domain.StatusIssued {
		t.Errorf("final status, want issued")
	}
}

func TestDecideRequestValidation(t *testing.T) {
	h := newHarness(t, scenario{})
	noReason := h.update(time.Minute, workflows.UpdateDecide, "no-reason", refuse(""))
	badReason := h.update(time.Minute+time.Second, workflows.UpdateDecide, "bad-reason", refuse("vibes"))
	maybe := h.update(time.Minute+2*time.Second, workflows.UpdateDecide, "maybe",
		domain.DecisionRequest{Decision: "maybe", Actor: officer})
	empty := h.update(time.Minute+3*time.Second, workflows.UpdateDecide, "empty",
		domain.DecisionRequest{Actor: officer})
	var between workflows.CaseState
	h.queryAt(time.Minute+4*time.Second, &between)
	first := h.update(2*time.Minute, workflows.UpdateDecide, "first", refuse("security_screening"))
	// Sent right after the first decision was accepted, while it is still being recorded.
	// (Updates sent after the workflow closed never reach it, so that case is the API's to test.)
	second := h.update(2*time.Minute, workflows.UpdateDecide, "second", approve)
	withdrawLate := h.update(
		2*time.Minute,
		workflows.UpdateWithdraw,
		"withdraw-late",
		workflows.WithdrawRequest{Actor: applicant},
	)
	h.run()

	mustReject(t, "refuse without reason", noReason, workflows.IsInvalidRequest, "InvalidRequest")
	mustReject(t, "refuse with unknown reason", badReason, workflows.IsInvalidRequest, "InvalidRequest")
	mustReject(t, `decision "maybe"`, maybe, workflows.IsInvalidRequest, "InvalidRequest")
	mustReject(t, "empty decision", empty, workflows.IsInvalidRequest, "InvalidRequest")
	if between.Status != domain.StatusAwaitingReview || between.Decision != nil {
		t.Errorf("state after rejected decisions %+v, want awaiting_review without decision", between)
	}

	mustAccept(t, "first decision", first)
	mustReject(t, "second decision", second, workflows.IsInvalidTransition, "InvalidTransition")
	mustReject(t, "withdraw after a decision", withdrawLate, workflows.IsInvalidTransition, "InvalidTransition")
	final := h.finalState()
	if final.Status != domain.StatusRefused || final.Decision == nil || final.Decision.ReasonCode != "security_screening" {
		t.Errorf("final state %+v: the second decision must not have changed the first", final)
	}
	h.env.AssertActivityNotCalled(t, "IssueVisa", mock.Anything, mock.Anything)
	h.env.AssertActivityNumberOfCalls(t, "RecordStatus", 4)
}

func TestValidationFailureIsIneligible(t *testing.T) {
	fieldErrs := []domain.FieldError{
		{
			Pointer: "/applicant/nationality",
			Detail:  "applicants of this nationality are not eligible for this visa",
			Code:    domain.CodeNotEligibleNationality,
		},
		{
			Pointer: "/passport/expiry_date",
			Detail:  "must be after the passport's issue date",
			Code:    domain.CodeExpiryBeforeIssue,
		},
	}
	h := newHarness(
		t,
		scenario{validation: activities.ValidateResult{Errors: fieldErrs}, validationDelay: 10 * time.Second},
	)
	dec := h.update(5*time.Second, workflows.UpdateDecide, "decide", approve)
	h.run()

	final := h.finalState()
	if final.Status != domain.StatusIneligible {
		t.Errorf("final status %q, want ineligible", final.Status)
	}
	if !reflect.DeepEqual(final.Ineligible, fieldErrs) {
		t.Errorf("final Ineligible %+v, want %+v", final.Ineligible, fieldErrs)
	}
	q := h.query()
	if q.Status != domain.StatusIneligible || !reflect.DeepEqual(q.Ineligible, fieldErrs) {
		t.Errorf("queried state %+v", q)
	}

	h.assertCalls("RecordStatus:validating", "ValidateApplication", "RecordStatus:ineligible")
	h.assertSeq()
	h.env.AssertActivityNotCalled(t, "ScreenApplication", mock.Anything, mock.Anything)
	h.env.AssertActivityNotCalled(t, "IssueVisa", mock.Anything, mock.Anything)

	s := h.statusLog()
	last := s[len(s)-1]
	if last.Event != "validation_failed" || last.Actor != "system" ||
		last.Detail != "/applicant/nationality (not_eligible_nationality), /passport/expiry_date (expiry_before_issue)" {
		t.Errorf("ineligible recorded as %+v", last)
	}
	mustReject(t, "decide during validation", dec, workflows.IsInvalidTransition, "InvalidTransition")
}

func TestWithdrawWhileAwaitingReview(t *testing.T) {
	h := newHarness(t, scenario{})
	wd := h.update(time.Minute, workflows.UpdateWithdraw, "withdraw", workflows.WithdrawRequest{Actor: applicant})
	// Sent right after the withdrawal was accepted (updates sent once the
	// workflow has closed never reach it).
	again := h.update(time.Minute, workflows.UpdateWithdraw, "withdraw-again", workflows.WithdrawRequest{Actor: applicant})
	dec := h.update(time.Minute, workflows.UpdateDecide, "decide", approve)
	h.run()

	mustAccept(t, "withdraw", wd)
	if wd.result.Status != domain.StatusWithdrawn {
		t.Errorf("withdraw result %+v", wd.result)
	}
	mustReject(t, "decide after withdrawal", dec, workflows.IsInvalidTransition, "InvalidTransition")
	mustReject(t, "second withdrawal", again, workflows.IsInvalidTransition, "InvalidTransition")
	if final := h.finalState(); final.Status != domain.StatusWithdrawn || final.Decision != nil {
		t.Errorf("final state %+v", final)
	}
	h.assertCalls(
		"RecordStatus:validating", "ValidateApplication",
		"RecordStatus:screening", "ScreenApplication", "CheckSTP",
		"RecordStatus:awaiting_review", "RecordStatus:withdrawn",
	)
	h.assertSeq()
	s := h.statusLog()
	if last := s[len(s)-1]; last.Event != "withdrawn" || last.Actor != "applicant" || last.Decision != nil {
		t.Errorf("withdrawal recorded as %+v", last)
	}
}

func TestWithdrawDuringValidation(t *testing.T) {
	h := newHarness(t, scenario{validationDelay: 20 * time.Second})
	wd := h.update(5*time.Second, workflows.UpdateWithdraw, "withdraw", workflows.WithdrawRequest{Actor: applicant})
	dec := h.update(10*time.Second, workflows.UpdateDecide, "decide", approve)
	var pending workflows.CaseState
	h.queryAt(15*time.Second, &pending)
	h.run()

	// Accepted at once, answered only once the withdrawal is recorded.
	mustAccept(t, "withdraw during validation", wd)
	if wd.result.Status != domain.StatusWithdrawn {
		t.Errorf("withdraw result %+v", wd.result)
	}
	if pending.Status != domain.StatusValidating {
		t.Errorf("status before validation finished = %q, want validating", pending.Status)
	}
	mustReject(t, "decide during pending withdrawal", dec, workflows.IsInvalidTransition, "InvalidTransition")
	if final := h.finalState(); final.Status != domain.StatusWithdrawn {
		t.Errorf("final state %+v", final)
	}
	h.assertCalls("RecordStatus:validating", "ValidateApplication", "RecordStatus:withdrawn")
	h.assertSeq()
	h.env.AssertActivityNotCalled(t, "ScreenApplication", mock.Anything, mock.Anything)
}

func TestScreeningHit(t *testing.T) {
	h := newHarness(t, scenario{screening: activities.ScreenResult{Hit: true, Matches: 2, Score: 0.955,
		EntryRef: "SAN-7", Reason: "name 0.955; birth date not listed"}})
	var awaiting workflows.CaseState
	h.queryAt(time.Minute, &awaiting)
	dec := h.update(2*time.Minute, workflows.UpdateDecide, "decide", refuse("security_screening"))
	h.run()

	if awaiting.Status != domain.StatusAwaitingReview || !awaiting.ScreeningHit ||
		awaiting.ScreeningScore != 0.955 || awaiting.ScreeningEntry != "SAN-7" {
		t.Errorf("state awaiting review %+v, want ScreeningHit with the best match", awaiting)
	}
	mustAccept(t, "refuse", dec)
	if final := h.finalState(); !final.ScreeningHit || final.Status != domain.StatusRefused {
		t.Errorf("final state %+v", final)
	}
	var aw *activities.StatusInput
	for _, s := range h.statusLog() {
		if s.Status == domain.StatusAwaitingReview {
			aw = &s
		} else if s.ScreeningHit != nil {
			t.Errorf("status %q carries a screening result", s.Status)
		}
	}
	if aw == nil || aw.ScreeningHit == nil || !*aw.ScreeningHit {
		t.Fatalf("awaiting_review recorded as %+v, want ScreeningHit=true", aw)
	}
	const wantDetail = "watchlist match (2; best: entry SAN-7, score 0.955, name 0.955; birth date not listed): " +
		"officer review required"
	if aw.Event != "screened" || aw.Detail != wantDetail {
		t.Errorf("awaiting_review event %q detail %q", aw.Event, aw.Detail)
	}
}

// An activity that fails for good must fail the workflow, and an accepted
// decision waiting on it must be answered rather than left hanging.
func TestIssueVisaFailureFailsWorkflow(t *testing.T) {
	issueErr := temporal.NewNonRetryableApplicationError(
		"application form cannot be read",
		activities.ErrTypeApplicationMissing,
		nil,
	)
	h := newHarness(t, scenario{issueErr: issueErr})
	dec := h.update(time.Minute, workflows.UpdateDecide, "decide", approve)
	h.run()

	if !h.env.IsWorkflowCompleted() {
		t.Fatalf("workflow did not complete after IssueVisa failed for good")
	}
	var appErr *temporal.ApplicationError
	if err := h.env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeApplicationMissing {
		t.Errorf("workflow error %v, want the activity's %s", err, activities.ErrTypeApplicationMissing)
	}
	if !dec.accepted || !dec.completed {
		t.Fatalf("decide accepted=%v completed=%v, want an answer", dec.accepted, dec.completed)
	}
	if dec.err == nil {
		t.Errorf("decide completed without error (%+v) although no visa was issued", dec.result)
	}
	h.env.AssertActivityNumberOfCalls(t, "IssueVisa", 1)
}

// Likewise for a withdrawal pending while validation fails for good.
func TestValidationFailureReleasesPendingWithdrawal(t *testing.T) {
	missing := temporal.NewNonRetryableApplicationError("application not found", activities.ErrTypeApplicationMissing, nil)
	h := newHarness(t, scenario{validationDelay: 20 * time.Second, validateErr: missing})
	wd := h.update(5*time.Second, workflows.UpdateWithdraw, "withdraw", workflows.WithdrawRequest{Actor: applicant})
	h.run()

	if !h.env.IsWorkflowCompleted() {
		t.Fatalf("workflow did not complete after ValidateApplication failed for good")
	}
	var appErr *temporal.ApplicationError
	if err := h.env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeApplicationMissing {
		t.Errorf("workflow error %v, want the activity's %s", err, activities.ErrTypeApplicationMissing)
	}
	if !wd.accepted || !wd.completed || wd.err == nil {
		t.Errorf(
			"withdraw accepted=%v completed=%v err=%v, want accepted and answered with an error",
			wd.accepted,
			wd.completed,
			wd.err,
		)
	}
	h.assertCalls("RecordStatus:validating", "ValidateApplication")
}
