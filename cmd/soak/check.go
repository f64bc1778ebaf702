package main

import (
	"fmt"
	"sort"
	"time"
)

// Tolerances of the verdict, stated once.
const (
	// driftFactor and driftSlackMS: the last window's p99 may be at most
	// driftFactor × the first window's plus driftSlackMS. The slack absorbs
	// a 2-core machine's scheduling noise on small figures; the factor a
	// slower stretch. Latency that keeps climbing (a queue that never
	// drains, a cache or table that grows) exceeds both within minutes.
	driftFactor  = 1.5
	driftSlackMS = 50.0
	// rssSlopeMBPerMin and rssSlopeShare: the resident set's least-squares
	// slope over the second half of the run may be at most the larger of
	// rssSlopeMBPerMin and rssSlopeShare of its mean per minute. A process
	// that has settled shows a slope near zero once its caches are full; one
	// that keeps what each request leaves behind grows in step with the load.
	rssSlopeMBPerMin = 3.0
	rssSlopeShare    = 0.01
)

// window is the figures of a stretch of the run.
type window struct {
	requests int
	p50, p99 float64 // ms
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(p*float64(len(sorted)-1))]
}

// windowOf summarises the successful samples taken in [from, to).
func windowOf(samples []reading, from, to time.Duration) window {
	var ms []float64
	for _, s := range samples {
		if s.at >= from && s.at < to && !s.bad {
			ms = append(ms, s.ms)
		}
	}
	sort.Float64s(ms)
	return window{requests: len(ms), p50: percentile(ms, 0.50), p99: percentile(ms, 0.99)}
}

// kindOf is the samples of one kind of request.
func kindOf(samples []reading, kind string) []reading {
	var out []reading
	for _, s := range samples {
		if s.kind == kind {
			out = append(out, s)
		}
	}
	return out
}

// driftLimit is the highest last-window p99 that does not count as drifting upward.
func driftLimit(first window) float64 { return driftFactor*first.p99 + driftSlackMS }

// rssPoint is one reading of the resident set.
type rssPoint struct {
	at time.Duration
	mb float64
}

// slopeMBPerMin fits a least-squares line to the points and returns its slope.
func slopeMBPerMin(points []rssPoint) float64 {
	n := float64(len(points))
	if n < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for _, p := range points {
		x := p.at.Minutes()
		sx, sy, sxx, sxy = sx+x, sy+p.mb, sxx+x*x, sxy+x*p.mb
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / den
}

// secondHalf keeps the points from the middle of the run on.
func secondHalf(points []rssPoint, run time.Duration) []rssPoint {
	var out []rssPoint
	for _, p := range points {
		if p.at >= run/2 {
			out = append(out, p)
		}
	}
	return out
}

// rssLimit is the highest second-half slope that does not count as growing without bound.
func rssLimit(half []rssPoint) float64 {
	var sum float64
	for _, p := range half {
		sum += p.mb
	}
	mean := 0.0
	if len(half) > 0 {
		mean = sum / float64(len(half))
	}
	return max(rssSlopeMBPerMin, rssSlopeShare*mean)
}

// caseCheck is the reconciliation of accepted applications with the database.
type caseCheck struct {
	accepted, lost, duplicated, unfinished, unexpected int
	byStatus                                           map[string]int
}

func (c caseCheck) ok() bool {
	return c.accepted > 0 && c.lost == 0 && c.duplicated == 0 && c.unfinished == 0 && c.unexpected == 0
}

func (c caseCheck) String() string {
	return fmt.Sprintf("accepted %d: lost %d, duplicated %d, not yet decided or in review %d, "+
		"in the database but never accepted %d; by status %v",
		c.accepted, c.lost, c.duplicated, c.unfinished, c.unexpected, c.byStatus)
}
