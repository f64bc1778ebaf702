package casework

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/keys"
	"github.com/visad/visad/workflows"
)

// NewChamber creates a chamber and its account; it returns the chamber id and
// the account's bearer token (shown once, stored only as a hash). by names
// who did it in the audit trail (e.g. "admin:usr_…", "cli"; empty: the system).
func (s *Service) NewChamber(ctx context.Context, by, name string) (chamberID, token string, err error) {
	if by != "" {
		ctx = db.WithAuditActor(ctx, by)
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return "", "", invalid(domain.FieldErrors{{Pointer: "/name", Code: domain.CodeRequired,
			Detail: "is required (at most 200 characters)"}})
	}
	if errs := domain.CheckFreeText("/name", name); errs != nil {
		return "", "", errs
	}
	token, err = keys.NewStaffToken()
	if err != nil {
		return "", "", err
	}
	now := s.now()
	chamberID = "chb_" + NewApplicationID()[4:24]
	err = s.Store.CreateChamber(ctx, db.Chamber{ID: chamberID, Name: name, CreatedAtMS: now.UnixMilli()}, db.User{
		ID: "usr_" + NewApplicationID()[4:], Name: name, Role: string(domain.RoleChamber), TokenHash: keys.HashToken(token),
		CreatedAtMS: now.UnixMilli(), ExpiresAtMS: s.chamberTokenExpiry(now),
	})
	return chamberID, token, err
}

// chamberTokenExpiry is when a chamber token issued at now expires.
func (s *Service) chamberTokenExpiry(now time.Time) sql.NullInt64 {
	ttl := s.ChamberTokenTTL
	if ttl <= 0 {
		ttl = domain.DefaultChamberTokenTTL
	}
	return sql.NullInt64{Int64: now.Add(ttl).UnixMilli(), Valid: true}
}

// RotateChamberToken gives a chamber's account a new token, which expires
// ChamberTokenTTL from now; the old one stops working at once. by names who
// did it in the audit trail.
func (s *Service) RotateChamberToken(ctx context.Context, by, chamberID string) (token string, expiresAt time.Time,
	err error) {
	if by != "" {
		ctx = db.WithAuditActor(ctx, by)
	}
	if token, err = keys.NewStaffToken(); err != nil {
		return "", time.Time{}, err
	}
	now := s.now()
	expiry := s.chamberTokenExpiry(now)
	found, err := s.Store.RotateChamberToken(ctx, chamberID, keys.HashToken(token), expiry, now)
	if err != nil {
		return "", time.Time{}, err
	}
	if !found {
		return "", time.Time{}, notFound("no such chamber, or its account is revoked")
	}
	return token, time.UnixMilli(expiry.Int64).UTC(), nil
}

// UpsertRoster validates every member and, only if all are valid, upserts
// them. An invalid roster is an Invalid error whose fields point into its
// rows (/rows/<n>/<field>) and whose message counts the invalid rows.
func (s *Service) UpsertRoster(
	ctx context.Context,
	chamberID string,
	members []domain.Member,
) (inserted, updated int, err error) {
	var bad domain.FieldErrors
	badRows := 0
	rows := make([]db.Member, 0, len(members))
	seen := map[string]int{}
	for i, m := range members {
		m = domain.NormalizeMember(m)
		errs := domain.ValidateMember(m)
		if first, dup := seen[m.MembershipNumber]; dup && m.MembershipNumber != "" {
			errs = append(errs, domain.FieldError{Pointer: "/membership_number", Code: "duplicate",
				Detail: "appears more than once in this upload (first in row " + strconv.Itoa(first) + ")"})
		}
		seen[m.MembershipNumber] = i + 1
		if len(errs) > 0 {
			badRows++
			for _, e := range errs {
				e.Pointer = "/rows/" + strconv.Itoa(i+1) + e.Pointer
				bad = append(bad, e)
			}
			continue
		}
		rows = append(rows, db.Member{
			ChamberID: chamberID, MembershipNumber: m.MembershipNumber, Surname: m.Surname, GivenNames: m.GivenNames,
			DateOfBirth: m.DateOfBirth, Nationality: m.Nationality,
			PassportHash: s.Keys.MemberPassportHash(m.PassportNumber), PassportHint: passportHint(m.PassportNumber),
			Status: m.Status, ValidUntil: m.ValidUntil,
		})
	}
	if badRows > 0 {
		return 0, 0, &Error{
			Kind:    Invalid,
			Fields:  bad,
			Message: plural(badRows, "row is", "rows are") + " invalid; nothing was stored",
		}
	}
	return s.Store.UpsertMembers(ctx, chamberID, rows, s.now())
}

// passportHint keeps the last three characters, enough for a chamber to tell
// its members' documents apart without holding the number.
func passportHint(number string) string {
	if len(number) <= 3 {
		return "***"
	}
	return strings.Repeat("*", len(number)-3) + number[len(number)-3:]
}

// SubmitBatch stores a chamber's upload (already parsed into rows, which
// proves it readable) and starts its workflow. The same reference with the
// same content returns the batch already accepted. The rows' documents are
// checked first: the returned batch's DocumentProblems lists the rows at
// fault, which its report shows as invalid at once.
func (s *Service) SubmitBatch(ctx context.Context, chamberID, reference, format string, raw []byte,
	rows []domain.BatchRow) (Batch, bool, error) {
	docs, err := s.batchDocuments(ctx, chamberID, reference, rows)
	if err != nil {
		return Batch{}, false, err
	}
	plain := domain.EncodeBatchUpload(format, raw)
	sum := sha256.Sum256(plain)
	contentHash := hex.EncodeToString(sum[:])
	id := batchID(chamberID, reference, contentHash)
	sealed, err := s.Keys.Seal(plain, id)
	if err != nil {
		return Batch{}, false, err
	}
	now := s.now()
	perDay := s.ChamberRowsPerDay
	if perDay <= 0 {
		perDay = domain.DefaultChamberRowsPerDay
	}
	dayStart, nextDay := domain.QuotaDay(now)
	batch, created, err := s.Store.CreateBatchWithin(ctx, db.Batch{
		ID: id, ChamberID: chamberID, Reference: reference, ContentHash: contentHash,
		TotalRows: len(rows), RowsSealed: sealed, CreatedAtMS: now.UnixMilli(),
	}, dayStart, func(posted int) bool { return domain.WithinChamberQuota(posted, len(rows), perDay) }, docs)
	var quota *db.QuotaError
	if errors.As(err, &quota) {
		return Batch{}, false, &Error{Kind: QuotaExceeded, RetryAfter: nextDay.Sub(now), Message: fmt.Sprintf(
			"%s: the chamber may post %d batch rows a day (UTC); %d were posted today and this batch has %d; "+
				"the quota is whole again at %s", domain.CodeChamberQuotaExceeded, perDay, quota.Posted, len(rows),
			nextDay.Format(time.RFC3339))}
	}
	if err != nil {
		return Batch{}, false, err
	}
	if batch.Status != db.BatchCompleted {
		if err := s.StartBatchWorkflow(ctx, batch.ID); err != nil {
			// Accepted all the same: the reconciler starts it.
			s.Log.Warn("batch workflow start deferred to reconciler", "batch_id", batch.ID, "error", err)
		}
	}
	out := batchOf(batch)
	out.DocumentProblems = rowProblems(docs.RowErrors)
	return out, created, nil
}

func batchID(chamberID, reference, contentHash string) string {
	sum := sha256.Sum256([]byte(chamberID + "\x00" + reference + "\x00" + contentHash))
	return "bat_" + strings.ToLower(base32.StdEncoding.EncodeToString(sum[:]))[:25]
}

// StartBatchWorkflow starts a batch's workflow, or finds it running.
func (s *Service) StartBatchWorkflow(ctx context.Context, batchID string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.BatchWorkflowID(batchID),
		TaskQueue:                s.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.BatchWorkflow, workflows.BatchInput{
		BatchID: batchID, PageRows: s.BatchPageRows, PagesPerRun: s.BatchPagesPerRun,
	})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		return err
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// RosterMember is one member of a chamber's roster as the chamber sees it:
// the passport only as a hint.
type RosterMember struct {
	MembershipNumber string `json:"membership_number"`
	Surname          string `json:"surname"`
	GivenNames       string `json:"given_names"`
	DateOfBirth      string `json:"date_of_birth"`
	Nationality      string `json:"nationality"`
	PassportHint     string `json:"passport_hint"`
	Status           string `json:"status"`
	ValidUntil       string `json:"valid_until"`
}

// Members pages through a chamber's roster by membership number, after the
// given one; next is the last number of a page that has a successor.
func (s *Service) Members(ctx context.Context, chamberID, after string, limit int) ([]RosterMember, string, error) {
	rows, next, err := s.Store.ListMembers(ctx, chamberID, after, limit)
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

// Batch is a chamber's bulk submission.
type Batch struct {
	ID          string
	ChamberID   string
	Reference   string
	TotalRows   int
	Status      string // accepted | completed
	CreatedAt   time.Time
	CompletedAt *time.Time
	// DocumentProblems are the rows whose documents cannot be used, as found
	// when the batch was posted (set by SubmitBatch only).
	DocumentProblems []ReportRow
}

func batchOf(b db.Batch) Batch {
	out := Batch{ID: b.ID, ChamberID: b.ChamberID, Reference: b.Reference, TotalRows: b.TotalRows, Status: b.Status,
		CreatedAt: b.CreatedAt()}
	if b.CompletedAtMS.Valid {
		t := time.UnixMilli(b.CompletedAtMS.Int64).UTC()
		out.CompletedAt = &t
	}
	return out
}

// ChamberBatch loads a batch of the chamber; any other chamber's batch is NotFound.
func (s *Service) ChamberBatch(ctx context.Context, chamberID, batchID string) (Batch, error) {
	b, err := s.Store.GetBatch(ctx, batchID)
	if errors.Is(err, db.ErrNotFound) || (err == nil && b.ChamberID != chamberID) {
		return Batch{}, notFound("no such batch")
	}
	if err != nil {
		return Batch{}, err
	}
	return batchOf(b), nil
}

// BatchProgress counts a batch's rows by what became of them, and its
// applications by status.
type BatchProgress struct {
	Processed, Invalid, Duplicate, Created, Existing, Started int
	ByStatus                                                  map[domain.Status]int
}

// Pending counts the applications the system is still checking.
func (p BatchProgress) Pending() int {
	n := 0
	for status, count := range p.ByStatus {
		if status.IsPending() {
			n += count
		}
	}
	return n
}

// Progress reads the live progress of a batch from the read model.
func (s *Service) Progress(ctx context.Context, b Batch) (BatchProgress, error) {
	p, err := s.Store.GetBatchProgress(ctx, db.Batch{ID: b.ID, TotalRows: b.TotalRows})
	if err != nil {
		return BatchProgress{}, err
	}
	out := BatchProgress{Processed: p.Processed, Invalid: p.Invalid, Duplicate: p.Duplicate, Created: p.Created,
		Existing: p.Existing, Started: p.Started, ByStatus: map[domain.Status]int{}}
	for status, n := range p.ByStatus {
		out.ByStatus[domain.Status(status)] += n
	}
	return out, nil
}

// ReportRow is what became of one row of a batch.
type ReportRow struct {
	Row           int
	Outcome       string
	ApplicationID string
	Reference     string
	Status        domain.Status
	Errors        []domain.FieldError
}

// Report lists every processed row of a batch, in row order.
func (s *Service) Report(ctx context.Context, b Batch) ([]ReportRow, error) {
	rows, err := s.Store.GetBatchReport(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	out := make([]ReportRow, 0, len(rows))
	for _, r := range rows {
		rr := ReportRow{Row: r.RowNumber, Outcome: r.Outcome, ApplicationID: r.ApplicationID.String,
			Reference: r.Reference.String, Status: domain.Status(r.Status.String)}
		if r.Errors != "" {
			_ = json.Unmarshal([]byte(r.Errors), &rr.Errors)
		}
		out = append(out, rr)
	}
	return out, nil
}
