// Package workflows holds visad's Temporal workflows. Workflow code is
// deterministic: time comes from workflow.Now, waiting from timers and Await,
// and nothing iterates a map.
package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/visad/visad/activities"
	"github.com/visad/visad/domain"
)

// Names shared by the worker and its clients.
const (
	DefaultTaskQueue = "visad-applications"
	QueryState       = "state"
	UpdateDecide     = "decide"
	UpdateWithdraw   = "withdraw"
	UpdateClaim      = "claim"
	UpdateRelease    = "release"
	UpdateInform     = "provide_information"

	// ErrTypeInvalidTransition marks an update a case cannot take in its current state (HTTP 409).
	ErrTypeInvalidTransition = "InvalidTransition"
	// ErrTypeInvalidRequest marks an update whose arguments are wrong (HTTP 422).
	ErrTypeInvalidRequest = "InvalidRequest"
	// ErrTypeNotAllowed marks an update this person may not make on this case (HTTP 403).
	ErrTypeNotAllowed = "NotAllowed"
)

// WorkflowID is the workflow of one application: opaque, never PII.
func WorkflowID(applicationID string) string { return "application/" + applicationID }

// ApplicationInput starts a case. The form itself stays in the database
// (sealed); the workflow carries only its id.
type ApplicationInput struct {
	ApplicationID string
	Product       domain.Product
	SubmittedAt   time.Time
	// SLA is the decision deadline after submission; zero means the product's default.
	SLA time.Duration
	// InformationDay is how long a day of a request for information's
	// deadline lasts; zero means 24 hours. Only the history recorder sets
	// it, to record a lapsed request in seconds.
	InformationDay time.Duration `json:",omitempty"`
}

// WithdrawRequest is the applicant's withdrawal (the "withdraw" update).
type WithdrawRequest struct {
	Actor domain.Actor `json:"actor"`
}

// CaseState is the live state of a case (the "state" query and update results).
type CaseState struct {
	ApplicationID string              `json:"application_id"`
	Product       domain.Product      `json:"product"`
	Status        domain.Status       `json:"status"`
	ScreeningHit  bool                `json:"screening_hit"`
	Decision      *domain.Decision    `json:"decision,omitempty"`
	Visa          *domain.Visa        `json:"visa,omitempty"`
	Ineligible    []domain.FieldError `json:"ineligible,omitempty"`
	UpdatedAt     time.Time           `json:"updated_at"`
	// Case handling.
	Assignee      string           `json:"assignee,omitempty"`
	FirstDecision *domain.Decision `json:"first_decision,omitempty"`
	// SecondDecision is the second decision on a five-year visa when it disagreed with the first.
	SecondDecision     *domain.Decision    `json:"second_decision,omitempty"`
	InformationRequest *InformationRequest `json:"information_request,omitempty"`
	SLA                *domain.SLA         `json:"sla,omitempty"`
	// MissingDocuments are the checklist's documents the case still lacks (docs/documents.md).
	// Requirement codes (domain.MissingRequirements).
	MissingDocuments []string `json:"missing_documents,omitempty"`

	// The best watchlist match (docs/screening.md): its score and the list entry's reference.
	ScreeningScore float64 `json:"screening_score,omitempty"`
	ScreeningEntry string  `json:"screening_entry,omitempty"`
}

// Hold is who may act on the case as its state says (domain.MayDecide and
// friends): the service layer checks it before it sends an update, and the
// workflow's validators check it again.
func (s CaseState) Hold() domain.CaseHold {
	h := domain.CaseHold{Status: s.Status, Assignee: s.Assignee, Product: s.Product, ScreeningHit: s.ScreeningHit,
		MissingDocuments: s.MissingDocuments}
	if f := s.FirstDecision; f != nil {
		h.FirstDecider, h.FirstOutcome = domain.ActorID(f.DecidedBy), f.Outcome
	}
	if d := s.SecondDecision; d != nil {
		h.SecondDecider = domain.ActorID(d.DecidedBy)
	}
	return h
}

// ApplicationWorkflow takes one application from submission to a decision.
func ApplicationWorkflow(ctx workflow.Context, in ApplicationInput) (CaseState, error) {
	w := &applicationWorkflow{
		in: in,
		state: CaseState{
			ApplicationID: in.ApplicationID,
			Product:       in.Product,
			Status:        domain.StatusReceived,
			UpdatedAt:     in.SubmittedAt,
		},
	}
	if err := w.registerHandlers(ctx); err != nil {
		return w.state, err
	}
	err := w.run(ctx)
	// If run failed, an accepted update may wait for a status that will never
	// come: release it with the failure instead of leaving the workflow open.
	w.ended, w.runErr = true, err
	// Let every accepted update finish and reply before the workflow closes.
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	return w.state, err
}

type applicationWorkflow struct {
	in    ApplicationInput
	state CaseState
	// seq numbers every event this workflow records; 0 is the API's "received".
	seq int64
	// recorded is the seq of the last read-model write that finished (see write).
	recorded   int64
	decision   *domain.DecisionRequest
	withdrawal *WithdrawRequest
	// decisionsTaken counts decisions the run loop has carried out, so each
	// decide update knows when its own is done.
	decisionsTaken, decisionsAccepted int
	reply                             *InformationReply
	clock                             slaClock
	// ended is set once run has returned, with its error.
	ended  bool
	runErr error
}

func (w *applicationWorkflow) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, w.query); err != nil {
		return err
	}
	for _, h := range []struct {
		name      string
		handler   any
		validator any
	}{
		{UpdateDecide, w.handleDecide, w.validateDecide},
		{UpdateWithdraw, w.handleWithdraw, w.validateWithdraw},
		{UpdateClaim, w.handleClaim, w.validateClaim},
		{UpdateRelease, w.handleRelease, w.validateRelease},
		{UpdateInform, w.handleInform, w.validateInform},
	} {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, h.name, h.handler,
			workflow.UpdateHandlerOptions{Validator: h.validator}); err != nil {
			return err
		}
	}
	return nil
}

// run is the case policy, step by step.
func (w *applicationWorkflow) run(ctx workflow.Context) error {
	w.clock = newSLAClock(w.in)
	w.state.SLA = w.clock.state(w.in.SubmittedAt)
	workflow.Go(ctx, w.watchSLA)
	if err := w.setStatus(ctx, domain.StatusValidating, domain.EventValidationStarted, systemActor, ""); err != nil {
		return err
	}
	var validation activities.ValidateResult
	validate := w.activity(ctx, acts.ValidateApplication,
		activities.ValidateInput{ApplicationID: w.in.ApplicationID, SubmittedAt: w.in.SubmittedAt})
	if err := validate.Get(ctx, &validation); err != nil {
		return err
	}
	if w.withdrawal != nil {
		return w.withdraw(ctx)
	}
	if len(validation.Errors) > 0 {
		w.state.Ineligible = validation.Errors
		return w.setStatusWith(
			ctx,
			domain.StatusIneligible,
			domain.EventValidationFailed,
			systemActor,
			pointers(validation.Errors),
			func(in *activities.StatusInput) {
				in.Ineligible = validation.Errors
			},
		)
	}
	if len(validation.MissingDocuments) > 0 {
		// Accepted, but incomplete: the applicant is asked for the documents at once.
		w.state.MissingDocuments = validation.MissingDocuments
		if closed, err := w.awaitDocuments(ctx); err != nil || closed {
			return err
		}
	}

	if err := w.setStatus(ctx, domain.StatusScreening, domain.EventScreeningStarted, systemActor, ""); err != nil {
		return err
	}
	var screening activities.ScreenResult
	if err := w.activity(ctx, acts.ScreenApplication,
		activities.ScreenInput{ApplicationID: w.in.ApplicationID}).Get(ctx, &screening); err != nil {
		return err
	}
	if w.withdrawal != nil {
		return w.withdraw(ctx)
	}
	w.state.ScreeningHit = screening.Hit
	w.state.ScreeningScore, w.state.ScreeningEntry = screening.Score, screening.EntryRef

	if !screening.Hit {
		var stp activities.STPResult
		if err := w.activity(ctx, acts.CheckSTP, activities.STPInput{
			ApplicationID: w.in.ApplicationID, DecidedAt: workflow.Now(ctx), Screened: screening.Screened,
		}).Get(ctx, &stp); err != nil {
			return err
		}
		if w.withdrawal != nil {
			return w.withdraw(ctx)
		}
		if stp.Eligible {
			return w.decide(ctx, domain.DecisionRequest{Decision: domain.OutcomeApprove, Actor: domain.SystemActor,
				Note: "straight-through processing, policy " + stp.PolicyVersion})
		}
	}

	detail := "screening clear"
	if screening.Hit {
		detail = fmt.Sprintf("watchlist match (%d): officer review required", screening.Matches)
		if screening.EntryRef != "" { // results recorded before scores existed have none
			detail = fmt.Sprintf("watchlist match (%d; best: entry %s, score %.3f, %s): officer review required",
				screening.Matches, screening.EntryRef, screening.Score, screening.Reason)
		}
	}
	hit := screening.Hit
	if err := w.setStatusWith(ctx, domain.StatusAwaitingReview, domain.EventScreened, systemActor, detail,
		func(in *activities.StatusInput) { in.ScreeningHit = &hit }); err != nil {
		return err
	}
	return w.review(ctx)
}

func (w *applicationWorkflow) decide(ctx workflow.Context, d domain.DecisionRequest) error {
	actor := d.Actor.Name()
	now := workflow.Now(ctx)
	info := &domain.Decision{Outcome: d.Decision, ReasonCode: d.ReasonCode, DecidedBy: actor, DecidedAt: now}
	if d.Decision == domain.OutcomeRefuse {
		detail := "reason: " + string(d.ReasonCode)
		if err := w.setStatusWith(ctx, domain.StatusRefused, domain.EventRefused, actor, detail,
			func(in *activities.StatusInput) { in.Decision, in.Note = info, d.Note }); err != nil {
			return err
		}
		w.state.Decision = info
		return nil
	}
	status := activities.StatusInput{
		ApplicationID: w.in.ApplicationID, Status: domain.StatusIssued, Event: domain.EventIssued,
		Actor: actor, At: now, Decision: info, Detail: d.Note, Note: d.Note,
	}
	if d.Actor.Role != domain.RoleSystem {
		status.Detail = "" // officers' notes stay off the applicant's timeline; Note keeps them sealed
	}
	var visa domain.Visa
	if err := w.write(ctx, func(seq int64) error {
		status.Seq = seq
		return w.activity(ctx, acts.IssueVisa,
			activities.IssueInput{Status: status, IssuedOn: now}).Get(ctx, &visa)
	}); err != nil {
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && appErr.Type() == activities.ErrTypePassportInvalid {
			// Nothing was recorded under that sequence number; the refusal takes the next.
			return w.refusePassport(ctx, appErr.Message())
		}
		return err
	}
	w.state.Decision = info
	w.state.Visa = &visa
	w.state.Status = domain.StatusIssued
	w.state.UpdatedAt = now
	return nil
}

// refusePassport refuses an approved case whose passport no longer passes
// the validity rule on the issue day (domain.CheckPassportAtIssue): the
// system refuses it for passport validity rather than issue a visa that ends
// before it starts.
func (w *applicationWorkflow) refusePassport(ctx workflow.Context, why string) error {
	info := &domain.Decision{Outcome: domain.OutcomeRefuse, ReasonCode: domain.ReasonPassportValidity,
		DecidedBy: systemActor, DecidedAt: workflow.Now(ctx)}
	detail := "reason: " + string(domain.ReasonPassportValidity) + ": " + truncate(why, domain.MaxMessageLength)
	if err := w.setStatusWith(ctx, domain.StatusRefused, domain.EventRefused, systemActor, detail,
		func(in *activities.StatusInput) { in.Decision = info }); err != nil {
		return err
	}
	w.state.Decision = info
	return nil
}

func (w *applicationWorkflow) withdraw(ctx workflow.Context) error {
	return w.setStatus(ctx, domain.StatusWithdrawn, domain.EventWithdrawn, string(w.withdrawal.Actor.Role), "")
}

func (w *applicationWorkflow) setStatus(
	ctx workflow.Context,
	status domain.Status,
	event domain.Event,
	actor, detail string,
) error {
	return w.setStatusWith(ctx, status, event, actor, detail, nil)
}

// setStatusWith records a status change in the read model, then in the live state.
func (w *applicationWorkflow) setStatusWith(
	ctx workflow.Context,
	status domain.Status,
	event domain.Event,
	actor, detail string,
	extra func(*activities.StatusInput),
) error {
	now := workflow.Now(ctx)
	in := activities.StatusInput{
		ApplicationID: w.in.ApplicationID, Status: status, Event: event,
		Actor: actor, Detail: detail, At: now,
	}
	if extra != nil {
		extra(&in)
	}
	if err := w.write(ctx, func(seq int64) error {
		in.Seq = seq
		return w.activity(ctx, acts.RecordStatus, in).Get(ctx, nil)
	}); err != nil {
		return err
	}
	w.state.Status = status
	w.state.UpdatedAt = now
	return nil
}

// write makes one read-model write with the next sequence number, once every
// earlier write has finished. Updates and the SLA watcher write while the run
// loop does; one at a time, in seq order, the read model's fields and the
// audit trail take the writes in the order of the timeline (issue 12).
func (w *applicationWorkflow) write(ctx workflow.Context, do func(seq int64) error) error {
	w.seq++
	seq := w.seq
	if err := workflow.Await(ctx, func() bool { return w.recorded == seq-1 }); err != nil {
		return err
	}
	// Finished, failed or not: the next write may go.
	defer func() { w.recorded = seq }()
	return do(seq)
}

func (w *applicationWorkflow) query() (CaseState, error) { return w.state, nil }

func (w *applicationWorkflow) handleDecide(ctx workflow.Context, d domain.DecisionRequest) (CaseState, error) {
	w.decisionsAccepted++
	mine := w.decisionsAccepted
	w.decision = &d
	err := workflow.Await(ctx, func() bool { return w.decisionsTaken >= mine || w.ended })
	if err == nil && w.decisionsTaken < mine {
		err = w.failure()
	}
	return w.state, err
}

func (w *applicationWorkflow) validateWithdraw(ctx workflow.Context, r WithdrawRequest) error {
	if err := domain.MayWithdraw(w.state.Status); err != nil {
		return ruleError(err)
	}
	if w.decision != nil || w.withdrawal != nil {
		return busy("withdraw", w.state.Status)
	}
	return nil
}

func (w *applicationWorkflow) handleWithdraw(ctx workflow.Context, r WithdrawRequest) (CaseState, error) {
	w.withdrawal = &r
	// The run loop notices the withdrawal at its next step; we answer once it is recorded,
	// or with the state it ended in if validation closed the case first.
	err := workflow.Await(ctx, func() bool { return w.state.Status.IsClosed() || w.ended })
	if err == nil && !w.state.Status.IsClosed() {
		err = w.failure()
	}
	return w.state, err
}

// failure is the error an accepted update answers when the case ended without taking it.
func (w *applicationWorkflow) failure() error {
	if w.runErr != nil {
		return w.runErr
	}
	return errors.New("the case ended before the update could be applied")
}

func notAllowed(message string) error {
	return temporal.NewApplicationErrorWithOptions(
		message,
		ErrTypeNotAllowed,
		temporal.ApplicationErrorOptions{NonRetryable: true},
	)
}

func invalidRequest(message string) error {
	return temporal.NewApplicationErrorWithOptions(
		message,
		ErrTypeInvalidRequest,
		temporal.ApplicationErrorOptions{NonRetryable: true},
	)
}

// busyDetail marks an invalid transition refused only because another decision
// or withdrawal is being carried out.
const busyDetail = "busy"

// busy refuses an action while another decision or withdrawal is carried out: an
// invalid transition whose status (its first detail) is about to change, so the
// service layer waits and names the new one (IsBusy).
func busy(action string, status domain.Status) error {
	return temporal.NewApplicationErrorWithOptions(
		fmt.Sprintf("cannot %s: another decision on this case is being carried out", action),
		ErrTypeInvalidTransition,
		temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{status, busyDetail}})
}

// IsBusy reports whether err is an update refused while another decision was carried out.
func IsBusy(err error) bool {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != ErrTypeInvalidTransition {
		return false
	}
	var status domain.Status
	var marker string
	return appErr.Details(&status, &marker) == nil && marker == busyDetail
}

// IsNotAllowed reports whether err is an update this person may not make.
func IsNotAllowed(err error) bool { return hasType(err, ErrTypeNotAllowed) }

func invalidTransitionMessage(message string) error {
	return temporal.NewApplicationErrorWithOptions(
		message,
		ErrTypeInvalidTransition,
		temporal.ApplicationErrorOptions{NonRetryable: true},
	)
}

func invalidTransition(action string, status domain.Status) error {
	return temporal.NewApplicationErrorWithOptions(
		fmt.Sprintf("cannot %s a case in status %q", action, status), ErrTypeInvalidTransition,
		temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{status}})
}

// ruleError is the update error of an action the case's rules refuse.
func ruleError(err error) error {
	var re *domain.RuleError
	if !errors.As(err, &re) {
		return err
	}
	if re.Kind == domain.NotAllowed {
		return notAllowed(re.Message)
	}
	if re.Status != "" {
		return temporal.NewApplicationErrorWithOptions(re.Message, ErrTypeInvalidTransition,
			temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{re.Status}})
	}
	return invalidTransitionMessage(re.Message)
}

// IsInvalidTransition reports whether err is an update rejected for the case's state.
func IsInvalidTransition(err error) bool { return hasType(err, ErrTypeInvalidTransition) }

// IsInvalidRequest reports whether err is an update rejected for its arguments.
func IsInvalidRequest(err error) bool { return hasType(err, ErrTypeInvalidRequest) }

func hasType(err error, t string) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == t
}

func pointers(errs []domain.FieldError) string {
	var ps []string
	for _, e := range errs {
		ps = append(ps, e.Pointer+" ("+e.Code+")")
	}
	return strings.Join(ps, ", ")
}

// systemActor names the system on the timeline.
var systemActor = domain.SystemActor.Name()

// acts is a nil receiver used only to name activity methods.
var acts *activities.Activities

// activity runs one of the case's activities. Each is a short read or an
// idempotent write of the application database, so it runs as a local
// activity: in the worker that holds the case, inside the workflow task, with
// no activity task to dispatch and report. A decision's answer and a
// straight-through case wait for fewer round trips to the Temporal server
// (issue 17: P2, P3b, P5). That is as durable: the result is recorded in the
// history before the workflow goes on, a worker that dies first leaves its
// workflow task to be retried elsewhere, and the writes are idempotent on
// their sequence numbers.
func (w *applicationWorkflow) activity(ctx workflow.Context, activity any, args ...any) workflow.Future {
	return workflow.ExecuteLocalActivity(localCtx(ctx), activity, args...)
}

// localCtx gives a case's local activities the retries of writeCtx: each
// attempt may take 10 s, and a database outage is waited out without limit.
// A local activity without a schedule-to-close timeout gets its
// start-to-close one, which would end the retries after 10 s and fail the
// case: a practically endless one keeps them going.
func localCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: localRetryFor,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrTypeApplicationMissing, activities.ErrTypeUnknownProduct},
		},
	})
}

// localRetryFor is how long a case's local activity is retried: ten years.
const localRetryFor = 10 * 365 * 24 * time.Hour

// writeCtx is for idempotent writes to the read model: retried without limit,
// because a case must never be left half-recorded while the database is down.
func writeCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			MaximumAttempts:        0,
			NonRetryableErrorTypes: []string{activities.ErrTypeApplicationMissing, activities.ErrTypeUnknownProduct},
		},
	})
}
