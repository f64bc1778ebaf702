package db_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
)

// auditMarker stands in for personal data (names, passport numbers); it must
// never reach the audit log.
const auditMarker = "ZQXAUDITPII"

// seedAudit drives the real store methods that audit, returning the seq of the refusal entry.
func seedAudit(t *testing.T, s *db.Store) (refusalSeq int64) {
	t.Helper()
	ctx := db.WithAuditActor(context.Background(), "admin:usr_root")
	at := time.Now().UTC().Truncate(time.Millisecond)
	user := db.User{
		ID:          "usr_" + randomID(),
		Name:        "Officer " + auditMarker,
		Role:        "officer",
		TokenHash:   "th-" + randomID(),
		CreatedAtMS: at.UnixMilli(),
	}
	if err := s.CreateUser(ctx, user); err != nil {
		t.Fatal(err)
	}
	app, _, err := s.CreateApplication(ctx, newApp(auditMarker+randomID()))
	if err != nil {
		t.Fatal(err)
	}
	officer := "officer:" + user.ID
	assignment := db.Assignment{ApplicationID: app.ID, Seq: 1, Assignee: user.ID, Actor: officer, At: at}
	if err := s.RecordAssignment(ctx, assignment); err != nil {
		t.Fatal(err)
	}
	refusal := db.StatusChange{ApplicationID: app.ID, Seq: 2, Status: "refused", Event: "refused", Actor: officer,
		Detail: "note about " + auditMarker, At: at,
		Decision: &domain.Decision{Outcome: "refuse", ReasonCode: "passport_validity", DecidedBy: officer}}
	if err := s.RecordStatus(ctx, refusal); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordStatus(ctx, refusal); err != nil { // an activity retry
		t.Fatal(err)
	}
	chamber := db.Chamber{ID: "chb_" + randomID(), Name: "Chamber " + auditMarker, CreatedAtMS: at.UnixMilli()}
	account := db.User{
		ID:          "usr_" + randomID(),
		Name:        chamber.Name,
		Role:        "chamber",
		TokenHash:   "th-" + randomID(),
		CreatedAtMS: at.UnixMilli(),
	}
	if err := s.CreateChamber(ctx, chamber, account); err != nil {
		t.Fatal(err)
	}
	members := []db.Member{
		{
			MembershipNumber: "M1",
			Surname:          auditMarker,
			GivenNames:       "A",
			DateOfBirth:      "1980-01-01",
			Nationality:      "KAZ",
			PassportHash:     "ph1",
			PassportHint:     "***123",
			Status:           "active",
			ValidUntil:       "2030-01-01",
		},
		{
			MembershipNumber: "M2",
			Surname:          "B",
			GivenNames:       auditMarker,
			DateOfBirth:      "1981-01-01",
			Nationality:      "KAZ",
			PassportHash:     "ph2",
			PassportHint:     "***456",
			Status:           "active",
			ValidUntil:       "2030-01-01",
		},
	}
	if _, _, err := s.UpsertMembers(ctx, chamber.ID, members, at); err != nil {
		t.Fatal(err)
	}
	escalation := db.SLAEvent{ApplicationID: app.ID, Seq: 3, Event: "escalated", At: at, DueAt: at.Add(time.Hour),
		Escalated: true}
	if err := s.RecordSLAEvent(ctx, escalation); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.RevokeUser(ctx, user.ID, at); !ok || err != nil {
		t.Fatalf("revoke: %v %v", ok, err)
	}
	return 3
}

func randomID() string {
	seqMu.Lock()
	defer seqMu.Unlock()
	seq++
	return fmt.Sprintf("%020d", seq)
}

func auditLog(t *testing.T, s *db.Store) []db.AuditRecord {
	t.Helper()
	recs, err := s.ListAudit(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func verify(t *testing.T, s *db.Store) db.AuditReport {
	t.Helper()
	r, err := s.VerifyAudit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func tamper(t *testing.T, s *db.Store, query string, args ...any) {
	t.Helper()
	res, err := s.DB().Exec(s.DB().Rebind(query), args...)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("%s changed %d rows, want 1", query, n)
	}
}

func TestAuditTrailRecordsEventsAndDetectsAnEditedRow(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		refusalSeq := seedAudit(t, s)
		recs := auditLog(t, s)
		var actions []string
		for i, r := range recs {
			actions = append(actions, r.Action)
			if r.Seq != int64(i+1) {
				t.Fatalf("entry %d has seq %d", i, r.Seq)
			}
			if row := fmt.Sprintf("%+v", r); strings.Contains(row, auditMarker) {
				t.Fatalf("personal data in the audit log: %s", row)
			}
		}
		want := []string{"user.created", "case.claimed", "decision.refuse", "chamber.created", "user.created",
			"roster.upserted", "sla.escalated", "user.revoked"}
		if strings.Join(actions, " ") != strings.Join(want, " ") {
			t.Fatalf("actions = %v, want %v", actions, want)
		}
		if r := recs[0]; r.Actor != "admin:usr_root" || r.Detail != "role=officer" || r.PrevHash != db.AuditGenesisHash {
			t.Fatalf("first entry %+v", r)
		}
		dec := recs[refusalSeq-1]
		if !strings.HasPrefix(dec.Actor, "officer:usr_") || dec.Detail != "status=refused reason=passport_validity" ||
			dec.IdempotencyKey.String != fmt.Sprintf("status:%s:2", dec.Subject) {
			t.Fatalf("decision entry %+v", dec)
		}
		if r := recs[5]; !strings.HasPrefix(r.Actor, "chamber:chb_") || r.Detail != "rows=2 inserted=2 updated=0" {
			t.Fatalf("roster entry %+v", r)
		}
		for i := 1; i < len(recs); i++ {
			if recs[i].PrevHash != recs[i-1].Hash {
				t.Fatalf("entry %d is not chained to %d", recs[i].Seq, recs[i-1].Seq)
			}
		}

		if r := verify(t, s); !r.Intact || r.Entries != len(want) || r.LastSeq != int64(len(want)) ||
			r.LastHash != recs[len(recs)-1].Hash {
			t.Fatalf("before tampering: %+v", r)
		}
		// An insider softens the refusal's recorded reason.
		tamper(t, s, `UPDATE audit_log SET detail = 'status=refused reason=other' WHERE seq = ?`, refusalSeq)
		r := verify(t, s)
		if r.Intact || r.BrokenAt != refusalSeq || r.Reason != "hash mismatch (row edited)" || r.Entries != len(want) {
			t.Fatalf("after editing entry %d: %+v", refusalSeq, r)
		}
	})
}

func appendN(t *testing.T, s *db.Store, n int) []db.AuditRecord {
	t.Helper()
	var out []db.AuditRecord
	for i := 0; i < n; i++ {
		rec, err := s.AppendAudit(
			context.Background(),
			db.AuditEntry{Actor: "system", Action: "test.event", Subject: fmt.Sprintf("subj_%d", i)},
		)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
	}
	return out
}

func TestAuditVerifyDetectsDeletedAndRelinkedRows(t *testing.T) {
	// Each case runs in its own named subtest: repeated subtest names get a '#' in their
	// temporary directory, which the SQLite DSN would read as a URI fragment.
	t.Run("delete_middle", func(t *testing.T) {
		forEachDialect(t, func(t *testing.T, s *db.Store) {
			if r := verify(t, s); !r.Intact || r.Entries != 0 {
				t.Fatalf("empty log: %+v", r)
			}
			appendN(t, s, 6)
			tamper(t, s, `DELETE FROM audit_log WHERE seq = ?`, 3)
			if r := verify(t, s); r.Intact || r.BrokenAt != 3 || r.Reason != "missing (row deleted)" || r.Entries != 5 {
				t.Fatalf("after deleting entry 3: %+v", r)
			}
		})
	})
	t.Run("delete_first", func(t *testing.T) {
		forEachDialect(t, func(t *testing.T, s *db.Store) {
			appendN(t, s, 4)
			tamper(t, s, `DELETE FROM audit_log WHERE seq = ?`, 1)
			if r := verify(t, s); r.Intact || r.BrokenAt != 1 || !strings.Contains(r.Reason, "deleted") {
				t.Fatalf("after deleting entry 1: %+v", r)
			}
		})
	})
	t.Run("rehash_edited", func(t *testing.T) {
		forEachDialect(t, func(t *testing.T, s *db.Store) {
			// A careful forger who even holds the audit key edits entry 2 and recomputes its
			// hash: entry 3 no longer links to it.
			recs := appendN(t, s, 4)
			r2 := recs[1]
			r2.Subject = "subj_forged"
			forged, err := s.AuditRecordHash(r2)
			if err != nil {
				t.Fatal(err)
			}
			tamper(t, s, `UPDATE audit_log SET subject = 'subj_forged', hash = ? WHERE seq = 2`, forged)
			if r := verify(t, s); r.Intact || r.BrokenAt != 3 ||
				!strings.Contains(r.Reason, "prev_hash does not match entry 2") {
				t.Fatalf("after re-hashing entry 2: %+v", r)
			}
		})
	})
}

func TestAuditAppendIsIdempotent(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		e := db.AuditEntry{Actor: "system", Action: "test.keyed", Subject: "subj", IdempotencyKey: "k-1"}
		first, err := s.AppendAudit(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		appendN(t, s, 1)
		e.Detail = "a retry with other details"
		again, err := s.AppendAudit(ctx, e)
		if err != nil || again.Seq != first.Seq || again.Hash != first.Hash || again.Detail != "" {
			t.Fatalf("re-append = %+v, %v; want entry %d", again, err, first.Seq)
		}
		// Replayed store calls append nothing either.
		app, _, err := s.CreateApplication(ctx, newApp("AUDIT-IDEM"))
		if err != nil {
			t.Fatal(err)
		}
		assign := db.Assignment{ApplicationID: app.ID, Seq: 1, Assignee: "usr_a", Actor: "officer:usr_a", At: time.Now()}
		first4eyes := db.StatusChange{
			ApplicationID:  app.ID,
			Seq:            2,
			Status:         "awaiting_second_approval",
			Event:          "first_decision",
			Actor:          "officer:usr_a",
			Detail:         "first decision: approve",
			FirstDecidedBy: "officer:usr_a",
			At:             time.Now(),
		}
		for i := 0; i < 2; i++ {
			if err := s.RecordAssignment(ctx, assign); err != nil {
				t.Fatal(err)
			}
			if err := s.RecordStatus(ctx, first4eyes); err != nil {
				t.Fatal(err)
			}
		}
		recs := auditLog(t, s)
		if len(recs) != 4 {
			t.Fatalf("%d entries, want 4: %+v", len(recs), recs)
		}
		if r := recs[3]; r.Action != "decision.first.approve" || r.Actor != "officer:usr_a" ||
			r.Detail != "status=awaiting_second_approval" {
			t.Fatalf("first decision entry %+v", r)
		}
		if r := verify(t, s); !r.Intact || r.Entries != 4 {
			t.Fatalf("%+v", r)
		}
	})
}

func TestAuditConcurrentAppendsKeepTheChain(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		const workers, each = 8, 10
		var wg sync.WaitGroup
		errs := make(chan error, workers*(each+1))
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					if _, err := s.AppendAudit(ctx, db.AuditEntry{Actor: fmt.Sprintf("worker:%d", w), Action: "test.concurrent",
						Subject: fmt.Sprintf("s_%d_%d", w, i)}); err != nil {
						errs <- err
					}
				}
				// Every worker also races to append the same keyed entry: one wins.
				if _, err := s.AppendAudit(ctx, db.AuditEntry{Actor: "system", Action: "test.once", Subject: "once",
					IdempotencyKey: "once"}); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		r := verify(t, s)
		if !r.Intact || r.Entries != workers*each+1 || r.LastSeq != workers*each+1 {
			t.Fatalf("after concurrent appends: %+v", r)
		}
		var once int
		if err := s.DB().Get(&once, `SELECT COUNT(*) FROM audit_log WHERE idempotency_key = 'once'`); err != nil ||
			once != 1 {
			t.Fatalf("keyed entry appended %d times (%v)", once, err)
		}
	})
}

// A failed change leaves no audit entry behind: the entry shares its transaction.
func TestAuditEntryRollsBackWithItsChange(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		u := db.User{
			ID:          "usr_" + randomID(),
			Name:        "x",
			Role:        "officer",
			TokenHash:   "th-dup-" + randomID(),
			CreatedAtMS: time.Now().UnixMilli(),
		}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateUser(ctx, u); err == nil {
			t.Fatal("duplicate user accepted")
		}
		if ok, err := s.RevokeUser(ctx, "usr_missing", time.Now()); ok || err != nil {
			t.Fatalf("revoke missing: %v %v", ok, err)
		}
		if n := len(auditLog(t, s)); n != 1 {
			t.Fatalf("%d entries, want 1", n)
		}
		var key sql.NullString
		if err := s.DB().Get(&key, `SELECT idempotency_key FROM audit_log WHERE seq = 1`); err != nil || key.Valid {
			t.Fatalf("unkeyed entry has key %v (%v)", key, err)
		}
	})
}

// A second decision that disagrees with the first is audited as such, with its reason.
func TestAuditRecordsADisagreement(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		app, _, err := s.CreateApplication(ctx, newApp("AUDIT-DISAGREE"))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RecordStatus(ctx, db.StatusChange{ApplicationID: app.ID, Seq: 1, Status: "disagreement",
			Event: "disagreement", Actor: "supervisor:usr_b", At: time.Now(),
			Detail: "second decision: refuse (insufficient_evidence) disagrees with the first (approve by " +
				"officer:usr_a): a supervisor resolves"}); err != nil {
			t.Fatal(err)
		}
		recs := auditLog(t, s)
		r := recs[len(recs)-1]
		if r.Action != "decision.second.refuse" || r.Actor != "supervisor:usr_b" ||
			r.Detail != "status=disagreement reason=insufficient_evidence" {
			t.Fatalf("disagreement entry %+v", r)
		}
	})
}
