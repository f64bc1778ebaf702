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
}

// BatchWorkflow turns a chamber's batch into applications, a page at a time:
// validate and record the page's rows, then start the page's application
// workflows with bounded concurrency. It survives restarts like any workflow
// and continues as new every few pages.
func BatchWorkflow(ctx workflow.Context, in BatchInput) error {
	// Version 1 overlaps the pages: while one page's workflows are being
	// started, the next page is validated and recorded.
	pipelined := workflow.GetVersion(ctx, "batch-pipeline", workflow.DefaultVersion, 1) >= 1
	var starting workflow.Future // the previous page's start activity, still running
	awaitStarts := func() error {
		if starting == nil {
			return nil
		}
		err := starting.Get(ctx, nil)
		starting = nil
		return err
	}
	for pages := 0; ; pages++ {
		if pages == BatchPagesPerRun {
			// Drain what is in flight before continuing as new.
			if err := awaitStarts(); err != nil {
				return err
			}
			return workflow.NewContinueAsNewError(ctx, BatchWorkflow, in)
		}
		var page activities.BatchPageResult
		if err := workflow.ExecuteActivity(batchPageCtx(ctx), acts.ProcessBatchPage,
			activities.BatchPageInput{BatchID: in.BatchID, FromRow: in.NextRow, Rows: BatchPageRows}).Get(ctx, &page); err != nil {
			return err
		}
		if err := awaitStarts(); err != nil {
			return err
		}
		if len(page.ToStart) > 0 {
			starting = workflow.ExecuteActivity(startCtx(ctx), acts.StartApplicationWorkflows, page.ToStart)
			if !pipelined {
				if err := awaitStarts(); err != nil {
					return err
				}
			}
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
