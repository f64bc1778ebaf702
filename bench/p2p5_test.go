package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/devserver"
	"github.com/visad/visad/internal/testenv"
	"github.com/visad/visad/workflows"
)

// stpActivities is how many activities an STP case runs from submission to
// issue: record validating, validate, record screening, screen, check STP, issue.
const stpActivities = 6

func noopActivity(context.Context) error { return nil }

// skeletonWorkflow runs the same number of activities as an STP case, doing nothing.
func skeletonWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	for i := 0; i < stpActivities; i++ {
		if err := workflow.ExecuteActivity(ctx, noopActivity).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// updateWorkflow answers a no-op update until it is told to stop; each
// update runs one no-op activity before it answers, as a decision runs the
// visa-issuing activity before it answers.
func updateWorkflow(ctx workflow.Context) error {
	done := false
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	if err := workflow.SetUpdateHandler(ctx, "noop", func(ctx workflow.Context, stop bool) (string, error) {
		if err := workflow.ExecuteActivity(actx, noopActivity).Get(ctx, nil); err != nil {
			return "", err
		}
		done = stop
		return "ok", nil
	}); err != nil {
		return err
	}
	// The same with the activity run locally, as a decision runs IssueVisa.
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
	if err := workflow.SetUpdateHandler(ctx, "noop_local", func(ctx workflow.Context, stop bool) (string, error) {
		if err := workflow.ExecuteLocalActivity(lctx, noopActivity).Get(ctx, nil); err != nil {
			return "", err
		}
		done = stop
		return "ok", nil
	}); err != nil {
		return err
	}
	return workflow.Await(ctx, func() bool { return done })
}

// startStack runs the whole visad stack on an embedded Temporal server
// persisted to a SQLite file, as `make run` does.
func startStack(b *testing.B) *testenv.Env {
	ts, err := devserver.Start(context.Background(), devserver.Config{
		DatabaseFile: filepath.Join(b.TempDir(), "temporal.db"), Namespaces: []string{"default"}, LogLevel: "off",
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ts.Stop() })
	return testenv.Start(b, testenv.Options{Temporal: ts})
}

// BenchmarkP2 measures straight-through processing: submit → issued with no
// human step, completions per second and median latency, against a skeleton
// workflow running the same number of no-op activities.
func BenchmarkP2(b *testing.B) {
	n := envInt("VISA_BENCH_STP_CASES", 300)
	env := startStack(b)
	tc := env.Services.Temporal
	w := worker.New(tc, "bench-skeleton", worker.Options{})
	w.RegisterWorkflow(skeletonWorkflow)
	w.RegisterActivity(noopActivity)
	if err := w.Start(); err != nil {
		b.Fatal(err)
	}
	defer w.Stop()

	// Roster members whose two-year applications rest on the chamber's recommendation.
	warm := min(n, 50)
	forms := make([]domain.Application, warm+n)
	for i := range forms {
		f := testenv.ValidApplication(domain.ProductBusiness2Y)
		f.Visit.Host = nil
		env.EnrolMember(&f)
		forms[i] = f
	}
	bodies := make([][]byte, len(forms))
	for i, f := range forms {
		bodies[i], _ = json.Marshal(f)
	}

	var seq atomic.Int64
	skeletonCase := func() error {
		run, err := tc.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
			ID: fmt.Sprintf("bench-skeleton-%d", seq.Add(1)), TaskQueue: "bench-skeleton"}, skeletonWorkflow)
		if err != nil {
			return err
		}
		return run.Get(context.Background(), nil)
	}
	httpClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency * 2}}
	var next atomic.Int64
	stpCase := func() error {
		resp, err := httpClient.Post(
			env.HTTP.URL+"/v1/applications",
			"application/json",
			bytes.NewReader(bodies[next.Add(1)-1]),
		)
		if err != nil {
			return err
		}
		var sub struct {
			ID string `json:"id"`
		}
		err = json.NewDecoder(resp.Body).Decode(&sub)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("submit: HTTP %d %v", resp.StatusCode, err)
		}
		var st workflows.CaseState
		run := tc.GetWorkflow(context.Background(), workflows.WorkflowID(sub.ID), "")
		if err := run.Get(context.Background(), &st); err != nil {
			return err
		}
		if st.Status != domain.StatusIssued || st.Decision == nil || st.Decision.DecidedBy != "system" {
			return fmt.Errorf("case %s ended %s, not issued by the system", sub.ID, st.Status)
		}
		return nil
	}
	// Both sides warm up alike (every warm-up case runs to its end), and each
	// measured run starts once visibility has caught up with what ran before.
	settle := func(skeletons, stps int) {
		waitVisible(b, tc, "WorkflowType = 'skeletonWorkflow' AND ExecutionStatus = 'Completed'", int64(skeletons))
		waitVisible(b, tc, "WorkflowType = 'ApplicationWorkflow' AND ExecutionStatus = 'Completed'", int64(stps))
	}
	measureN(b, warm, concurrency, skeletonCase)
	measureN(b, warm, concurrency, stpCase)
	settle(warm, warm)
	skeleton := measureN(b, n, concurrency, skeletonCase)
	settle(warm+n, warm)
	stp := measureN(b, n, concurrency, stpCase)
	fmt.Printf("P2 cases=%d\n", n)
	fmt.Printf("P2 warmup_each=%d\n", warm)
	fmt.Printf("P2 skeleton_completions_per_s=%.1f\n", skeleton.throughput)
	fmt.Printf("P2 skeleton_p50_ms=%.1f\n", skeleton.p50)
	fmt.Printf("P2 stp_completions_per_s=%.1f\n", stp.throughput)
	fmt.Printf("P2 stp_submit_to_issued_p50_ms=%.1f\n", stp.p50)
	fmt.Printf("P2 stp_submit_to_issued_p99_ms=%.1f\n", stp.p99)
	fmt.Printf("P2 stp_vs_skeleton_throughput_ratio=%.2f\n", stp.throughput/skeleton.throughput)
	fmt.Printf("P2 stp_vs_skeleton_p50_latency_ratio=%.2f\n", stp.p50/skeleton.p50)
	verdict("P2", "stp_vs_skeleton_p50_latency_ratio", stp.p50/skeleton.p50, atMost, 1.2)
	b.ReportMetric(stp.throughput/skeleton.throughput, "stp/skeleton")
}

// BenchmarkP5 measures an officer's decision round trip (HTTP → Update with
// validator → visa issued → response) against a raw no-op Update.
func BenchmarkP5(b *testing.B) {
	n := envInt("VISA_BENCH_DECISIONS", 200)
	env := startStack(b)
	tc := env.Services.Temporal
	officer, _ := env.StaffToken("officer", "Bench Officer")

	w := worker.New(tc, "bench-update", worker.Options{})
	w.RegisterWorkflow(updateWorkflow)
	w.RegisterActivity(noopActivity)
	if err := w.Start(); err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	run, err := tc.ExecuteWorkflow(
		context.Background(),
		client.StartWorkflowOptions{ID: "bench-update", TaskQueue: "bench-update"},
		updateWorkflow,
	)
	if err != nil {
		b.Fatal(err)
	}

	// Cases waiting for an officer: the warm-up's, then the measured run's.
	warm := min(n, 20)
	ids := make([]string, warm+n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, concurrency)
	for i := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			r := env.Do("POST", "/v1/applications", "", testenv.ValidApplication(domain.ProductBusiness2Y))
			var sub struct{ ID, AccessToken string }
			_ = json.Unmarshal(r.Body, &sub)
			ids[i] = sub.ID
		}(i)
	}
	wg.Wait()
	for _, id := range ids {
		waitStatus(b, env, id, officer, "awaiting_review")
	}

	rawUpdateOf := func(name string) func() error {
		return func() error {
			h, err := tc.UpdateWorkflow(context.Background(), client.UpdateWorkflowOptions{
				WorkflowID: run.GetID(), UpdateName: name, Args: []any{false},
				WaitForStage: client.WorkflowUpdateStageCompleted})
			if err != nil {
				return err
			}
			var out string
			return h.Get(context.Background(), &out)
		}
	}
	rawUpdate, rawLocalUpdate := rawUpdateOf("noop"), rawUpdateOf("noop_local")
	var next atomic.Int64
	httpClient := &http.Client{}
	decision := func() error {
		id := ids[next.Add(1)-1]
		req, _ := http.NewRequest(
			"POST",
			env.HTTP.URL+"/v1/cases/"+id+"/decision",
			bytes.NewReader([]byte(`{"decision":"approve"}`)),
		)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+officer)
		resp, err := httpClient.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("decision: HTTP %d", resp.StatusCode)
		}
		return nil
	}
	// Both warm up alike, then are measured one at a time.
	measureN(b, warm, 1, rawUpdate)
	measureN(b, warm, 1, rawLocalUpdate)
	measureN(b, warm, 1, decision)
	raw := measureN(b, n, 1, rawUpdate)
	rawLocal := measureN(b, n, 1, rawLocalUpdate)
	decide := measureN(b, n, 1, decision)
	fmt.Printf("P5 decisions=%d\n", n)
	fmt.Printf("P5 warmup_each=%d\n", warm)
	fmt.Printf("P5 raw_update_p50_ms=%.1f\n", raw.p50)
	fmt.Printf("P5 raw_update_p99_ms=%.1f\n", raw.p99)
	fmt.Printf("P5 raw_local_update_p50_ms=%.1f\n", rawLocal.p50)
	fmt.Printf("P5 raw_local_update_p99_ms=%.1f\n", rawLocal.p99)
	fmt.Printf("P5 decision_round_trip_p50_ms=%.1f\n", decide.p50)
	fmt.Printf("P5 decision_round_trip_p99_ms=%.1f\n", decide.p99)
	fmt.Printf("P5 decision_vs_raw_update_p50_ratio=%.2f\n", decide.p50/raw.p50)
	// No target: how much a decision costs over the cheapest raw Update that runs an activity.
	fmt.Printf("P5 decision_vs_raw_local_update_p50_ratio=%.2f\n", decide.p50/rawLocal.p50)
	verdict("P5", "decision_vs_raw_update_p50_ratio", decide.p50/raw.p50, atMost, 1.5)
	b.ReportMetric(decide.p50/raw.p50, "decision/raw")
}

func waitStatus(b *testing.B, env *testenv.Env, id, token, status string) {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		var v struct{ Status string }
		r := env.Do("GET", "/v1/applications/"+id, token, nil)
		_ = json.Unmarshal(r.Body, &v)
		if v.Status == status {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Fatalf("%s never reached %s", id, status)
}
