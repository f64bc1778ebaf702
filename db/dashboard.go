package db

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/visad/visad/domain"
)

// The supervisors' dashboard: aggregates over the read model (applications)
// and the timeline, each one query.

// DecisionEvents are the timeline events that record a person's (or the
// system's) decision on a case: a visa issued or refused, the first of two
// decisions, a second that disagrees, a request for information.
var DecisionEvents = []domain.Event{domain.EventIssued, domain.EventRefused, domain.EventFirstDecision,
	domain.EventDisagreement, domain.EventInformationRequested}

func eventList(events []domain.Event) string {
	quoted := make([]string, len(events))
	for i, e := range events {
		quoted[i] = "'" + string(e) + "'"
	}
	return strings.Join(quoted, ", ")
}

// TimedEvent is an event's time and actor.
type TimedEvent struct {
	AtMS  int64  `db:"at"`
	Event string `db:"event"`
	Actor string `db:"actor"`
}

// At is when the event happened.
func (e TimedEvent) At() time.Time { return fromMS(e.AtMS) }

// DecisionsSince lists the decision events since a time (at most limit, newest first).
func (s *Store) DecisionsSince(ctx context.Context, since time.Time, limit int) ([]TimedEvent, error) {
	var out []TimedEvent
	err := s.db.SelectContext(ctx, &out, s.db.Rebind(`SELECT at, event, actor FROM timeline_events
		WHERE event IN (`+eventList(DecisionEvents)+`) AND at >= ? ORDER BY at DESC LIMIT ?`), ms(since), limit)
	return out, err
}

// CountEventsSince counts the timeline events of one kind since a time.
func (s *Store) CountEventsSince(ctx context.Context, event domain.Event, since time.Time) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, s.db.Rebind(`SELECT COUNT(*) FROM timeline_events WHERE event = ? AND at >= ?`),
		string(event), ms(since))
	return n, err
}

// OpenDeadline is one open case's clock, for the dashboard.
type OpenDeadline struct {
	ID          string `db:"id"`
	Reference   string `db:"reference"`
	Product     string `db:"product"`
	Status      string `db:"status"`
	SLADueAtMS  int64  `db:"sla_due_at"`
	SLAPaused   bool   `db:"sla_paused"`
	SLARemainMS int64  `db:"sla_remaining_ms"`
	Breached    bool   `db:"breached"`
}

// DueBefore lists the open cases whose running clock is due before a time,
// soonest first (at most limit): the cases near or past their deadline.
func (s *Store) DueBefore(ctx context.Context, before time.Time, limit int) ([]OpenDeadline, error) {
	var out []OpenDeadline
	err := s.db.SelectContext(ctx, &out, s.db.Rebind(`SELECT id, reference, product, status, sla_due_at, sla_paused,
		sla_remaining_ms, breached FROM applications
		WHERE status NOT IN (`+closedList()+`) AND sla_paused = ? AND sla_due_at < ?
		ORDER BY sla_due_at, id LIMIT ?`), false, ms(before), limit)
	return out, err
}

// OpenAt counts, for each instant, the cases open then: submitted by then,
// and not closed by then. A closed case closed when its status last changed
// (updated_at). One pass over the cases open now or closed since the first instant.
func (s *Store) OpenAt(ctx context.Context, instants []time.Time) ([]int64, error) {
	if len(instants) == 0 {
		return nil, nil
	}
	closed := "status IN (" + closedList() + ")"
	var cols []string
	var args []any
	for i, t := range instants {
		cols = append(cols, fmt.Sprintf(`COALESCE(SUM(CASE WHEN submitted_at <= ? AND NOT (%s AND updated_at <= ?)
			THEN 1 ELSE 0 END), 0) AS n%d`, closed, i))
		args = append(args, ms(t), ms(t))
	}
	first := instants[0]
	for _, t := range instants {
		if t.Before(first) {
			first = t
		}
	}
	args = append(args, ms(first))
	q := `SELECT ` + strings.Join(cols, ", ") + ` FROM applications WHERE NOT (` + closed + ` AND updated_at < ?)`
	row := s.db.QueryRowxContext(ctx, s.db.Rebind(q), args...)
	vals, err := row.SliceScan()
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(vals))
	for i, v := range vals {
		switch n := v.(type) {
		case int64:
			out[i] = n
		case int32:
			out[i] = int64(n)
		case float64:
			out[i] = int64(n)
		case []byte:
			_, _ = fmt.Sscan(string(n), &out[i])
		case string:
			_, _ = fmt.Sscan(n, &out[i])
		case nil:
		default:
			return nil, fmt.Errorf("open at: unexpected %T", v)
		}
	}
	return out, nil
}
