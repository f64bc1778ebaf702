package workflows

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/workflow"

	"github.com/visad/visad/activities"
	"github.com/visad/visad/domain"
)

// Defaults and bounds of requests for information.
const (
	DefaultInformationDays = 14
	MaxInformationDays     = 60
	MaxMessageLength       = 2000
	escalateAtFraction     = 0.75
)

// InformationRequest is an open request for information to the applicant.
type InformationRequest struct {
	Message     string    `json:"message"`
	RequestedBy string    `json:"requested_by"`
	DueAt       time.Time `json:"due_at"`
}

// InformationReply is the applicant's answer (the "provide_information" update).
type InformationReply struct {
	Message string `json:"message"`
	Actor   Actor  `json:"actor"`
}

// ClaimRequest claims or releases a case (the "claim" and "release" updates).
type ClaimRequest struct {
	Actor Actor `json:"actor"`
}

// SLAState is the live SLA clock of a case.
type SLAState struct {
	DueAt     time.Time `json:"due_at"`
	Paused    bool      `json:"paused"`
	Escalated bool      `json:"escalated"`
	Breached  bool      `json:"breached"`
	// RemainingAtPause is what was left when the clock stopped (while paused).
	RemainingAtPause time.Duration `json:"remaining_at_pause,omitempty"`
}

// review is the officers' part of a case: claims, requests for information,
// decisions (two people for the five-year visa), until it is decided,
// withdrawn or lapses.
func (w *applicationWorkflow) review(ctx workflow.Context) error {
	for {
		if w.state.Status == StatusInformationRequested {
			due := w.state.InformationRequest.DueAt
			answered, err := workflow.AwaitWithTimeout(ctx, due.Sub(workflow.Now(ctx)),
				func() bool { return w.reply != nil || w.withdrawal != nil })
			if err != nil {
				return err
			}
			switch {
			case w.withdrawal != nil:
				return w.withdraw(ctx)
			case !answered:
				// No answer by the deadline: the case closes without a decision.
				return w.setStatus(ctx, StatusLapsed, "lapsed", systemActor, "no answer to the request for information by "+due.Format(time.DateOnly))
			}
			reply := *w.reply
			w.reply = nil
			w.state.InformationRequest = nil
			if err := w.resumeClock(ctx); err != nil {
				return err
			}
			if err := w.setStatus(ctx, StatusAwaitingReview, "information_provided", "applicant", truncate(reply.Message, MaxMessageLength)); err != nil {
				return err
			}
			continue
		}

		if err := workflow.Await(ctx, func() bool { return w.decision != nil || w.withdrawal != nil }); err != nil {
			return err
		}
		if w.withdrawal != nil {
			return w.withdraw(ctx)
		}
		d := *w.decision
		done, err := w.takeDecision(ctx, d)
		if err != nil {
			// Not carried out: the run fails, and the decide update waiting
			// for it answers with that failure (handleDecide, w.ended).
			return err
		}
		w.decision = nil
		w.decisionsTaken++
		if done {
			return nil
		}
	}
}

// takeDecision carries out one decision; done means the case is closed.
func (w *applicationWorkflow) takeDecision(ctx workflow.Context, d DecisionRequest) (bool, error) {
	now := workflow.Now(ctx)
	switch {
	case d.Decision == "request_information":
		days := d.DueInDays
		if days == 0 {
			days = DefaultInformationDays
		}
		due := now.AddDate(0, 0, days)
		if w.in.InformationDay > 0 {
			due = now.Add(time.Duration(days) * w.in.InformationDay)
		}
		w.state.InformationRequest = &InformationRequest{Message: d.Message, RequestedBy: actorName(d.Actor), DueAt: due}
		if err := w.pauseClock(ctx); err != nil {
			return false, err
		}
		return false, w.setStatus(ctx, StatusInformationRequested, "information_requested", actorName(d.Actor),
			truncate(d.Message, MaxMessageLength)+" (answer by "+w.state.InformationRequest.DueAt.Format(time.DateOnly)+")")

	case w.in.Product == string(domain.ProductBusiness5YMulti) && w.state.FirstDecision == nil:
		// Four eyes: the first decision waits for a second person.
		w.state.FirstDecision = &DecisionInfo{Outcome: d.Decision, ReasonCode: d.ReasonCode, DecidedBy: actorName(d.Actor), DecidedAt: now}
		w.firstActor = d.Actor
		detail := "first decision: " + d.Decision
		if d.ReasonCode != "" {
			detail += " (" + d.ReasonCode + ")"
		}
		return false, w.setStatusWith(ctx, StatusAwaitingSecondApproval, "first_decision", actorName(d.Actor), detail,
			func(in *activities.StatusInput) { in.FirstDecidedBy = actorName(d.Actor) })
	}
	return true, w.decide(ctx, d)
}

func (w *applicationWorkflow) validateDecide(ctx workflow.Context, d DecisionRequest) error {
	switch d.Decision {
	case "approve":
	case "refuse":
		if !domain.IsRefusalReason(d.ReasonCode) {
			return invalidRequest("a refusal needs a reason_code from the catalogue")
		}
	case "request_information":
		if strings.TrimSpace(d.Message) == "" || utf8.RuneCountInString(d.Message) > MaxMessageLength {
			return invalidRequest(fmt.Sprintf("a request for information needs a message of at most %d characters", MaxMessageLength))
		}
		if d.DueInDays < 0 || d.DueInDays > MaxInformationDays {
			return invalidRequest(fmt.Sprintf("due_in_days must be from 1 to %d (absent: %d)", MaxInformationDays, DefaultInformationDays))
		}
	default:
		return invalidRequest("decision must be approve, refuse or request_information")
	}
	if w.decision != nil || w.withdrawal != nil {
		return invalidTransition("decide", w.state.Status)
	}
	switch w.state.Status {
	case StatusAwaitingReview:
		if w.state.Assignee != "" && w.state.Assignee != d.Actor.ID && d.Actor.Role != "supervisor" {
			return notAllowed("the case is claimed by another officer; only they or a supervisor may decide it")
		}
	case StatusAwaitingSecondApproval:
		if d.Decision == "request_information" {
			return invalidTransition("request information on", w.state.Status)
		}
		if d.Actor.ID == w.firstActor.ID {
			return invalidTransition4Eyes()
		}
		if d.Actor.Role != "supervisor" {
			return notAllowed("the second decision on a five-year visa is a supervisor's")
		}
	default:
		return invalidTransition("decide", w.state.Status)
	}
	return nil
}

func invalidTransition4Eyes() error {
	return invalidTransitionMessage("four eyes: the second decision must be made by a different person than the first")
}

func (w *applicationWorkflow) validateClaim(ctx workflow.Context, r ClaimRequest) error {
	switch w.state.Status {
	case StatusAwaitingReview, StatusAwaitingSecondApproval, StatusInformationRequested:
	default:
		return invalidTransition("claim", w.state.Status)
	}
	if w.state.Assignee == r.Actor.ID {
		return invalidTransitionMessage("you already hold this case")
	}
	if w.state.Assignee != "" && r.Actor.Role != "supervisor" {
		return invalidTransitionMessage("the case is claimed by another officer")
	}
	return nil
}

func (w *applicationWorkflow) handleClaim(ctx workflow.Context, r ClaimRequest) (CaseState, error) {
	w.state.Assignee = r.Actor.ID
	return w.state, w.recordAssignment(ctx, r.Actor.ID, r.Actor)
}

func (w *applicationWorkflow) validateRelease(ctx workflow.Context, r ClaimRequest) error {
	if w.state.Assignee == "" || isClosed(w.state.Status) {
		return invalidTransitionMessage("the case is not claimed")
	}
	if w.state.Assignee != r.Actor.ID && r.Actor.Role != "supervisor" {
		return notAllowed("only the officer holding the case or a supervisor may release it")
	}
	return nil
}

func (w *applicationWorkflow) handleRelease(ctx workflow.Context, r ClaimRequest) (CaseState, error) {
	w.state.Assignee = ""
	return w.state, w.recordAssignment(ctx, "", r.Actor)
}

func (w *applicationWorkflow) recordAssignment(ctx workflow.Context, assignee string, actor Actor) error {
	w.seq++
	return workflow.ExecuteActivity(writeCtx(ctx), acts.RecordAssignment, activities.AssignmentInput{
		ApplicationID: w.in.ApplicationID, Seq: w.seq, Assignee: assignee, Actor: actorName(actor), At: workflow.Now(ctx),
	}).Get(ctx, nil)
}

func (w *applicationWorkflow) validateInform(ctx workflow.Context, r InformationReply) error {
	if w.state.Status != StatusInformationRequested || w.reply != nil || w.withdrawal != nil {
		return invalidTransition("answer a request for information on", w.state.Status)
	}
	if strings.TrimSpace(r.Message) == "" || utf8.RuneCountInString(r.Message) > 4*MaxMessageLength {
		return invalidRequest(fmt.Sprintf("the answer needs a message of at most %d characters", 4*MaxMessageLength))
	}
	return nil
}

func (w *applicationWorkflow) handleInform(ctx workflow.Context, r InformationReply) (CaseState, error) {
	w.reply = &r
	err := workflow.Await(ctx, func() bool { return w.state.Status != StatusInformationRequested || w.ended })
	if err == nil && w.state.Status == StatusInformationRequested {
		err = w.failure()
	}
	return w.state, err
}

// slaClock is the case's decision deadline, which stops while the applicant
// holds the case.
type slaClock struct {
	total       time.Duration
	start       time.Time
	pausedTotal time.Duration
	pausedAt    time.Time // zero while running
	escalated   bool
	breached    bool
	changes     int // bumped on pause and resume, to wake the watcher
}

func newSLAClock(in ApplicationInput) slaClock {
	total := in.SLA
	if total <= 0 {
		spec, _ := domain.LookupProduct(domain.Product(in.Product))
		total = spec.DecisionSLA
	}
	if total <= 0 {
		total = 24 * time.Hour
	}
	return slaClock{total: total, start: in.SubmittedAt}
}

func (c *slaClock) paused() bool { return !c.pausedAt.IsZero() }

// elapsed is the running time of the clock at now.
func (c *slaClock) elapsed(now time.Time) time.Duration {
	e := now.Sub(c.start) - c.pausedTotal
	if c.paused() {
		e -= now.Sub(c.pausedAt)
	}
	return e
}

func (c *slaClock) dueAt(now time.Time) time.Time { return now.Add(c.total - c.elapsed(now)) }

func (c *slaClock) state(now time.Time) *SLAState {
	s := &SLAState{DueAt: c.dueAt(now), Paused: c.paused(), Escalated: c.escalated, Breached: c.breached}
	if c.paused() {
		s.RemainingAtPause = c.total - c.elapsed(now)
	}
	return s
}

// watchSLA escalates the case at 75 % of its SLA and records a breach at
// 100 %, on durable timers; the clock does not run while it is paused.
func (w *applicationWorkflow) watchSLA(ctx workflow.Context) {
	c := &w.clock
	for !w.slaSettled() {
		if c.paused() {
			_ = workflow.Await(ctx, func() bool { return !c.paused() || w.slaSettled() })
			continue
		}
		var threshold time.Duration
		var event string
		switch {
		case !c.escalated:
			threshold, event = time.Duration(float64(c.total)*escalateAtFraction), "escalated"
		case !c.breached:
			threshold, event = c.total, "sla_breached"
		default:
			return
		}
		now := workflow.Now(ctx)
		if wait := threshold - c.elapsed(now); wait > 0 {
			changes := c.changes
			_, _ = workflow.AwaitWithTimeout(ctx, wait, func() bool { return c.changes != changes || w.slaSettled() })
			continue
		}
		if event == "escalated" {
			c.escalated = true
		} else {
			c.escalated, c.breached = true, true
		}
		detail := fmt.Sprintf("%s of the %s decision deadline has passed", map[bool]string{true: "all", false: "75%"}[c.breached], c.total)
		if err := w.recordSLA(ctx, event, detail); err != nil {
			return
		}
	}
}

// slaSettled is true once the case no longer waits for a decision.
func (w *applicationWorkflow) slaSettled() bool {
	return isClosed(w.state.Status) || w.ended
}

func (w *applicationWorkflow) pauseClock(ctx workflow.Context) error {
	now := workflow.Now(ctx)
	w.clock.pausedAt = now
	w.clock.changes++
	return w.recordSLA(ctx, "clock_paused", "the applicant holds the case")
}

func (w *applicationWorkflow) resumeClock(ctx workflow.Context) error {
	now := workflow.Now(ctx)
	w.clock.pausedTotal += now.Sub(w.clock.pausedAt)
	w.clock.pausedAt = time.Time{}
	w.clock.changes++
	return w.recordSLA(ctx, "clock_resumed", "")
}

func (w *applicationWorkflow) recordSLA(ctx workflow.Context, event, detail string) error {
	now := workflow.Now(ctx)
	w.state.SLA = w.clock.state(now)
	w.seq++
	in := activities.SLAEventInput{
		ApplicationID: w.in.ApplicationID, Seq: w.seq, Event: event, Detail: detail, At: now,
		DueAt: w.state.SLA.DueAt, Paused: w.state.SLA.Paused, RemainingMS: w.state.SLA.RemainingAtPause.Milliseconds(),
		Escalated: w.state.SLA.Escalated, Breached: w.state.SLA.Breached,
	}
	return workflow.ExecuteActivity(writeCtx(ctx), acts.RecordSLAEvent, in).Get(ctx, nil)
}

// truncate keeps at most n characters.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
