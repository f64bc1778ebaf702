package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/visad/visad/domain"
)

// Application is one row of the applications table. The form itself is
// sealed (encrypted) by the caller; the store never sees it in the clear.
type Application struct {
	ID              string         `db:"id"`
	Reference       string         `db:"reference"`
	Product         string         `db:"product"`
	Status          string         `db:"status"`
	StatusSeq       int64          `db:"status_seq"`
	PassportHash    string         `db:"passport_hash"`
	FormSealed      string         `db:"form_sealed"`
	RequestHash     string         `db:"request_hash"`
	IdempotencyKey  sql.NullString `db:"idempotency_key_hash"`
	ScreeningHit    bool           `db:"screening_hit"`
	Decision        sql.NullString `db:"decision"`
	ReasonCode      sql.NullString `db:"reason_code"`
	DecidedBy       sql.NullString `db:"decided_by"`
	DecidedAtMS     sql.NullInt64  `db:"decided_at"`
	WorkflowStarted bool           `db:"workflow_started"`
	SubmittedAtMS   int64          `db:"submitted_at"`
	UpdatedAtMS     int64          `db:"updated_at"`
	SLADueAtMS      int64          `db:"sla_due_at"`
	EndorsedBy      sql.NullString `db:"endorsed_by_chamber"`
	BatchID         sql.NullString `db:"batch_id"`
	Ineligible      string         `db:"ineligible_reasons"` // JSON field errors
	Escalated       bool           `db:"escalated"`
	Breached        bool           `db:"breached"`
	SLAPaused       bool           `db:"sla_paused"`
	SLARemainingMS  int64          `db:"sla_remaining_ms"`
	Assignee        sql.NullString `db:"assignee"`
	FirstDecidedBy  sql.NullString `db:"first_decided_by"`
}

// SubmittedAt is when the application was accepted.
func (a Application) SubmittedAt() time.Time { return fromMS(a.SubmittedAtMS) }

// SLADueAt is when a decision is due.
func (a Application) SLADueAt() time.Time { return fromMS(a.SLADueAtMS) }

// UpdatedAt is the time of the last status change.
func (a Application) UpdatedAt() time.Time { return fromMS(a.UpdatedAtMS) }

const applicationColumns = `id, reference, product, status, status_seq, passport_hash, form_sealed,
	request_hash, idempotency_key_hash, screening_hit, decision, reason_code, decided_by, decided_at,
	workflow_started, submitted_at, updated_at, sla_due_at, endorsed_by_chamber, batch_id, ineligible_reasons,
	escalated, breached, sla_paused, sla_remaining_ms, assignee, first_decided_by`

// NewApplication is what the API records when it accepts an application.
type NewApplication struct {
	ID                 string
	Reference          string
	Product            string
	PassportHash       string
	FormSealed         string
	RequestHash        string
	IdempotencyKeyHash string // empty when the client sent no Idempotency-Key
	SubmittedAt        time.Time
	SLADueAt           time.Time
	EndorsedBy         string // the chamber submitting for its member, if any
	BatchID            string
	// Documents are uploads the application names, attached in the same transaction.
	Documents []DocumentLink
}

// ErrIDCollision is returned when a freshly drawn id or reference is taken; draw again.
var ErrIDCollision = errors.New("application id or reference already taken")

// ErrIdempotencyMismatch is returned when an Idempotency-Key is reused with a different request.
var ErrIdempotencyMismatch = errors.New("idempotency key was used with a different request")

// CreateApplication records an accepted application and its first timeline
// event in one transaction. created is false when the Idempotency-Key named an
// existing application with the same request, which is then returned.
func (s *Store) CreateApplication(ctx context.Context, n NewApplication) (app Application, created bool, err error) {
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if n.IdempotencyKeyHash != "" {
			existing, found, err := s.byIdempotencyKey(ctx, tx, n)
			if err != nil || found {
				app = existing
				return err
			}
		}
		var key any
		if n.IdempotencyKeyHash != "" {
			key = n.IdempotencyKeyHash
		}
		res, err := insertApplication(ctx, tx, n, key)
		if err != nil {
			return fmt.Errorf("insert application: %w", err)
		}
		if rows, _ := res.RowsAffected(); rows == 0 {
			// Something unique collided: a concurrent request with the same key, or
			// the id or reference drawn. (Another open application for the passport
			// is no collision: both are accepted and flagged, SuspectedDuplicates.)
			if n.IdempotencyKeyHash != "" {
				existing, found, err := s.byIdempotencyKey(ctx, tx, n)
				if err != nil || found {
					app = existing
					return err
				}
			}
			return ErrIDCollision
		}
		if err := s.insertSubmitted(ctx, tx, n, domain.RoleApplicant); err != nil {
			return err
		}
		if err := attachDocuments(ctx, tx, n.ID, n.Documents, n.SubmittedAt); err != nil {
			return err
		}
		created = true
		return tx.GetContext(ctx, &app, tx.Rebind(`SELECT `+applicationColumns+` FROM applications WHERE id = ?`), n.ID)
	})
	return app, created, err
}

func insertApplication(ctx context.Context, tx *sqlx.Tx, n NewApplication, key any) (sql.Result, error) {
	return tx.ExecContext(ctx, tx.Rebind(`INSERT INTO applications
		(id, reference, product, status, status_seq, passport_hash, form_sealed, request_hash,
		 idempotency_key_hash, screening_hit, workflow_started, submitted_at, updated_at, sla_due_at,
		 endorsed_by_chamber, batch_id)
		VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, FALSE, FALSE, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`),
		n.ID, n.Reference, n.Product, string(domain.StatusReceived), n.PassportHash, n.FormSealed, n.RequestHash, key,
		ms(n.SubmittedAt), ms(n.SubmittedAt), ms(n.SLADueAt), nullable(n.EndorsedBy), nullable(n.BatchID))
}

func (s *Store) byIdempotencyKey(ctx context.Context, tx *sqlx.Tx, n NewApplication) (Application, bool, error) {
	var existing Application
	err := tx.GetContext(
		ctx,
		&existing,
		tx.Rebind(`SELECT `+applicationColumns+` FROM applications WHERE idempotency_key_hash = ?`),
		n.IdempotencyKeyHash,
	)
	if errors.Is(err, sql.ErrNoRows) {
		return Application{}, false, nil
	}
	if err != nil {
		return Application{}, false, err
	}
	if existing.RequestHash != n.RequestHash {
		return Application{}, false, ErrIdempotencyMismatch
	}
	return existing, true, nil
}

// insertSubmitted writes the first timeline event of a new application,
// submitted by the applicant or their chamber, and its "received" e-mail.
func (s *Store) insertSubmitted(ctx context.Context, tx *sqlx.Tx, n NewApplication, by domain.Role) error {
	if err := s.insertEvent(ctx, tx, TimelineEvent{
		ApplicationID: n.ID, Seq: 0, AtMS: ms(n.SubmittedAt), Status: string(domain.StatusReceived),
		Event: string(domain.EventSubmitted), Actor: string(by),
	}); err != nil {
		return err
	}
	return enqueueNotification(ctx, tx, n.ID, 0, domain.StatusReceived, n.SubmittedAt)
}

// closedList is the SQL list of closed statuses, e.g. for "status NOT IN (…)".
// They are the domain's words, never user input, so they are inlined.
func closedList() string {
	quoted := make([]string, len(domain.ClosedStatuses))
	for i, s := range domain.ClosedStatuses {
		quoted[i] = "'" + string(s) + "'"
	}
	return strings.Join(quoted, ", ")
}

// GetApplication loads one application by id.
func (s *Store) GetApplication(ctx context.Context, id string) (Application, error) {
	var app Application
	err := s.db.GetContext(ctx, &app, s.db.Rebind(`SELECT `+applicationColumns+` FROM applications WHERE id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return Application{}, ErrNotFound
	}
	return app, err
}

// GetApplicationByReference loads one application by its public reference.
func (s *Store) GetApplicationByReference(ctx context.Context, reference string) (Application, error) {
	var app Application
	err := s.db.GetContext(
		ctx,
		&app,
		s.db.Rebind(`SELECT `+applicationColumns+` FROM applications WHERE reference = ?`),
		reference,
	)
	if errors.Is(err, sql.ErrNoRows) {
		return Application{}, ErrNotFound
	}
	return app, err
}

// OtherOpenApplication finds another open application for the same passport
// and product, the oldest (straight-through processing leaves such a case to an officer).
func (s *Store) OtherOpenApplication(
	ctx context.Context,
	passportHash, product, excludeID string,
) (Application, bool, error) {
	var app Application
	err := s.db.GetContext(ctx, &app, s.db.Rebind(`SELECT `+applicationColumns+` FROM applications
		WHERE passport_hash = ? AND product = ? AND id <> ? AND status NOT IN (`+closedList()+`)
		ORDER BY submitted_at LIMIT 1`), passportHash, product, excludeID)
	if errors.Is(err, sql.ErrNoRows) {
		return Application{}, false, nil
	}
	return app, err == nil, err
}

// MaxSuspectedDuplicates bounds the list a case shows (the oldest ones).
const MaxSuspectedDuplicates = 20

// SuspectedDuplicates maps each of these applications to the other open
// applications for the same passport and product, oldest first: one of them
// may be an impostor's, so officers see them flagged (never applicants).
func (s *Store) SuspectedDuplicates(ctx context.Context, ids []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(ids) == 0 {
		return out, nil
	}
	q, args, err := sqlx.In(`SELECT a.id AS id, o.id AS other FROM applications a
		JOIN applications o ON o.passport_hash = a.passport_hash AND o.product = a.product AND o.id <> a.id
		WHERE a.id IN (?) AND o.status NOT IN (`+closedList()+`)
		ORDER BY o.submitted_at, o.id`, ids)
	if err != nil {
		return nil, err
	}
	var pairs []struct {
		ID    string `db:"id"`
		Other string `db:"other"`
	}
	if err := s.db.SelectContext(ctx, &pairs, s.db.Rebind(q), args...); err != nil {
		return nil, err
	}
	for _, p := range pairs {
		if len(out[p.ID]) < MaxSuspectedDuplicates {
			out[p.ID] = append(out[p.ID], p.Other)
		}
	}
	return out, nil
}

// MarkWorkflowStarted records that the application's workflow exists.
func (s *Store) MarkWorkflowStarted(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(
		ctx,
		s.db.Rebind(`UPDATE applications SET workflow_started = TRUE WHERE id = ? AND workflow_started = FALSE`),
		id,
	)
	return err
}

// MarkWorkflowsStarted records that these applications' workflows exist.
func (s *Store) MarkWorkflowsStarted(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	q, args, err := sqlx.In(
		`UPDATE applications SET workflow_started = TRUE WHERE workflow_started = FALSE AND id IN (?)`,
		ids,
	)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, s.db.Rebind(q), args...)
	return err
}

// UnstartedApplications lists accepted applications whose workflow start was
// not confirmed and that were submitted before cutoff, oldest first.
func (s *Store) UnstartedApplications(ctx context.Context, cutoff time.Time, limit int) ([]Application, error) {
	var apps []Application
	err := s.db.SelectContext(ctx, &apps, s.db.Rebind(`SELECT `+applicationColumns+` FROM applications
		WHERE workflow_started = FALSE AND submitted_at < ? ORDER BY submitted_at LIMIT ?`), ms(cutoff), limit)
	return apps, err
}

// StatusChange is one step of a case, written by the workflow's activities.
type StatusChange struct {
	ApplicationID string
	Seq           int64 // strictly increasing per application, assigned by the workflow
	Status        domain.Status
	Event         domain.Event
	Actor         string
	Detail        string
	At            time.Time
	ScreeningHit  *bool
	Decision      *domain.Decision
	// IneligibleReasons are the JSON field errors of a case closed as ineligible.
	IneligibleReasons string
	// FirstDecidedBy names the first person of a four-eyes decision.
	FirstDecidedBy string
	// Note is the decider's note: kept sealed for the record, never on the timeline.
	Note string
}

// RecordStatus appends the timeline event and moves the case's status, both
// idempotently: a replayed change is a no-op, and an older one never overwrites a newer.
// Only a running workflow records status changes, so it also marks the workflow started.
func (s *Store) RecordStatus(ctx context.Context, c StatusChange) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error { return s.recordStatus(ctx, tx, c) })
}

func (s *Store) recordStatus(ctx context.Context, tx *sqlx.Tx, c StatusChange) error {
	if err := s.insertEvent(ctx, tx, TimelineEvent{
		ApplicationID: c.ApplicationID, Seq: c.Seq, AtMS: ms(c.At), Status: string(c.Status),
		Event: string(c.Event), Actor: c.Actor, Detail: c.Detail,
	}); err != nil {
		return err
	}
	var hit any
	if c.ScreeningHit != nil {
		hit = *c.ScreeningHit
	}
	var outcome, reason, decidedBy, decidedAt any
	if c.Decision != nil {
		outcome, reason = string(c.Decision.Outcome), nullable(string(c.Decision.ReasonCode))
		decidedBy, decidedAt = c.Decision.DecidedBy, ms(c.At)
	}
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE applications SET
			status = ?, status_seq = ?, updated_at = ?, workflow_started = TRUE,
			screening_hit = COALESCE(?, screening_hit),
			decision = COALESCE(?, decision), reason_code = COALESCE(?, reason_code),
			decided_by = COALESCE(?, decided_by), decided_at = COALESCE(?, decided_at),
			ineligible_reasons = COALESCE(?, ineligible_reasons), first_decided_by = COALESCE(?, first_decided_by),
			queue_rank = CASE WHEN ? THEN 1 ELSE queue_rank END
		WHERE id = ? AND status_seq < ?`),
		string(c.Status), c.Seq, ms(c.At), hit, outcome, reason, decidedBy, decidedAt, nullable(c.IneligibleReasons),
		// A closed case leaves the front of the queue, escalated or not.
		nullable(c.FirstDecidedBy), c.Status.IsClosed(), c.ApplicationID, c.Seq)
	if err != nil {
		return fmt.Errorf("update status: %w", err)
	}
	if err := enqueueNotification(ctx, tx, c.ApplicationID, c.Seq, c.Status, c.At); err != nil {
		return err
	}
	if err := s.insertNote(ctx, tx, c); err != nil {
		return err
	}
	return s.auditStatus(ctx, tx, c)
}

// insertNote keeps a decision's note, sealed; a replayed change adds none.
func (s *Store) insertNote(ctx context.Context, tx *sqlx.Tx, c StatusChange) error {
	if c.Note == "" {
		return nil
	}
	actor := c.Actor
	switch {
	case c.Decision != nil && c.Decision.DecidedBy != "":
		actor = c.Decision.DecidedBy
	case c.FirstDecidedBy != "":
		actor = c.FirstDecidedBy
	}
	sealed, err := s.seal(c.Note, noteAD(c.ApplicationID, c.Seq))
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO decision_notes (application_id, seq, at, actor, note_sealed)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (application_id, seq) DO NOTHING`),
		c.ApplicationID, c.Seq, ms(c.At), actor, sealed)
	if err != nil {
		return fmt.Errorf("insert decision note: %w", err)
	}
	return nil
}

func noteAD(applicationID string, seq int64) string {
	return fmt.Sprintf("note:%s:%d", applicationID, seq)
}

// DecisionNote is an officer's note on a decision, opened.
type DecisionNote struct {
	Seq   int64
	At    time.Time
	Actor string
	Note  string
}

// DecisionNotes returns a case's decision notes in order, opened.
func (s *Store) DecisionNotes(ctx context.Context, applicationID string) ([]DecisionNote, error) {
	var rows []struct {
		Seq    int64  `db:"seq"`
		AtMS   int64  `db:"at"`
		Actor  string `db:"actor"`
		Sealed string `db:"note_sealed"`
	}
	err := s.db.SelectContext(ctx, &rows, s.db.Rebind(`SELECT seq, at, actor, note_sealed FROM decision_notes
		WHERE application_id = ? ORDER BY seq`), applicationID)
	if err != nil {
		return nil, err
	}
	out := make([]DecisionNote, len(rows))
	for i, r := range rows {
		note, err := s.open(r.Sealed, noteAD(applicationID, r.Seq))
		if err != nil {
			return nil, fmt.Errorf("decision note %d of %s: %w", r.Seq, applicationID, err)
		}
		out[i] = DecisionNote{Seq: r.Seq, At: fromMS(r.AtMS), Actor: r.Actor, Note: note}
	}
	return out, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
