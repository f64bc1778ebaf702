// Package casework is the application service between the HTTP API and the
// durable parts: it records accepted applications in the database, starts
// their workflows, and relays officers' and applicants' actions as Temporal
// Updates. The API and the worker's reconciler share it.
package casework

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/documents"
	"github.com/visad/visad/internal/keys"
	"github.com/visad/visad/workflows"
)

// Service handles cases.
type Service struct {
	Store                 *db.Store
	Keys                  *keys.Keyring
	Temporal              client.Client
	TaskQueue             string
	EligibleNationalities []string
	// SLA is the decision deadline per product code (empty: the product's default).
	SLA map[string]time.Duration
	Now func() time.Time
	Log *slog.Logger
	// ApplicantTokenTTL is how long an applicant's token works after the case
	// closed (zero: DefaultApplicantTokenTTL).
	ApplicantTokenTTL time.Duration

	// BatchPageRows and BatchPagesPerRun size a batch workflow's pages and runs
	// (zero: the workflow's defaults); the history recorder makes them small.
	BatchPageRows, BatchPagesPerRun int
	// ChamberRowsPerDay bounds the batch rows a chamber posts in a UTC day, and
	// ChamberTokenTTL the life of a chamber account's token (zero: the domain's defaults).
	ChamberRowsPerDay int
	ChamberTokenTTL   time.Duration

	// Documents stores supporting documents (nil: uploads are refused).
	// UploadTTL is how long an unattached upload is kept (zero: DefaultUploadTTL);
	// DocumentRetention how long a closed case keeps its documents (zero: for good).
	Documents         *documents.Vault
	UploadTTL         time.Duration
	DocumentRetention time.Duration
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Policy is the domain policy as of now.
func (s *Service) Policy() domain.Policy {
	return domain.Policy{Today: s.now(), EligibleNationalities: s.EligibleNationalities}
}

// Submitted is the outcome of a submission.
type Submitted struct {
	ID          string
	Reference   string
	Product     domain.Product
	Status      domain.Status
	AccessToken string
	Created     bool // false: an idempotent replay of an earlier submission
}

// Submit validates and records an application, then starts its workflow.
// Once the database has committed, the application is accepted: if Temporal
// cannot be reached now, the reconciler starts the workflow later.
func (s *Service) Submit(ctx context.Context, form domain.Application, idempotencyKey string) (Submitted, error) {
	form = domain.Normalize(form)
	if errs := domain.Validate(form, s.Policy()); len(errs) > 0 {
		return Submitted{}, invalid(errs)
	}
	now := s.now()
	var keyHash string
	if idempotencyKey != "" {
		keyHash = keys.HashToken("idempotency:" + idempotencyKey)
	}
	var (
		app     db.Application
		created bool
	)
	for attempt := 0; ; attempt++ {
		id, reference := NewApplicationID(), NewReference()
		sealed, plain, err := s.Keys.SealForm(id, form)
		if err != nil {
			return Submitted{}, err
		}
		app, created, err = s.Store.CreateApplication(ctx, db.NewApplication{
			ID: id, Reference: reference, Product: string(form.Product),
			PassportHash:       s.Keys.PassportHash(form.Passport.IssuingCountry, form.Passport.Number),
			FormSealed:         sealed,
			RequestHash:        keys.HashRequest(plain),
			IdempotencyKeyHash: keyHash,
			SubmittedAt:        now,
			SLADueAt:           now.Add(domain.DecisionSLA(form.Product, s.SLA)),
			Documents:          documentLinks(form.Documents),
		})
		if errors.Is(err, db.ErrIDCollision) && attempt < 3 {
			continue
		}
		switch {
		case errors.Is(err, db.ErrIdempotencyMismatch):
			return Submitted{}, &Error{Kind: IdempotencyMismatch,
				Message: "this Idempotency-Key was already used with a different request"}
		case err != nil:
			return Submitted{}, uploadError(err)
		}
		break
	}
	if !app.WorkflowStarted {
		if err := s.StartWorkflow(ctx, app); err != nil {
			// Accepted all the same: the record is durable and the reconciler will start it.
			s.Log.Warn("workflow start deferred to reconciler", "application_id", app.ID, "error", err)
		}
	}
	return Submitted{ID: app.ID, Reference: app.Reference, Product: domain.Product(app.Product),
		Status: domain.Status(app.Status), AccessToken: s.Keys.AccessToken(app.ID), Created: created}, nil
}

// StartWorkflow starts the application's workflow, or finds it already
// started: the workflow id is the application's, and a second start attaches
// to the first.
func (s *Service) StartWorkflow(ctx context.Context, app db.Application) error {
	queue := s.TaskQueue
	if app.BatchID.Valid {
		queue = s.BulkQueue()
	}
	return s.startOn(ctx, queue, app.ID, app.Product, app.SubmittedAt())
}

// BulkQueue is the task queue of batch applications: a lane of its own with
// throttled workers, so a large batch never starves single applicants.
func (s *Service) BulkQueue() string { return s.TaskQueue + "-bulk" }

// Bulk is the starter the batch workflow uses: it puts applications on the bulk lane.
func (s *Service) Bulk() BulkStarter { return BulkStarter{s} }

// BulkStarter starts batch applications on the bulk lane.
type BulkStarter struct{ s *Service }

// StartApplicationWorkflow starts one batch application's workflow on the
// bulk lane, its first step held for startDelay. It does not mark the row
// started: the batch activity marks a whole page at once (MarkStarted), which
// keeps the database out of each start.
func (b BulkStarter) StartApplicationWorkflow(
	ctx context.Context,
	applicationID, product string,
	submittedAt time.Time,
	startDelay time.Duration,
) error {
	return b.s.start(ctx, b.s.BulkQueue(), applicationID, product, submittedAt, startDelay)
}

// MarkStarted records a page of started workflows in one statement.
func (b BulkStarter) MarkStarted(ctx context.Context, applicationIDs []string) error {
	return b.s.Store.MarkWorkflowsStarted(ctx, applicationIDs)
}

// StartApplicationWorkflow starts one application's workflow by id (the batch
// activity's starter) and records that it started.
func (s *Service) StartApplicationWorkflow(
	ctx context.Context,
	applicationID, product string,
	submittedAt time.Time,
) error {
	return s.startOn(ctx, s.TaskQueue, applicationID, product, submittedAt)
}

func (s *Service) startOn(ctx context.Context, queue, applicationID, product string, submittedAt time.Time) error {
	if err := s.start(ctx, queue, applicationID, product, submittedAt, 0); err != nil {
		return err
	}
	return s.Store.MarkWorkflowStarted(ctx, applicationID)
}

// start starts (or finds) the workflow, without touching the database. A
// start delay holds the workflow's first step; the decision clock still runs
// from submittedAt.
func (s *Service) start(
	ctx context.Context,
	queue, applicationID, product string,
	submittedAt time.Time,
	startDelay time.Duration,
) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.WorkflowID(applicationID),
		TaskQueue:                queue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StartDelay:               startDelay,
	}, workflows.ApplicationWorkflow, workflows.ApplicationInput{
		ApplicationID: applicationID, Product: domain.Product(product), SubmittedAt: submittedAt, SLA: s.SLA[product],
	})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		return err
	}
	return nil
}

// Reconcile starts the workflows of accepted applications whose start was
// never confirmed (the API process died, or Temporal was down). It returns
// how many it started.
func (s *Service) Reconcile(ctx context.Context, olderThan time.Duration) (int, error) {
	apps, err := s.Store.UnstartedApplications(ctx, s.now().Add(-olderThan), 200)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, app := range apps {
		if err := s.StartWorkflow(ctx, app); err != nil {
			return n, err
		}
		n++
	}
	batches, err := s.Store.UnfinishedBatches(ctx, s.now().Add(-olderThan), 50)
	if err != nil {
		return n, err
	}
	for _, id := range batches {
		if err := s.StartBatchWorkflow(ctx, id); err != nil {
			return n, err
		}
	}
	return n, nil
}

// RunReconciler calls Reconcile every interval until ctx ends.
func (s *Service) RunReconciler(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.Reconcile(ctx, interval); err != nil && ctx.Err() == nil {
			s.Log.Warn("reconciler", "error", err)
		} else if n > 0 {
			s.Log.Info("reconciler started workflows", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Decide relays an officer's decision to the case's workflow and waits for its outcome.
func (s *Service) Decide(ctx context.Context, id string, d domain.DecisionRequest, requestID string) (Case, error) {
	if err := s.mayDecide(ctx, id, d); err != nil {
		return Case{}, err
	}
	return s.update(ctx, id, workflows.UpdateDecide, d, requestID)
}

// mayDecide is the fast check of a decision: the rules the workflow's
// validator applies (domain.MayDecide), on the case's live state, so that a
// decision the rules refuse is answered before any update is sent. The
// validator checks again, and alone decides when the state cannot be read.
func (s *Service) mayDecide(ctx context.Context, id string, d domain.DecisionRequest) error {
	qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	res, err := s.Temporal.QueryWorkflow(qctx, workflows.WorkflowID(id), "", workflows.QueryState)
	if err != nil {
		return nil
	}
	var st workflows.CaseState
	if res.Get(&st) != nil || st.Status == "" || st.Status.IsClosed() {
		return nil // a closed case is answered by update, as before
	}
	var re *domain.RuleError
	if err := domain.MayDecide(st.Hold(), d); errors.As(err, &re) {
		if re.Kind == domain.NotAllowed {
			return &Error{Kind: Forbidden, Message: re.Message}
		}
		return &Error{Kind: Conflict, Message: re.Message}
	}
	return nil
}

// Claim assigns the case to the acting officer.
func (s *Service) Claim(ctx context.Context, id string, actor domain.Actor) (Case, error) {
	return s.update(ctx, id, workflows.UpdateClaim, workflows.ClaimRequest{Actor: actor}, "")
}

// Release gives a claimed case back to the queue.
func (s *Service) Release(ctx context.Context, id string, actor domain.Actor) (Case, error) {
	return s.update(ctx, id, workflows.UpdateRelease, workflows.ClaimRequest{Actor: actor}, "")
}

// ProvideInformation relays the applicant's answer to a request for
// information: a message and uploads, which travel as their ids only.
func (s *Service) ProvideInformation(ctx context.Context, id, message string, uploads []string,
	requestID string) (Case, error) {
	if err := s.checkAnswerUploads(ctx, id, uploads); err != nil {
		return Case{}, err
	}
	return s.update(ctx, id, workflows.UpdateInform,
		workflows.InformationReply{Message: message, Actor: domain.ApplicantActor, Uploads: uploads}, requestID)
}

// Withdraw relays an applicant's withdrawal.
func (s *Service) Withdraw(ctx context.Context, id, requestID string) (Case, error) {
	return s.update(ctx, id, workflows.UpdateWithdraw, workflows.WithdrawRequest{Actor: domain.ApplicantActor}, requestID)
}

func (s *Service) update(ctx context.Context, id, name string, arg any, requestID string) (Case, error) {
	app, err := s.Store.GetApplication(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		return Case{}, notFound("no such case")
	}
	if err != nil {
		return Case{}, err
	}
	if status := domain.Status(app.Status); status.IsClosed() {
		return Case{}, &Error{Kind: Conflict, Message: fmt.Sprintf("cannot %s a case in status %q", name, status)}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	updateID := ""
	if requestID != "" {
		// The client's Idempotency-Key dedupes the update; only its hash reaches Temporal.
		updateID = keys.HashToken("update:" + name + ":" + requestID)
	}
	handle, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   workflows.WorkflowID(id),
		UpdateID:     updateID,
		UpdateName:   name,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var st workflows.CaseState
	if err == nil {
		err = handle.Get(ctx, &st)
	}
	switch {
	case err == nil:
		return caseFromState(st), nil
	case workflows.IsBusy(err):
		return Case{}, &Error{Kind: Conflict, Message: s.lostRace(ctx, id, name, err)}
	case workflows.IsInvalidTransition(err):
		return Case{}, &Error{Kind: Conflict, Message: applicationMessage(err)}
	case workflows.IsInvalidRequest(err):
		return Case{}, &Error{Kind: Invalid, Message: applicationMessage(err)}
	case workflows.IsNotAllowed(err):
		return Case{}, &Error{Kind: Forbidden, Message: applicationMessage(err)}
	}
	var gone *serviceerror.NotFound
	if errors.As(err, &gone) {
		// No workflow to take the update: it closed between our read and the update, or
		// has not started yet. Say which, from the read model.
		if now, err := s.Store.GetApplication(ctx, id); err == nil {
			status := domain.Status(now.Status)
			if status.IsClosed() {
				return Case{}, &Error{Kind: Conflict, Message: fmt.Sprintf("the case is already closed (%q)", status)}
			}
			return Case{}, &Error{Kind: Conflict, Message: domain.TransitionRefused(name, status).Message}
		}
		return Case{}, &Error{Kind: Conflict, Message: "the case cannot take this action now"}
	}
	if ctx.Err() != nil {
		return Case{}, ErrUnavailable
	}
	return Case{}, err
}

// lostRace is what the loser of two decisions (or a decision and a withdrawal)
// sent at once hears: the status the winner left the case in, not the one it
// had when the loser was refused. It waits for the winner to be recorded, a
// few seconds at most.
func (s *Service) lostRace(ctx context.Context, id, action string, refused error) string {
	var was domain.Status
	var appErr *temporal.ApplicationError
	if errors.As(refused, &appErr) {
		_ = appErr.Details(&was)
	}
	for range 50 {
		if app, err := s.Store.GetApplication(ctx, id); err == nil && domain.Status(app.Status) != was {
			return fmt.Sprintf("cannot %s: another decision on this case was carried out at the same time; "+
				"the case is now %q", action, app.Status)
		}
		select {
		case <-ctx.Done():
			return applicationMessage(refused)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return applicationMessage(refused)
}

func applicationMessage(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return b
}

// NewApplicationID returns an opaque, unguessable application id (125 bits).
func NewApplicationID() string { return domain.ApplicationID(randomBytes(16)) }

// NewReference returns a short reference an applicant can read over the phone.
func NewReference() string { return domain.Reference(randomBytes(7)) }
