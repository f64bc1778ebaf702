package db_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
)

// Read-model writes from a case's workflow are ordered by its sequence
// number: one that arrives after a later one (a claim recorded after the
// release that followed it) lands on the timeline but leaves the case as the
// later write set it (issue 12, defect 4).
func TestStaleReadModelWritesAreIgnored(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		app, _, err := s.CreateApplication(ctx, newApp("SEQ1"))
		if err != nil {
			t.Fatal(err)
		}
		at := time.Now().UTC().Truncate(time.Millisecond)
		if err := s.RecordStatus(ctx, db.StatusChange{ApplicationID: app.ID, Seq: 1,
			Status: domain.StatusAwaitingReview, Event: domain.EventScreened, Actor: "system", At: at}); err != nil {
			t.Fatal(err)
		}
		// The release (seq 3) is recorded before the claim it follows (seq 2).
		if err := s.RecordAssignment(ctx, db.Assignment{ApplicationID: app.ID, Seq: 3,
			Actor: "supervisor:usr_s", At: at}); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordAssignment(ctx, db.Assignment{ApplicationID: app.ID, Seq: 2, Assignee: "usr_o",
			Actor: "officer:usr_o", At: at}); err != nil {
			t.Fatal(err)
		}
		// The breach (seq 5) before the escalation (seq 4).
		due := at.Add(time.Hour)
		if err := s.RecordSLAEvent(ctx, db.SLAEvent{ApplicationID: app.ID, Seq: 5, Event: domain.EventSLABreached,
			At: at, DueAt: due, Escalated: true, Breached: true}); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordSLAEvent(ctx, db.SLAEvent{ApplicationID: app.ID, Seq: 4, Event: domain.EventEscalated,
			At: at, DueAt: due, Escalated: true}); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetApplication(ctx, app.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Assignee.Valid {
			t.Errorf("assignee %q: the stale claim (seq 2) overwrote the release (seq 3)", got.Assignee.String)
		}
		if !got.Breached || !got.Escalated {
			t.Errorf("escalated=%v breached=%v: the stale escalation (seq 4) overwrote the breach (seq 5)",
				got.Escalated, got.Breached)
		}
		events, err := s.Timeline(ctx, app.ID)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range events {
			names = append(names, e.Event)
		}
		want := "submitted screened claimed released escalated sla_breached"
		if got := strings.Join(names, " "); got != want {
			t.Errorf("timeline %q, want %q (every write is kept on the timeline, in sequence order)", got, want)
		}
	})
}
