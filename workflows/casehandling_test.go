package workflows_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/visad/visad/activities"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/workflows"
)

// Case handling (SLA clock, requests for information, four eyes, claims and
// straight-through processing) on the test environment's skipping clock: a
// timer fires as soon as the workflow has nothing else to do, so days of
// workflow time pass in milliseconds and every time below is exact.

var (
	officerA    = domain.Actor{ID: "off_a", Role: "officer"}
	officerB    = domain.Actor{ID: "off_b", Role: "officer"}
	supervisorA = domain.Actor{ID: "off_a", Role: "supervisor"} // same person as officerA
	supervisorB = domain.Actor{ID: "off_b", Role: "supervisor"}
)

func approveBy(a domain.Actor) domain.DecisionRequest {
	return domain.DecisionRequest{Decision: "approve", Actor: a}
}

func refuseBy(a domain.Actor, reason domain.ReasonCode) domain.DecisionRequest {
	return domain.DecisionRequest{Decision: "refuse", ReasonCode: reason, Actor: a}
}

// requestInformation asks the applicant to answer in days (0: the default).
func requestInformation(days int) domain.DecisionRequest {
	d := domain.DecisionRequest{Decision: "request_information", Message: "Please send the host's invitation letter.",
		Actor: officer}
	if days != 0 {
		d.DueInDays = &days
	}
	return d
}

// runCase starts the workflow for product, submitted now, so that the SLA
// clock starts with the workflow.
func (h *harness) runCase(product domain.Product) {
	h.t.Helper()
	h.runWith(workflows.ApplicationInput{ApplicationID: "app_x", Product: product, SubmittedAt: h.env.Now()})
}

func (h *harness) slaLog() []activities.SLAEventInput {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.slaEvents)
}

func (h *harness) assignmentLog() []activities.AssignmentInput {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.assignments)
}

// assertSLAEvents checks the names of the recorded SLA events, in order, and returns them.
func (h *harness) assertSLAEvents(want ...string) []activities.SLAEventInput {
	h.t.Helper()
	got := h.slaLog()
	var names []string
	for _, e := range got {
		names = append(names, string(e.Event))
	}
	if !slices.Equal(names, want) {
		h.t.Fatalf("SLA events %q, want %q", names, want)
	}
	for _, e := range got {
		if e.ApplicationID != "app_x" {
			h.t.Errorf("SLA event %+v for the wrong application", e)
		}
	}
	return got
}

// statusRecorded returns the one RecordStatus input for status.
func (h *harness) statusRecorded(status domain.Status) activities.StatusInput {
	h.t.Helper()
	var found []activities.StatusInput
	for _, s := range h.statusLog() {
		if s.Status == status {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		h.t.Fatalf("RecordStatus %q recorded %d times, want once (calls %v)", status, len(found), h.callLog())
	}
	return found[0]
}

func assertAt(t *testing.T, what string, got, start time.Time, after time.Duration) {
	t.Helper()
	if want := start.Add(after); !got.Equal(want) {
		t.Errorf("%s at %v (+%v), want +%v", what, got, got.Sub(start), after)
	}
}

func TestSLAEscalatesAndBreachesTwoYear(t *testing.T) {
	h := newHarness(t, scenario{})
	start := h.env.Now()
	var before, escalated, breached workflows.CaseState
	h.queryAt(17*time.Hour+59*time.Minute, &before)
	h.queryAt(19*time.Hour, &escalated)
	h.queryAt(25*time.Hour, &breached)
	dec := h.update(26*time.Hour, workflows.UpdateDecide, "decide", approve)
	h.runCase(domain.ProductBusiness2Y)

	if s := before.SLA; s == nil || !s.DueAt.Equal(start.Add(24*time.Hour)) || s.Escalated || s.Breached || s.Paused {
		t.Errorf("SLA before 18h %+v, want due at +24h, running, not escalated", s)
	}
	if s := escalated.SLA; s == nil || !s.Escalated || s.Breached {
		t.Errorf("SLA at 19h %+v, want escalated, not breached", s)
	}
	if s := breached.SLA; s == nil || !s.Escalated || !s.Breached {
		t.Errorf("SLA at 25h %+v, want escalated and breached", s)
	}

	ev := h.assertSLAEvents("escalated", "sla_breached")
	assertAt(t, "escalation", ev[0].At, start, 18*time.Hour)
	if !ev[0].Escalated || ev[0].Breached || ev[0].Paused || !ev[0].DueAt.Equal(start.Add(24*time.Hour)) {
		t.Errorf("escalation recorded as %+v", ev[0])
	}
	assertAt(t, "breach", ev[1].At, start, 24*time.Hour)
	if !ev[1].Escalated || !ev[1].Breached || ev[1].Paused || !ev[1].DueAt.Equal(start.Add(24*time.Hour)) {
		t.Errorf("breach recorded as %+v", ev[1])
	}

	// A late decision is still taken.
	mustAccept(t, "approve after the breach", dec)
	if dec.result.Status != domain.StatusIssued {
		t.Errorf("decide result status %q, want issued", dec.result.Status)
	}
	if final := h.finalState(); final.Status != domain.StatusIssued || final.SLA == nil || !final.SLA.Breached {
		t.Errorf("final state %+v (SLA %+v)", final, final.SLA)
	}
	h.assertCalls(
		"RecordStatus:validating", "ValidateApplication",
		"RecordStatus:screening", "ScreenApplication", "CheckSTP",
		"RecordStatus:awaiting_review",
		"RecordSLAEvent:escalated", "RecordSLAEvent:sla_breached",
		"IssueVisa:issued",
	)
	h.assertSeq()
}

func TestSLAFiveYearIs72Hours(t *testing.T) {
	h := newHarness(t, scenario{})
	start := h.env.Now()
	var at53 workflows.CaseState
	h.queryAt(53*time.Hour, &at53)
	wd := h.update(80*time.Hour, workflows.UpdateWithdraw, "withdraw", workflows.WithdrawRequest{Actor: applicant})
	h.runCase(domain.ProductBusiness5YMulti)

	if s := at53.SLA; s == nil || !s.DueAt.Equal(start.Add(72*time.Hour)) || s.Escalated {
		t.Errorf("SLA at 53h %+v, want due at +72h and not yet escalated", s)
	}
	ev := h.assertSLAEvents("escalated", "sla_breached")
	assertAt(t, "escalation", ev[0].At, start, 54*time.Hour)
	assertAt(t, "breach", ev[1].At, start, 72*time.Hour)
	if !ev[0].Escalated || ev[0].Breached || !ev[1].Breached || !ev[1].DueAt.Equal(start.Add(72*time.Hour)) {
		t.Errorf("SLA events %+v", ev)
	}
	mustAccept(t, "withdraw", wd)
	if final := h.finalState(); final.Status != domain.StatusWithdrawn {
		t.Errorf("final state %+v", final)
	}
	h.assertSeq()
}

func TestRequestForInformationPausesSLA(t *testing.T) {
	h := newHarness(t, scenario{})
	start := h.env.Now()
	ask := h.update(2*time.Hour, workflows.UpdateDecide, "rfi", requestInformation(0))
	var during workflows.CaseState
	h.queryAt(5*time.Hour, &during)
	decideDuring := h.update(6*time.Hour, workflows.UpdateDecide, "decide-during", approve)
	answer := h.update(12*time.Hour, workflows.UpdateInform, "answer",
		workflows.InformationReply{Message: "The letter is attached.", Actor: applicant})
	var after workflows.CaseState
	h.queryAt(13*time.Hour, &after)
	dec := h.update(40*time.Hour, workflows.UpdateDecide, "decide", approve)
	h.runCase(domain.ProductBusiness2Y)

	mustAccept(t, "request for information", ask)
	if ask.result.Status != domain.StatusInformationRequested || ask.result.InformationRequest == nil {
		t.Errorf("request result %+v, want information_requested with the request", ask.result)
	}
	if during.Status != domain.StatusInformationRequested {
		t.Errorf("status during the request %q", during.Status)
	}
	if s := during.SLA; s == nil || !s.Paused || s.RemainingAtPause != 22*time.Hour || s.Escalated {
		t.Errorf("SLA during the request %+v, want paused with 22h left", s)
	}
	informationDue := start.Add(2*time.Hour).AddDate(0, 0, domain.DefaultInformationDays)
	if r := during.InformationRequest; r == nil || r.Message != "Please send the host's invitation letter." ||
		r.RequestedBy != "officer:off_1" || !r.DueAt.Equal(informationDue) {
		t.Errorf("information request %+v, want due %d days after it was made", r, domain.DefaultInformationDays)
	}
	mustReject(
		t,
		"decide while the applicant holds the case",
		decideDuring,
		workflows.IsInvalidTransition,
		"InvalidTransition",
	)

	mustAccept(t, "answer", answer)
	if answer.result.Status != domain.StatusAwaitingReview || answer.result.InformationRequest != nil {
		t.Errorf("answer result %+v, want awaiting_review without an open request", answer.result)
	}
	if s := after.SLA; s == nil || s.Paused || !s.DueAt.Equal(start.Add(34*time.Hour)) {
		t.Errorf("SLA after the answer %+v, want running, due at +34h", s)
	}

	ev := h.assertSLAEvents("clock_paused", "clock_resumed", "escalated", "sla_breached")
	assertAt(t, "clock_paused", ev[0].At, start, 2*time.Hour)
	if !ev[0].Paused || ev[0].RemainingMS != (22*time.Hour).Milliseconds() {
		t.Errorf("pause recorded as %+v, want paused with 22h left", ev[0])
	}
	assertAt(t, "clock_resumed", ev[1].At, start, 12*time.Hour)
	if ev[1].Paused || !ev[1].DueAt.Equal(start.Add(34*time.Hour)) {
		t.Errorf("resume recorded as %+v, want running, due at +34h", ev[1])
	}
	assertAt(t, "escalation", ev[2].At, start, 28*time.Hour) // 18h of running clock + 10h paused
	assertAt(t, "breach", ev[3].At, start, 34*time.Hour)     // 24h + 10h
	if !ev[2].Escalated || ev[2].Breached || !ev[3].Breached {
		t.Errorf("escalation %+v, breach %+v", ev[2], ev[3])
	}

	requested := h.statusRecorded(domain.StatusInformationRequested)
	assertAt(t, "information_requested", requested.At, start, 2*time.Hour)
	if requested.Event != "information_requested" || requested.Actor != "officer:off_1" ||
		!strings.Contains(requested.Detail, "invitation letter") {
		t.Errorf("request recorded as %+v", requested)
	}
	var provided *activities.StatusInput
	for _, s := range h.statusLog() {
		if s.Event == "information_provided" {
			provided = &s
		}
	}
	if provided == nil || provided.Status != domain.StatusAwaitingReview || provided.Actor != "applicant" ||
		provided.Detail != "The letter is attached." {
		t.Fatalf("answer recorded as %+v", provided)
	}
	assertAt(t, "information_provided", provided.At, start, 12*time.Hour)

	mustAccept(t, "approve after the answer", dec)
	if final := h.finalState(); final.Status != domain.StatusIssued {
		t.Errorf("final state %+v", final)
	}
	h.assertCalls(
		"RecordStatus:validating", "ValidateApplication",
		"RecordStatus:screening", "ScreenApplication", "CheckSTP",
		"RecordStatus:awaiting_review",
		"RecordSLAEvent:clock_paused", "RecordStatus:information_requested",
		"RecordSLAEvent:clock_resumed", "RecordStatus:awaiting_review",
		"RecordSLAEvent:escalated", "RecordSLAEvent:sla_breached",
		"IssueVisa:issued",
	)
	h.assertSeq()
}

// Two answers sent at once: the first answers the request; the second is
// refused, is not kept, and cannot answer the next request by itself.
func TestDoubleAnswerAnswersOnlyOneRequest(t *testing.T) {
	h := newHarness(t, scenario{})
	ask := h.update(time.Hour, workflows.UpdateDecide, "rfi", requestInformation(0))
	first := h.update(2*time.Hour, workflows.UpdateInform, "answer-1",
		workflows.InformationReply{Message: "first answer", Actor: applicant})
	second := h.update(2*time.Hour, workflows.UpdateInform, "answer-2",
		workflows.InformationReply{Message: "second answer", Actor: applicant})
	askAgain := h.update(3*time.Hour, workflows.UpdateDecide, "rfi-2", requestInformation(0))
	var waiting workflows.CaseState
	h.queryAt(4*time.Hour, &waiting)
	answerAgain := h.update(5*time.Hour, workflows.UpdateInform, "answer-3",
		workflows.InformationReply{Message: "new answer", Actor: applicant})
	dec := h.update(6*time.Hour, workflows.UpdateDecide, "decide", approve)
	h.runCase(domain.ProductBusiness2Y)

	mustAccept(t, "request for information", ask)
	mustAccept(t, "first answer", first)
	mustReject(t, "second answer to the same request", second, workflows.IsInvalidTransition, "InvalidTransition")
	mustAccept(t, "second request for information", askAgain)
	if waiting.Status != domain.StatusInformationRequested || waiting.InformationRequest == nil {
		t.Errorf("state after the second request %+v, want information_requested waiting for an answer", waiting)
	}
	mustAccept(t, "answer to the second request", answerAgain)
	mustAccept(t, "approve", dec)
	var answers []string
	for _, s := range h.statusLog() {
		if s.Event == domain.EventInformationProvided {
			answers = append(answers, s.Detail)
		}
	}
	if want := []string{"first answer", "new answer"}; !slices.Equal(answers, want) {
		t.Errorf("recorded answers %q, want %q", answers, want)
	}
	if final := h.finalState(); final.Status != domain.StatusIssued {
		t.Errorf("final state %+v", final)
	}
	h.assertSeq()
}

func TestUnansweredRequestLapses(t *testing.T) {
	h := newHarness(t, scenario{})
	start := h.env.Now()
	ask := h.update(time.Hour, workflows.UpdateDecide, "rfi", requestInformation(3))
	h.runCase(domain.ProductBusiness2Y)

	mustAccept(t, "request for information", ask)
	if r := ask.result.InformationRequest; r == nil || !r.DueAt.Equal(start.Add(time.Hour+72*time.Hour)) {
		t.Errorf("information request %+v, want due 3 days after it was made", r)
	}
	final := h.finalState()
	if final.Status != domain.StatusLapsed || final.Decision != nil || final.Visa != nil {
		t.Errorf("final state %+v, want lapsed without a decision", final)
	}
	lapsed := h.statusRecorded(domain.StatusLapsed)
	assertAt(t, "lapsed", lapsed.At, start, time.Hour+72*time.Hour)
	if lapsed.Event != "lapsed" || lapsed.Actor != "system" || lapsed.Decision != nil {
		t.Errorf("lapse recorded as %+v", lapsed)
	}
	// The clock stayed stopped: no escalation although the 24h passed long ago.
	h.assertSLAEvents("clock_paused")
	h.env.AssertActivityNotCalled(t, "IssueVisa", mock.Anything, mock.Anything)
	h.assertCalls(
		"RecordStatus:validating", "ValidateApplication",
		"RecordStatus:screening", "ScreenApplication", "CheckSTP",
		"RecordStatus:awaiting_review",
		"RecordSLAEvent:clock_paused", "RecordStatus:information_requested",
		"RecordStatus:lapsed",
	)
	h.assertSeq()
}

// The history recorder shortens the days of an information deadline.
func TestInformationDayShortensTheDeadline(t *testing.T) {
	h := newHarness(t, scenario{})
	start := h.env.Now()
	ask := h.update(time.Hour, workflows.UpdateDecide, "rfi", requestInformation(3))
	h.runWith(workflows.ApplicationInput{
		ApplicationID: "app_x", Product: domain.ProductBusiness2Y, SubmittedAt: submittedAt,
		InformationDay: time.Second,
	})

	mustAccept(t, "request for information", ask)
	if r := ask.result.InformationRequest; r == nil || !r.DueAt.Equal(start.Add(time.Hour+3*time.Second)) {
		t.Errorf("information request %+v, want due 3 s after it was made", r)
	}
	if final := h.finalState(); final.Status != domain.StatusLapsed {
		t.Errorf("final state %+v, want lapsed", final)
	}
	assertAt(t, "lapsed", h.statusRecorded(domain.StatusLapsed).At, start, time.Hour+3*time.Second)
}

func TestFourEyesOnFiveYearVisa(t *testing.T) {
	t.Run("approve", func(t *testing.T) {
		h := newHarness(t, scenario{})
		first := h.update(time.Minute, workflows.UpdateDecide, "first", approveBy(officerA))
		var waiting workflows.CaseState
		h.queryAt(90*time.Second, &waiting)
		self := h.update(2*time.Minute, workflows.UpdateDecide, "self", approveBy(supervisorA))
		notSupervisor := h.update(3*time.Minute, workflows.UpdateDecide, "officer-b", approveBy(officerB))
		rfi := h.update(3*time.Minute+30*time.Second, workflows.UpdateDecide, "rfi",
			domain.DecisionRequest{Decision: "request_information", Message: "More, please.", Actor: supervisorB})
		second := h.update(4*time.Minute, workflows.UpdateDecide, "second", approveBy(supervisorB))
		h.runCase(domain.ProductBusiness5YMulti)

		mustAccept(t, "first approval", first)
		r := first.result
		if r.Status != domain.StatusAwaitingSecondApproval || r.Decision != nil || r.Visa != nil {
			t.Errorf("first decision result %+v, want awaiting_second_approval without decision or visa", r)
		}
		if f := r.FirstDecision; f == nil || f.Outcome != "approve" || f.DecidedBy != "officer:off_a" {
			t.Errorf("first decision %+v", f)
		}
		if waiting.Status != domain.StatusAwaitingSecondApproval {
			t.Errorf("status after the first decision %q", waiting.Status)
		}
		rec := h.statusRecorded(domain.StatusAwaitingSecondApproval)
		if rec.FirstDecidedBy != "officer:off_a" || rec.Event != "first_decision" || rec.Actor != "officer:off_a" ||
			rec.Decision != nil {
			t.Errorf("first decision recorded as %+v", rec)
		}

		mustReject(t, "second decision by the same person", self, workflows.IsInvalidTransition, "InvalidTransition")
		mustReject(t, "second decision by an officer", notSupervisor, workflows.IsNotAllowed, "NotAllowed")
		mustReject(
			t,
			"request for information after a first decision",
			rfi,
			workflows.IsInvalidTransition,
			"InvalidTransition",
		)
		mustAccept(t, "second approval", second)
		if d := second.result.Decision; second.result.Status != domain.StatusIssued || d == nil ||
			d.DecidedBy != "supervisor:off_b" {
			t.Errorf("second decision result %+v", second.result)
		}
		if final := h.finalState(); final.Status != domain.StatusIssued || final.Visa == nil {
			t.Errorf("final state %+v", final)
		}
		h.env.AssertActivityNumberOfCalls(t, "IssueVisa", 1)
		h.mu.Lock()
		issued := h.issues[0]
		h.mu.Unlock()
		if issued.Status.Actor != "supervisor:off_b" || issued.Status.Decision == nil ||
			issued.Status.Decision.DecidedBy != "supervisor:off_b" {
			t.Errorf("IssueVisa status input %+v", issued.Status)
		}
		h.assertCalls(
			"RecordStatus:validating", "ValidateApplication",
			"RecordStatus:screening", "ScreenApplication", "CheckSTP",
			"RecordStatus:awaiting_review", "RecordStatus:awaiting_second_approval",
			"IssueVisa:issued",
		)
		h.assertSeq()
	})

	t.Run("refuse", func(t *testing.T) {
		h := newHarness(t, scenario{})
		first := h.update(time.Minute, workflows.UpdateDecide, "first", refuseBy(officerA, "insufficient_evidence"))
		second := h.update(2*time.Minute, workflows.UpdateDecide, "second", refuseBy(supervisorB, "insufficient_evidence"))
		h.runCase(domain.ProductBusiness5YMulti)

		mustAccept(t, "first refusal", first)
		if r := first.result; r.Status != domain.StatusAwaitingSecondApproval || r.Decision != nil ||
			r.FirstDecision == nil || r.FirstDecision.Outcome != "refuse" ||
			r.FirstDecision.ReasonCode != "insufficient_evidence" {
			t.Errorf("first refusal result %+v", r)
		}
		mustAccept(t, "second refusal", second)
		final := h.finalState()
		if d := final.Decision; final.Status != domain.StatusRefused || d == nil || d.Outcome != "refuse" ||
			d.DecidedBy != "supervisor:off_b" {
			t.Errorf("final state %+v (decision %+v)", final, final.Decision)
		}
		if rec := h.statusRecorded(domain.StatusRefused); rec.Actor != "supervisor:off_b" || rec.Decision == nil ||
			rec.Decision.ReasonCode != "insufficient_evidence" {
			t.Errorf("refusal recorded as %+v", rec)
		}
		h.env.AssertActivityNotCalled(t, "IssueVisa", mock.Anything, mock.Anything)
		h.assertCalls(
			"RecordStatus:validating", "ValidateApplication",
			"RecordStatus:screening", "ScreenApplication", "CheckSTP",
			"RecordStatus:awaiting_review", "RecordStatus:awaiting_second_approval",
			"RecordStatus:refused",
		)
		h.assertSeq()
	})
}

func TestClaimAndRelease(t *testing.T) {
	h := newHarness(t, scenario{})
	start := h.env.Now()
	claimA := h.update(time.Minute, workflows.UpdateClaim, "claim-a", workflows.ClaimRequest{Actor: officerA})
	decideB := h.update(2*time.Minute, workflows.UpdateDecide, "decide-b", approveBy(officerB))
	claimB := h.update(3*time.Minute, workflows.UpdateClaim, "claim-b", workflows.ClaimRequest{Actor: officerB})
	releaseB := h.update(4*time.Minute, workflows.UpdateRelease, "release-b", workflows.ClaimRequest{Actor: officerB})
	var held workflows.CaseState
	h.queryAt(5*time.Minute, &held)
	releaseA := h.update(6*time.Minute, workflows.UpdateRelease, "release-a", workflows.ClaimRequest{Actor: officerA})
	var released workflows.CaseState
	h.queryAt(7*time.Minute, &released)
	reclaimA := h.update(8*time.Minute, workflows.UpdateClaim, "reclaim-a", workflows.ClaimRequest{Actor: officerA})
	// A supervisor may decide a case another officer holds.
	decideSupervisor := h.update(9*time.Minute, workflows.UpdateDecide, "decide-supervisor", approveBy(supervisorB))
	h.runCase(domain.ProductBusiness2Y)

	mustAccept(t, "claim by A", claimA)
	if claimA.result.Assignee != "off_a" {
		t.Errorf("claim result assignee %q, want off_a", claimA.result.Assignee)
	}
	mustReject(t, "decide by B on A's case", decideB, workflows.IsNotAllowed, "NotAllowed")
	mustReject(t, "claim by B of A's case", claimB, workflows.IsInvalidTransition, "InvalidTransition")
	mustReject(t, "release by B of A's case", releaseB, workflows.IsNotAllowed, "NotAllowed")
	if held.Assignee != "off_a" || held.Status != domain.StatusAwaitingReview {
		t.Errorf("state after the rejected attempts %+v, want held by off_a and awaiting review", held)
	}
	mustAccept(t, "release by A", releaseA)
	if releaseA.result.Assignee != "" || released.Assignee != "" {
		t.Errorf("assignee after release: result %q, query %q, want none", releaseA.result.Assignee, released.Assignee)
	}
	mustAccept(t, "claim again by A", reclaimA)
	mustAccept(t, "decide by a supervisor on A's case", decideSupervisor)
	if d := decideSupervisor.result.Decision; decideSupervisor.result.Status != domain.StatusIssued || d == nil ||
		d.DecidedBy != "supervisor:off_b" {
		t.Errorf("supervisor's decision result %+v", decideSupervisor.result)
	}
	if final := h.finalState(); final.Status != domain.StatusIssued || final.Assignee != "off_a" {
		t.Errorf("final state %+v", final)
	}

	as := h.assignmentLog()
	if len(as) != 3 {
		t.Fatalf("RecordAssignment inputs %+v, want claim, release, claim", as)
	}
	for i, want := range []struct {
		assignee string
		after    time.Duration
	}{{"off_a", time.Minute}, {"", 6 * time.Minute}, {"off_a", 8 * time.Minute}} {
		if as[i].Assignee != want.assignee || as[i].Actor != "officer:off_a" || as[i].ApplicationID != "app_x" {
			t.Errorf("assignment %d recorded as %+v, want assignee %q by officer:off_a", i, as[i], want.assignee)
		}
		assertAt(t, "assignment", as[i].At, start, want.after)
	}
	h.assertCalls(
		"RecordStatus:validating", "ValidateApplication",
		"RecordStatus:screening", "ScreenApplication", "CheckSTP",
		"RecordStatus:awaiting_review",
		"RecordAssignment:off_a", "RecordAssignment:", "RecordAssignment:off_a",
		"IssueVisa:issued",
	)
	h.assertSeq()
}

func TestStraightThroughProcessing(t *testing.T) {
	eligible := activities.STPResult{Eligible: true, PolicyVersion: domain.STPPolicyVersion}

	t.Run("eligible", func(t *testing.T) {
		h := newHarness(t, scenario{stp: eligible})
		start := h.env.Now()
		h.runCase(domain.ProductBusiness2Y)

		final := h.finalState()
		if d := final.Decision; final.Status != domain.StatusIssued || final.Visa == nil || d == nil ||
			d.Outcome != "approve" || d.DecidedBy != "system" {
			t.Errorf("final state %+v (decision %+v)", final, final.Decision)
		}
		h.assertCalls(
			"RecordStatus:validating", "ValidateApplication",
			"RecordStatus:screening", "ScreenApplication", "CheckSTP",
			"IssueVisa:issued",
		)
		for _, s := range h.statusLog() {
			if s.Status == domain.StatusAwaitingReview {
				t.Errorf("a straight-through case reached awaiting_review: %+v", s)
			}
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if len(h.stp) != 1 || h.stp[0].ApplicationID != "app_x" || h.stp[0].ScreeningHit || !h.stp[0].DecidedAt.Equal(start) {
			t.Errorf("CheckSTP inputs %+v", h.stp)
		}
		if len(h.issues) != 1 {
			t.Fatalf("IssueVisa called %d times", len(h.issues))
		}
		in := h.issues[0].Status
		if in.Actor != "system" || in.Decision == nil || in.Decision.DecidedBy != "system" ||
			in.Decision.Outcome != "approve" {
			t.Errorf("IssueVisa status input %+v (decision %+v), want decided by the system", in, in.Decision)
		}
		if !strings.Contains(in.Detail, domain.STPPolicyVersion) {
			t.Errorf("issued detail %q does not name the policy %s", in.Detail, domain.STPPolicyVersion)
		}
	})

	t.Run("screening hit", func(t *testing.T) {
		// CheckSTP would say yes; it must not be asked.
		h := newHarness(t, scenario{stp: eligible, screening: activities.ScreenResult{Hit: true, Matches: 1}})
		dec := h.update(time.Minute, workflows.UpdateDecide, "decide", refuse("security_screening"))
		h.runCase(domain.ProductBusiness2Y)

		mustAccept(t, "refuse", dec)
		if final := h.finalState(); final.Status != domain.StatusRefused || !final.ScreeningHit {
			t.Errorf("final state %+v", final)
		}
		h.env.AssertActivityNotCalled(t, "CheckSTP", mock.Anything, mock.Anything)
		h.assertCalls(
			"RecordStatus:validating", "ValidateApplication",
			"RecordStatus:screening", "ScreenApplication",
			"RecordStatus:awaiting_review", "RecordStatus:refused",
		)
		h.assertSeq()
	})
}

// Claims, releases and a decision that arrive together: the workflow runs its
// read-model writes one at a time, in sequence order, so the read model and
// the audit trail take them in the order of the timeline (issue 12, defect 4).
func TestReadModelWritesRunInSequenceOrder(t *testing.T) {
	h := newHarness(t, scenario{writeTime: 20 * time.Millisecond})
	claimA := h.update(time.Minute, workflows.UpdateClaim, "claim-a", workflows.ClaimRequest{Actor: officerA})
	release := h.update(time.Minute, workflows.UpdateRelease, "release", workflows.ClaimRequest{Actor: supervisorB})
	claimB := h.update(time.Minute, workflows.UpdateClaim, "claim-b", workflows.ClaimRequest{Actor: officerB})
	decide := h.update(time.Minute, workflows.UpdateDecide, "decide", approveBy(supervisorB))
	h.runCase(domain.ProductBusiness2Y)

	for name, u := range map[string]*updateOutcome{"claim by A": claimA, "release": release, "claim by B": claimB,
		"decide": decide} {
		mustAccept(t, name, u)
	}
	h.mu.Lock()
	seqs, most := slices.Clone(h.writeSeqs), h.maxInFlight
	h.mu.Unlock()
	if most != 1 {
		t.Errorf("%d read-model writes ran at once, want one at a time", most)
	}
	if !slices.IsSorted(seqs) {
		t.Errorf("read-model writes began in seq order %v, want ascending", seqs)
	}
	h.assertSeq()
}
