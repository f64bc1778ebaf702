package casework

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/internal/dbtest"
)

// TestStartMarksMarkEveryStart: many submissions marking their starts at once
// all end up marked, though most of them only queue their id (group commit).
func TestStartMarksMarkEveryStart(t *testing.T) {
	store := dbtest.SQLite(t)
	ctx := context.Background()
	const n = 200
	ids := make([]string, n)
	now := time.Now().UTC().Truncate(time.Millisecond)
	for i := range ids {
		ids[i] = fmt.Sprintf("app_%025d", i+1)
		if _, _, err := store.CreateApplication(ctx, db.NewApplication{
			ID: ids[i], Reference: fmt.Sprintf("PKV-%05d-MARKS", i+1), Product: "business_2y",
			PassportHash: fmt.Sprintf("hash-%d", i), FormSealed: "v1.sealed", RequestHash: fmt.Sprintf("req-%d", i),
			SubmittedAt: now, SLADueAt: now.Add(24 * time.Hour),
		}); err != nil {
			t.Fatal(err)
		}
	}
	var m startMarks
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.mark(ctx, store, id); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		unstarted, err := store.UnstartedApplications(ctx, now.Add(time.Hour), n)
		if err != nil {
			t.Fatal(err)
		}
		m.mu.Lock()
		writing, pending := m.writing, len(m.pending)
		m.mu.Unlock()
		if len(unstarted) == 0 && !writing && pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d starts never marked (writing %v, %d pending)", len(unstarted), n, writing, pending)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
