package db

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// SeedApplication is one synthetic case for benchmarks and load tests: the
// columns the queue and lists read, with placeholders for the sealed form.
type SeedApplication struct {
	ID           string
	Reference    string
	Product      string
	Status       string
	PassportHash string // must be unique among open cases of a product
	ScreeningHit bool
	SubmittedAt  time.Time
	UpdatedAt    time.Time
	SLADueAt     time.Time
}

// seedChunk keeps a statement's placeholders well under SQLite's 32,766 and
// PostgreSQL's 65,535.
const seedChunk = 500

// SeedApplications inserts synthetic applications in bulk: multi-row INSERTs,
// one transaction per 10,000 rows. It bypasses the timeline and the workflow
// (workflow_started is set), so it is for measuring queries, never for real
// cases.
func (s *Store) SeedApplications(ctx context.Context, apps []SeedApplication) error {
	const cols = 13
	const perTx = 10_000
	for start := 0; start < len(apps); start += perTx {
		end := min(start+perTx, len(apps))
		err := s.inTx(ctx, func(tx *sqlx.Tx) error {
			for i := start; i < end; i += seedChunk {
				chunk := apps[i:min(i+seedChunk, end)]
				var q strings.Builder
				q.WriteString(`INSERT INTO applications (id, reference, product, status, status_seq, passport_hash,
					form_sealed, request_hash, screening_hit, workflow_started, submitted_at, updated_at, sla_due_at) VALUES `)
				args := make([]any, 0, len(chunk)*cols)
				for j, a := range chunk {
					if j > 0 {
						q.WriteString(", ")
					}
					q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
					args = append(args, a.ID, a.Reference, a.Product, a.Status, int64(1), a.PassportHash,
						"seed", "seed", a.ScreeningHit, true, ms(a.SubmittedAt), ms(a.UpdatedAt), ms(a.SLADueAt))
				}
				if _, err := tx.ExecContext(ctx, tx.Rebind(q.String()), args...); err != nil {
					return fmt.Errorf("seed applications: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Analyze refreshes the planner's statistics (PostgreSQL's autovacuum does
// this by itself after bulk loads; SQLite keeps none until asked).
func (s *Store) Analyze(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, "ANALYZE")
	return err
}
