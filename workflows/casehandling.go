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

// InformationRequest is an open request for information to the applicant.
type InformationRequest struct {
	Message     string    `json:"message"`
	RequestedBy string    `json:"requested_by"`
	DueAt       time.Time `json:"due_at"`
	// Documents are what the request asks the applicant to upload: requirement codes
	// (a kind, or a checklist item's choice "a_or_b").
	Documents []string `json:"documents,omitempty"`
}

// InformationReply is the applicant's answer (the "provide_information" update).
// Documents travel as upload references only, never their bytes.
type InformationReply struct {
	Message string       `json:"message"`
	Actor   domain.Actor `json:"actor"`
	Uploads []string     `json:"uploads,omitempty"`
}

// ClaimRequest claims or releases a case (the "claim" and "release" updates).
type ClaimRequest struct {
	Actor domain.Actor `json:"actor"`
}

// review is the officers' part of a case: claims, requests for information,
// decisions (two people for the five-year visa), until it is decided,
// withdrawn or lapses.
func (w *applicationWorkflow) review(ctx workflow.Context) error {
	for {
		if w.state.Status == domain.StatusInformationRequested {
			reply, closed, err := w.awaitAnswer(ctx)
			if err != nil || closed {
				return err
			}
			if err := w.setStatus(ctx, domain.StatusAwaitingReview, domain.EventInformationProvided,
				domain.ApplicantActor.Name(), answerDetail(reply)); err != nil {
				return err
			}
			// Cleared only now that the status has left information_requested: while the
			// activities above ran, the kept reply made validateInform refuse a second answer.
			w.reply = nil
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

// awaitAnswer waits for the answer to the open request for information.
// closed means the case closed instead: withdrawn, or lapsed at the deadline.
// An answer's uploads are attached to the case (by reference) before the
// decision clock resumes.
func (w *applicationWorkflow) awaitAnswer(ctx workflow.Context) (reply InformationReply, closed bool, err error) {
	due := w.state.InformationRequest.DueAt
	answered, err := workflow.AwaitWithTimeout(ctx, due.Sub(workflow.Now(ctx)),
		func() bool { return w.reply != nil || w.withdrawal != nil })
	if err != nil {
		return reply, false, err
	}
	switch {
	case w.withdrawal != nil:
		return reply, true, w.withdraw(ctx)
	case !answered:
		// No answer by the deadline: the case closes without a decision.
		return reply, true, w.setStatus(
			ctx,
			domain.StatusLapsed,
			domain.EventLapsed,
			systemActor,
			"no answer to the request for information by "+due.Format(time.DateOnly),
		)
	}
	reply = *w.reply
	if len(reply.Uploads) > 0 {
		var attached activities.AttachResult
		if err := w.activity(ctx, acts.AttachDocuments, activities.AttachInput{
			ApplicationID: w.in.ApplicationID, Uploads: reply.Uploads,
		}).Get(ctx, &attached); err != nil {
			return reply, false, err
		}
		w.state.MissingDocuments = attached.Missing
	}
	w.state.InformationRequest = nil
	return reply, false, w.resumeClock(ctx)
}

// awaitDocuments asks the applicant for the checklist's missing documents,
// naming each by its code, with the decision clock paused, until none is
// missing; closed means the case closed instead (withdrawn or lapsed).
func (w *applicationWorkflow) awaitDocuments(ctx workflow.Context) (closed bool, err error) {
	for len(w.state.MissingDocuments) > 0 {
		missing := w.state.MissingDocuments
		message := domain.DocumentRequestMessage(missing)
		w.state.InformationRequest = &InformationRequest{Message: message, RequestedBy: systemActor,
			DueAt: w.informationDue(workflow.Now(ctx), domain.DefaultInformationDays), Documents: missing}
		if err := w.pauseClock(ctx); err != nil {
			return false, err
		}
		if err := w.setStatus(ctx, domain.StatusInformationRequested, domain.EventInformationRequested, systemActor,
			message+" (answer by "+w.state.InformationRequest.DueAt.Format(time.DateOnly)+")"); err != nil {
			return false, err
		}
		reply, closed, err := w.awaitAnswer(ctx)
		if err != nil || closed {
			return closed, err
		}
		// Back to the checks the case left for the answer; screening follows.
		if err := w.setStatus(ctx, domain.StatusValidating, domain.EventInformationProvided,
			domain.ApplicantActor.Name(), answerDetail(reply)); err != nil {
			return false, err
		}
		w.reply = nil
	}
	return false, nil
}

// informationDue is the deadline of a request for information made at now.
func (w *applicationWorkflow) informationDue(now time.Time, days int) time.Time {
	if w.in.InformationDay > 0 {
		return now.Add(time.Duration(days) * w.in.InformationDay)
	}
	return now.AddDate(0, 0, days)
}

// answerDetail is an answer as the timeline shows it: its message and the
// number of documents it uploaded.
func answerDetail(r InformationReply) string {
	detail := truncate(r.Message, domain.MaxMessageLength)
	if n := len(r.Uploads); n > 0 {
		detail = strings.TrimSpace(detail + fmt.Sprintf(" (%d document(s) uploaded)", n))
	}
	return detail
}

// takeDecision carries out one decision; done means the case is closed.
func (w *applicationWorkflow) takeDecision(ctx workflow.Context, d domain.DecisionRequest) (bool, error) {
	now := workflow.Now(ctx)
	actor := d.Actor.Name()
	switch domain.NextDecisionStep(w.hold(), d) {
	case domain.StepRequestInformation:
		due := w.informationDue(now, d.InformationDays())
		w.state.InformationRequest = &InformationRequest{Message: d.Message, RequestedBy: actor, DueAt: due,
			Documents: domain.RequestedDocuments(d.Documents)}
		if err := w.pauseClock(ctx); err != nil {
			return false, err
		}
		return false, w.setStatus(
			ctx,
			domain.StatusInformationRequested,
			domain.EventInformationRequested,
			actor,
			truncate(
				d.Message,
				domain.MaxMessageLength,
			)+" (answer by "+w.state.InformationRequest.DueAt.Format(
				time.DateOnly,
			)+")",
		)

	case domain.StepAwaitSecond:
		// Four eyes: the first decision waits for a second person.
		w.state.FirstDecision = &domain.Decision{
			Outcome:    d.Decision,
			ReasonCode: d.ReasonCode,
			DecidedBy:  actor,
			DecidedAt:  now,
		}
		detail := "first decision: " + outcomeText(d)
		return false, w.setStatusWith(ctx, domain.StatusAwaitingSecondApproval, domain.EventFirstDecision, actor, detail,
			func(in *activities.StatusInput) { in.FirstDecidedBy, in.Note = actor, d.Note })

	case domain.StepDisagreement:
		// The second decision contradicts the first: neither closes the case; a third person does.
		w.state.SecondDecision = &domain.Decision{
			Outcome:    d.Decision,
			ReasonCode: d.ReasonCode,
			DecidedBy:  actor,
			DecidedAt:  now,
		}
		first := w.state.FirstDecision
		detail := "second decision: " + outcomeText(d) + " disagrees with the first (" +
			outcomeText(domain.DecisionRequest{Decision: first.Outcome, ReasonCode: first.ReasonCode}) + " by " +
			first.DecidedBy + "): a supervisor resolves"
		return false, w.setStatus(ctx, domain.StatusDisagreement, domain.EventDisagreement, actor, detail)
	}
	return true, w.decide(ctx, d)
}

// outcomeText is a decision as the timeline and the audit trail spell it: "refuse (other)".
func outcomeText(d domain.DecisionRequest) string {
	if d.ReasonCode != "" {
		return string(d.Decision) + " (" + string(d.ReasonCode) + ")"
	}
	return string(d.Decision)
}

func (w *applicationWorkflow) validateDecide(ctx workflow.Context, d domain.DecisionRequest) error {
	if errs := domain.CheckDecision(d); len(errs) > 0 {
		return invalidRequest(errs[0].Pointer[1:] + ": " + errs[0].Detail)
	}
	if w.decision != nil || w.withdrawal != nil {
		return busy("decide", w.state.Status)
	}
	return ruleError(domain.MayDecide(w.hold(), d))
}

// hold is who holds the case and who decided it so far, for the four-eyes rules.
func (w *applicationWorkflow) hold() domain.CaseHold { return w.state.Hold() }

func (w *applicationWorkflow) validateClaim(ctx workflow.Context, r ClaimRequest) error {
	return ruleError(domain.MayClaim(w.hold(), r.Actor))
}

func (w *applicationWorkflow) handleClaim(ctx workflow.Context, r ClaimRequest) (CaseState, error) {
	w.state.Assignee = r.Actor.ID
	return w.state, w.recordAssignment(ctx, r.Actor.ID, r.Actor)
}

func (w *applicationWorkflow) validateRelease(ctx workflow.Context, r ClaimRequest) error {
	return ruleError(domain.MayRelease(w.hold(), r.Actor))
}

func (w *applicationWorkflow) handleRelease(ctx workflow.Context, r ClaimRequest) (CaseState, error) {
	w.state.Assignee = ""
	return w.state, w.recordAssignment(ctx, "", r.Actor)
}

func (w *applicationWorkflow) recordAssignment(ctx workflow.Context, assignee string, actor domain.Actor) error {
	in := activities.AssignmentInput{
		ApplicationID: w.in.ApplicationID, Assignee: assignee, Actor: actor.Name(), At: workflow.Now(ctx),
	}
	return w.write(ctx, func(seq int64) error {
		in.Seq = seq
		return w.activity(ctx, acts.RecordAssignment, in).Get(ctx, nil)
	})
}

func (w *applicationWorkflow) validateInform(ctx workflow.Context, r InformationReply) error {
	if w.state.Status != domain.StatusInformationRequested || w.reply != nil || w.withdrawal != nil {
		return invalidTransition("answer a request for information on", w.state.Status)
	}
	if errs := domain.CheckDocumentAnswer(r.Message, r.Uploads); len(errs) > 0 {
		if len(r.Uploads) == 0 {
			return invalidRequest(fmt.Sprintf("the answer needs a message of at most %d characters",
				domain.MaxAnswerLength))
		}
		return invalidRequest(errs[0].Pointer[1:] + ": " + errs[0].Detail)
	}
	if asked := w.state.InformationRequest; asked != nil && len(asked.Documents) > 0 && len(r.Uploads) == 0 {
		return invalidRequest("uploads: the request asks for documents; answer with their uploads")
	}
	return nil
}

func (w *applicationWorkflow) handleInform(ctx workflow.Context, r InformationReply) (CaseState, error) {
	w.reply = &r
	err := workflow.Await(ctx, func() bool { return w.state.Status != domain.StatusInformationRequested || w.ended })
	if err == nil && w.state.Status == domain.StatusInformationRequested {
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
		total = domain.DecisionSLA(in.Product, nil)
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

func (c *slaClock) state(now time.Time) *domain.SLA {
	s := &domain.SLA{DueAt: c.dueAt(now), Paused: c.paused(), Escalated: c.escalated, Breached: c.breached}
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
		var event domain.Event
		switch {
		case !c.escalated:
			threshold, event = domain.EscalationAfter(c.total), domain.EventEscalated
		case !c.breached:
			threshold, event = c.total, domain.EventSLABreached
		default:
			return
		}
		now := workflow.Now(ctx)
		if wait := threshold - c.elapsed(now); wait > 0 {
			changes := c.changes
			_, _ = workflow.AwaitWithTimeout(ctx, wait, func() bool { return c.changes != changes || w.slaSettled() })
			continue
		}
		if event == domain.EventEscalated {
			c.escalated = true
		} else {
			c.escalated, c.breached = true, true
		}
		detail := fmt.Sprintf(
			"%s of the %s decision deadline has passed",
			map[bool]string{true: "all", false: "75%"}[c.breached],
			c.total,
		)
		if err := w.recordSLA(ctx, event, detail); err != nil {
			return
		}
	}
}

// slaSettled is true once the case no longer waits for a decision.
func (w *applicationWorkflow) slaSettled() bool {
	return w.state.Status.IsClosed() || w.ended
}

func (w *applicationWorkflow) pauseClock(ctx workflow.Context) error {
	now := workflow.Now(ctx)
	w.clock.pausedAt = now
	w.clock.changes++
	return w.recordSLA(ctx, domain.EventClockPaused, "the applicant holds the case")
}

func (w *applicationWorkflow) resumeClock(ctx workflow.Context) error {
	now := workflow.Now(ctx)
	w.clock.pausedTotal += now.Sub(w.clock.pausedAt)
	w.clock.pausedAt = time.Time{}
	w.clock.changes++
	return w.recordSLA(ctx, domain.EventClockResumed, "")
}

func (w *applicationWorkflow) recordSLA(ctx workflow.Context, event domain.Event, detail string) error {
	now := workflow.Now(ctx)
	w.state.SLA = w.clock.state(now)
	in := activities.SLAEventInput{
		ApplicationID: w.in.ApplicationID, Event: event, Detail: detail, At: now,
		DueAt: w.state.SLA.DueAt, Paused: w.state.SLA.Paused, RemainingMS: w.state.SLA.RemainingAtPause.Milliseconds(),
		Escalated: w.state.SLA.Escalated, Breached: w.state.SLA.Breached,
	}
	return w.write(ctx, func(seq int64) error {
		in.Seq = seq
		return w.activity(ctx, acts.RecordSLAEvent, in).Get(ctx, nil)
	})
}

// truncate keeps at most n characters.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
