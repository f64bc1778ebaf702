package db_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/dbtest"
)

// forEachDialect runs a test on SQLite, and on PostgreSQL when
// VISA_TEST_POSTGRES_URL names a server (CI always sets it).
func forEachDialect(t *testing.T, fn func(t *testing.T, s *db.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, dbtest.SQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, dbtest.Postgres(t))
	})
}

var seq int
var seqMu sync.Mutex

func newApp(passport string) db.NewApplication {
	seqMu.Lock()
	seq++
	n := seq
	seqMu.Unlock()
	now := time.Now().UTC().Truncate(time.Millisecond)
	return db.NewApplication{
		ID:           fmt.Sprintf("app_%025d", n),
		Reference:    fmt.Sprintf("PKV-%05d-TEST0", n),
		Product:      "business_2y",
		PassportHash: "hash-" + passport,
		FormSealed:   "v1.sealed",
		RequestHash:  "req-" + passport,
		SubmittedAt:  now,
		SLADueAt:     now.Add(24 * time.Hour),
	}
}

func TestCreateApplicationRecordsReceived(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		in := newApp("P1")
		app, created, err := s.CreateApplication(ctx, in)
		if err != nil || !created {
			t.Fatalf("create: created=%v err=%v", created, err)
		}
		if app.Status != "received" || app.Reference != in.Reference || app.WorkflowStarted {
			t.Fatalf("unexpected row %+v", app)
		}
		events, err := s.Timeline(ctx, app.ID)
		if err != nil || len(events) != 1 || events[0].Event != "submitted" {
			t.Fatalf("timeline = %+v, %v", events, err)
		}
	})
}

// A second open application for a passport is accepted (refusing it told the
// caller that the passport had applied, and let an impostor block the holder),
// and each is reported as a suspected duplicate of the other.
func TestOpenApplicationsForOnePassportAreFlagged(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		first, _, err := s.CreateApplication(ctx, newApp("DUP"))
		if err != nil {
			t.Fatal(err)
		}
		second, created, err := s.CreateApplication(ctx, newApp("DUP"))
		if err != nil || !created {
			t.Fatalf("second open application: created=%v err=%v", created, err)
		}
		// Another product for the same passport is no duplicate.
		other := newApp("DUP")
		other.Product = "business_5y_multi"
		five, _, err := s.CreateApplication(ctx, other)
		if err != nil {
			t.Fatalf("other product: %v", err)
		}
		dups, err := s.SuspectedDuplicates(ctx, []string{first.ID, second.ID, five.ID})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]string{first.ID: {second.ID}, second.ID: {first.ID}}
		if !reflect.DeepEqual(dups, want) {
			t.Fatalf("suspected duplicates %v, want %v", dups, want)
		}
		// A closed case is no longer anyone's suspected duplicate.
		withdrawal := db.StatusChange{ApplicationID: first.ID, Seq: 1, Status: "withdrawn", Event: "withdrawn",
			Actor: "applicant", At: time.Now()}
		if err := s.RecordStatus(ctx, withdrawal); err != nil {
			t.Fatal(err)
		}
		if dups, err = s.SuspectedDuplicates(ctx, []string{second.ID}); err != nil || len(dups) != 0 {
			t.Fatalf("after withdrawal: %v %v", dups, err)
		}
	})
}

func TestIdempotencyKey(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		in := newApp("IDEM")
		in.IdempotencyKeyHash = "key-1-" + in.ID
		first, created, err := s.CreateApplication(ctx, in)
		if err != nil || !created {
			t.Fatal(created, err)
		}
		again := newApp("IDEM") // fresh id and reference, same key and request
		again.IdempotencyKeyHash = in.IdempotencyKeyHash
		second, created, err := s.CreateApplication(ctx, again)
		if err != nil || created || second.ID != first.ID {
			t.Fatalf("replay: created=%v id=%s err=%v", created, second.ID, err)
		}
		changed := newApp("IDEM-OTHER")
		changed.IdempotencyKeyHash = in.IdempotencyKeyHash
		if _, _, err := s.CreateApplication(ctx, changed); !errors.Is(err, db.ErrIdempotencyMismatch) {
			t.Fatalf("want mismatch, got %v", err)
		}
	})
}

func TestConcurrentSubmissionsWithOneKeyCreateOne(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		key := fmt.Sprintf("concurrent-%d", time.Now().UnixNano())
		var wg sync.WaitGroup
		ids := make([]string, 8)
		errs := make([]error, 8)
		for i := range ids {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				in := newApp("CONC")
				in.IdempotencyKeyHash = key
				app, _, err := s.CreateApplication(ctx, in)
				ids[i], errs[i] = app.ID, err
			}(i)
		}
		wg.Wait()
		for i := range ids {
			if errs[i] != nil {
				t.Fatalf("request %d: %v", i, errs[i])
			}
			if ids[i] != ids[0] {
				t.Fatalf("two applications for one key: %s and %s", ids[0], ids[i])
			}
		}
	})
}

func TestRecordStatusIsIdempotentAndOrdered(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		app, _, err := s.CreateApplication(ctx, newApp("ORDER"))
		if err != nil {
			t.Fatal(err)
		}
		at := time.Now()
		hit := true
		for _, c := range []db.StatusChange{
			{ApplicationID: app.ID, Seq: 1, Status: "validating", Event: "validation_started", Actor: "system", At: at},
			{ApplicationID: app.ID, Seq: 2, Status: "screening", Event: "screening_started", Actor: "system", At: at},
			{ApplicationID: app.ID, Seq: 3, Status: "awaiting_review", Event: "screened", Actor: "system", At: at,
				ScreeningHit: &hit},
			// A retried, older change arriving late must not move the case back.
			{ApplicationID: app.ID, Seq: 2, Status: "screening", Event: "screening_started", Actor: "system", At: at},
		} {
			if err := s.RecordStatus(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.GetApplication(ctx, app.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != "awaiting_review" || got.StatusSeq != 3 || !got.ScreeningHit || !got.WorkflowStarted {
			t.Fatalf("row = %+v", got)
		}
		events, _ := s.Timeline(ctx, app.ID)
		if len(events) != 4 { // received + 3 distinct changes
			t.Fatalf("want 4 events, got %d", len(events))
		}
	})
}

func TestIssueVisaOnceWithUniqueNumber(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		a, _, _ := s.CreateApplication(ctx, newApp("VISA-A"))
		b, _, _ := s.CreateApplication(ctx, newApp("VISA-B"))
		issue := func(appID string, candidates ...string) (domain.Visa, error) {
			return s.IssueVisa(ctx, db.VisaIssue{
				Change: db.StatusChange{ApplicationID: appID, Seq: 5, Status: "issued", Event: "issued", Actor: "officer:u1",
					At: time.Now(), Decision: &domain.Decision{Outcome: "approve", DecidedBy: "officer:u1"}},
				Product: "business_2y", ValidFrom: "2026-01-01", ValidUntil: "2028-01-01", Entries: "multiple", MaxStayDays: 90,
				NumberCandidate: func(i int) string {
					return candidates[i%len(candidates)] + strings.Repeat("X", i/len(candidates))
				},
			})
		}
		va, err := issue(a.ID, "N-1")
		if err != nil {
			t.Fatal(err)
		}
		again, err := issue(a.ID, "N-OTHER")
		if err != nil || again.VisaNumber != va.VisaNumber {
			t.Fatalf("retry issued %q, want %q (%v)", again.VisaNumber, va.VisaNumber, err)
		}
		// b's first candidate collides with a's number: it must get the next one.
		vb, err := issue(b.ID, "N-1", "N-2")
		if err != nil || vb.VisaNumber != "N-2" {
			t.Fatalf("b got %q (%v)", vb.VisaNumber, err)
		}
		got, _ := s.GetApplication(ctx, b.ID)
		if got.Status != "issued" || got.Decision.String != "approve" {
			t.Fatalf("b row = %+v", got)
		}
	})
}

func TestListCasesPagesBySLA(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		base := time.Now().UTC().Truncate(time.Millisecond)
		var want []string
		for i := 0; i < 7; i++ {
			in := newApp(fmt.Sprintf("PAGE-%d", i))
			in.Product = "business_5y_multi"
			// Inserted in reverse due order: the queue must sort them.
			in.SLADueAt = base.Add(time.Duration(10-i) * time.Hour)
			app, _, err := s.CreateApplication(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			want = append([]string{app.ID}, want...)
		}
		var got []string
		var after *db.CaseCursor
		for page := 0; page < 10; page++ {
			rows, next, err := s.ListCases(
				ctx,
				db.CaseFilter{Product: "business_5y_multi", Status: "received", Limit: 3, After: after},
			)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				got = append(got, r.ID)
			}
			if next == nil {
				break
			}
			after = next
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("queue order\n got %v\nwant %v", got, want)
		}
	})
}

func TestUsers(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		u := db.User{ID: "usr_1", Name: "Officer One", Role: "officer", TokenHash: "th1", CreatedAtMS: time.Now().UnixMilli()}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		got, err := s.UserByTokenHash(ctx, "th1")
		if err != nil || got.Role != "officer" || !got.Active(time.Now()) {
			t.Fatalf("got %+v %v", got, err)
		}
		if ok, err := s.RevokeUser(ctx, "usr_1", time.Now()); !ok || err != nil {
			t.Fatalf("revoke: %v %v", ok, err)
		}
		got, _ = s.UserByTokenHash(ctx, "th1")
		if got.Active(time.Now()) {
			t.Fatal("revoked user still active")
		}
		if _, err := s.UserByTokenHash(ctx, "nope"); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("want not found, got %v", err)
		}
	})
}

func TestMigrateTwiceIsHarmless(t *testing.T) {
	path := filepath.Join(t.TempDir(), "twice.db")
	for i := 0; i < 2; i++ {
		s, err := db.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatalf("migrate run %d: %v", i, err)
		}
		s.Close()
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}
