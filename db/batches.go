package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/visad/visad/domain"
)

// Batch is one bulk submission by a chamber.
type Batch struct {
	ID            string        `db:"id"`
	ChamberID     string        `db:"chamber_id"`
	Reference     string        `db:"reference"`
	ContentHash   string        `db:"content_hash"`
	TotalRows     int           `db:"total_rows"`
	Status        string        `db:"status"` // BatchAccepted | BatchCompleted
	RowsSealed    string        `db:"rows_sealed"`
	CreatedAtMS   int64         `db:"created_at"`
	CompletedAtMS sql.NullInt64 `db:"completed_at"`
}

// Statuses of a batch.
const (
	BatchAccepted  = "accepted"
	BatchCompleted = "completed"
)

// CreatedAt is when the batch was accepted.
func (b Batch) CreatedAt() time.Time { return fromMS(b.CreatedAtMS) }

// CreateBatch stores a batch; when the same chamber already posted the same
// reference with the same content, the existing batch is returned instead.
func (s *Store) CreateBatch(ctx context.Context, b Batch) (Batch, bool, error) {
	return s.CreateBatchWithin(ctx, b, time.Time{}, nil, BatchDocuments{})
}

// BatchDocuments is what a new batch's rows name of uploads, as checked
// when it was posted; CreateBatchWithin stores it with the batch.
type BatchDocuments struct {
	// Keep are uploads usable rows name: kept (unattached) at least until KeepUntil.
	Keep      []string
	KeepUntil time.Time
	// RowErrors are the rows whose documents cannot be used, by row number:
	// recorded invalid at once, so that the report shows them.
	RowErrors map[int]domain.FieldErrors
}

// QuotaError refuses a new batch: the chamber's batches since the quota day
// began already hold Posted rows, and the new one does not fit.
type QuotaError struct{ Posted int }

func (e *QuotaError) Error() string {
	return fmt.Sprintf("the chamber's daily batch rows are spent (%d posted today)", e.Posted)
}

// CreateBatchWithin is CreateBatch under a chamber's daily quota: a batch
// that is not already stored is refused with a *QuotaError unless fits
// accepts the rows of the chamber's batches created since dayStart (nil
// fits: no quota). The chamber's row is locked first, so two concurrent
// batches of one chamber cannot both slip under the quota. A batch created
// stores docs in the same transaction.
func (s *Store) CreateBatchWithin(ctx context.Context, b Batch, dayStart time.Time, fits func(posted int) bool,
	docs BatchDocuments) (Batch, bool, error) {
	var out Batch
	created := false
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if fits != nil {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE chambers SET name = name WHERE id = ?`),
				b.ChamberID); err != nil {
				return err
			}
			var existing int
			if err := tx.GetContext(ctx, &existing, tx.Rebind(`SELECT COUNT(*) FROM batches
				WHERE chamber_id = ? AND reference = ? AND content_hash = ?`),
				b.ChamberID, b.Reference, b.ContentHash); err != nil {
				return err
			}
			if existing == 0 {
				var posted int
				if err := tx.GetContext(ctx, &posted, tx.Rebind(`SELECT COALESCE(SUM(total_rows), 0) FROM batches
					WHERE chamber_id = ? AND created_at >= ?`), b.ChamberID, ms(dayStart)); err != nil {
					return err
				}
				if !fits(posted) {
					return &QuotaError{Posted: posted}
				}
			}
		}
		res, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO batches
			(id, chamber_id, reference, content_hash, total_rows, status, rows_sealed, created_at)
			VALUES (?, ?, ?, ?, ?, 'accepted', ?, ?) ON CONFLICT DO NOTHING`),
			b.ID, b.ChamberID, b.Reference, b.ContentHash, b.TotalRows, b.RowsSealed, b.CreatedAtMS)
		if err != nil {
			return fmt.Errorf("insert batch: %w", err)
		}
		n, _ := res.RowsAffected()
		created = n == 1
		if created {
			if err := keepUploads(ctx, tx, docs.Keep, docs.KeepUntil); err != nil {
				return err
			}
			if err := recordBatchRowErrors(ctx, tx, b.ID, docs.RowErrors); err != nil {
				return err
			}
		}
		return tx.GetContext(
			ctx,
			&out,
			tx.Rebind(`SELECT * FROM batches WHERE chamber_id = ? AND reference = ? AND content_hash = ?`),
			b.ChamberID,
			b.Reference,
			b.ContentHash,
		)
	})
	return out, created, err
}

// GetBatch loads a batch.
func (s *Store) GetBatch(ctx context.Context, id string) (Batch, error) {
	var b Batch
	err := s.db.GetContext(ctx, &b, s.db.Rebind(`SELECT * FROM batches WHERE id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return Batch{}, ErrNotFound
	}
	return b, err
}

// CompleteBatch marks every row of a batch processed.
func (s *Store) CompleteBatch(ctx context.Context, id string, at time.Time) error {
	_, err := s.db.ExecContext(
		ctx,
		s.db.Rebind(`UPDATE batches SET status = 'completed', completed_at = ? WHERE id = ? AND status <> 'completed'`),
		ms(at),
		id,
	)
	return err
}

// Outcomes of a batch row.
const (
	RowCreated   = "created"   // a new application
	RowExisting  = "existing"  // the application from an earlier post of this batch
	RowInvalid   = "invalid"   // field errors; nothing created
	RowDuplicate = "duplicate" // an earlier row of the batch holds the passport
)

// BatchRowInput is one row's outcome to record, with the application to create for a valid row.
type BatchRowInput struct {
	RowNumber   int
	Errors      string          // JSON field errors, for invalid rows
	Application *NewApplication // nil for invalid rows
	Duplicate   bool            // repeats an earlier row of the batch; Errors says which
	// Documents are the uploads the row names, entry i at index i
	// (domain.CheckableRefs). They are checked against the store in the
	// transaction (domain.CheckBatchUpload): a problem makes the row invalid
	// (its errors added to Errors) and creates nothing; a row whose
	// application is recorded has them attached to it.
	Documents []domain.DocumentRef
}

// BatchRowResult is what happened to a row.
type BatchRowResult struct {
	RowNumber     int
	Outcome       string
	ApplicationID string
	Reference     string
	Started       bool // the application's workflow is known to be started
	SubmittedAtMS int64
	Product       string
}

// RecordBatchRows creates the applications of valid rows (ids are
// deterministic, so a row posted again finds its application), attaches the
// uploads they name, and records every row's outcome, all in one
// transaction; at is now, for the uploads' expiry. Replayed, it creates and
// attaches nothing twice.
func (s *Store) RecordBatchRows(ctx context.Context, batchID string, rows []BatchRowInput, at time.Time) (
	[]BatchRowResult, error) {
	results := make([]BatchRowResult, 0, len(rows))
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		results = results[:0]
		chamberID := ""
		for _, r := range rows {
			res := BatchRowResult{RowNumber: r.RowNumber, Outcome: RowInvalid}
			errorsJSON := r.Errors
			if r.Duplicate {
				res.Outcome = RowDuplicate
			}
			n := r.Application
			if !r.Duplicate && namesUploads(r.Documents) {
				if chamberID == "" {
					if err := tx.GetContext(ctx, &chamberID, tx.Rebind(`SELECT chamber_id FROM batches WHERE id = ?`),
						batchID); err != nil {
						return fmt.Errorf("batch of row %d: %w", r.RowNumber, err)
					}
				}
				appID := ""
				if n != nil {
					appID = n.ID
				}
				problems, err := checkBatchUploads(ctx, tx, chamberID, appID, r.Documents, at)
				if err != nil {
					return err
				}
				if len(problems) > 0 {
					if errorsJSON, err = appendErrors(errorsJSON, problems); err != nil {
						return err
					}
					n = nil // nothing is created for a row whose documents cannot be used
				}
			}
			if n != nil {
				ins, err := insertApplication(ctx, tx, *n, nil)
				if err != nil {
					return fmt.Errorf("insert application: %w", err)
				}
				var app Application
				if k, _ := ins.RowsAffected(); k == 1 {
					if err := s.insertSubmitted(ctx, tx, *n, domain.RoleChamber); err != nil {
						return err
					}
					res.Outcome = RowCreated
				} else {
					res.Outcome = RowExisting
				}
				err = tx.GetContext(ctx, &app, tx.Rebind(`SELECT `+applicationColumns+` FROM applications WHERE id = ?`), n.ID)
				if errors.Is(err, sql.ErrNoRows) {
					// The deterministic reference is another application's (a 1 in 32^10 draw).
					return fmt.Errorf("batch row %d: %w", r.RowNumber, ErrIDCollision)
				} else if err != nil {
					return err
				}
				res.ApplicationID, res.Reference, res.Started = app.ID, app.Reference, app.WorkflowStarted
				res.SubmittedAtMS, res.Product = app.SubmittedAtMS, app.Product
				if err := attachBatchUploads(ctx, tx, app.ID, r.Documents, at); err != nil {
					return fmt.Errorf("batch row %d: %w", r.RowNumber, err)
				}
			}
			var appID any
			if res.ApplicationID != "" {
				appID = res.ApplicationID
			}
			if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO batch_rows
				(batch_id, row_number, outcome, application_id, errors)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT (batch_id, row_number) DO UPDATE SET
				outcome = excluded.outcome, application_id = excluded.application_id, errors = excluded.errors`),
				batchID, r.RowNumber, res.Outcome, appID, errorsJSON); err != nil {
				return fmt.Errorf("record batch row: %w", err)
			}
			results = append(results, res)
		}
		return nil
	})
	return results, err
}

func namesUploads(refs []domain.DocumentRef) bool {
	return slices.ContainsFunc(refs, func(d domain.DocumentRef) bool { return d.UploadID != "" })
}

// appendErrors adds field errors to a row's JSON list of them.
func appendErrors(errorsJSON string, more domain.FieldErrors) (string, error) {
	var errs domain.FieldErrors
	if errorsJSON != "" {
		if err := json.Unmarshal([]byte(errorsJSON), &errs); err != nil {
			return "", fmt.Errorf("row errors: %w", err)
		}
	}
	raw, err := json.Marshal(append(errs, more...))
	return string(raw), err
}

// RecordBatchRowErrors records rows found invalid when the batch was posted
// (their documents cannot be used), so that its report shows them at once.
// A row already recorded keeps its outcome: the batch's own processing has
// the last word.
func (s *Store) RecordBatchRowErrors(ctx context.Context, batchID string, rows map[int]domain.FieldErrors) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error { return recordBatchRowErrors(ctx, tx, batchID, rows) })
}

func recordBatchRowErrors(ctx context.Context, tx *sqlx.Tx, batchID string, rows map[int]domain.FieldErrors) error {
	for n, errs := range rows {
		raw, err := json.Marshal(errs)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO batch_rows
			(batch_id, row_number, outcome, application_id, errors) VALUES (?, ?, ?, NULL, ?)
			ON CONFLICT (batch_id, row_number) DO NOTHING`), batchID, n, RowInvalid, string(raw)); err != nil {
			return fmt.Errorf("record batch row: %w", err)
		}
	}
	return nil
}

// BatchProgress counts a batch's rows by what became of them.
type BatchProgress struct {
	Total     int            `json:"total"`
	Processed int            `json:"processed"`
	Invalid   int            `json:"invalid"`
	Duplicate int            `json:"duplicate"`
	Created   int            `json:"created"`
	Existing  int            `json:"existing"`
	Started   int            `json:"started"`
	ByStatus  map[string]int `json:"by_status"`
}

// GetBatchProgress reads the live progress of a batch from the read model.
func (s *Store) GetBatchProgress(ctx context.Context, b Batch) (BatchProgress, error) {
	p := BatchProgress{Total: b.TotalRows, ByStatus: map[string]int{}}
	var outcomes []struct {
		Outcome string `db:"outcome"`
		N       int    `db:"n"`
	}
	if err := s.db.SelectContext(ctx, &outcomes, s.db.Rebind(
		`SELECT outcome, COUNT(*) AS n FROM batch_rows WHERE batch_id = ? GROUP BY outcome`), b.ID); err != nil {
		return p, err
	}
	for _, o := range outcomes {
		p.Processed += o.N
		switch o.Outcome {
		case RowInvalid:
			p.Invalid = o.N
		case RowDuplicate:
			p.Duplicate = o.N
		case RowCreated:
			p.Created = o.N
		case RowExisting:
			p.Existing = o.N
		}
	}
	var statuses []struct {
		Status  string `db:"status"`
		Started bool   `db:"workflow_started"`
		N       int    `db:"n"`
	}
	if err := s.db.SelectContext(ctx, &statuses, s.db.Rebind(`SELECT a.status, a.workflow_started, COUNT(*) AS n
		FROM batch_rows r JOIN applications a ON a.id = r.application_id
		WHERE r.batch_id = ? GROUP BY a.status, a.workflow_started`), b.ID); err != nil {
		return p, err
	}
	for _, st := range statuses {
		p.ByStatus[st.Status] += st.N
		if st.Started {
			p.Started += st.N
		}
	}
	return p, nil
}

// BatchReportRow is one row of a batch report.
type BatchReportRow struct {
	RowNumber     int            `db:"row_number"`
	Outcome       string         `db:"outcome"`
	ApplicationID sql.NullString `db:"application_id"`
	Reference     sql.NullString `db:"reference"`
	Status        sql.NullString `db:"status"`
	Errors        string         `db:"errors"`
}

// GetBatchReport returns every processed row of a batch, in row order.
func (s *Store) GetBatchReport(ctx context.Context, batchID string) ([]BatchReportRow, error) {
	var rows []BatchReportRow
	err := s.db.SelectContext(
		ctx,
		&rows,
		s.db.Rebind(`SELECT r.row_number, r.outcome, r.application_id, a.reference, a.status, r.errors
		FROM batch_rows r LEFT JOIN applications a ON a.id = r.application_id
		WHERE r.batch_id = ? ORDER BY r.row_number`),
		batchID,
	)
	return rows, err
}

// UnfinishedBatches lists batches accepted before cutoff and not completed,
// so their workflows can be (re)started idempotently.
func (s *Store) UnfinishedBatches(ctx context.Context, cutoff time.Time, limit int) ([]string, error) {
	var ids []string
	err := s.db.SelectContext(
		ctx,
		&ids,
		s.db.Rebind(`SELECT id FROM batches WHERE status <> 'completed' AND created_at < ? ORDER BY created_at LIMIT ?`),
		ms(cutoff),
		limit,
	)
	return ids, err
}
