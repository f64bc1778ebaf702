package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
)

// The public port does not serve /metrics: it names routes, volumes and
// the runtime, and each scrape reads the database.
func TestMetricsAreNotOnThePublicPort(t *testing.T) {
	h := quietServer(RateLimit{})
	if w := send(h, "GET", "/metrics", "192.0.2.1:4000", ""); w.Code != http.StatusNotFound {
		t.Fatalf("GET /metrics on the API: %d, want 404", w.Code)
	}
}

// A scrape does bounded work: the read-model gauges are counted at most once
// per countsTTL however often (and however many at once) scrapers ask.
func TestScrapesShareOneCount(t *testing.T) {
	m := NewMetrics(nil)
	var calls atomic.Int32
	m.WatchCounts(func(context.Context) (casework.Counts, error) {
		calls.Add(1)
		return casework.Counts{Applications: []casework.ApplicationCount{
			{Product: domain.ProductBusiness2Y, Status: domain.StatusIssued, N: 3}}}, nil
	})
	h := m.Handler()
	for range 20 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
		if !strings.Contains(w.Body.String(), `visad_applications{product="business_2y",status="issued"} 3`) {
			t.Fatalf("scrape without the gauge:\n%s", w.Body)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("20 scrapes counted the read model %d times, want once", n)
	}
}
