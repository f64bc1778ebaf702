package activities

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/keys"
)

// WorkflowStarter starts an application's workflow, idempotently, and
// records a page of started workflows in the read model.
type WorkflowStarter interface {
	StartApplicationWorkflow(
		ctx context.Context,
		applicationID, product string,
		submittedAt time.Time,
		startDelay time.Duration,
	) error
	MarkStarted(ctx context.Context, applicationIDs []string) error
}

// BatchPageInput names a page of a batch's rows.
type BatchPageInput struct {
	BatchID string
	FromRow int // 0-based index into the batch's rows
	Rows    int
}

// ApplicationRef is an application whose workflow must be started.
type ApplicationRef struct {
	ID          string
	Product     string
	SubmittedAt time.Time
}

// BatchPageResult says what a page produced.
type BatchPageResult struct {
	ToStart   []ApplicationRef
	NextRow   int
	Done      bool
	Invalid   int
	TotalRows int // rows in the whole batch
}

// AdmissionInput is a page of applications to admit: their workflows start
// now and begin work at WorkAfter (at once if zero or past).
type AdmissionInput struct {
	Refs      []ApplicationRef
	WorkAfter time.Time
}

// ProcessBatchPage validates a page of rows with the same domain rules as a
// single application, creates the valid rows' applications under the
// chamber's endorsement, and records every row's outcome. Application ids are
// derived from (chamber, batch reference, passport, product), so a batch
// posted again finds the applications it created before.
func (a *Activities) ProcessBatchPage(ctx context.Context, in BatchPageInput) (BatchPageResult, error) {
	batch, rows, err := a.batchRows(ctx, in.BatchID)
	if err != nil {
		return BatchPageResult{}, err
	}
	end := min(in.FromRow+in.Rows, len(rows))
	policy := domain.Policy{
		Today:                 batch.CreatedAt(),
		EligibleNationalities: a.EligibleNationalities,
		EndorsingChamber:      batch.ChamberID,
	}
	inputs := make([]db.BatchRowInput, 0, end-in.FromRow)
	// Over the whole batch, so a row repeating one on an earlier page is found too.
	duplicates := domain.BatchDuplicates(rows)
	repeats := domain.BatchUploadRepeats(rows)
	for _, row := range rows[in.FromRow:end] {
		if dup, ok := duplicates[row.Number]; ok {
			raw, _ := json.Marshal(domain.FieldErrors{dup})
			inputs = append(inputs, db.BatchRowInput{RowNumber: row.Number, Errors: string(raw), Duplicate: true})
			continue
		}
		form, errs := domain.ValidateBatchRow(row, batch.ChamberID, policy)
		errs = append(errs, repeats[row.Number]...)
		// The uploads the row names are checked against the store, and
		// attached, in RecordBatchRows' transaction.
		docs := domain.CheckableRefs(form.Documents, errs)
		if len(errs) > 0 {
			raw, _ := json.Marshal(errs)
			inputs = append(inputs, db.BatchRowInput{RowNumber: row.Number, Errors: string(raw), Documents: docs})
			continue
		}
		id := a.batchApplicationID(batch, form)
		sealed, plain, err := a.Keys.SealForm(id, form)
		if err != nil {
			return BatchPageResult{}, err
		}
		inputs = append(inputs, db.BatchRowInput{RowNumber: row.Number, Application: &db.NewApplication{
			ID: id, Reference: referenceFor(id), Product: string(form.Product),
			PassportHash: a.Keys.PassportHash(form.Passport.IssuingCountry, form.Passport.Number),
			FormSealed:   sealed, RequestHash: keys.HashRequest(plain),
			SubmittedAt: batch.CreatedAt(), SLADueAt: batch.CreatedAt().Add(domain.DecisionSLA(form.Product, a.SLA)),
			EndorsedBy: batch.ChamberID, BatchID: batch.ID,
		}, Documents: docs})
	}
	results, err := a.Store.RecordBatchRows(ctx, batch.ID, inputs, time.Now().UTC())
	if err != nil {
		return BatchPageResult{}, err
	}
	out := BatchPageResult{NextRow: end, Done: end >= len(rows), TotalRows: len(rows)}
	for _, r := range results {
		if r.Outcome == db.RowInvalid {
			out.Invalid++
		}
		if r.ApplicationID != "" && !r.Started {
			out.ToStart = append(
				out.ToStart,
				ApplicationRef{ID: r.ApplicationID, Product: r.Product, SubmittedAt: time.UnixMilli(r.SubmittedAtMS).UTC()},
			)
		}
	}
	return out, nil
}

// AdmitApplications starts the workflows of a page of applications, a
// bounded number at a time, each holding its first step until WorkAfter.
// Starts are idempotent, so a retried activity re-starts nothing.
func (a *Activities) AdmitApplications(ctx context.Context, in AdmissionInput) (int, error) {
	refs := in.Refs
	if a.Starter == nil {
		return 0, temporal.NewNonRetryableApplicationError("no workflow starter configured", "Misconfigured", nil)
	}
	concurrency := a.StartConcurrency
	if concurrency <= 0 {
		concurrency = 32
	}
	work := make(chan ApplicationRef)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		started  int
	)
	for i := 0; i < concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ref := range work {
				err := a.Starter.StartApplicationWorkflow(ctx, ref.ID, ref.Product, ref.SubmittedAt, workDelay(in.WorkAfter))
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				} else if err == nil {
					started++
				}
				mu.Unlock()
			}
		}()
	}
	for i, ref := range refs {
		if ctx.Err() != nil {
			break
		}
		if i%100 == 0 {
			activity.RecordHeartbeat(ctx, i)
		}
		work <- ref
	}
	close(work)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return started, firstErr
	}
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r.ID
	}
	return started, a.Starter.MarkStarted(ctx, ids)
}

// MaxWorkDelay bounds how long an admitted application waits to begin work.
const MaxWorkDelay = 5 * time.Minute

func workDelay(workAfter time.Time) time.Duration {
	if workAfter.IsZero() {
		return 0
	}
	return min(max(time.Until(workAfter), 0), MaxWorkDelay).Round(time.Second)
}

// CompleteBatch marks the batch processed.
func (a *Activities) CompleteBatch(ctx context.Context, batchID string) error {
	return a.Store.CompleteBatch(ctx, batchID, time.Now())
}

// batchRows unseals a batch's rows, keeping the last few batches decoded so
// that the pages of one batch do not decrypt and parse it again and again.
func (a *Activities) batchRows(ctx context.Context, batchID string) (db.Batch, []domain.BatchRow, error) {
	batch, err := a.Store.GetBatch(ctx, batchID)
	if errors.Is(err, db.ErrNotFound) {
		return db.Batch{}, nil, temporal.NewNonRetryableApplicationError("batch not found", ErrTypeApplicationMissing, nil)
	}
	if err != nil {
		return db.Batch{}, nil, err
	}
	if rows, ok := a.rowCache().get(batchID); ok {
		return batch, rows, nil
	}
	plain, err := a.Keys.Open(batch.RowsSealed, batch.ID)
	if err != nil {
		return db.Batch{}, nil, temporal.NewNonRetryableApplicationError(
			"batch rows cannot be read",
			ErrTypeApplicationMissing,
			nil,
		)
	}
	rows, err := domain.DecodeBatchUpload(plain)
	if err != nil {
		return db.Batch{}, nil, temporal.NewNonRetryableApplicationError(
			"batch rows are corrupt",
			ErrTypeApplicationMissing,
			nil,
		)
	}
	a.rowCache().put(batchID, rows)
	return batch, rows, nil
}

// batchApplicationID derives a row's application id from the chamber, the
// batch reference and the row's key (passport and product), keyed by the server
// secret so ids stay unguessable.
func (a *Activities) batchApplicationID(b db.Batch, form domain.Application) string {
	return BatchApplicationID(a.Keys, b.ChamberID, b.Reference, form)
}

// BatchApplicationID is the deterministic id of a batch row's application.
func BatchApplicationID(k *keys.Keyring, chamberID, reference string, form domain.Application) string {
	passport := k.PassportHash(form.Passport.IssuingCountry, form.Passport.Number)
	m := hmac.New(sha256.New, []byte(passport))
	m.Write([]byte(chamberID + "\x00" + reference + "\x00" + string(form.Product)))
	return "app_" + strings.ToLower(base32.StdEncoding.EncodeToString(m.Sum(nil)))[:25]
}

// referenceFor derives a readable reference from an application id.
func referenceFor(id string) string {
	sum := sha256.Sum256([]byte("reference:" + id))
	return domain.Reference(sum[:])
}

type rowCache struct {
	mu      sync.Mutex
	order   []string
	entries map[string][]domain.BatchRow
}

func (c *rowCache) get(id string) ([]domain.BatchRow, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rows, ok := c.entries[id]
	return rows, ok
}

func (c *rowCache) put(id string, rows []domain.BatchRow) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string][]domain.BatchRow{}
	}
	if _, ok := c.entries[id]; !ok {
		c.order = append(c.order, id)
	}
	c.entries[id] = rows
	for len(c.order) > 4 {
		delete(c.entries, c.order[0])
		c.order = c.order[1:]
	}
}
