package db_test

// Store methods whose behaviour under concurrency differs between the
// dialects. SQLite opens every transaction with an immediate write lock, so
// there one transaction runs at a time and a race cannot happen; PostgreSQL
// runs them side by side at READ COMMITTED. Each test runs on both (CI sets
// VISA_TEST_POSTGRES_URL, and .ci/run fails if the PostgreSQL runs were skipped).

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
)

// race starts n goroutines at once (behind a barrier, so they really overlap)
// and waits for them; fn gets the goroutine's number.
func race(n int, fn func(i int)) {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			defer done.Done()
			ready.Done()
			<-start
			fn(i)
		}(i)
	}
	ready.Wait()
	close(start)
	done.Wait()
}

// Several dispatchers claiming the outbox at the same moment get disjoint
// sets, and together every due notification exactly once.
func TestClaimNotificationsConcurrentlyClaimsEachOnce(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		const apps, claimers = 60, 8
		for i := 0; i < apps; i++ { // each application enqueues its "received" notification
			if _, _, err := s.CreateApplication(ctx, newApp(fmt.Sprintf("CLAIM-%d", i))); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now().Add(time.Second)
		var mu sync.Mutex
		claims := map[string]int{}
		var errs []error
		race(claimers, func(int) {
			for round := 0; round < 50; round++ {
				got, err := s.ClaimNotifications(ctx, now, time.Minute, 5)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				for _, n := range got {
					claims[fmt.Sprintf("%s/%d", n.ApplicationID, n.Seq)]++
				}
				mu.Unlock()
				if err != nil || len(got) == 0 {
					return
				}
			}
		})
		for _, err := range errs {
			t.Errorf("claim: %v", err)
		}
		twice := 0
		for key, n := range claims {
			if n > 1 {
				twice++
				t.Errorf("%s claimed %d times", key, n)
			}
		}
		if len(claims) != apps {
			t.Errorf("%d distinct notifications claimed, want %d (%d claimed more than once)", len(claims), apps, twice)
		}
		// Everything is leased now: nothing more is due until the lease ends.
		if again, err := s.ClaimNotifications(ctx, now, time.Minute, 100); err != nil || len(again) != 0 {
			t.Errorf("while leased: claimed %d more (%v)", len(again), err)
		}
	})
}

// The reconciler's view: accepted applications without a started workflow,
// oldest first, until they are marked started, also by overlapping calls.
func TestMarkWorkflowsStartedAndUnstartedApplications(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		base := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
		var ids []string
		for i := 0; i < 6; i++ {
			in := newApp(fmt.Sprintf("UNSTARTED-%d", i))
			in.SubmittedAt = base.Add(time.Duration(6-i) * time.Minute) // inserted newest first
			app, _, err := s.CreateApplication(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			ids = append([]string{app.ID}, ids...) // oldest first
		}
		unstarted := func(cutoff time.Time, limit int) []string {
			t.Helper()
			apps, err := s.UnstartedApplications(ctx, cutoff, limit)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range apps {
				got = append(got, a.ID)
			}
			return got
		}
		if got := unstarted(time.Now(), 4); fmt.Sprint(got) != fmt.Sprint(ids[:4]) {
			t.Fatalf("unstarted (limit 4) = %v, want the oldest four %v", got, ids[:4])
		}
		if got := unstarted(base.Add(3*time.Minute), 10); fmt.Sprint(got) != fmt.Sprint(ids[:2]) {
			t.Fatalf("unstarted before the cutoff = %v, want %v", got, ids[:2])
		}
		// Overlapping batches of ids, marked at the same moment by several callers.
		var mu sync.Mutex
		var errs []error
		race(6, func(i int) {
			err := s.MarkWorkflowsStarted(ctx, ids[i/2*2:min(len(ids), i/2*2+3)])
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
		})
		for _, err := range errs {
			t.Errorf("mark: %v", err)
		}
		if got := unstarted(time.Now(), 10); len(got) != 0 {
			t.Fatalf("still unstarted after marking: %v", got)
		}
		for _, id := range ids {
			if a, err := s.GetApplication(ctx, id); err != nil || !a.WorkflowStarted {
				t.Fatalf("%s: started=%v err=%v", id, a.WorkflowStarted, err)
			}
		}
		if err := s.MarkWorkflowsStarted(ctx, nil); err != nil {
			t.Fatalf("no ids: %v", err)
		}
	})
}

func newChamber(t *testing.T, s *db.Store, name string) string {
	t.Helper()
	seqMu.Lock()
	seq++
	n := seq
	seqMu.Unlock()
	id := fmt.Sprintf("chb_%s_%d", name, n)
	now := time.Now().UnixMilli()
	if err := s.CreateChamber(context.Background(), db.Chamber{ID: id, Name: name, CreatedAtMS: now},
		db.User{ID: "usr_" + id, Name: name, Role: string(domain.RoleChamber), TokenHash: "th-" + id,
			CreatedAtMS: now}); err != nil {
		t.Fatal(err)
	}
	return id
}

// The same batch posted several times at once (a client retrying on a
// timeout) is stored once, and every post gets that one batch back.
func TestCreateBatchConcurrentPostsStoreOneBatch(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		chamber := newChamber(t, s, "batchrace")
		const posts = 8
		batches := make([]db.Batch, posts)
		created := make([]bool, posts)
		errs := make([]error, posts)
		race(posts, func(i int) {
			batches[i], created[i], errs[i] = s.CreateBatch(ctx, db.Batch{
				ID: fmt.Sprintf("bat_race_%s_%d", chamber, i), ChamberID: chamber, Reference: "REF-1",
				ContentHash: "hash-1", TotalRows: 3, RowsSealed: "v1.sealed", CreatedAtMS: time.Now().UnixMilli(),
			})
		})
		nCreated := 0
		for i := range batches {
			if errs[i] != nil {
				t.Fatalf("post %d: %v", i, errs[i])
			}
			if created[i] {
				nCreated++
			}
			if batches[i].ID != batches[0].ID || batches[i].Status != db.BatchAccepted {
				t.Fatalf("post %d got batch %+v, post 0 got %s", i, batches[i], batches[0].ID)
			}
		}
		if nCreated != 1 {
			t.Fatalf("%d posts created a batch, want exactly 1", nCreated)
		}
		// Other content under the same reference is another batch.
		other, isNew, err := s.CreateBatch(ctx, db.Batch{ID: "bat_other_" + chamber, ChamberID: chamber,
			Reference: "REF-1", ContentHash: "hash-2", TotalRows: 1, RowsSealed: "v1.sealed",
			CreatedAtMS: time.Now().UnixMilli()})
		if err != nil || !isNew || other.ID == batches[0].ID {
			t.Fatalf("other content: %+v created=%v err=%v", other, isNew, err)
		}
	})
}

// A batch's rows recorded by several activity attempts at once (a retry
// overlapping a slow first attempt) create each row's application once; the
// report lists every row once, in order, with its application.
func TestRecordBatchRowsConcurrentlyAndReport(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		chamber := newChamber(t, s, "rowsrace")
		batch, _, err := s.CreateBatch(ctx, db.Batch{ID: "bat_rows_" + chamber, ChamberID: chamber, Reference: "R",
			ContentHash: "h", TotalRows: 6, RowsSealed: "v1.sealed", CreatedAtMS: time.Now().UnixMilli()})
		if err != nil {
			t.Fatal(err)
		}
		var rows []db.BatchRowInput
		for i := 1; i <= 5; i++ {
			n := newApp(fmt.Sprintf("ROWS-%s-%d", chamber, i))
			n.ID = fmt.Sprintf("app_%s_row%d", batch.ID, i) // deterministic per row, as the activity makes them
			n.BatchID, n.EndorsedBy = batch.ID, chamber
			rows = append(rows, db.BatchRowInput{RowNumber: i, Application: &n})
		}
		rows = append(rows, db.BatchRowInput{RowNumber: 6,
			Errors: `[{"pointer":"/rows/6/surname","code":"required"}]`})
		const attempts = 4
		results := make([][]db.BatchRowResult, attempts)
		errs := make([]error, attempts)
		race(attempts, func(i int) { results[i], errs[i] = s.RecordBatchRows(ctx, batch.ID, rows, time.Now()) })
		createdPerRow := map[int]int{}
		for i := range results {
			if errs[i] != nil {
				t.Fatalf("attempt %d: %v", i, errs[i])
			}
			for _, r := range results[i] {
				if r.RowNumber <= 5 {
					want := fmt.Sprintf("app_%s_row%d", batch.ID, r.RowNumber)
					if r.ApplicationID != want || (r.Outcome != db.RowCreated && r.Outcome != db.RowExisting) {
						t.Fatalf("attempt %d row %d: %+v, want %s created or existing", i, r.RowNumber, r, want)
					}
				} else if r.Outcome != db.RowInvalid {
					t.Fatalf("attempt %d row 6: %+v, want invalid", i, r)
				}
				if r.Outcome == db.RowCreated {
					createdPerRow[r.RowNumber]++
				}
			}
		}
		for i := 1; i <= 5; i++ {
			if createdPerRow[i] != 1 {
				t.Errorf("row %d created by %d attempts, want exactly 1", i, createdPerRow[i])
			}
		}
		var n int
		if err := s.DB().Get(&n, s.DB().Rebind(`SELECT COUNT(*) FROM applications WHERE batch_id = ?`),
			batch.ID); err != nil || n != 5 {
			t.Fatalf("%d applications for the batch (%v), want 5", n, err)
		}
		report, err := s.GetBatchReport(ctx, batch.ID)
		if err != nil || len(report) != 6 {
			t.Fatalf("report: %d rows, %v", len(report), err)
		}
		for i, r := range report {
			if r.RowNumber != i+1 {
				t.Fatalf("report row %d is row %d: out of order", i, r.RowNumber)
			}
			if i < 5 && (!r.ApplicationID.Valid || !r.Reference.Valid ||
				r.Status.String != string(domain.StatusReceived)) {
				t.Fatalf("report row %d: %+v", i+1, r)
			}
		}
		if last := report[5]; last.Outcome != db.RowInvalid || last.ApplicationID.Valid || last.Errors == "" {
			t.Fatalf("invalid row in report: %+v", last)
		}
		if empty, err := s.GetBatchReport(ctx, "bat_none"); err != nil || len(empty) != 0 {
			t.Fatalf("unknown batch: %v %v", empty, err)
		}
	})
}

// Straight-through processing asks whether the passport was refused within a
// window; only a refusal of that passport inside the window counts.
func TestRecentRefusal(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		refusedIn := newApp("REFUSED-" + time.Now().Format("150405.000"))
		app, _, err := s.CreateApplication(ctx, refusedIn)
		if err != nil {
			t.Fatal(err)
		}
		decidedAt := time.Now().Add(-30 * 24 * time.Hour)
		if err := s.RecordStatus(ctx, db.StatusChange{ApplicationID: app.ID, Seq: 1, Status: domain.StatusRefused,
			Event: domain.EventRefused, Actor: "officer:u1", At: decidedAt,
			Decision: &domain.Decision{Outcome: domain.OutcomeRefuse, ReasonCode: "R1", DecidedBy: "officer:u1"}}); err != nil {
			t.Fatal(err)
		}
		withdrawn, _, err := s.CreateApplication(ctx, newApp("WITHDRAWN-"+app.ID))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RecordStatus(ctx, db.StatusChange{ApplicationID: withdrawn.ID, Seq: 1,
			Status: domain.StatusWithdrawn, Event: domain.EventWithdrawn, Actor: "applicant", At: decidedAt}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			hash  string
			since time.Time
			want  bool
		}{
			{refusedIn.PassportHash, time.Now().AddDate(-1, 0, 0), true},
			{refusedIn.PassportHash, decidedAt.Add(time.Millisecond), false}, // refused before the window
			{withdrawn.PassportHash, time.Now().AddDate(-1, 0, 0), false},    // closed, not refused
			{"hash-never-seen", time.Now().AddDate(-1, 0, 0), false},
		} {
			got, err := s.RecentRefusal(ctx, c.hash, c.since)
			if err != nil || got != c.want {
				t.Errorf("RecentRefusal(%s, since %s) = %v, %v; want %v", c.hash, c.since.Format(time.DateOnly), got,
					err, c.want)
			}
		}
	})
}

// A roster pages by membership number, and one chamber never sees another's members.
func TestListMembersPages(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		mine, theirs := newChamber(t, s, "mine"), newChamber(t, s, "theirs")
		member := func(number string) db.Member {
			return db.Member{MembershipNumber: number, Surname: "Abenov", GivenNames: "Nurlan", DateOfBirth: "1985-03-14",
				Nationality: "KAZ", PassportHash: "ph-" + number, PassportHint: "N…01", Status: "active",
				ValidUntil: "2030-01-01"}
		}
		var want []string
		var ms []db.Member
		for _, n := range []string{"M-07", "M-03", "M-01", "M-05", "M-02", "M-06", "M-04"} {
			ms = append(ms, member(n))
		}
		for i := 1; i <= 7; i++ {
			want = append(want, fmt.Sprintf("M-%02d", i))
		}
		if _, _, err := s.UpsertMembers(ctx, mine, ms, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.UpsertMembers(ctx, theirs, []db.Member{member("M-035")}, time.Now()); err != nil {
			t.Fatal(err)
		}
		var got []string
		after, pages := "", 0
		for {
			page, next, err := s.ListMembers(ctx, mine, after, 3)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, m := range page {
				got = append(got, m.MembershipNumber)
				if m.ChamberID != mine {
					t.Fatalf("member %s of chamber %s listed for %s", m.MembershipNumber, m.ChamberID, mine)
				}
			}
			if next == "" || pages > 5 {
				break
			}
			after = next
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || pages != 3 {
			t.Fatalf("roster in %d pages: %v, want %v in 3", pages, got, want)
		}
		if page, next, err := s.ListMembers(ctx, mine, "M-07", 3); err != nil || len(page) != 0 || next != "" {
			t.Fatalf("after the last member: %v %q %v", page, next, err)
		}
	})
}
