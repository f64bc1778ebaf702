package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/visad/visad/activities"
	"github.com/visad/visad/workflows"
)

func refs(n int) []activities.ApplicationRef {
	out := make([]activities.ApplicationRef, n)
	for i := range out {
		out[i] = activities.ApplicationRef{ID: fmt.Sprintf("app_%d", i), Product: "business_2y"}
	}
	return out
}

func TestWorkAfterPlansTheEndOfAdmission(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	page := func(toStart, next, total int) activities.BatchPageResult {
		return activities.BatchPageResult{ToStart: refs(toStart), NextRow: next, TotalRows: total}
	}
	cases := []struct {
		name     string
		progress workflows.AdmissionProgress
		page     activities.BatchPageResult
		want     time.Duration // 0: at once
	}{
		{"small batch works at once", workflows.AdmissionProgress{RowsRead: 10, RowsToStart: 10}, page(10, 10, 10), 0},
		{"first page of 10,000 at the assumed rate",
			workflows.AdmissionProgress{
				RowsRead:    500,
				RowsToStart: 500,
			}, page(500, 500, 10000), 1.5 * 10000 * time.Second / 150},
		{"measured rate replaces the assumption",
			workflows.AdmissionProgress{RowsRead: 1000, RowsToStart: 1000, RowsStarted: 500, StartingMillis: 2000},
			page(500, 1000, 10000), 1.5 * 10000 * time.Second / 250},
		{"a corrected repost expects few starts",
			workflows.AdmissionProgress{RowsRead: 500, RowsToStart: 50},
			page(50, 500, 10000), 1.5 * (50 + 950) * time.Second / 150},
		{"a repost of rows already started: the rows it starts begin at once",
			workflows.AdmissionProgress{RowsRead: 9500, RowsToStart: 5, RowsStarted: 0},
			page(5, 9500, 10000), 0},
		{"bounded", workflows.AdmissionProgress{RowsRead: 500, RowsToStart: 500, RowsStarted: 500, StartingMillis: 100000},
			page(500, 1000, 10000), activities.MaxWorkDelay},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.progress.WorkAfter(now, c.page)
			if c.want == 0 {
				if !got.IsZero() {
					t.Fatalf("work after %v, want at once", got)
				}
				return
			}
			if d := got.Sub(now) - c.want; d < -time.Millisecond || d > time.Millisecond {
				t.Fatalf("work after +%v, want +%v", got.Sub(now), c.want)
			}
		})
	}
}

// TestBatchWorkflowAdmitsPagesWithAPlan runs a three-page batch: every page is
// admitted with a WorkAfter at the expected end of admission, measured from
// the pages already started, and the batch completes.
func TestBatchWorkflowAdmitsPagesWithAPlan(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: unitDeadlockWindow})
	env.RegisterWorkflow(workflows.BatchWorkflow)
	env.RegisterActivity(acts)
	const total = 3 * workflows.BatchPageRows

	env.OnActivity(acts.ProcessBatchPage, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BatchPageInput) (activities.BatchPageResult, error) {
			next := min(in.FromRow+in.Rows, total)
			return activities.BatchPageResult{
				ToStart:   refs(next - in.FromRow),
				NextRow:   next,
				Done:      next == total,
				TotalRows: total,
			}, nil
		})
	var (
		mu    sync.Mutex
		plans []time.Duration // WorkAfter relative to the admission's start
	)
	const admitting = 2 * time.Second
	env.OnActivity(acts.AdmitApplications, mock.Anything, mock.Anything).After(admitting).Return(
		func(_ context.Context, in activities.AdmissionInput) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			// The mock runs when the simulated admission ends.
			plans = append(plans, in.WorkAfter.Sub(env.Now().Add(-admitting)))
			return len(in.Refs), nil
		})
	completed := false
	env.OnActivity(acts.CompleteBatch, mock.Anything, mock.Anything).Return(
		func(context.Context, string) error { completed = true; return nil })

	env.ExecuteWorkflow(workflows.BatchWorkflow, workflows.BatchInput{BatchID: "bat_1"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if !completed {
		t.Fatal("batch not completed")
	}
	// Every page waits one whole admission and a half: 1,500 rows at the
	// assumed 150/s for the first, then at the measured 250/s (500 rows took 2 s).
	want := []time.Duration{15 * time.Second, 9 * time.Second, 9 * time.Second}
	if len(plans) != len(want) {
		t.Fatalf("admitted %d pages, want %d", len(plans), len(want))
	}
	for i := range want {
		if d := plans[i] - want[i]; d < -100*time.Millisecond || d > 100*time.Millisecond {
			t.Errorf("page %d works after +%v, want +%v", i+1, plans[i], want[i])
		}
	}
}

// A batch sized by its input (as the history recorder sizes one) reads pages
// of PageRows and continues as new after PagesPerRun pages, carrying its place
// and its admission so far.
func TestBatchWorkflowContinuesAsNewAfterPagesPerRun(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: unitDeadlockWindow})
	env.RegisterWorkflow(workflows.BatchWorkflow)
	env.RegisterActivity(acts)
	const total = 7
	var reads []activities.BatchPageInput
	env.OnActivity(acts.ProcessBatchPage, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BatchPageInput) (activities.BatchPageResult, error) {
			reads = append(reads, in)
			next := min(in.FromRow+in.Rows, total)
			return activities.BatchPageResult{
				ToStart: refs(next - in.FromRow), NextRow: next, Done: next == total, TotalRows: total,
			}, nil
		})
	env.OnActivity(acts.AdmitApplications, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.AdmissionInput) (int, error) { return len(in.Refs), nil })

	env.ExecuteWorkflow(workflows.BatchWorkflow, workflows.BatchInput{BatchID: "bat_1", PageRows: 2, PagesPerRun: 2})
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("workflow ended with %v, want continue-as-new", err)
	}
	want := []activities.BatchPageInput{{BatchID: "bat_1", FromRow: 0, Rows: 2}, {BatchID: "bat_1", FromRow: 2, Rows: 2}}
	if !slices.Equal(reads, want) {
		t.Errorf("pages read %+v, want %+v", reads, want)
	}
	var next workflows.BatchInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if next.NextRow != 4 || next.PageRows != 2 || next.PagesPerRun != 2 ||
		next.Admission.RowsRead != 4 || next.Admission.RowsStarted != 4 {
		t.Errorf("continued with %+v, want row 4 of pages of 2, 2 a run, 4 rows read and started", next)
	}
}
