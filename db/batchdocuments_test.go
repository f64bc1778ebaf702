package db_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
)

// uploadFor records an upload: the chamber's (chamberID) or anonymous (""),
// expiring at expires.
func uploadFor(t *testing.T, s *db.Store, kind domain.DocumentKind, chamberID string, expires time.Time) string {
	t.Helper()
	seqMu.Lock()
	seq++
	id := fmt.Sprintf("upl_%032d", seq)
	seqMu.Unlock()
	if err := s.InsertDocument(context.Background(), db.NewDocument{ID: id, Kind: kind,
		MediaType: domain.MediaPDF, SizeBytes: 100, BlobRef: "blob-" + id, UploadedAt: time.Now(),
		ExpiresAt: expires, ChamberID: chamberID}); err != nil {
		t.Fatal(err)
	}
	return id
}

// A batch's rows name uploads: a row whose uploads are usable gets its
// application with them attached, by every overlapping attempt exactly
// once; a row naming an upload it may not use (another chamber's, expired,
// of another kind, another application's) is invalid with that entry's
// error, and creates and attaches nothing. The applicant's routes cannot
// use a chamber's upload.
func TestRecordBatchRowsAttachesTheirUploads(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		chamber, other := newChamber(t, s, "letters"), newChamber(t, s, "others")
		batch, _, err := s.CreateBatch(ctx, db.Batch{ID: "bat_docs_" + chamber, ChamberID: chamber, Reference: "R",
			ContentHash: "h", TotalRows: 6, RowsSealed: "v1.sealed", CreatedAtMS: time.Now().UnixMilli()})
		if err != nil {
			t.Fatal(err)
		}
		later, past := time.Now().Add(time.Hour), time.Now().Add(-time.Minute)
		letter := domain.DocumentChamberRecommendation
		own1, own2 := uploadFor(t, s, letter, chamber, later), uploadFor(t, s, letter, chamber, later)
		anonymous := uploadFor(t, s, domain.DocumentPhotograph, "", later)
		othersLetter := uploadFor(t, s, letter, other, later)
		expired := uploadFor(t, s, letter, chamber, past)
		photo := uploadFor(t, s, domain.DocumentPhotograph, chamber, later)
		elsewhere := newApp("ELSEWHERE-" + chamber)
		taken := uploadFor(t, s, letter, "", later)
		elsewhere.Documents = []db.DocumentLink{{Kind: letter, UploadID: taken}}
		if _, _, err := s.CreateApplication(ctx, elsewhere); err != nil {
			t.Fatal(err)
		}
		ref := func(kind domain.DocumentKind, id string) domain.DocumentRef {
			return domain.DocumentRef{Kind: kind, UploadID: id}
		}
		row := func(n int, docs ...domain.DocumentRef) db.BatchRowInput {
			a := newApp(fmt.Sprintf("DOCS-%s-%d", chamber, n))
			a.ID = fmt.Sprintf("app_%s_row%d", batch.ID, n)
			a.BatchID, a.EndorsedBy = batch.ID, chamber
			return db.BatchRowInput{RowNumber: n, Application: &a, Documents: docs}
		}
		rows := []db.BatchRowInput{
			row(1, ref(letter, own1), ref(domain.DocumentPhotograph, anonymous)),
			row(2, domain.DocumentRef{}, ref(letter, own2)), // entry 0 blanked (the cell's own error)
			row(3, ref(letter, othersLetter)),
			row(4, ref(letter, expired)),
			row(5, ref(letter, photo)),
			row(6, ref(letter, taken)),
		}
		const attempts = 3
		errs := make([]error, attempts)
		race(attempts, func(i int) { _, errs[i] = s.RecordBatchRows(ctx, batch.ID, rows, time.Now()) })
		for i, err := range errs {
			// An attempt that lost the race for an upload rolls back; the activity tries it again.
			if err != nil && !errors.Is(err, db.ErrUploadTaken) {
				t.Fatalf("attempt %d: %v", i, err)
			}
		}
		// Replayed after a crash: nothing attached twice, nothing fails.
		results, err := s.RecordBatchRows(ctx, batch.ID, rows, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		want := map[int]string{3: "/documents/0/upload_id unknown_upload", 4: "/documents/0/upload_id upload_expired",
			5: "/documents/0/kind kind_mismatch", 6: "/documents/0/upload_id upload_in_use"}
		for _, r := range results {
			if r.RowNumber <= 2 {
				if r.Outcome != db.RowExisting || r.ApplicationID != rows[r.RowNumber-1].Application.ID {
					t.Errorf("row %d replayed: %+v", r.RowNumber, r)
				}
				continue
			}
			if r.Outcome != db.RowInvalid || r.ApplicationID != "" {
				t.Errorf("row %d: %+v, want invalid", r.RowNumber, r)
			}
		}
		report, err := s.GetBatchReport(ctx, batch.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range report[2:] {
			var fe domain.FieldErrors
			if err := json.Unmarshal([]byte(r.Errors), &fe); err != nil || len(fe) != 1 ||
				fe[0].Pointer+" "+fe[0].Code != want[r.RowNumber] || fe[0].Column != domain.BatchColumnDocuments {
				t.Errorf("row %d errors %s, want %s", r.RowNumber, r.Errors, want[r.RowNumber])
			}
		}
		for id, owner := range map[string]string{own1: rows[0].Application.ID, anonymous: rows[0].Application.ID,
			own2: rows[1].Application.ID, othersLetter: "", expired: "", photo: "", taken: elsewhere.ID} {
			d, err := s.GetDocument(ctx, id)
			if err != nil || d.ApplicationID.String != owner {
				t.Errorf("upload %s belongs to %q (%v), want %q", id, d.ApplicationID.String, err, owner)
			}
		}
		var n int
		if err := s.DB().Get(&n, s.DB().Rebind(`SELECT COUNT(*) FROM applications WHERE batch_id = ?`),
			batch.ID); err != nil || n != 2 {
			t.Fatalf("%d applications for the batch (%v), want 2", n, err)
		}

		// A chamber's upload serves only its batch rows: not an application, not an answer.
		free := uploadFor(t, s, letter, chamber, later)
		app := newApp("APPLICANT-" + chamber)
		app.Documents = []db.DocumentLink{{Kind: letter, UploadID: free}}
		var unknown *db.UnknownUploadError
		if _, _, err := s.CreateApplication(ctx, app); !errors.As(err, &unknown) {
			t.Errorf("an application naming a chamber's upload: %v", err)
		}
		if err := s.AttachDocuments(ctx, elsewhere.ID, app.Documents, time.Now()); !errors.As(err, &unknown) {
			t.Errorf("an answer naming a chamber's upload: %v", err)
		}
	})
}

// A batch accepted keeps the uploads it names; rows found invalid when it
// was posted are in the report at once, until the batch's own processing
// records them.
func TestKeepUploadsAndEarlyRowErrors(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		chamber := newChamber(t, s, "early")
		soon := time.Now().Add(time.Minute).Truncate(time.Millisecond)
		id := uploadFor(t, s, domain.DocumentChamberRecommendation, chamber, soon)
		until := time.Now().Add(24 * time.Hour).Truncate(time.Millisecond)
		if err := s.KeepUploads(ctx, []string{id, "upl_none"}, until); err != nil {
			t.Fatal(err)
		}
		docs, err := s.DocumentsByID(ctx, []string{id, "upl_none"})
		if err != nil || len(docs) != 1 || docs[0].ExpiresAtMS.Int64 != until.UnixMilli() ||
			docs[0].ChamberID.String != chamber {
			t.Fatalf("kept upload: %+v %v", docs, err)
		}
		batch, _, err := s.CreateBatch(ctx, db.Batch{ID: "bat_early_" + chamber, ChamberID: chamber, Reference: "R",
			ContentHash: "h", TotalRows: 2, RowsSealed: "v1.sealed", CreatedAtMS: time.Now().UnixMilli()})
		if err != nil {
			t.Fatal(err)
		}
		early := map[int]domain.FieldErrors{2: {{Pointer: "/documents/0/upload_id", Column: "documents",
			Code: domain.CodeUnknownUpload}}}
		if err := s.RecordBatchRowErrors(ctx, batch.ID, early); err != nil {
			t.Fatal(err)
		}
		report, err := s.GetBatchReport(ctx, batch.ID)
		if err != nil || len(report) != 1 || report[0].RowNumber != 2 || report[0].Outcome != db.RowInvalid {
			t.Fatalf("report after posting: %+v %v", report, err)
		}
		a := newApp("EARLY-" + chamber)
		a.BatchID, a.EndorsedBy = batch.ID, chamber
		if _, err := s.RecordBatchRows(ctx, batch.ID, []db.BatchRowInput{{RowNumber: 2, Application: &a}},
			time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordBatchRowErrors(ctx, batch.ID, early); err != nil { // posted again: no effect
			t.Fatal(err)
		}
		if report, _ = s.GetBatchReport(ctx, batch.ID); len(report) != 1 || report[0].Outcome != db.RowCreated {
			t.Fatalf("report after processing: %+v", report)
		}
	})
}
