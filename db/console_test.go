package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
)

// The console's queue: escalated first, then by deadline; open cases only by
// default; the screening filter; keyset pages that neither skip nor repeat.
func TestQueueOrderFiltersAndPages(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Millisecond)
		mk := func(passport string, due time.Duration) string {
			in := newApp(passport)
			in.SLADueAt = now.Add(due)
			app, _, err := s.CreateApplication(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			return app.ID
		}
		late := mk("Q1", 30*time.Hour)   // escalated below: first despite the latest deadline
		soon := mk("Q2", 2*time.Hour)    // the soonest deadline of the rest
		middle := mk("Q3", 10*time.Hour) // matched the watchlist
		later := mk("Q4", 20*time.Hour)  //
		closed := mk("Q5", 1*time.Hour)  // issued: left out of the open queue
		if err := s.RecordSLAEvent(ctx, db.SLAEvent{ApplicationID: late, Seq: 2, Event: domain.EventEscalated,
			At: now, DueAt: now.Add(30 * time.Hour), Escalated: true}); err != nil {
			t.Fatal(err)
		}
		hit := true
		if err := s.RecordStatus(ctx, db.StatusChange{ApplicationID: middle, Seq: 2, Status: domain.StatusAwaitingReview,
			Event: domain.EventScreened, Actor: "system", At: now, ScreeningHit: &hit}); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordStatus(ctx, db.StatusChange{ApplicationID: closed, Seq: 2, Status: domain.StatusIssued,
			Event: domain.EventIssued, Actor: "system", At: now,
			Decision: &domain.Decision{Outcome: domain.OutcomeApprove, DecidedBy: "system"}}); err != nil {
			t.Fatal(err)
		}
		mine := map[string]bool{late: true, soon: true, middle: true, later: true, closed: true}
		ids := func(f db.CaseFilter) []string {
			var out []string
			for {
				rows, next, err := s.ListCases(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rows {
					if mine[r.ID] { // other tests share the PostgreSQL database
						out = append(out, r.ID)
					}
				}
				if next == nil {
					return out
				}
				f.After = next
			}
		}
		want := []string{late, soon, middle, later}
		for _, limit := range []int{1, 2, 50} {
			got := ids(db.CaseFilter{OpenOnly: true, Limit: limit})
			if !equal(got, want) {
				t.Errorf("open queue in pages of %d: %v, want %v", limit, got, want)
			}
		}
		if got := ids(db.CaseFilter{Limit: 2}); len(got) != 5 {
			t.Errorf("unfiltered queue: %v, want all five", got)
		}
		if got := ids(db.CaseFilter{OpenOnly: true, ScreeningHitOnly: true, Limit: 1}); !equal(got, []string{middle}) {
			t.Errorf("screening hits: %v, want %v", got, []string{middle})
		}
		if got := ids(db.CaseFilter{OpenOnly: true, EscalatedOnly: true}); !equal(got, []string{late}) {
			t.Errorf("escalated: %v, want %v", got, []string{late})
		}
	})
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The dashboard's aggregates: open cases at past instants, cases near their
// deadline, decisions and breaches since a time.
func TestDashboardAggregates(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		base := time.Now().UTC().Add(-10 * time.Hour).Truncate(time.Millisecond)
		apps := make([]string, 3)
		for i := range apps {
			in := newApp("D" + string(rune('A'+i)))
			in.SubmittedAt = base.Add(time.Duration(i) * time.Hour)
			in.SLADueAt = base.Add(time.Duration(10+i) * time.Hour) // due 0, 1 and 2 hours from now
			app, _, err := s.CreateApplication(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			apps[i] = app.ID
		}
		// The first is refused by an officer at base+5h; the second breaches at base+6h.
		officer := "officer:usr_dash" + apps[0][len(apps[0])-6:]
		if err := s.RecordStatus(ctx, db.StatusChange{ApplicationID: apps[0], Seq: 2, Status: domain.StatusRefused,
			Event: domain.EventRefused, Actor: officer, At: base.Add(5 * time.Hour),
			Decision: &domain.Decision{Outcome: domain.OutcomeRefuse, ReasonCode: "other", DecidedBy: officer}}); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordSLAEvent(ctx, db.SLAEvent{ApplicationID: apps[1], Seq: 2, Event: domain.EventSLABreached,
			At: base.Add(6 * time.Hour), DueAt: base.Add(11 * time.Hour), Breached: true}); err != nil {
			t.Fatal(err)
		}
		before, err := s.OpenAt(ctx, []time.Time{base.Add(-time.Hour), base.Add(90 * time.Minute),
			base.Add(4 * time.Hour), base.Add(5 * time.Hour), base.Add(9 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		// Other tests' cases share PostgreSQL: compare differences, which only ours make.
		// At +90 min two of ours were open; at +4h three; at +5h the refusal closed one.
		if d := before[1] - before[0]; d != 2 {
			t.Errorf("open at +90m minus before: %d, want 2 (%v)", d, before)
		}
		if d := before[2] - before[1]; d != 1 {
			t.Errorf("open at +4h minus +90m: %d, want 1 (%v)", d, before)
		}
		if d := before[3] - before[2]; d != -1 {
			t.Errorf("open at +5h minus +4h: %d, want -1 (%v)", d, before)
		}
		due, err := s.DueBefore(ctx, base.Add(11*time.Hour+30*time.Minute), 1000)
		if err != nil {
			t.Fatal(err)
		}
		found := map[string]bool{}
		for _, d := range due {
			found[d.ID] = true
		}
		if found[apps[0]] || !found[apps[1]] || found[apps[2]] {
			t.Errorf("due before +11h30: %v; want the second only (the first is closed, the third due later)", found)
		}
		decisions, err := s.DecisionsSince(ctx, base.Add(4*time.Hour), 1000)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, d := range decisions {
			if d.Actor == officer {
				n++
				if d.Event != string(domain.EventRefused) || !d.At().Equal(base.Add(5*time.Hour)) {
					t.Errorf("decision %+v", d)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d decisions by %s since +4h, want 1", n, officer)
		}
		if later, _ := s.DecisionsSince(ctx, base.Add(5*time.Hour+time.Millisecond), 1000); len(later) > 0 {
			for _, d := range later {
				if d.Actor == officer {
					t.Errorf("a decision before the window counted: %+v", d)
				}
			}
		}
		b1, err := s.CountEventsSince(ctx, domain.EventSLABreached, base.Add(6*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		b2, _ := s.CountEventsSince(ctx, domain.EventSLABreached, base.Add(6*time.Hour+time.Millisecond))
		if b1-b2 != 1 {
			t.Errorf("breaches at +6h: %d then %d just after; want one fewer", b1, b2)
		}
	})
}
