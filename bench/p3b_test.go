package bench

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/sample"
)

// BenchmarkP3b posts a 10,000-row batch of clean, chamber-endorsed two-year
// applications (every applicant an active member on the chamber's roster,
// none on the watchlist) and times it until every row's visa is issued by
// straight-through processing: what a chamber waits for. The budget is
// rows ÷ the completion rate of the skeleton workflow (the same six no-op
// activities as a straight-through case, BenchmarkP2) measured in the same
// run the same way: a burst of skeletons started at the batch starter's
// concurrency, timed until the last one completes.
func BenchmarkP3b(b *testing.B) {
	for i := 0; i < b.N; i++ {
		runP3b(b)
	}
}

func runP3b(b *testing.B) {
	rows := envInt("VISA_BENCH_BATCH_ROWS", domain.MaxBatchRows)
	skeletons := envInt("VISA_BENCH_P3B_SKELETONS", max(rows/4, 100))
	env := startStack(b)
	ctx := context.Background()
	chamberID, token := env.Chamber("Benchmark Chamber of Commerce")

	people := sample.Generate(sample.Options{Rows: rows, Seed: uint64(time.Now().UnixNano())})
	members := make([]domain.Member, len(people))
	for i, p := range people {
		members[i] = p.Member
	}
	if _, _, err := env.Services.Cases.UpsertRoster(ctx, chamberID, members); err != nil {
		b.Fatal(err)
	}
	var csvBuf bytes.Buffer
	if err := sample.WriteBatchCSV(&csvBuf, people); err != nil {
		b.Fatal(err)
	}

	// The skeleton's completion rate: a warm-up, then the measured burst.
	tc := env.Services.Temporal
	w := worker.New(tc, "bench-p3b-skeleton", worker.Options{})
	w.RegisterWorkflow(skeletonWorkflow)
	w.RegisterActivity(noopActivity)
	if err := w.Start(); err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	var seq atomic.Int64
	burst := func(n int) time.Duration {
		start := time.Now()
		runs := make(chan client.WorkflowRun, n)
		measureN(b, n, 32, func() error {
			run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID: fmt.Sprintf("bench-p3b-skeleton-%d", seq.Add(1)), TaskQueue: "bench-p3b-skeleton"}, skeletonWorkflow)
			if err == nil {
				runs <- run
			}
			return err
		})
		close(runs)
		for run := range runs {
			if err := run.Get(ctx, nil); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	burst(min(skeletons, 100))
	took := burst(skeletons)
	skeletonRate := float64(skeletons) / took.Seconds()
	// The server's deferred visibility work for the skeletons, before the batch.
	waitVisible(b, tc, "WorkflowType = 'skeletonWorkflow' AND ExecutionStatus = 'Completed'",
		int64(skeletons+min(skeletons, 100)))

	req, _ := http.NewRequest("POST", env.HTTP.URL+"/v1/chambers/"+chamberID+"/batches",
		bytes.NewReader(csvBuf.Bytes()))
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", "bench-p3b-"+strconv.FormatInt(time.Now().UnixNano(), 10))
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		b.Fatalf("batch: HTTP %d", resp.StatusCode)
	}

	// Until every row is issued; a row that ends otherwise (a screening hit,
	// an officer's queue, a refusal) stops the benchmark: the batch is meant
	// to be straight through.
	var allStarted, firstIssued time.Duration
	deadline := time.Now().Add(60 * time.Minute)
	lastLog := time.Now()
	db := env.Store.DB()
	for {
		var c struct {
			Started int `db:"started"`
			Issued  int `db:"issued"`
			Other   int `db:"other"`
		}
		q := db.Rebind(`SELECT
			COALESCE(SUM(CASE WHEN workflow_started THEN 1 ELSE 0 END), 0) AS started,
			COALESCE(SUM(CASE WHEN status = ? AND decided_by = ? THEN 1 ELSE 0 END), 0) AS issued,
			COALESCE(SUM(CASE WHEN status IN (?, ?, ?, ?, ?) THEN 1 ELSE 0 END), 0) AS other
			FROM applications WHERE batch_id IS NOT NULL`)
		if err := db.Get(&c, q, string(domain.StatusIssued), domain.SystemActor.Name(),
			string(domain.StatusAwaitingReview), string(domain.StatusRefused), string(domain.StatusIneligible),
			string(domain.StatusWithdrawn), string(domain.StatusIssued)); err != nil {
			b.Fatal(err)
		}
		c.Other -= c.Issued // issued by anyone but the system counts as other
		if c.Started == rows && allStarted == 0 {
			allStarted = time.Since(start)
		}
		if c.Issued > 0 && firstIssued == 0 {
			firstIssued = time.Since(start)
		}
		if c.Other > 0 {
			b.Fatalf("%d batch rows did not go straight through (%d issued)", c.Other, c.Issued)
		}
		if c.Issued == rows {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d rows issued after %s", c.Issued, rows, time.Since(start).Round(time.Second))
		}
		if time.Since(lastLog) > 30*time.Second {
			b.Logf("P3b %s: %d started, %d issued", time.Since(start).Round(time.Second), c.Started, c.Issued)
			lastLog = time.Now()
		}
		time.Sleep(250 * time.Millisecond)
	}
	allIssued := time.Since(start)
	budget := float64(rows) / skeletonRate
	ratio := allIssued.Seconds() / budget

	fmt.Printf("P3b rows=%d\n", rows)
	fmt.Printf("P3b skeletons=%d\n", skeletons)
	fmt.Printf("P3b skeleton_completions_per_s=%.1f\n", skeletonRate)
	fmt.Printf("P3b all_started_s=%.1f\n", allStarted.Seconds())
	fmt.Printf("P3b first_issued_s=%.1f\n", firstIssued.Seconds())
	fmt.Printf("P3b all_issued_s=%.1f\n", allIssued.Seconds())
	fmt.Printf("P3b issued_per_s=%.1f\n", float64(rows)/allIssued.Seconds())
	fmt.Printf("P3b all_issued_budget_s=%.1f\n", budget)
	fmt.Printf("P3b all_issued_vs_budget_ratio=%.2f\n", ratio)
	fmt.Printf("P3b process_peak_rss_mb=%.0f\n", peakRSSMB())
	verdict("P3b", "all_issued_vs_budget_ratio", ratio, atMost, 1.25)
	b.ReportMetric(ratio, "issued/budget")
}
