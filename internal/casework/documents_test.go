package casework_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/blobstore"
	"github.com/visad/visad/internal/casework"
	"github.com/visad/visad/internal/codec"
	"github.com/visad/visad/internal/dbtest"
	"github.com/visad/visad/internal/documents"
	"github.com/visad/visad/internal/documents/doctest"
	"github.com/visad/visad/internal/keys"
)

// hookedBlobs is a real filesystem blob store that can run a function
// before it deletes a blob (once).
type hookedBlobs struct {
	*blobstore.FS
	mu           sync.Mutex
	beforeDelete func(name string)
}

func (h *hookedBlobs) Delete(ctx context.Context, name string) error {
	h.mu.Lock()
	hook := h.beforeDelete
	h.beforeDelete = nil
	h.mu.Unlock()
	if hook != nil {
		hook(name)
	}
	return h.FS.Delete(ctx, name)
}

// clock is a settable time.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

func forEachStore(t *testing.T, fn func(t *testing.T, s *db.Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, dbtest.SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, dbtest.Postgres(t)) })
}

func documentService(t *testing.T, store *db.Store) (*casework.Service, *hookedBlobs, *clock) {
	t.Helper()
	fs, err := blobstore.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	blobs := &hookedBlobs{FS: fs}
	secret, payload := make([]byte, 32), make([]byte, codec.KeySize)
	_, _ = rand.Read(secret)
	_, _ = rand.Read(payload)
	k, err := keys.New(secret)
	if err != nil {
		t.Fatal(err)
	}
	vault, err := documents.NewVault(blobs, []codec.Key{{ID: "k1", Key: payload}}, k.DocumentAddress)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{now: time.Now().UTC().Truncate(time.Millisecond)}
	return &casework.Service{Store: store, Keys: k, Documents: vault, UploadTTL: time.Minute, Now: c.Now,
		Log: slog.New(slog.DiscardHandler)}, blobs, c
}

// An applicant uploads a file equal to an expired upload while the sweeper
// removes that upload: the two share one blob (content addressing), and the
// sweeper must not remove it from under the new upload. The sweeper has
// already found that no kept row shares the blob when the upload starts;
// the upload completes (in the old code) before the blob is deleted.
func TestSweepRacingAnEqualUploadKeepsItsBlob(t *testing.T) {
	forEachStore(t, func(t *testing.T, store *db.Store) {
		ctx := context.Background()
		svc, blobs, clk := documentService(t, store)
		letter := doctest.PDF("Invitation to the Lahore trade fair, shared by two uploads")
		first, err := svc.StoreUpload(ctx, domain.DocumentInvitationLetter, letter, "")
		if err != nil {
			t.Fatal(err)
		}
		clk.Add(2 * time.Minute) // the first upload expired unused
		var second casework.Upload
		uploaded := make(chan error, 1)
		blobs.beforeDelete = func(string) {
			go func() {
				var err error
				second, err = svc.StoreUpload(ctx, domain.DocumentInvitationLetter, letter, "")
				uploaded <- err
			}()
			select { // let the upload finish first if it can
			case err := <-uploaded:
				uploaded <- err
			case <-time.After(time.Second):
			}
		}
		n, err := svc.SweepDocuments(ctx)
		if err != nil || n != 1 {
			t.Fatalf("sweep: %d, %v", n, err)
		}
		if err := <-uploaded; err != nil {
			t.Fatalf("second upload: %v", err)
		}
		if _, err := store.GetDocument(ctx, first.ID); err != nil {
			t.Fatal(err)
		}
		row, err := store.GetDocument(ctx, second.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := svc.Documents.Get(ctx, row.BlobRef)
		if errors.Is(err, blobstore.ErrNotFound) {
			t.Fatal("the second upload's blob was removed by the sweep of the first")
		}
		if err != nil || !bytes.Equal(got, letter) {
			t.Fatalf("second upload's blob: %v", err)
		}
	})
}

// A failure to store the blob leaves no blob without a row: the row comes
// first, expires unattached, and the sweep removes it.
func TestAnUploadWhoseRowFailsLeavesNoBlob(t *testing.T) {
	store := dbtest.SQLite(t)
	svc, blobs, _ := documentService(t, store)
	ctx := context.Background()
	if err := store.Close(); err != nil { // the database is gone: the insert fails
		t.Fatal(err)
	}
	letter := doctest.PDF("never stored")
	if _, err := svc.StoreUpload(ctx, domain.DocumentInvitationLetter, letter, ""); err == nil {
		t.Fatal("an upload with the database closed succeeded")
	}
	if ok, err := blobs.Exists(ctx, svc.Documents.Ref(letter)); err != nil || ok {
		t.Fatalf("a blob was written without its row (%v)", err)
	}
}
