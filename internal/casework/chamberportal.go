package casework

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
)

// What the chamber portal (web) reads beyond the API's chamber calls. Every
// call names the signed-in chamber; another chamber's batch is NotFound.

// pageCursor is an opaque keyset cursor: a time in milliseconds and an id.
func pageCursor(atMS int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(atMS, 10) + ":" + id))
}

// parsePageCursor reads a cursor; an unreadable one starts from the beginning.
func parsePageCursor(cursor string) (int64, string) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) > 200 {
		return 0, ""
	}
	at, id, ok := strings.Cut(string(b), ":")
	n, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || id == "" {
		return 0, ""
	}
	return n, id
}

// ChamberBatches pages through a chamber's batches, newest first; next is
// the cursor of the following page, or empty.
func (s *Service) ChamberBatches(ctx context.Context, chamberID, cursor string, limit int) ([]Batch, string, error) {
	afterMS, afterID := parsePageCursor(cursor)
	rows, more, err := s.Store.ChamberBatchPage(ctx, chamberID, afterMS, afterID, limit)
	if err != nil {
		return nil, "", err
	}
	out := make([]Batch, 0, len(rows))
	for _, b := range rows {
		out = append(out, batchOf(b))
	}
	next := ""
	if more {
		last := rows[len(rows)-1]
		next = pageCursor(last.CreatedAtMS, last.ID)
	}
	return out, next, nil
}

// SearchMembers pages through a chamber's roster, keeping the members whose
// membership number starts with prefix (empty: every member).
func (s *Service) SearchMembers(ctx context.Context, chamberID, prefix, after string, limit int) ([]RosterMember,
	string, error) {
	rows, next, err := s.Store.SearchMembers(ctx, chamberID, strings.TrimSpace(prefix), after, limit)
	if err != nil {
		return nil, "", err
	}
	out := make([]RosterMember, 0, len(rows))
	for _, m := range rows {
		out = append(out, RosterMember{MembershipNumber: m.MembershipNumber, Surname: m.Surname, GivenNames: m.GivenNames,
			DateOfBirth: m.DateOfBirth, Nationality: m.Nationality, PassportHint: m.PassportHint, Status: m.Status,
			ValidUntil: m.ValidUntil})
	}
	return out, next, nil
}

// ChamberApplication is one application a chamber endorsed, as the chamber
// sees it: where it stands, not what it holds.
type ChamberApplication struct {
	ID          string
	Reference   string
	Product     domain.Product
	Status      domain.Status
	BatchID     string
	SubmittedAt time.Time
	UpdatedAt   time.Time
}

// ChamberApplications pages through the applications a chamber endorsed,
// newest first; status (empty: any) filters.
func (s *Service) ChamberApplications(ctx context.Context, chamberID string, status domain.Status, cursor string,
	limit int) ([]ChamberApplication, string, error) {
	afterMS, afterID := parsePageCursor(cursor)
	rows, more, err := s.Store.ChamberApplicationPage(ctx, chamberID, string(status), afterMS, afterID, limit)
	if err != nil {
		return nil, "", err
	}
	out := make([]ChamberApplication, 0, len(rows))
	for _, a := range rows {
		out = append(out, ChamberApplication{ID: a.ID, Reference: a.Reference, Product: domain.Product(a.Product),
			Status: domain.Status(a.Status), BatchID: a.BatchID.String, SubmittedAt: a.SubmittedAt(),
			UpdatedAt: a.UpdatedAt()})
	}
	next := ""
	if more {
		last := rows[len(rows)-1]
		next = pageCursor(last.SubmittedAtMS, last.ID)
	}
	return out, next, nil
}

// Bar turns a batch's progress into its progress bar's counts.
func (p BatchProgress) Bar(total int) domain.BatchBar {
	bar := domain.BatchBar{Total: total, Processed: p.Processed, SetAside: p.Invalid + p.Duplicate,
		Started: p.Started}
	for status, n := range p.ByStatus {
		if status.IsClosed() {
			bar.Decided += n
		}
	}
	return bar
}

// BatchRowOutcomes are what can become of a batch row, for the report's filter.
var BatchRowOutcomes = []string{db.RowCreated, db.RowExisting, db.RowDuplicate, db.RowInvalid}
