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

// BenchmarkP1 compares POST /v1/applications (validate, record in the
// database, start the workflow) with a bare client.ExecuteWorkflow of a no-op
// workflow, both at concurrency 16 against the embedded server persisted to
// SQLite, as `make run` uses it.
func BenchmarkP1(b *testing.B) {
	for i := 0; i < b.N; i++ {
		runP1(b)
	}
}

func runP1(b *testing.B) {
	env := startStack(b)

	// Raw baseline: a no-op workflow on its own task queue of the same server.
	tc := env.Services.Temporal
	w := worker.New(tc, "bench-noop", worker.Options{})
	w.RegisterWorkflow(noopWorkflow)
	if err := w.Start(); err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	var seq atomic.Int64
	raw := func() error {
		_, err := tc.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
			ID: fmt.Sprintf("bench-noop-%d", seq.Add(1)), TaskQueue: "bench-noop",
		}, noopWorkflow)
		return err
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

	b.ResetTimer()
	rawWarm := measure(b, warmup, raw)
	_ = rawWarm
	apiWarm := measure(b, warmup, submit)
	_ = apiWarm
	rawRes := measure(b, requests, raw)
	apiRes := measure(b, requests, submit)
	b.StopTimer()

	ratio := apiRes.throughput / rawRes.throughput
	fmt.Printf("P1 concurrency=%d\n", concurrency)
	fmt.Printf("P1 requests=%d\n", requests)
	fmt.Printf("P1 raw_start_throughput_per_s=%.1f\n", rawRes.throughput)
	fmt.Printf("P1 raw_start_p50_ms=%.2f\n", rawRes.p50)
	fmt.Printf("P1 raw_start_p99_ms=%.2f\n", rawRes.p99)
	fmt.Printf("P1 api_submit_throughput_per_s=%.1f\n", apiRes.throughput)
	fmt.Printf("P1 api_submit_p50_ms=%.2f\n", apiRes.p50)
	fmt.Printf("P1 api_submit_p99_ms=%.2f\n", apiRes.p99)
	fmt.Printf("P1 api_vs_raw_throughput_ratio=%.2f\n", ratio)
	fmt.Printf("P1 api_vs_raw_p50_latency_ratio=%.2f\n", apiRes.p50/rawRes.p50)
	b.ReportMetric(ratio, "api/raw")
	b.ReportMetric(apiRes.throughput, "submits/s")
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
