package main

import (
	"math"
	"testing"
	"time"
)

func TestWindowsAndDrift(t *testing.T) {
	var samples []reading
	for i := 0; i < 100; i++ {
		samples = append(samples,
			// The first second: 1 … 10 ms, ten times over; the last: 100 … 199 ms.
			reading{at: time.Duration(i) * 10 * time.Millisecond, ms: float64(i%10 + 1)},
			reading{at: 9*time.Second + time.Duration(i)*10*time.Millisecond, ms: float64(i + 100)},
			reading{at: 5 * time.Second, ms: 1e6, bad: true}, // errors do not count in a window
		)
	}
	first, last := windowOf(samples, 0, time.Second), windowOf(samples, 9*time.Second, 10*time.Second)
	if first.requests != 100 || first.p50 != 5 || first.p99 != 10 {
		t.Errorf("first window %+v, want 100 requests, p50 5, p99 10", first)
	}
	if last.requests != 100 || last.p50 != 149 || last.p99 != 198 {
		t.Errorf("last window %+v, want 100 requests, p50 149, p99 198", last)
	}
	if got := driftLimit(first); got != 65 {
		t.Errorf("drift limit %.1f, want 1.5 × 10 + 50", got)
	}
	if last.p99 <= driftLimit(first) {
		t.Error("a p99 from 10 to 198 ms should count as drifting")
	}
}

func TestRSSSlope(t *testing.T) {
	run := 10 * time.Minute
	var flat, growing []rssPoint
	for s := 0; s <= 600; s += 2 {
		at := time.Duration(s) * time.Second
		// Settled: a sawtooth around 300 MB. Growing: 10 MB a minute throughout.
		flat = append(flat, rssPoint{at: at, mb: 300 + float64(s%20)})
		growing = append(growing, rssPoint{at: at, mb: 200 + 10*at.Minutes()})
	}
	if got := slopeMBPerMin(secondHalf(growing, run)); math.Abs(got-10) > 1e-9 {
		t.Errorf("slope %.3f, want 10 MB/min", got)
	}
	half := secondHalf(flat, run)
	if got, limit := slopeMBPerMin(half), rssLimit(half); got > limit {
		t.Errorf("a settled process fails: slope %.2f > limit %.2f", got, limit)
	}
	half = secondHalf(growing, run)
	if got, limit := slopeMBPerMin(half), rssLimit(half); got <= limit {
		t.Errorf("a growing process passes: slope %.2f <= limit %.2f", got, limit)
	}
}

func TestCaseCheck(t *testing.T) {
	if (caseCheck{accepted: 3}).ok() != true {
		t.Error("a clean reconciliation fails")
	}
	for _, c := range []caseCheck{{}, {accepted: 3, lost: 1}, {accepted: 3, duplicated: 1},
		{accepted: 3, unfinished: 1}, {accepted: 3, unexpected: 1}} {
		if c.ok() {
			t.Errorf("%+v passes", c)
		}
	}
}
