package db_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/internal/keys"
)

func keyring(t *testing.T, sealing ...keys.Key) *keys.Keyring {
	t.Helper()
	k, err := keys.NewKeyring(keys.Config{
		Sealing: sealing,
		Index:   bytes.Repeat([]byte{2}, keys.KeySize),
		Tokens:  []keys.Key{{ID: "t1", Key: bytes.Repeat([]byte{3}, keys.KeySize)}},
		Audit:   []keys.Key{{ID: "test-a1", Key: bytes.Repeat([]byte{4}, keys.KeySize)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Finding 7: `visad keys rotate` re-seals every sealed value under the new
// sealing key, seals what older versions wrote in clear, and a second run
// has nothing to do; the old key can then go.
func TestRotateResealsEverySealedColumn(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		s1 := keys.Key{ID: "s1", Key: bytes.Repeat([]byte{5}, keys.KeySize)}
		s2 := keys.Key{ID: "s2", Key: bytes.Repeat([]byte{6}, keys.KeySize)}
		old := keyring(t, s1)
		s.UseKeys(old)

		n := newApp("ROTATE-1")
		var err error
		if n.FormSealed, err = old.Seal([]byte(`{"form":1}`), n.ID); err != nil {
			t.Fatal(err)
		}
		app, _, err := s.CreateApplication(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		at := time.Now().UTC().Truncate(time.Millisecond)
		if err := s.RecordStatus(ctx, db.StatusChange{ApplicationID: app.ID, Seq: 1, Status: "information_requested",
			Event: "information_requested", Actor: "officer:usr_1", Detail: "Mr Zqx, send your invitation", At: at,
			Note: "a note"}); err != nil {
			t.Fatal(err)
		}
		chamber := db.Chamber{ID: "chb_rotate", Name: "C", CreatedAtMS: at.UnixMilli()}
		if err := s.CreateChamber(ctx, chamber, db.User{ID: "usr_rotate", Name: "C", Role: "chamber",
			TokenHash: "th-rotate", CreatedAtMS: at.UnixMilli()}); err != nil {
			t.Fatal(err)
		}
		member := db.Member{MembershipNumber: "M1", Surname: "Zqx", GivenNames: "Ann", DateOfBirth: "1980-01-01",
			Nationality: "KAZ", PassportHash: "ph", PassportHint: "***1", Status: "active", ValidUntil: "2030-01-01"}
		if _, _, err := s.UpsertMembers(ctx, chamber.ID, []db.Member{member}, at); err != nil {
			t.Fatal(err)
		}
		// Rows an older version wrote in clear.
		if _, err := s.DB().Exec(s.DB().Rebind(`INSERT INTO timeline_events
			(application_id, seq, at, status, event, actor, detail) VALUES (?, 2, ?, 'awaiting_review',
			'information_provided', 'applicant', 'my answer, Zqx')`), app.ID, at.UnixMilli()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB().Exec(s.DB().Rebind(`INSERT INTO chamber_members (chamber_id, membership_number, surname,
			given_names, date_of_birth, nationality, passport_hash, passport_hint, status, valid_until, updated_at)
			VALUES (?, 'M2', 'Old', 'Row', '1970-02-02', 'KAZ', 'ph2', '***2', 'active', '2030-01-01', 0)`),
			chamber.ID); err != nil {
			t.Fatal(err)
		}

		both := keyring(t, s2, s1)
		s.UseKeys(both)
		status, err := s.SealedStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for col, want := range map[string]int{"applications.form_sealed": 1, "timeline_events.detail_sealed": 1,
			"chamber_members.person_sealed": 1, "decision_notes.note_sealed": 1, "timeline_events.detail": 1,
			"chamber_members.person": 1} {
			if status[col] != want {
				t.Errorf("before rotation, %s: %d left, want %d", col, status[col], want)
			}
		}
		var progress []string
		report, err := s.Rotate(ctx, db.RotateOptions{BatchSize: 1, Progress: func(col string, done int) {
			progress = append(progress, col)
		}})
		if err != nil {
			t.Fatal(err)
		}
		if report.Resealed["applications.form_sealed"] != 1 || report.Resealed["decision_notes.note_sealed"] != 1 ||
			report.Resealed["timeline_events.detail_sealed"] != 1 || report.Sealed["timeline_events.detail"] != 1 ||
			report.Sealed["chamber_members.person"] != 1 || len(progress) == 0 {
			t.Fatalf("report %+v, progress %v", report, progress)
		}
		status, err = s.SealedStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for col, n := range status {
			if n != 0 {
				t.Errorf("after rotation, %s: %d values not under the new key", col, n)
			}
		}
		again, err := s.Rotate(ctx, db.RotateOptions{})
		if err != nil || len(again.Resealed)+len(again.Sealed) != 0 {
			t.Fatalf("second run: %+v, %v", again, err)
		}

		// Only the new key from here on: everything still reads.
		s.UseKeys(keyring(t, s2))
		got, err := s.GetApplication(ctx, app.ID)
		if err != nil || !strings.HasPrefix(got.FormSealed, "v2.s2.") {
			t.Fatalf("form %q, %v", got.FormSealed, err)
		}
		events, err := s.Timeline(ctx, app.ID)
		if err != nil || len(events) != 3 || events[1].Detail != "Mr Zqx, send your invitation" ||
			events[2].Detail != "my answer, Zqx" {
			t.Fatalf("timeline %+v, %v", events, err)
		}
		notes, err := s.DecisionNotes(ctx, app.ID)
		if err != nil || len(notes) != 1 || notes[0].Note != "a note" {
			t.Fatalf("notes %+v, %v", notes, err)
		}
		members, _, err := s.ListMembers(ctx, chamber.ID, "", 10)
		if err != nil || len(members) != 2 || members[0].Surname != "Zqx" || members[1].DateOfBirth != "1970-02-02" {
			t.Fatalf("members %+v, %v", members, err)
		}
		var clear int
		err = s.DB().Get(&clear, `SELECT COUNT(*) FROM chamber_members WHERE surname <> '' OR date_of_birth <> ''`)
		if err != nil || clear != 0 {
			t.Fatalf("%d roster rows in clear, %v", clear, err)
		}
	})
}
