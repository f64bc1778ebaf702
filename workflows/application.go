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
	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
)

// Names shared by the worker and its clients.
const (
	DefaultTaskQueue = "visad-applications"
	QueryState       = "state"
	UpdateDecide     = "decide"
	UpdateWithdraw   = "withdraw"

	// ErrTypeInvalidTransition marks an update a case cannot take in its current state (HTTP 409).
	ErrTypeInvalidTransition = "InvalidTransition"
	// ErrTypeInvalidRequest marks an update whose arguments are wrong (HTTP 422).
	ErrTypeInvalidRequest = "InvalidRequest"
)

// Case statuses.
const (
	StatusReceived       = "received"
	StatusValidating     = "validating"
	StatusScreening      = "screening"
	StatusAwaitingReview = "awaiting_review"
	StatusIssued         = "issued"
	StatusRefused        = "refused"
	StatusWithdrawn      = "withdrawn"
	StatusIneligible     = "ineligible"
)

// WorkflowID is the workflow of one application: opaque, never PII.
func WorkflowID(applicationID string) string { return "application/" + applicationID }

// ApplicationInput starts a case. The form itself stays in the database
// (sealed); the workflow carries only its id.
type ApplicationInput struct {
	ApplicationID string
	Product       string
	SubmittedAt   time.Time
}

// Actor is who acts on a case: a staff account id and role, "applicant" or "system".
type Actor struct {
	ID   string `json:"id"`
	Role string `json:"role"`
}

// DecisionRequest is an officer's decision (the "decide" update).
type DecisionRequest struct {
	Decision   string `json:"decision"` // approve | refuse
	ReasonCode string `json:"reason_code,omitempty"`
	Note       string `json:"note,omitempty"`
	Actor      Actor  `json:"actor"`
}

// WithdrawRequest is the applicant's withdrawal (the "withdraw" update).
type WithdrawRequest struct {
	Actor Actor `json:"actor"`
}

// DecisionInfo is the recorded decision.
type DecisionInfo struct {
	Outcome    string    `json:"outcome"`
	ReasonCode string    `json:"reason_code,omitempty"`
	DecidedBy  string    `json:"decided_by"`
	DecidedAt  time.Time `json:"decided_at"`
}

// CaseState is the live state of a case (the "state" query and update results).
type CaseState struct {
	ApplicationID string                 `json:"application_id"`
	Product       string                 `json:"product"`
	Status        string                 `json:"status"`
	ScreeningHit  bool                   `json:"screening_hit"`
	Decision      *DecisionInfo          `json:"decision,omitempty"`
	Visa          *activities.VisaResult `json:"visa,omitempty"`
	Ineligible    []domain.FieldError    `json:"ineligible,omitempty"`
	UpdatedAt     time.Time              `json:"updated_at"`
}

// ApplicationWorkflow takes one application from submission to a decision.
func ApplicationWorkflow(ctx workflow.Context, in ApplicationInput) (CaseState, error) {
	w := &applicationWorkflow{
		in:    in,
		state: CaseState{ApplicationID: in.ApplicationID, Product: in.Product, Status: StatusReceived, UpdatedAt: in.SubmittedAt},
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
	// seq numbers status changes; 0 is the API's "received".
	seq        int64
	decision   *DecisionRequest
	withdrawal *WithdrawRequest
	// ended is set once run has returned, with its error.
	ended  bool
	runErr error
}

func (w *applicationWorkflow) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (CaseState, error) { return w.state, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateDecide, w.handleDecide,
		workflow.UpdateHandlerOptions{Validator: w.validateDecide}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateWithdraw, w.handleWithdraw,
		workflow.UpdateHandlerOptions{Validator: w.validateWithdraw})
}

// run is the case policy, step by step.
func (w *applicationWorkflow) run(ctx workflow.Context) error {
	if err := w.setStatus(ctx, StatusValidating, "validation_started", systemActor, ""); err != nil {
		return err
	}
	var validation activities.ValidateResult
	if err := workflow.ExecuteActivity(readCtx(ctx), acts.ValidateApplication,
		activities.ValidateInput{ApplicationID: w.in.ApplicationID, SubmittedAt: w.in.SubmittedAt}).Get(ctx, &validation); err != nil {
		return err
	}
	if w.withdrawal != nil {
		return w.withdraw(ctx)
	}
	if len(validation.Errors) > 0 {
		w.state.Ineligible = validation.Errors
		return w.setStatusWith(ctx, StatusIneligible, "validation_failed", systemActor, pointers(validation.Errors), func(in *activities.StatusInput) {
			in.Ineligible = validation.Errors
		})
	}

	if err := w.setStatus(ctx, StatusScreening, "screening_started", systemActor, ""); err != nil {
		return err
	}
	var screening activities.ScreenResult
	if err := workflow.ExecuteActivity(readCtx(ctx), acts.ScreenApplication,
		activities.ScreenInput{ApplicationID: w.in.ApplicationID}).Get(ctx, &screening); err != nil {
		return err
	}
	if w.withdrawal != nil {
		return w.withdraw(ctx)
	}
	w.state.ScreeningHit = screening.Hit
	detail := "screening clear"
	if screening.Hit {
		detail = fmt.Sprintf("watchlist match (%d): officer review required", screening.Matches)
	}
	hit := screening.Hit
	if err := w.setStatusWith(ctx, StatusAwaitingReview, "screened", systemActor, detail, func(in *activities.StatusInput) {
		in.ScreeningHit = &hit
	}); err != nil {
		return err
	}

	if err := workflow.Await(ctx, func() bool { return w.decision != nil || w.withdrawal != nil }); err != nil {
		return err
	}
	if w.withdrawal != nil {
		return w.withdraw(ctx)
	}
	return w.decide(ctx, *w.decision)
}

func (w *applicationWorkflow) decide(ctx workflow.Context, d DecisionRequest) error {
	actor := d.Actor.Role + ":" + d.Actor.ID
	now := workflow.Now(ctx)
	info := &DecisionInfo{Outcome: d.Decision, ReasonCode: d.ReasonCode, DecidedBy: actor, DecidedAt: now}
	record := &db.Decision{Outcome: d.Decision, ReasonCode: d.ReasonCode, DecidedBy: actor}
	if d.Decision == "refuse" {
		if err := w.setStatusWith(ctx, StatusRefused, "refused", actor, "reason: "+d.ReasonCode, func(in *activities.StatusInput) {
			in.Decision = record
		}); err != nil {
			return err
		}
		w.state.Decision = info
		return nil
	}
	w.seq++
	status := activities.StatusInput{
		ApplicationID: w.in.ApplicationID, Seq: w.seq, Status: StatusIssued, Event: "issued",
		Actor: actor, At: now, Decision: record,
	}
	var visa activities.VisaResult
	if err := workflow.ExecuteActivity(writeCtx(ctx), acts.IssueVisa,
		activities.IssueInput{Status: status, IssuedOn: now}).Get(ctx, &visa); err != nil {
		return err
	}
	w.state.Decision = info
	w.state.Visa = &visa
	w.state.Status = StatusIssued
	w.state.UpdatedAt = now
	return nil
}

func (w *applicationWorkflow) withdraw(ctx workflow.Context) error {
	return w.setStatus(ctx, StatusWithdrawn, "withdrawn", w.withdrawal.Actor.Role, "")
}

func (w *applicationWorkflow) setStatus(ctx workflow.Context, status, event, actor, detail string) error {
	return w.setStatusWith(ctx, status, event, actor, detail, nil)
}

// setStatusWith records a status change in the read model, then in the live state.
func (w *applicationWorkflow) setStatusWith(ctx workflow.Context, status, event, actor, detail string, extra func(*activities.StatusInput)) error {
	w.seq++
	now := workflow.Now(ctx)
	in := activities.StatusInput{
		ApplicationID: w.in.ApplicationID, Seq: w.seq, Status: status, Event: event,
		Actor: actor, Detail: detail, At: now,
	}
	if extra != nil {
		extra(&in)
	}
	if err := workflow.ExecuteActivity(writeCtx(ctx), acts.RecordStatus, in).Get(ctx, nil); err != nil {
		return err
	}
	w.state.Status = status
	w.state.UpdatedAt = now
	return nil
}

func (w *applicationWorkflow) validateDecide(ctx workflow.Context, d DecisionRequest) error {
	switch d.Decision {
	case "approve":
	case "refuse":
		if !domain.IsRefusalReason(d.ReasonCode) {
			return temporal.NewApplicationError("a refusal needs a reason_code from the catalogue", ErrTypeInvalidRequest)
		}
	default:
		return temporal.NewApplicationError("decision must be approve or refuse", ErrTypeInvalidRequest)
	}
	if w.state.Status != StatusAwaitingReview || w.decision != nil || w.withdrawal != nil {
		return invalidTransition("decide", w.state.Status)
	}
	return nil
}

func (w *applicationWorkflow) handleDecide(ctx workflow.Context, d DecisionRequest) (CaseState, error) {
	w.decision = &d
	decided := func() bool { return w.state.Status == StatusIssued || w.state.Status == StatusRefused }
	err := workflow.Await(ctx, func() bool { return decided() || w.ended })
	if err == nil && !decided() {
		err = w.failure()
	}
	return w.state, err
}

func (w *applicationWorkflow) validateWithdraw(ctx workflow.Context, r WithdrawRequest) error {
	switch w.state.Status {
	case StatusReceived, StatusValidating, StatusScreening, StatusAwaitingReview:
	default:
		return invalidTransition("withdraw", w.state.Status)
	}
	if w.decision != nil || w.withdrawal != nil {
		return invalidTransition("withdraw", w.state.Status)
	}
	return nil
}

func (w *applicationWorkflow) handleWithdraw(ctx workflow.Context, r WithdrawRequest) (CaseState, error) {
	w.withdrawal = &r
	// The run loop notices the withdrawal at its next step; we answer once it is recorded,
	// or with the state it ended in if validation closed the case first.
	err := workflow.Await(ctx, func() bool { return isClosed(w.state.Status) || w.ended })
	if err == nil && !isClosed(w.state.Status) {
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

func isClosed(status string) bool {
	for _, s := range db.ClosedStatuses {
		if s == status {
			return true
		}
	}
	return false
}

func invalidTransition(action, status string) error {
	return temporal.NewApplicationErrorWithOptions(
		fmt.Sprintf("cannot %s a case in status %q", action, status), ErrTypeInvalidTransition,
		temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{status}})
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

const systemActor = "system"

// acts is a nil receiver used only to name activity methods.
var acts *activities.Activities

// readCtx is for activities that only read and compute: quick retries, bounded.
func readCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrTypeApplicationMissing, activities.ErrTypeUnknownProduct},
		},
	})
}

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
