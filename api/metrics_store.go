package api

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/visad/visad/db"
)

// storeCollector reports the read model's gauges at scrape time: applications
// by product and status, and batch rows by outcome. Counting at scrape time
// keeps the figures right across restarts and several API processes.
type storeCollector struct {
	store        *db.Store
	applications *prometheus.Desc
	batchRows    *prometheus.Desc
	batches      *prometheus.Desc
}

// WatchStore adds the read model's gauges to the registry.
func (m *Metrics) WatchStore(store *db.Store) {
	m.Registry.MustRegister(&storeCollector{
		store: store,
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
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.store.Counts(ctx)
	if err != nil {
		return // a scrape while the database is away shows the gauges missing, not zero
	}
	for _, a := range counts.Applications {
		ch <- prometheus.MustNewConstMetric(c.applications, prometheus.GaugeValue, float64(a.N), a.Product, a.Status)
	}
	for _, r := range counts.BatchRows {
		ch <- prometheus.MustNewConstMetric(c.batchRows, prometheus.GaugeValue, float64(r.N), r.Key)
	}
	for _, b := range counts.Batches {
		ch <- prometheus.MustNewConstMetric(c.batches, prometheus.GaugeValue, float64(b.N), b.Key)
	}
}
