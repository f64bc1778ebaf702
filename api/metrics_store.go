package api

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/visad/visad/internal/casework"
)

// countsTTL is how long one count of the read model answers scrapes: the
// counts group whole tables, so a scraper (or several, or a hostile one on
// the metrics port) costs at most one count per countsTTL.
const countsTTL = 15 * time.Second

// storeCollector reports the read model's gauges: applications by product and
// status, and batch rows by outcome. Counting the store (not this process's
// events) keeps the figures right across restarts and several API processes.
type storeCollector struct {
	counts func(context.Context) (casework.Counts, error)

	mu      sync.Mutex // one count at a time; scrapes that arrive meanwhile wait for it
	last    casework.Counts
	counted time.Time

	applications *prometheus.Desc
	batchRows    *prometheus.Desc
	batches      *prometheus.Desc
}

// WatchCounts adds the read model's gauges to the registry; counts is
// casework.Service.Counts.
func (m *Metrics) WatchCounts(counts func(context.Context) (casework.Counts, error)) {
	m.Registry.MustRegister(&storeCollector{
		counts: counts,
		applications: prometheus.NewDesc("visad_applications",
			"Applications in the read model by product and status.", []string{"product", "status"}, nil),
		batchRows: prometheus.NewDesc("visad_batch_rows",
			"Rows of chamber batches by outcome (created, existing, invalid, duplicate).", []string{"outcome"}, nil),
		batches: prometheus.NewDesc("visad_batches",
			"Chamber batches by status (accepted: still being worked through; completed).", []string{"status"}, nil),
	})
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.applications
	ch <- c.batchRows
	ch <- c.batches
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	counts, err := c.cached(time.Now())
	if err != nil {
		return // a scrape while the database is away shows the gauges missing, not zero
	}
	for _, a := range counts.Applications {
		ch <- prometheus.MustNewConstMetric(c.applications, prometheus.GaugeValue, float64(a.N),
			string(a.Product), string(a.Status))
	}
	for outcome, n := range counts.BatchRows {
		ch <- prometheus.MustNewConstMetric(c.batchRows, prometheus.GaugeValue, float64(n), outcome)
	}
	for status, n := range counts.Batches {
		ch <- prometheus.MustNewConstMetric(c.batches, prometheus.GaugeValue, float64(n), status)
	}
}

// cached returns the last count while it is younger than countsTTL, else counts again.
func (c *storeCollector) cached(now time.Time) (casework.Counts, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.counted.IsZero() && now.Sub(c.counted) < countsTTL {
		return c.last, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.counts(ctx)
	if err != nil {
		return casework.Counts{}, err
	}
	c.last, c.counted = counts, now
	return counts, nil
}
