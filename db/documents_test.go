package db_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
)

var uploadSeq atomic.Int64

// newUpload records an unattached upload of blob ref that expires at expires.
func newUpload(t *testing.T, s *db.Store, ref string, expires time.Time) db.NewDocument {
	t.Helper()
	d := db.NewDocument{ID: fmt.Sprintf("upl_%032d", uploadSeq.Add(1)), Kind: domain.DocumentInvitationLetter,
		MediaType: domain.MediaPDF, SizeBytes: 100, BlobRef: ref, UploadedAt: expires.Add(-time.Minute),
		ExpiresAt: expires}
	if err := s.InsertDocument(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	return d
}

// An upload attached by a submission stamped just before the upload expired,
// and committed after the sweeper listed the upload as expired, stays
// attached: the sweep deletes only what is still unattached and expired.
func TestSweepSparesAnUploadAttachedAfterItWasListed(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		expires := time.Now().UTC().Truncate(time.Millisecond)
		up := newUpload(t, s, "ref-attach-race", expires)
		listed, err := s.DocumentsToDelete(ctx, expires.Add(time.Second), time.Time{}, 10)
		if err != nil || len(listed) != 1 || listed[0].ID != up.ID {
			t.Fatalf("listed %+v, %v", listed, err)
		}
		// The submission was stamped before the expiry; its transaction commits now.
		app := newApp("ATTACH-RACE")
		app.SubmittedAt = expires.Add(-time.Second)
		app.Documents = []db.DocumentLink{{Kind: up.Kind, UploadID: up.ID}}
		if _, _, err := s.CreateApplication(ctx, app); err != nil {
			t.Fatalf("attach: %v", err)
		}
		removed := 0
		deleted, err := s.SweepDocument(ctx, listed[0], expires.Add(time.Second), time.Time{},
			func(string) error { removed++; return nil })
		if err != nil || deleted || removed != 0 {
			t.Fatalf("sweep of an attached upload: deleted=%v removed=%d err=%v", deleted, removed, err)
		}
		docs, err := s.ApplicationDocuments(ctx, app.ID)
		if err != nil || len(docs) != 1 || docs[0].ID != up.ID {
			t.Fatalf("the application's documents %+v, %v: the attached upload was swept", docs, err)
		}
	})
}

// Two sweepers deleting two expired uploads that share one blob at the same
// moment remove the blob exactly once: neither leaves it behind thinking the
// other's row still needs it.
func TestConcurrentSweepsOfUploadsSharingABlobRemoveItOnce(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		for round := 0; round < 20; round++ {
			expires := time.Now().UTC().Truncate(time.Millisecond)
			ref := fmt.Sprintf("ref-shared-%d", round)
			a, b := newUpload(t, s, ref, expires), newUpload(t, s, ref, expires)
			rows := map[string]db.Document{}
			listed, err := s.DocumentsToDelete(ctx, expires.Add(time.Second), time.Time{}, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range listed {
				rows[r.ID] = r
			}
			var removed, deleted atomic.Int64
			race(2, func(i int) {
				d, err := s.SweepDocument(ctx, rows[[]string{a.ID, b.ID}[i]], expires.Add(time.Second), time.Time{},
					func(got string) error {
						if got != ref {
							t.Errorf("removed %q, want %q", got, ref)
						}
						removed.Add(1)
						return nil
					})
				if err != nil {
					t.Errorf("sweep: %v", err)
				}
				if d {
					deleted.Add(1)
				}
			})
			if deleted.Load() != 2 || removed.Load() != 1 {
				t.Fatalf("round %d: %d deleted, blob removed %d times; want 2 and once", round, deleted.Load(),
					removed.Load())
			}
		}
	})
}

// A sweep that removes a blob holds its transaction until the blob is gone;
// an upload of the same file meanwhile waits for it, so it cannot count on a
// blob about to disappear (the service writes the blob again after the
// insert when it is missing).
func TestInsertOfASharedBlobWaitsForTheSweepRemovingIt(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		expires := time.Now().UTC().Truncate(time.Millisecond)
		old := newUpload(t, s, "ref-reupload", expires)
		listed, err := s.DocumentsToDelete(ctx, expires.Add(time.Second), time.Time{}, 10)
		if err != nil || len(listed) != 1 {
			t.Fatalf("listed %+v, %v", listed, err)
		}
		inserted := make(chan struct{})
		var insertedAt, removedAt time.Time
		deleted, err := s.SweepDocument(ctx, listed[0], expires.Add(time.Second), time.Time{}, func(string) error {
			go func() {
				d := db.NewDocument{ID: "upl_again" + old.ID[9:], Kind: old.Kind, MediaType: old.MediaType,
					SizeBytes: 100, BlobRef: old.BlobRef, UploadedAt: expires, ExpiresAt: expires.Add(time.Hour)}
				if err := s.InsertDocument(ctx, d); err != nil {
					t.Errorf("insert: %v", err)
				}
				insertedAt = time.Now()
				close(inserted)
			}()
			select { // the insert must still be waiting after a while
			case <-inserted:
				t.Error("the insert of a row sharing the blob did not wait for the sweep")
			case <-time.After(500 * time.Millisecond):
			}
			removedAt = time.Now()
			return nil
		})
		if err != nil || !deleted {
			t.Fatalf("sweep: %v %v", deleted, err)
		}
		<-inserted
		if insertedAt.Before(removedAt) {
			t.Fatal("the insert finished before the blob was removed")
		}
	})
}
