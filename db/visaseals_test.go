package db_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
)

func issueTestVisa(t *testing.T, s *db.Store, passport string, candidates ...string) (db.Application, domain.Visa) {
	t.Helper()
	ctx := context.Background()
	app, _, err := s.CreateApplication(ctx, newApp(passport))
	if err != nil {
		t.Fatal(err)
	}
	visa, err := s.IssueVisa(ctx, db.VisaIssue{
		Change: db.StatusChange{ApplicationID: app.ID, Seq: 5, Status: "issued", Event: "issued", Actor: "system",
			At: time.Now()},
		Product: "business_2y", ValidFrom: "2026-01-01", ValidUntil: "2028-01-01", Entries: "multiple", MaxStayDays: 90,
		NumberCandidate: func(i int) string { return candidates[i] },
	})
	if err != nil {
		t.Fatal(err)
	}
	return app, visa
}

func TestVisaSealIsStoredOnce(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		app, _ := issueTestVisa(t, s, "SEAL-ONCE", "PK2Y-26-SEAL0001-1")
		if _, err := s.VisaSeal(ctx, app.ID); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("seal before storing: %v, want ErrNotFound", err)
		}
		first, err := s.StoreVisaSeal(ctx, app.ID, "sealed-first", time.Now())
		if err != nil || first != "sealed-first" {
			t.Fatalf("first store: %q, %v", first, err)
		}
		second, err := s.StoreVisaSeal(ctx, app.ID, "sealed-second", time.Now())
		if err != nil || second != "sealed-first" {
			t.Fatalf("second store returned %q, %v; want the first seal", second, err)
		}
		if got, err := s.VisaSeal(ctx, app.ID); err != nil || got != "sealed-first" {
			t.Fatalf("VisaSeal = %q, %v", got, err)
		}
	})
}

func TestVisaRandomPartIsUnique(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		_, a := issueTestVisa(t, s, "MRZ-A", "PK2Y-26-RANDOM01-1")
		// Same random part, other product and year: the MRZ number would repeat, so the next candidate is taken.
		_, b := issueTestVisa(t, s, "MRZ-B", "PK5Y-27-RANDOM01-Q", "PK5Y-27-RANDOM02-R")
		if b.VisaNumber != "PK5Y-27-RANDOM02-R" {
			t.Fatalf("second visa got %q", b.VisaNumber)
		}
		got, err := s.VisaByRandomPart(context.Background(), "RANDOM01")
		if err != nil || got.VisaNumber != a.VisaNumber {
			t.Fatalf("VisaByRandomPart = %+v, %v", got, err)
		}
		if _, err := s.VisaByRandomPart(context.Background(), "NOSUCH00"); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("unknown random part: %v", err)
		}
	})
}

func TestRevokeVisaIsIdempotentAndAudited(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		app, visa := issueTestVisa(t, s, "REVOKE-A", "PK2Y-26-REVOKE01-1")
		if _, _, err := s.RevokeVisa(ctx, "PK2Y-26-NOSUCH00-0", "fraud_or_misrepresentation", "supervisor:u1",
			time.Now()); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("unknown visa: %v", err)
		}
		at := time.Now().UTC().Truncate(time.Millisecond)
		rev, created, err := s.RevokeVisa(ctx, visa.VisaNumber, "fraud_or_misrepresentation", "supervisor:u1", at)
		if err != nil || !created || rev.ApplicationID != app.ID || !rev.RevokedAt().Equal(at) {
			t.Fatalf("revoke: %+v, %v, %v", rev, created, err)
		}
		again, created, err := s.RevokeVisa(ctx, visa.VisaNumber, "holder_request", "supervisor:u2", at.Add(time.Hour))
		if err != nil || created || again != rev {
			t.Fatalf("second revoke: %+v, %v, %v; want the first unchanged", again, created, err)
		}
		entries, err := s.ListAudit(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var revoked []db.AuditRecord
		for _, e := range entries {
			if e.Action == "visa.revoked" {
				revoked = append(revoked, e)
			}
		}
		if len(revoked) != 1 || revoked[0].Subject != app.ID || revoked[0].Actor != "supervisor:u1" ||
			!strings.Contains(revoked[0].Detail, "reason=fraud_or_misrepresentation") {
			t.Fatalf("audit entries %+v", revoked)
		}
		if rep, err := s.VerifyAudit(ctx); err != nil || !rep.Intact {
			t.Fatalf("audit chain: %+v, %v", rep, err)
		}
		list, err := s.Revocations(ctx)
		if err != nil || len(list) != 1 || list[0] != rev {
			t.Fatalf("Revocations = %+v, %v", list, err)
		}
		if got, err := s.RevocationOf(ctx, visa.VisaNumber); err != nil || got != rev {
			t.Fatalf("RevocationOf = %+v, %v", got, err)
		}
	})
}
