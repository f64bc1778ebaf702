package casework

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
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
// the account's bearer token (shown once, stored only as a hash).
func (s *Service) NewChamber(ctx context.Context, name string) (chamberID, token string, err error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return "", "", domain.FieldErrors{{Pointer: "/name", Code: domain.CodeRequired, Detail: "is required (at most 200 characters)"}}
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
		ID: "usr_" + NewApplicationID()[4:], Name: name, Role: "chamber", TokenHash: keys.HashToken(token), CreatedAtMS: now.UnixMilli(),
	})
	return chamberID, token, err
}

// RosterRowError is an invalid roster row.
type RosterRowError struct {
	Row    int
	Errors domain.FieldErrors
}

// RosterErrors lists every invalid roster row; nothing was stored.
type RosterErrors []RosterRowError

func (e RosterErrors) Error() string { return "the roster has invalid rows" }

// UpsertRoster validates every member and, only if all are valid, upserts them.
func (s *Service) UpsertRoster(ctx context.Context, chamberID string, members []domain.Member) (inserted, updated int, err error) {
	var bad RosterErrors
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
			bad = append(bad, RosterRowError{Row: i + 1, Errors: errs})
			continue
		}
		rows = append(rows, db.Member{
			ChamberID: chamberID, MembershipNumber: m.MembershipNumber, Surname: m.Surname, GivenNames: m.GivenNames,
			DateOfBirth: m.DateOfBirth, Nationality: m.Nationality,
			PassportHash: s.Keys.MemberPassportHash(m.PassportNumber), PassportHint: passportHint(m.PassportNumber),
			Status: m.Status, ValidUntil: m.ValidUntil,
		})
	}
	if len(bad) > 0 {
		return 0, 0, bad
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
// same content returns the batch already accepted.
func (s *Service) SubmitBatch(ctx context.Context, chamberID, reference, format string, raw []byte, rows []domain.BatchRow) (db.Batch, bool, error) {
	plain := domain.EncodeBatchUpload(format, raw)
	sum := sha256.Sum256(plain)
	contentHash := hex.EncodeToString(sum[:])
	id := batchID(chamberID, reference, contentHash)
	sealed, err := s.Keys.Seal(plain, id)
	if err != nil {
		return db.Batch{}, false, err
	}
	batch, created, err := s.Store.CreateBatch(ctx, db.Batch{
		ID: id, ChamberID: chamberID, Reference: reference, ContentHash: contentHash,
		TotalRows: len(rows), RowsSealed: sealed, CreatedAtMS: s.now().UnixMilli(),
	})
	if err != nil {
		return db.Batch{}, false, err
	}
	if batch.Status != "completed" {
		if err := s.StartBatchWorkflow(ctx, batch.ID); err != nil {
			// Accepted all the same: the reconciler starts it.
			s.Log.Warn("batch workflow start deferred to reconciler", "batch_id", batch.ID, "error", err)
		}
	}
	return batch, created, nil
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
