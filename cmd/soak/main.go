// Command soak holds a `visad dev` stack (the built binary, run as its own
// process) under mixed traffic for a while — applicants submitting and
// looking their cases up, chamber batches, an officer working the queue, and
// portal page views — at a share (default 70 %) of the capacity it measures
// on this machine first. It fails on any 5xx or other unexpected answer, on
// any lost or duplicated case, on p99 latency drifting upward from the first
// window to the last, and on resident memory still growing in the second
// half of the run. `make soak` runs it for ten minutes; SOAK_DURATION (or
// -duration) shortens it for a smoke test.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // reads the stack's app database for the reconciliation

	"github.com/visad/visad/domain"
)

type options struct {
	bin         string
	duration    time.Duration
	share       float64
	probe       time.Duration
	batchEvery  time.Duration
	batchRows   int
	concurrency int
	keep        bool
}

func main() {
	o := options{}
	def := 10 * time.Minute
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			fmt.Fprintf(os.Stderr, "soak: SOAK_DURATION=%q: want a duration such as 1m\n", v)
			os.Exit(2)
		}
		def = d
	}
	flag.StringVar(&o.bin, "bin", "bin/visad", "the visad binary (make build)")
	flag.DurationVar(&o.duration, "duration", def, "how long to hold the load (SOAK_DURATION)")
	flag.Float64Var(&o.share, "load", 0.7, "share of the measured capacity to hold")
	flag.DurationVar(&o.probe, "probe", 30*time.Second, "how long to measure capacity first")
	flag.DurationVar(&o.batchEvery, "batch-every", 20*time.Second, "a chamber batch this often")
	flag.IntVar(&o.batchRows, "batch-rows", 20, "rows per chamber batch")
	flag.IntVar(&o.concurrency, "probe-concurrency", 16, "clients of the capacity probe")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory (logs, databases) even when the soak passes")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, o))
}

func logf(format string, args ...any) {
	fmt.Printf("soak %s: %s\n", time.Now().UTC().Format(time.TimeOnly), fmt.Sprintf(format, args...))
}

func run(ctx context.Context, o options) (code int) {
	if _, err := os.Stat(o.bin); err != nil {
		logf("visad binary: %v (run make build)", err)
		return 2
	}
	dir, err := os.MkdirTemp("", "visad-soak-")
	if err != nil {
		logf("work dir: %v", err)
		return 2
	}
	defer func() {
		if code == 0 && !o.keep {
			os.RemoveAll(dir)
		} else {
			logf("kept %s (visad.log is the stack's output)", dir)
		}
	}()
	logf("starting visad dev from %s in %s", o.bin, dir)
	s, err := startStack(ctx, o.bin, dir)
	if err != nil {
		logf("stack: %v", err)
		return 2
	}
	defer s.stop()
	db, err := sql.Open("sqlite", "file:"+s.dbFile+"?_pragma=busy_timeout(10000)")
	if err != nil {
		logf("app database: %v", err)
		return 2
	}
	defer db.Close()

	// Enough delegations on the roster for every batch of the probe and the run, and a margin.
	batches := int((o.probe+o.duration)/o.batchEvery) + 4
	t := newTraffic(s, batches, o.batchRows)
	if err := t.enrol(ctx); err != nil {
		logf("%v", err)
		return 2
	}
	logf("stack pid %d ready on %s; officer, chamber and a roster of %d members created",
		s.pid(), s.base, batches*o.batchRows)

	// 1. Capacity: closed-loop clients with the same mix for the probe, then
	// until every case they started has left validation and screening.
	capacity, err := probe(ctx, t, db, o)
	if err != nil {
		logf("capacity probe: %v", err)
		return 2
	}
	rate := o.share * capacity
	logf("capacity %.1f requests/s; holding %.1f/s (%.0f %%) for %s", capacity, rate, 100*o.share, o.duration)

	// 2. The soak: open-loop arrivals at the chosen rate, RSS read every 2 s.
	t.startPhase()
	var rss []rssPoint
	var rssMu sync.Mutex
	began := time.Now()
	loadCtx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	var side sync.WaitGroup
	side.Add(2)
	go func() {
		defer side.Done()
		for {
			if mb, err := rssMB(s.pid()); err == nil {
				rssMu.Lock()
				rss = append(rss, rssPoint{at: time.Since(began), mb: mb})
				rssMu.Unlock()
			}
			select {
			case <-loadCtx.Done():
				return
			case <-time.After(2 * time.Second):
			}
		}
	}()
	go func() { defer side.Done(); progress(loadCtx, t, began) }()
	late := openLoop(loadCtx, ctx, t, rate, o)
	side.Wait()
	elapsed := time.Since(began)
	if ctx.Err() != nil {
		logf("interrupted: no verdict")
		return 130
	}
	if !s.alive() {
		logf("FAIL: visad dev exited during the run (see %s)", filepath.Join(dir, "visad.log"))
		return 1
	}
	endRSS, _ := rssMB(s.pid())
	samples := t.startPhase()

	// 3. Reconcile once the batches are reported and the pipeline has drained.
	drainCtx, cancelDrain := context.WithTimeout(ctx, 5*time.Minute)
	defer cancelDrain()
	t.batches.Wait()
	cases, err := reconcile(drainCtx, db, t)
	if err != nil {
		logf("reconcile: %v", err)
		return 2
	}
	return verdict(o, samples, rss, endRSS, elapsed, late, cases, t)
}

// probe measures how many requests a second the stack sustains end to end.
func probe(ctx context.Context, t *traffic, db *sql.DB, o options) (float64, error) {
	t.startPhase()
	pctx, cancel := context.WithTimeout(ctx, o.probe)
	defer cancel()
	began := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < o.concurrency; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 7))
			for pctx.Err() == nil {
				t.op(ctx, r, pick(r)) // a request under way when the probe ends is finished
			}
		}(i)
	}
	batchClock(pctx, ctx, t, o.batchEvery)
	wg.Wait()
	t.batches.Wait()
	if _, err := waitDrained(ctx, db, 5*time.Minute); err != nil {
		return 0, err
	}
	took := time.Since(began)
	samples := t.startPhase()
	ok, bad := 0, 0
	for _, s := range samples {
		if s.bad {
			bad++
		} else {
			ok++
		}
	}
	if bad > 0 {
		return 0, fmt.Errorf("%d of %d probe requests failed: %s", bad, ok+bad, strings.Join(t.problems, "; "))
	}
	logf("probe: %d requests in %s (%s of load, then until its cases were validated and screened)",
		ok, took.Round(time.Second), o.probe)
	return float64(ok) / took.Seconds(), nil
}

// batchClock posts a batch now and every period until ctx ends; each
// batch is followed to its report under reqCtx.
func batchClock(ctx, reqCtx context.Context, t *traffic, every time.Duration) {
	t.batch(reqCtx)
	go func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				t.batch(reqCtx)
			}
		}
	}()
}

// openLoop sends requests at rate per second, whatever the answers take,
// from a pool of clients; it returns how many started late because every
// client was busy.
// Requests under way when ctx ends run to their end under reqCtx.
func openLoop(ctx, reqCtx context.Context, t *traffic, rate float64, o options) int {
	jobs := make(chan string, 64)
	var wg sync.WaitGroup
	for i := 0; i < 128; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 11))
			for kind := range jobs {
				t.op(reqCtx, r, kind)
			}
		}(i)
	}
	batchClock(ctx, reqCtx, t, o.batchEvery)
	r := rand.New(rand.NewPCG(42, 42))
	interval := time.Duration(float64(time.Second) / rate)
	next := time.Now()
	late := 0
	for ctx.Err() == nil {
		next = next.Add(interval)
		time.Sleep(time.Until(next))
		select {
		case jobs <- pick(r):
		default:
			late++
			select {
			case jobs <- pick(r):
			case <-ctx.Done():
			}
		}
	}
	close(jobs)
	wg.Wait()
	return late
}

func progress(ctx context.Context, t *traffic, began time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Minute):
		}
		t.mu.Lock()
		n, bad := len(t.samples), 0
		for _, s := range t.samples {
			if s.bad {
				bad++
			}
		}
		accepted := len(t.accepted)
		t.mu.Unlock()
		logf("%s: %d requests, %d errors, %d cases accepted", time.Since(began).Round(time.Second), n, bad, accepted)
	}
}

// preReview are the statuses of a case still on its way to a decision or an officer.
var preReview = []string{string(domain.StatusReceived), string(domain.StatusValidating),
	string(domain.StatusScreening)}

// waitDrained waits until no case is in a status before review, and says how many were waiting at first.
func waitDrained(ctx context.Context, db *sql.DB, limit time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	first := -1
	for {
		var n int
		err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM applications WHERE status IN (?, ?, ?)
			OR workflow_started = FALSE`, preReview[0], preReview[1], preReview[2]).Scan(&n)
		if err == nil && first < 0 {
			first = n
		}
		if err == nil && n == 0 {
			return first, nil
		}
		select {
		case <-ctx.Done():
			return first, fmt.Errorf("%d cases still before review after %s (%v)", n, limit, err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// reconcile compares every application the clients were told was accepted
// with the database: each must be there exactly once (one row, one passport),
// nothing else may be, and each must have reached a decision or a review state.
func reconcile(ctx context.Context, db *sql.DB, t *traffic) (caseCheck, error) {
	if _, err := waitDrained(ctx, db, 5*time.Minute); err != nil {
		logf("drain: %v", err)
	}
	t.mu.Lock()
	accepted := make(map[string]string, len(t.accepted))
	for id, src := range t.accepted {
		accepted[id] = src
	}
	t.mu.Unlock()
	rows, err := db.QueryContext(ctx, `SELECT id, status, passport_hash FROM applications`)
	if err != nil {
		return caseCheck{}, err
	}
	defer rows.Close()
	c := caseCheck{accepted: len(accepted), byStatus: map[string]int{}}
	seen, passports := map[string]int{}, map[string]int{}
	for rows.Next() {
		var id, status, passport string
		if err := rows.Scan(&id, &status, &passport); err != nil {
			return c, err
		}
		seen[id]++
		passports[passport]++
		c.byStatus[status]++
		st := domain.Status(status)
		if !st.IsClosed() && st != domain.StatusAwaitingReview && st != domain.StatusAwaitingSecondApproval &&
			st != domain.StatusInformationRequested && st != domain.StatusDisagreement {
			c.unfinished++
		}
		if _, ok := accepted[id]; !ok {
			c.unexpected++
		}
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	for id := range accepted {
		if seen[id] == 0 {
			c.lost++
		}
	}
	for _, n := range passports {
		if n > 1 {
			c.duplicated += n - 1
		}
	}
	return c, nil
}

func verdict(o options, samples []reading, rss []rssPoint, endRSS float64, run time.Duration, late int,
	cases caseCheck, t *traffic) int {
	fail := []string{}
	kinds := map[string]int{}
	fives, transport, unexpected := 0, 0, 0
	for _, s := range samples {
		kinds[s.kind]++
		switch {
		case !s.bad:
		case s.status >= 500:
			fives++
		case s.status == 0:
			transport++
		default:
			unexpected++
		}
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	var parts []string
	for _, k := range names {
		parts = append(parts, fmt.Sprintf("%s %d", k, kinds[k]))
	}
	w := max(run/10, 6*time.Second)
	first, last := windowOf(samples, 0, w), windowOf(samples, run-w, run+time.Second)
	half := secondHalf(rss, run)
	slope, limit := slopeMBPerMin(half), rssLimit(half)
	startRSS := 0.0
	if len(rss) > 0 {
		startRSS = rss[0].mb
	}

	fmt.Printf("SOAK duration=%s\n", run.Round(time.Second))
	fmt.Printf("SOAK requests=%d (%s)\n", len(samples), strings.Join(parts, ", "))
	fmt.Printf("SOAK requests_per_s=%.1f\n", float64(len(samples))/run.Seconds())
	fmt.Printf("SOAK late_starts=%d\n", late)
	fmt.Printf("SOAK errors=%d (5xx %d, no answer %d, other unexpected %d)\n", fives+transport+unexpected,
		fives, transport, unexpected)
	fmt.Printf("SOAK window=%s\n", w)
	fmt.Printf("SOAK start_p50_ms=%.1f start_p99_ms=%.1f (%d requests)\n", first.p50, first.p99, first.requests)
	fmt.Printf("SOAK end_p50_ms=%.1f end_p99_ms=%.1f (%d requests)\n", last.p50, last.p99, last.requests)
	fmt.Printf("SOAK p99_drift_limit_ms=%.1f (%.1f × start p99 + %.0f ms)\n", driftLimit(first), driftFactor,
		driftSlackMS)
	// Which requests carry the tail: p99 per kind in the first and the last window.
	for _, k := range names {
		of := func(from, to time.Duration) window { return windowOf(kindOf(samples, k), from, to) }
		a, b := of(0, w), of(run-w, run+time.Second)
		fmt.Printf("SOAK %s_p99_ms start=%.1f end=%.1f (%d and %d requests)\n", k, a.p99, b.p99, a.requests, b.requests)
	}
	fmt.Printf("SOAK start_rss_mb=%.0f end_rss_mb=%.0f\n", startRSS, endRSS)
	fmt.Printf("SOAK rss_second_half_slope_mb_per_min=%.2f (limit %.2f)\n", slope, limit)
	fmt.Printf("SOAK cases %s\n", cases)
	if fives+transport+unexpected > 0 {
		fail = append(fail, fmt.Sprintf("%d errors: %s", fives+transport+unexpected, strings.Join(t.problems, "; ")))
	}
	if len(t.problems) > 0 && fives+transport+unexpected == 0 {
		fail = append(fail, strings.Join(t.problems, "; "))
	}
	if !cases.ok() {
		fail = append(fail, "cases: "+cases.String())
	}
	if first.requests == 0 || last.requests == 0 {
		fail = append(fail, "a window without answers")
	} else if last.p99 > driftLimit(first) {
		fail = append(fail, fmt.Sprintf("p99 drifted from %.1f to %.1f ms", first.p99, last.p99))
	}
	if len(half) < 5 {
		fail = append(fail, "too few RSS readings in the second half")
	} else if slope > limit {
		fail = append(fail, fmt.Sprintf("RSS still growing: %.2f MB/min over the second half", slope))
	}
	if late > len(samples)/100 {
		fail = append(fail, fmt.Sprintf("%d requests started late: the load was not held", late))
	}
	if len(fail) > 0 {
		for _, f := range fail {
			fmt.Printf("SOAK FAIL: %s\n", f)
		}
		return 1
	}
	fmt.Println("SOAK PASS")
	return 0
}
