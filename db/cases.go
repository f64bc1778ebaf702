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

// TimelineEvent is one entry of a case's history.
type TimelineEvent struct {
	ApplicationID string `db:"application_id"`
	Seq           int64  `db:"seq"`
	AtMS          int64  `db:"at"`
	Status        string `db:"status"`
	Event         string `db:"event"`
	Actor         string `db:"actor"`
	Detail        string `db:"detail"`
}

// At is when the event happened.
func (e TimelineEvent) At() time.Time { return fromMS(e.AtMS) }

func (s *Store) insertEvent(ctx context.Context, tx *sqlx.Tx, e TimelineEvent) error {
	sealed, err := s.seal(e.Detail, timelineAD(e.ApplicationID, e.Seq))
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO timeline_events
		(application_id, seq, at, status, event, actor, detail, detail_sealed) VALUES (?, ?, ?, ?, ?, ?, '', ?)
		ON CONFLICT (application_id, seq) DO NOTHING`),
		e.ApplicationID, e.Seq, e.AtMS, e.Status, e.Event, e.Actor, sealed)
	if err != nil {
		return fmt.Errorf("insert timeline event: %w", err)
	}
	return nil
}

// timelineAD binds a sealed timeline detail to its event. Details carry
// officers' requests for information and applicants' answers: free text
// with personal data.
func timelineAD(applicationID string, seq int64) string {
	return fmt.Sprintf("timeline:%s:%d", applicationID, seq)
}

// Timeline returns a case's events in order, their details opened.
func (s *Store) Timeline(ctx context.Context, applicationID string) ([]TimelineEvent, error) {
	var rows []struct {
		TimelineEvent
		DetailSealed string `db:"detail_sealed"`
	}
	err := s.db.SelectContext(ctx, &rows, s.db.Rebind(`SELECT application_id, seq, at, status, event, actor, detail,
		detail_sealed FROM timeline_events WHERE application_id = ? ORDER BY seq`), applicationID)
	if err != nil {
		return nil, err
	}
	events := make([]TimelineEvent, len(rows))
	for i, r := range rows {
		events[i] = r.TimelineEvent
		if r.DetailSealed == "" {
			continue // written in clear before details were sealed
		}
		if events[i].Detail, err = s.open(r.DetailSealed, timelineAD(r.ApplicationID, r.Seq)); err != nil {
			return nil, fmt.Errorf("timeline event %d of %s: %w", r.Seq, r.ApplicationID, err)
		}
	}
	return events, nil
}

// visaRow is one row of the visas table.
type visaRow struct {
	ApplicationID string `db:"application_id"`
	VisaNumber    string `db:"visa_number"`
	Product       string `db:"product"`
	ValidFrom     string `db:"valid_from"`
	ValidUntil    string `db:"valid_until"`
	Entries       string `db:"entries"`
	MaxStayDays   int    `db:"max_stay_days"`
	IssuedAtMS    int64  `db:"issued_at"`
	IssuedBy      string `db:"issued_by"`
}

func (v visaRow) visa() domain.Visa {
	return domain.Visa{VisaNumber: v.VisaNumber, ValidFrom: v.ValidFrom, ValidUntil: v.ValidUntil, Entries: v.Entries,
		MaxStayDays: v.MaxStayDays}
}

// VisaIssue asks for a visa to be issued and the case closed as issued.
type VisaIssue struct {
	Change      StatusChange
	Product     string
	ValidFrom   string
	ValidUntil  string
	Entries     string
	MaxStayDays int
	// NumberCandidate returns the i-th candidate visa number. It must be
	// deterministic so a retried activity issues the same number.
	NumberCandidate func(i int) string
}

// IssueVisa inserts the visa (once per application, with a globally unique
// number) and records the issued status in the same transaction.
func (s *Store) IssueVisa(ctx context.Context, v VisaIssue) (domain.Visa, error) {
	var visa visaRow
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &visa, tx.Rebind(`SELECT * FROM visas WHERE application_id = ?`), v.Change.ApplicationID)
		if err == nil {
			return s.recordStatus(ctx, tx, v.Change)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		for i := 0; i < 16; i++ {
			number := v.NumberCandidate(i)
			res, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO visas
				(application_id, visa_number, product, valid_from, valid_until, entries, max_stay_days, issued_at, issued_by)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
				v.Change.ApplicationID, number, v.Product, v.ValidFrom, v.ValidUntil, v.Entries, v.MaxStayDays,
				ms(v.Change.At), v.Change.Actor)
			if err != nil {
				return fmt.Errorf("insert visa: %w", err)
			}
			if rows, _ := res.RowsAffected(); rows == 1 {
				err := tx.GetContext(ctx, &visa, tx.Rebind(`SELECT * FROM visas WHERE application_id = ?`),
					v.Change.ApplicationID)
				if err != nil {
					return err
				}
				return s.recordStatus(ctx, tx, v.Change)
			}
		}
		return errors.New("no free visa number after 16 candidates")
	})
	return visa.visa(), err
}

// GetVisa returns the visa issued for an application.
func (s *Store) GetVisa(ctx context.Context, applicationID string) (domain.Visa, error) {
	var visa visaRow
	err := s.db.GetContext(ctx, &visa, s.db.Rebind(`SELECT * FROM visas WHERE application_id = ?`), applicationID)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Visa{}, ErrNotFound
	}
	return visa.visa(), err
}

// CaseFilter selects a page of the officers' queue.
type CaseFilter struct {
	Status  string
	Product string
	// EscalatedOnly is the supervisors' queue: cases past 75 % of their SLA.
	EscalatedOnly bool
	// OpenOnly leaves closed cases out.
	OpenOnly bool
	// ScreeningHitOnly keeps the cases whose applicant matched the watchlist.
	ScreeningHitOnly bool
	Limit            int
	After            *CaseCursor
}

// CaseCursor is the keyset position after which the next page starts.
type CaseCursor struct {
	QueueRank  int
	SLADueAtMS int64
	ID         string
}

// CaseSummary is one line of the queue.
type CaseSummary struct {
	ID            string         `db:"id"`
	Reference     string         `db:"reference"`
	Product       string         `db:"product"`
	Status        string         `db:"status"`
	ScreeningHit  bool           `db:"screening_hit"`
	SubmittedAtMS int64          `db:"submitted_at"`
	UpdatedAtMS   int64          `db:"updated_at"`
	SLADueAtMS    int64          `db:"sla_due_at"`
	QueueRank     int            `db:"queue_rank"`
	Escalated     bool           `db:"escalated"`
	Breached      bool           `db:"breached"`
	SLAPaused     bool           `db:"sla_paused"`
	SLARemainMS   int64          `db:"sla_remaining_ms"`
	Assignee      sql.NullString `db:"assignee"`
}

// ListCases returns one page of cases, escalated first, then by SLA due time
// (oldest promise first), and the cursor of the next page when there is one.
func (s *Store) ListCases(ctx context.Context, f CaseFilter) ([]CaseSummary, *CaseCursor, error) {
	var where []string
	var args []any
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, f.Status)
	}
	if f.Product != "" {
		where = append(where, "product = ?")
		args = append(args, f.Product)
	}
	if f.EscalatedOnly {
		where = append(where, "queue_rank = 0")
	}
	if f.OpenOnly {
		where = append(where, "status NOT IN ("+closedList()+")")
	}
	if f.ScreeningHitOnly {
		where = append(where, "screening_hit = ?")
		args = append(args, true)
	}
	if f.After != nil {
		where = append(where, "(queue_rank, sla_due_at, id) > (?, ?, ?)")
		args = append(args, f.After.QueueRank, f.After.SLADueAtMS, f.After.ID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	q := `SELECT id, reference, product, status, screening_hit, submitted_at, updated_at, sla_due_at,
		queue_rank, escalated, breached, sla_paused, sla_remaining_ms, assignee FROM applications`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY queue_rank, sla_due_at, id LIMIT ?"
	args = append(args, limit+1)
	var rows []CaseSummary
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(q), args...); err != nil {
		return nil, nil, err
	}
	var next *CaseCursor
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[len(rows)-1]
		next = &CaseCursor{QueueRank: last.QueueRank, SLADueAtMS: last.SLADueAtMS, ID: last.ID}
	}
	return rows, next, nil
}

// Counts are the read model's totals for metrics.
type Counts struct {
	Applications []struct {
		Product string `db:"product"`
		Status  string `db:"status"`
		N       int64  `db:"n"`
	}
	BatchRows []KeyCount
	Batches   []KeyCount
}

// KeyCount is one bucket of a count.
type KeyCount struct {
	Key string `db:"k"`
	N   int64  `db:"n"`
}

// Counts totals applications by product and status, and batches and their rows.
func (s *Store) Counts(ctx context.Context) (Counts, error) {
	var c Counts
	if err := s.db.SelectContext(ctx, &c.Applications,
		`SELECT product, status, COUNT(*) AS n FROM applications GROUP BY product, status`); err != nil {
		return c, err
	}
	if err := s.db.SelectContext(ctx, &c.BatchRows,
		`SELECT outcome AS k, COUNT(*) AS n FROM batch_rows GROUP BY outcome`); err != nil {
		return c, err
	}
	err := s.db.SelectContext(ctx, &c.Batches, `SELECT status AS k, COUNT(*) AS n FROM batches GROUP BY status`)
	return c, err
}
