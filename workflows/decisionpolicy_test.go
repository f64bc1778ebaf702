package workflows_test

import (
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/visad/visad/activities"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/workflows"
)

// Finding 4 of issue 11: four eyes is two approvals. An officer's refusal followed by one supervisor's
// approval issued a five-year visa with a single approval; it now goes to a supervisor as a disagreement.
func TestFiveYearDisagreementGoesToASupervisor(t *testing.T) {
	supervisorC := domain.Actor{ID: "off_c", Role: "supervisor"}
	h := newHarness(t, scenario{})
	first := h.update(time.Minute, workflows.UpdateDecide, "first", refuseBy(officerA, "insufficient_evidence"))
	second := h.update(2*time.Minute, workflows.UpdateDecide, "second", approveBy(supervisorB))
	var disputed workflows.CaseState
	h.queryAt(150*time.Second, &disputed)
	// Neither of the two who disagree may settle it, and an officer may not.
	byFirst := h.update(3*time.Minute, workflows.UpdateDecide, "by-first", approveBy(supervisorA))
	bySecond := h.update(4*time.Minute, workflows.UpdateDecide, "by-second", approveBy(supervisorB))
	byOfficer := h.update(5*time.Minute, workflows.UpdateDecide, "by-officer",
		approveBy(domain.Actor{ID: "off_d", Role: "officer"}))
	resolve := h.update(6*time.Minute, workflows.UpdateDecide, "resolve", approveBy(supervisorC))
	h.runCase(domain.ProductBusiness5YMulti)

	mustAccept(t, "first refusal", first)
	mustAccept(t, "second, contrary decision", second)
	if second.result.Status == domain.StatusIssued || second.result.Visa != nil {
		t.Fatalf("an officer's refusal and one supervisor's approval issued a visa: %+v", second.result)
	}
	if disputed.Status != "disagreement" {
		t.Errorf("status after contrary decisions %q, want disagreement", disputed.Status)
	}
	mustReject(t, "resolution by the first decider", byFirst, workflows.IsInvalidTransition, "InvalidTransition")
	mustReject(t, "resolution by the second decider", bySecond, workflows.IsInvalidTransition, "InvalidTransition")
	mustReject(t, "resolution by an officer", byOfficer, workflows.IsNotAllowed, "NotAllowed")
	mustAccept(t, "resolution by a third person, a supervisor", resolve)
	final := h.finalState()
	if final.Status != domain.StatusIssued || final.Decision == nil || final.Decision.DecidedBy != "supervisor:off_c" {
		t.Errorf("final state %+v (decision %+v)", final, final.Decision)
	}
	rec := h.statusRecorded("disagreement")
	if rec.Event != "disagreement" || rec.Actor != "supervisor:off_b" {
		t.Errorf("disagreement recorded as %+v", rec)
	}
	h.env.AssertActivityNumberOfCalls(t, "IssueVisa", 1)
	h.assertSeq()
}

// An officer alone may not approve a case whose applicant matched the watchlist: a supervisor must.
func TestScreeningHitNeedsASupervisorsApproval(t *testing.T) {
	h := newHarness(t, scenario{screening: activities.ScreenResult{Hit: true, Matches: 1, Score: 0.93, EntryRef: "X-1"}})
	byOfficer := h.update(time.Minute, workflows.UpdateDecide, "officer", approveBy(officerA))
	bySupervisor := h.update(2*time.Minute, workflows.UpdateDecide, "supervisor", approveBy(supervisorB))
	h.run()

	mustReject(t, "an officer's approval of a screening hit", byOfficer, workflows.IsNotAllowed, "NotAllowed")
	mustAccept(t, "a supervisor's approval of a screening hit", bySupervisor)
	if final := h.finalState(); final.Status != domain.StatusIssued {
		t.Errorf("final state %+v", final)
	}
}

// Finding 9 of issue 11: when the issue activity finds the passport no longer valid enough, the case is
// refused for passport validity instead of failing or issuing a visa that ends before it starts.
func TestPassportInvalidAtIssueRefuses(t *testing.T) {
	issueErr := temporal.NewNonRetryableApplicationError("the passport expires 2026-08-01", "PassportInvalid", nil)
	h := newHarness(t, scenario{issueErr: issueErr})
	dec := h.update(time.Minute, workflows.UpdateDecide, "decide", approve)
	h.run()

	mustAccept(t, "approve", dec)
	final := h.finalState()
	if final.Status != domain.StatusRefused || final.Visa != nil || final.Decision == nil ||
		final.Decision.ReasonCode != domain.ReasonPassportValidity || final.Decision.DecidedBy != "system" {
		t.Fatalf("final state %+v (decision %+v), want refused for passport_validity by the system",
			final, final.Decision)
	}
	rec := h.statusRecorded(domain.StatusRefused)
	if rec.Decision == nil || rec.Decision.ReasonCode != domain.ReasonPassportValidity {
		t.Errorf("refusal recorded as %+v", rec)
	}
	h.env.AssertActivityNumberOfCalls(t, "IssueVisa", 1)
	// Writes are numbered and run one at a time (write): the failed issue keeps its number, recorded nothing,
	// and the refusal is the next write, so a reader ordering by sequence sees it last.
	h.mu.Lock()
	issueSeq := h.issues[0].Status.Seq
	h.mu.Unlock()
	if rec.Seq != issueSeq+1 {
		t.Errorf("refusal recorded as seq %d, want the write after the failed issue (seq %d)", rec.Seq, issueSeq+1)
	}
}
