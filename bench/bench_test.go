// Package bench measures visad against the raw Temporal baseline on the same
// embedded server in the same run. `make bench` prints every figure on a line
// of its own as "P1 <name>=<value>".
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/testenv"
	"github.com/visad/visad/workflows"
)

const (
	concurrency = 16
	warmup      = 100
)

// requests per measured run; VISA_BENCH_REQUESTS overrides for quick looks.
var requests = envInt("VISA_BENCH_REQUESTS", 2000)

func envInt(key string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(key)); err == nil && v > 0 {
		return v
	}
	return def
}

func noopWorkflow(ctx workflow.Context) error { return nil }

// BenchmarkP1 compares POST /v1/applications (validate, seal, record in the
// database, start the workflow) with a bare client.ExecuteWorkflow carrying
// the same input, both at concurrency 16 against the embedded server
// persisted to SQLite, as `make run` uses it. Both are measured with every
// worker paused, so that neither side's workflows run inside the measured
// window and the ratio is the API's own cost of a start; both are warmed up
// alike first (with the workers running, until the warm-up cases are done).
func BenchmarkP1(b *testing.B) {
	for i := 0; i < b.N; i++ {
		runP1(b)
	}
}

// noopInputWorkflow takes what an application's workflow takes and does nothing.
func noopInputWorkflow(ctx workflow.Context, in workflows.ApplicationInput) error { return nil }

func runP1(b *testing.B) {
	env := startStack(b)
	tc := env.Services.Temporal

	// Raw baseline: a start with an application workflow's input; the warm-up
	// runs on a polled task queue, the measured starts on one no worker polls.
	const warmQueue, pausedQueue = "bench-p1-warm", "bench-p1-paused"
	w := worker.New(tc, warmQueue, worker.Options{})
	w.RegisterWorkflow(noopInputWorkflow)
	if err := w.Start(); err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	var seq atomic.Int64
	raw := func(queue string) func() error {
		return func() error {
			n := seq.Add(1)
			_, err := tc.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
				ID: fmt.Sprintf("bench-p1-%d", n), TaskQueue: queue,
			}, noopInputWorkflow, workflows.ApplicationInput{
				ApplicationID: fmt.Sprintf("app_bench%d", n), Product: domain.ProductBusiness2Y,
				SubmittedAt: time.Now(), SLA: 24 * time.Hour,
			})
			return err
		}
	}

	// The API path, with a distinct valid application per request, built up front.
	bodies := make([][]byte, requests+warmup)
	for i := range bodies {
		bodies[i], _ = json.Marshal(testenv.ValidApplication(domain.ProductBusiness2Y))
	}
	httpClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency * 2}}
	var next atomic.Int64
	submit := func() error {
		body := bodies[next.Add(1)-1]
		resp, err := httpClient.Post(env.HTTP.URL+"/v1/applications", "application/json", bytes.NewReader(body))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("submit: HTTP %d", resp.StatusCode)
		}
		return nil
	}

	// Warm both alike, and wait until the warm-up cases have finished their
	// work (raw: completed; API: waiting for an officer) and visibility has
	// recorded them, so that none of it runs inside a measured window.
	b.ResetTimer()
	measure(b, warmup, raw(warmQueue))
	measure(b, warmup, submit)
	waitVisible(b, tc, "TaskQueue = '"+warmQueue+"' AND ExecutionStatus = 'Completed'", warmup)
	waitCount(b, env, "SELECT COUNT(*) FROM applications WHERE status = ?", warmup, string(domain.StatusAwaitingReview))
	env.Worker.Stop()
	w.Stop()

	rawRes := measure(b, requests, raw(pausedQueue))
	// The server records a start in visibility after acknowledging it: let
	// that catch up before the API's run, so it does not pay for the raw one.
	waitVisible(b, tc, "TaskQueue = '"+pausedQueue+"'", int64(requests))
	apiRes := measure(b, requests, submit)
	b.StopTimer()

	ratio := apiRes.throughput / rawRes.throughput
	fmt.Printf("P1 concurrency=%d\n", concurrency)
	fmt.Printf("P1 requests=%d\n", requests)
	fmt.Printf("P1 warmup_each=%d\n", warmup)
	fmt.Printf("P1 workers=paused\n")
	fmt.Printf("P1 raw_start_throughput_per_s=%.1f\n", rawRes.throughput)
	fmt.Printf("P1 raw_start_p50_ms=%.2f\n", rawRes.p50)
	fmt.Printf("P1 raw_start_p99_ms=%.2f\n", rawRes.p99)
	fmt.Printf("P1 api_submit_throughput_per_s=%.1f\n", apiRes.throughput)
	fmt.Printf("P1 api_submit_p50_ms=%.2f\n", apiRes.p50)
	fmt.Printf("P1 api_submit_p99_ms=%.2f\n", apiRes.p99)
	fmt.Printf("P1 api_vs_raw_throughput_ratio=%.2f\n", ratio)
	fmt.Printf("P1 api_vs_raw_p50_latency_ratio=%.2f\n", apiRes.p50/rawRes.p50)
	verdict("P1", "api_vs_raw_throughput_ratio", ratio, atLeast, 0.8)
	b.ReportMetric(ratio, "api/raw")
	b.ReportMetric(apiRes.throughput, "submits/s")
}

// Directions of a target.
const (
	atLeast = ">="
	atMost  = "<="
)

// verdict prints whether a figure met its target in this run, as
// "P1 target api_vs_raw_throughput_ratio=0.83 >= 0.80 PASS". `make bench`
// lists these lines at the end and fails if one says FAIL.
func verdict(fig, name string, value float64, op string, target float64) {
	ok := value >= target
	if op == atMost {
		ok = value <= target
	}
	word := "PASS"
	if !ok {
		word = "FAIL"
	}
	fmt.Printf("%s target %s=%.2f %s %.2f %s\n", fig, name, value, op, target, word)
}

// waitCount waits until the application database counts want rows for query.
func waitCount(b *testing.B, env *testenv.Env, query string, want int, args ...any) {
	deadline := time.Now().Add(10 * time.Minute)
	var n int
	for time.Now().Before(deadline) {
		if err := env.Store.DB().Get(&n, env.Store.DB().Rebind(query), args...); err != nil {
			b.Fatal(err)
		}
		if n >= want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Fatalf("%s: %d of %d", query, n, want)
}

type result struct {
	throughput float64 // per second
	p50, p99   float64 // milliseconds
}

// measure runs n calls of fn from `concurrency` goroutines.
func measure(b *testing.B, n int, fn func() error) result {
	return measureN(b, n, concurrency, fn)
}

// measureN runs n calls of fn from workers goroutines.
func measureN(b *testing.B, n, workers int, fn func() error) result {
	var (
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, n)
		remaining atomic.Int64
		firstErr  atomic.Value
		wg        sync.WaitGroup
	)
	remaining.Store(int64(n))
	start := time.Now()
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for remaining.Add(-1) >= 0 {
				t0 := time.Now()
				if err := fn(); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				d := time.Since(t0)
				mu.Lock()
				latencies = append(latencies, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err, _ := firstErr.Load().(error); err != nil {
		b.Fatal(err)
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	return result{throughput: float64(len(latencies)) / elapsed.Seconds(), p50: pct(0.50), p99: pct(0.99)}
}
