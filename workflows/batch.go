package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/visad/visad/activities"
)

// Batch workflow tuning: rows validated and recorded per activity, and pages
// per run before continuing as new, which keeps every history a few hundred
// events long whatever the batch size.
const (
	BatchPageRows    = 500
	BatchPagesPerRun = 8
)

// BatchWorkflowID is the workflow of one batch.
func BatchWorkflowID(batchID string) string { return "batch/" + batchID }

// BatchInput starts (or continues) a batch from NextRow.
type BatchInput struct {
	BatchID string
	NextRow int
	// Admission so far, carried across continue-as-new: rows read, rows
	// that needed a workflow, and how long starting those took.
	Admission AdmissionProgress
	// PageRows and PagesPerRun size pages and runs; zero means BatchPageRows
	// and BatchPagesPerRun. Only the history recorder sets them, to record a
	// batch that continues as new with a few rows.
	PageRows    int `json:",omitempty"`
	PagesPerRun int `json:",omitempty"`
}

// AdmissionProgress is what a batch has learnt about admitting its rows.
type AdmissionProgress struct {
	RowsRead       int
	RowsToStart    int
	RowsStarted    int
	StartingMillis int64
}

// Admission planning: until a batch has measured its own start rate it
// assumes this one, a cautious figure for the embedded server. The plan
// holds rows a half longer than the estimate: the rate falls as the batch
// goes on, and rows that wake while others are still being started slow the
// starts down further.
const (
	assumedStartsPerSecond = 150.0
	admissionMargin        = 1.5
)

// WorkAfter plans when the applications of a page begin work: one whole
// admission (with a margin) after they were admitted. Working the first rows while the rest
// are still being started would slow the starts down (the server does one or
// the other), so a batch is admitted in full first and its rows then begin
// work in the order, and at about the pace, they were admitted. A small batch
// begins at once; the wait is bounded by MaxWorkDelay. p already counts the
// page.
func (p AdmissionProgress) WorkAfter(now time.Time, page activities.BatchPageResult) time.Time {
	rate := assumedStartsPerSecond
	if p.RowsStarted > 0 && p.StartingMillis > 0 {
		rate = float64(p.RowsStarted) / (float64(p.StartingMillis) / 1000)
	}
	// Rows of the batch that will need a workflow: those seen so far, and
	// the rest at the share seen so far (a corrected repost starts few).
	share := 1.0
	if p.RowsRead > 0 {
		share = float64(p.RowsToStart) / float64(p.RowsRead)
	}
	toStart := float64(p.RowsToStart) + share*float64(max(page.TotalRows-page.NextRow, 0))
	wait := time.Duration(admissionMargin * toStart / rate * float64(time.Second))
	if wait < time.Second {
		return time.Time{}
	}
	return now.Add(min(wait, activities.MaxWorkDelay))
}

// BatchWorkflow turns a chamber's batch into applications, a page at a time:
// validate and record the page's rows, then admit the page's application
// workflows with bounded concurrency while the next page is validated. Rows
// start at once but begin work when the batch is expected to be admitted in
// full. It survives restarts like any workflow and continues as new every few
// pages.
func BatchWorkflow(ctx workflow.Context, in BatchInput) error {
	var (
		starting      workflow.Future // the previous page's start activity, still running
		startingRows  int
		startingSince time.Time
	)
	awaitStarts := func() error {
		if starting == nil {
			return nil
		}
		err := starting.Get(ctx, nil)
		starting = nil
		if err == nil {
			in.Admission.RowsStarted += startingRows
			in.Admission.StartingMillis += workflow.Now(ctx).Sub(startingSince).Milliseconds()
		}
		return err
	}
	for pages := 0; ; pages++ {
		if pages == orDefault(in.PagesPerRun, BatchPagesPerRun) {
			// Drain what is in flight before continuing as new.
			if err := awaitStarts(); err != nil {
				return err
			}
			return workflow.NewContinueAsNewError(ctx, BatchWorkflow, in)
		}
		var page activities.BatchPageResult
		if err := workflow.ExecuteActivity(batchPageCtx(ctx), acts.ProcessBatchPage, activities.BatchPageInput{
			BatchID: in.BatchID, FromRow: in.NextRow, Rows: orDefault(in.PageRows, BatchPageRows),
		}).Get(ctx, &page); err != nil {
			return err
		}
		if err := awaitStarts(); err != nil {
			return err
		}
		in.Admission.RowsRead += page.NextRow - in.NextRow
		if len(page.ToStart) > 0 {
			in.Admission.RowsToStart += len(page.ToStart)
			now := workflow.Now(ctx)
			starting = workflow.ExecuteActivity(startCtx(ctx), acts.AdmitApplications, activities.AdmissionInput{
				Refs: page.ToStart, WorkAfter: in.Admission.WorkAfter(now, page),
			})
			startingRows, startingSince = len(page.ToStart), now
		}
		in.NextRow = page.NextRow
		if page.Done {
			if err := awaitStarts(); err != nil {
				return err
			}
			return workflow.ExecuteActivity(writeCtx(ctx), acts.CompleteBatch, in.BatchID).Get(ctx, nil)
		}
	}
}

func batchPageCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrTypeApplicationMissing},
		},
	})
}

// startCtx is for starting a page of workflows: heartbeats show it is alive,
// and a retry re-starts nothing (starts are idempotent).
func startCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
		},
	})
}

func orDefault(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}
