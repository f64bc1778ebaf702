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

// enqueueNotification writes the outbox row of an applicant-visible change in
// the caller's transaction; a replayed change enqueues nothing new.
func enqueueNotification(ctx context.Context, tx *sqlx.Tx, applicationID string, seq int64, status domain.Status,
	at time.Time) error {
	if !status.NotifiesApplicant() {
		return nil
	}
	_, err := tx.ExecContext(
		ctx,
		tx.Rebind(`INSERT INTO notifications (application_id, seq, kind, created_at, next_attempt_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (application_id, seq) DO NOTHING`),
		applicationID,
		seq,
		string(status),
		ms(at),
		ms(at),
	)
	if err != nil {
		return fmt.Errorf("enqueue notification: %w", err)
	}
	return nil
}

// SLAEvent is a change of a case's SLA clock: escalation, breach, pause, resume.
type SLAEvent struct {
	ApplicationID string
	Seq           int64
	Event         domain.Event // escalated | sla_breached | clock_paused | clock_resumed
	Detail        string
	At            time.Time
	DueAt         time.Time
	Paused        bool
	RemainingMS   int64
	Escalated     bool
	Breached      bool
}

// RecordSLAEvent updates the case's SLA fields and appends the timeline event.
// The status is left alone: the clock runs beside the case's steps.
func (s *Store) RecordSLAEvent(ctx context.Context, e SLAEvent) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var status string
		err := tx.GetContext(ctx, &status, tx.Rebind(`SELECT status FROM applications WHERE id = ?`), e.ApplicationID)
		if err != nil {
			return err
		}
		detail, err := s.seal(e.Detail, timelineAD(e.ApplicationID, e.Seq))
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(
			ctx,
			tx.Rebind(`INSERT INTO timeline_events (application_id, seq, at, status, event, actor, detail, detail_sealed)
			VALUES (?, ?, ?, ?, ?, ?, '', ?) ON CONFLICT (application_id, seq) DO NOTHING`),
			e.ApplicationID,
			e.Seq,
			ms(e.At),
			status,
			string(e.Event),
			string(domain.RoleSystem),
			detail,
		)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // already recorded
		}
		rank := 1
		if e.Escalated || e.Breached {
			rank = 0
		}
		// Only a newer SLA write moves the fields (sla_seq); a closed case stays where closing put it in the queue.
		_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE applications SET sla_due_at = ?, sla_paused = ?, sla_remaining_ms = ?,
			escalated = ?, breached = ?, sla_seq = ?,
			queue_rank = CASE WHEN status IN (`+closedList()+`) THEN queue_rank ELSE ? END
			WHERE id = ? AND sla_seq < ?`),
			ms(e.DueAt), e.Paused, e.RemainingMS, e.Escalated, e.Breached, e.Seq, rank, e.ApplicationID, e.Seq)
		if err != nil {
			return err
		}
		if e.Event == domain.EventEscalated {
			// Supervisors hear of an escalation through the same outbox.
			_, err = tx.ExecContext(
				ctx,
				tx.Rebind(`INSERT INTO notifications (application_id, seq, kind, created_at, next_attempt_at)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT (application_id, seq) DO NOTHING`),
				e.ApplicationID,
				e.Seq,
				string(domain.EventEscalated),
				ms(e.At),
				ms(e.At),
			)
			if err != nil {
				return err
			}
		}
		if e.Event != domain.EventEscalated && e.Event != domain.EventSLABreached {
			return nil // pauses and resumes follow status changes, which are on the timeline
		}
		_, err = s.appendAudit(ctx, tx, AuditEntry{
			Actor: string(domain.RoleSystem), Action: "sla." + strings.TrimPrefix(string(e.Event), "sla_"),
			Subject: e.ApplicationID,
			Detail:  fmt.Sprintf("due_at_ms=%d", ms(e.DueAt)), At: e.At,
			IdempotencyKey: fmt.Sprintf("sla:%s:%d", e.ApplicationID, e.Seq),
		})
		return err
	})
}

// Assignment claims a case for an officer (Assignee set) or releases it (empty).
type Assignment struct {
	ApplicationID string
	Seq           int64
	Assignee      string
	Actor         string
	At            time.Time
}

// RecordAssignment writes who holds a case, with its timeline event.
func (s *Store) RecordAssignment(ctx context.Context, a Assignment) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var status string
		err := tx.GetContext(ctx, &status, tx.Rebind(`SELECT status FROM applications WHERE id = ?`), a.ApplicationID)
		if err != nil {
			return err
		}
		event := string(domain.EventClaimed)
		if a.Assignee == "" {
			event = string(domain.EventReleased)
		}
		res, err := tx.ExecContext(
			ctx,
			tx.Rebind(`INSERT INTO timeline_events (application_id, seq, at, status, event, actor, detail)
			VALUES (?, ?, ?, ?, ?, ?, '') ON CONFLICT (application_id, seq) DO NOTHING`),
			a.ApplicationID,
			a.Seq,
			ms(a.At),
			status,
			event,
			a.Actor,
		)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		// Only a newer assignment moves the assignee: a claim recorded after the release that followed it is stale.
		_, err = tx.ExecContext(
			ctx,
			tx.Rebind(`UPDATE applications SET assignee = ?, assignee_seq = ? WHERE id = ? AND assignee_seq < ?`),
			nullable(a.Assignee),
			a.Seq,
			a.ApplicationID,
			a.Seq,
		)
		if err != nil {
			return err
		}
		detail := ""
		if a.Assignee != "" {
			detail = "assignee=" + a.Assignee
		}
		_, err = s.appendAudit(ctx, tx, AuditEntry{
			Actor: a.Actor, Action: "case." + event, Subject: a.ApplicationID, Detail: detail,
			IdempotencyKey: fmt.Sprintf("assign:%s:%d", a.ApplicationID, a.Seq), At: a.At,
		})
		return err
	})
}

// RecentRefusal reports whether the passport had an application refused since.
func (s *Store) RecentRefusal(ctx context.Context, passportHash string, since time.Time) (bool, error) {
	var n int
	err := s.db.GetContext(ctx, &n, s.db.Rebind(`SELECT COUNT(*) FROM applications
		WHERE passport_hash = ? AND status = ? AND decided_at >= ?`), passportHash, string(domain.StatusRefused), ms(since))
	return n > 0, err
}

// Notification is an outbox row claimed for sending.
type Notification struct {
	ApplicationID string `db:"application_id"`
	Seq           int64  `db:"seq"`
	Kind          string `db:"kind"`
	Attempts      int    `db:"attempts"`
}

// ClaimNotifications leases up to limit due notifications to this sender
// until now+lease, so two dispatchers never send the same one at once.
func (s *Store) ClaimNotifications(
	ctx context.Context,
	now time.Time,
	lease time.Duration,
	limit int,
) ([]Notification, error) {
	var claimed []Notification
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		claimed = claimed[:0]
		var due []Notification
		if err := tx.SelectContext(ctx, &due, tx.Rebind(`SELECT application_id, seq, kind, attempts FROM notifications
			WHERE sent_at IS NULL AND next_attempt_at <= ? AND claimed_until <= ?
			ORDER BY next_attempt_at LIMIT ?`), ms(now), ms(now), limit); err != nil {
			return err
		}
		for _, n := range due {
			res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE notifications SET claimed_until = ?
				WHERE application_id = ? AND seq = ? AND sent_at IS NULL AND claimed_until <= ?`),
				ms(now.Add(lease)), n.ApplicationID, n.Seq, ms(now))
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 1 {
				claimed = append(claimed, n)
			}
		}
		return nil
	})
	return claimed, err
}

// MarkNotificationSent records a delivered notification.
func (s *Store) MarkNotificationSent(ctx context.Context, n Notification, at time.Time) error {
	_, err := s.db.ExecContext(
		ctx,
		s.db.Rebind(`UPDATE notifications SET sent_at = ?, attempts = attempts + 1, last_error = ''
		WHERE application_id = ? AND seq = ?`),
		ms(at),
		n.ApplicationID,
		n.Seq,
	)
	return err
}

// MarkNotificationFailed schedules another attempt after backoff.
func (s *Store) MarkNotificationFailed(ctx context.Context, n Notification, next time.Time, reason string) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE notifications SET attempts = attempts + 1, next_attempt_at = ?,
		claimed_until = 0, last_error = ? WHERE application_id = ? AND seq = ?`), ms(next), reason, n.ApplicationID, n.Seq)
	return err
}

// NotificationState is what tests and operators read of one outbox row.
type NotificationState struct {
	Kind     string        `db:"kind"`
	Attempts int           `db:"attempts"`
	SentAtMS sql.NullInt64 `db:"sent_at"`
}

// Notifications lists an application's outbox rows in order.
func (s *Store) Notifications(ctx context.Context, applicationID string) ([]NotificationState, error) {
	var out []NotificationState
	err := s.db.SelectContext(
		ctx,
		&out,
		s.db.Rebind(`SELECT kind, attempts, sent_at FROM notifications WHERE application_id = ? ORDER BY seq`),
		applicationID,
	)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return out, err
}
