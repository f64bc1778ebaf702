package db

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// sealedColumn is a column of sealed values: key rotation re-seals it. Every
// column the store or its callers seal with keys.Keyring must be listed here.
type sealedColumn struct {
	table, column string
	pk            []string
	ad            func(pk []any) string
}

func pkString(v any) string {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return fmt.Sprint(v)
}

func pkInt(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int32:
		return int64(n)
	case int:
		return int64(n)
	}
	var out int64
	fmt.Sscan(pkString(v), &out)
	return out
}

var sealedColumns = []sealedColumn{
	{"applications", "form_sealed", []string{"id"}, func(pk []any) string { return pkString(pk[0]) }},
	{"batches", "rows_sealed", []string{"id"}, func(pk []any) string { return pkString(pk[0]) }},
	{"visa_seals", "seal_sealed", []string{"application_id"},
		func(pk []any) string { return "visa-seal:" + pkString(pk[0]) }},
	{"timeline_events", "detail_sealed", []string{"application_id", "seq"},
		func(pk []any) string { return timelineAD(pkString(pk[0]), pkInt(pk[1])) }},
	{"chamber_members", "person_sealed", []string{"chamber_id", "membership_number"},
		func(pk []any) string { return memberAD(pkString(pk[0]), pkString(pk[1])) }},
	{"decision_notes", "note_sealed", []string{"application_id", "seq"},
		func(pk []any) string { return noteAD(pkString(pk[0]), pkInt(pk[1])) }},
}

// RotateOptions pace a key rotation, so it can run beside a live service.
type RotateOptions struct {
	BatchSize int           // rows per transaction (default 200)
	Pause     time.Duration // between batches
	// Progress hears after each batch: which column, how many values were
	// re-sealed in it so far.
	Progress func(column string, done int)
}

// RotateReport counts what a rotation did, per table.column.
type RotateReport struct {
	Resealed map[string]int // values re-sealed under the active sealing key
	Sealed   map[string]int // values found in clear (written before they were sealed) and sealed
}

// Rotate re-seals, in batches, every sealed value the active sealing key did
// not seal, and seals values written in clear before their column was
// sealed. Each row is swapped only if it still holds what was read, so a
// concurrent write is never lost; values the active key sealed are left
// alone, so a second run (or a run after an interrupted one) does only
// what is left.
func (s *Store) Rotate(ctx context.Context, opts RotateOptions) (RotateReport, error) {
	if s.keys == nil {
		return RotateReport{}, errNoKeys
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 200
	}
	report := RotateReport{Resealed: map[string]int{}, Sealed: map[string]int{}}
	if err := s.sealClearTimeline(ctx, opts, report.Sealed); err != nil {
		return report, err
	}
	if err := s.sealClearRoster(ctx, opts, report.Sealed); err != nil {
		return report, err
	}
	for _, c := range sealedColumns {
		if err := s.resealColumn(ctx, c, opts, report.Resealed); err != nil {
			return report, err
		}
	}
	return report, nil
}

// resealColumn walks one column by primary key, batch by batch.
func (s *Store) resealColumn(ctx context.Context, c sealedColumn, opts RotateOptions, counts map[string]int) error {
	name := c.table + "." + c.column
	prefix := s.keys.ActivePrefix()
	pkList := strings.Join(c.pk, ", ")
	var after []any
	for {
		q := `SELECT ` + pkList + `, ` + c.column + ` FROM ` + c.table + ` WHERE ` + c.column + ` <> '' AND substr(` +
			c.column + `, 1, ?) <> ?`
		args := []any{len(prefix), prefix}
		if after != nil {
			q += ` AND (` + pkList + `) > (` + placeholders(len(c.pk)) + `)`
			args = append(args, after...)
		}
		q += ` ORDER BY ` + pkList + ` LIMIT ?`
		args = append(args, opts.BatchSize)
		type row struct {
			pk     []any
			sealed string
		}
		var batch []row
		rows, err := s.db.QueryxContext(ctx, s.db.Rebind(q), args...)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		for rows.Next() {
			vals, err := rows.SliceScan()
			if err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, row{pk: vals[:len(c.pk)], sealed: pkString(vals[len(c.pk)])})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		err = s.inTx(ctx, func(tx *sqlx.Tx) error {
			for _, r := range batch {
				resealed, changed, err := s.keys.Reseal(r.sealed, c.ad(r.pk))
				if err != nil {
					return fmt.Errorf("%s of %v: %w", name, r.pk, err)
				}
				if !changed {
					continue
				}
				where := make([]string, len(c.pk))
				for i, k := range c.pk {
					where[i] = k + " = ?"
				}
				args := append([]any{resealed}, r.pk...)
				args = append(args, r.sealed)
				res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE `+c.table+` SET `+c.column+` = ? WHERE `+
					strings.Join(where, " AND ")+` AND `+c.column+` = ?`), args...)
				if err != nil {
					return fmt.Errorf("%s of %v: %w", name, r.pk, err)
				}
				if n, _ := res.RowsAffected(); n == 1 {
					counts[name]++
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		after = batch[len(batch)-1].pk
		if opts.Progress != nil {
			opts.Progress(name, counts[name])
		}
		if err := pause(ctx, opts.Pause); err != nil {
			return err
		}
	}
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

func pause(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// sealClearTimeline seals timeline details written in clear before
// details were sealed.
func (s *Store) sealClearTimeline(ctx context.Context, opts RotateOptions, counts map[string]int) error {
	const name = "timeline_events.detail"
	for {
		var batch []TimelineEvent
		err := s.db.SelectContext(ctx, &batch, s.db.Rebind(`SELECT application_id, seq, at, status, event, actor, detail
			FROM timeline_events WHERE detail <> '' ORDER BY application_id, seq LIMIT ?`), opts.BatchSize)
		if err != nil || len(batch) == 0 {
			return err
		}
		err = s.inTx(ctx, func(tx *sqlx.Tx) error {
			for _, e := range batch {
				sealed, err := s.seal(e.Detail, timelineAD(e.ApplicationID, e.Seq))
				if err != nil {
					return err
				}
				res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE timeline_events SET detail_sealed = ?, detail = ''
					WHERE application_id = ? AND seq = ? AND detail = ?`), sealed, e.ApplicationID, e.Seq, e.Detail)
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n == 1 {
					counts[name]++
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if opts.Progress != nil {
			opts.Progress(name, counts[name])
		}
		if err := pause(ctx, opts.Pause); err != nil {
			return err
		}
	}
}

// sealClearRoster seals roster members' names and birth dates written in
// clear before rosters were sealed.
func (s *Store) sealClearRoster(ctx context.Context, opts RotateOptions, counts map[string]int) error {
	const name = "chamber_members.person"
	for {
		var batch []Member
		err := s.db.SelectContext(ctx, &batch, s.db.Rebind(`SELECT * FROM chamber_members WHERE person_sealed = ''
			AND (surname <> '' OR given_names <> '' OR date_of_birth <> '')
			ORDER BY chamber_id, membership_number LIMIT ?`), opts.BatchSize)
		if err != nil || len(batch) == 0 {
			return err
		}
		err = s.inTx(ctx, func(tx *sqlx.Tx) error {
			for _, m := range batch {
				sealed, err := s.sealPerson(m.ChamberID, m)
				if err != nil {
					return err
				}
				res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE chamber_members
					SET person_sealed = ?, surname = '', given_names = '', date_of_birth = ''
					WHERE chamber_id = ? AND membership_number = ? AND person_sealed = ''
					AND surname = ? AND given_names = ? AND date_of_birth = ?`),
					sealed, m.ChamberID, m.MembershipNumber, m.Surname, m.GivenNames, m.DateOfBirth)
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n == 1 {
					counts[name]++
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if opts.Progress != nil {
			opts.Progress(name, counts[name])
		}
		if err := pause(ctx, opts.Pause); err != nil {
			return err
		}
	}
}

// SealedStatus counts, per sealed column, the values the active sealing
// key did not seal (old keys, or clear rows still to seal): when every count
// is zero, old sealing keys may be dropped.
func (s *Store) SealedStatus(ctx context.Context) (map[string]int, error) {
	if s.keys == nil {
		return nil, errNoKeys
	}
	prefix := s.keys.ActivePrefix()
	out := map[string]int{}
	for _, c := range sealedColumns {
		var n int
		err := s.db.GetContext(ctx, &n, s.db.Rebind(`SELECT COUNT(*) FROM `+c.table+` WHERE `+c.column+
			` <> '' AND substr(`+c.column+`, 1, ?) <> ?`), len(prefix), prefix)
		if err != nil {
			return nil, err
		}
		out[c.table+"."+c.column] = n
	}
	var n int
	if err := s.db.GetContext(ctx, &n, `SELECT COUNT(*) FROM timeline_events WHERE detail <> ''`); err != nil {
		return nil, err
	}
	out["timeline_events.detail"] = n
	err := s.db.GetContext(ctx, &n, `SELECT COUNT(*) FROM chamber_members WHERE person_sealed = ''
		AND (surname <> '' OR given_names <> '' OR date_of_birth <> '')`)
	out["chamber_members.person"] = n
	return out, err
}
