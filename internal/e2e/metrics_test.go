package e2e_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/visad/visad/api"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/testenv"
)

func scrape(t *testing.T, env *testenv.Env) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(env.Metrics.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	families, err := (&expfmt.TextParser{}).TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return families
}

// value returns the counter (or histogram sample count) of the series with exactly these labels.
func value(families map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f := families[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.Metric {
		if len(m.Label) != len(labels) {
			continue
		}
		match := true
		for _, l := range m.Label {
			if labels[l.GetName()] != l.GetValue() {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		}
	}
	return 0, false
}

func TestMetrics(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	s := submit(t, env, testenv.ValidApplication(domain.ProductBusiness2Y))
	env.WaitForStatus(s.ID, s.AccessToken, "awaiting_review")
	if r := decide(env, s.ID, officer, map[string]string{"decision": "approve"}); r.Status != http.StatusOK {
		t.Fatalf("approve: %d %s", r.Status, r.Body)
	}
	decodeProblem(t, env.Do("GET", "/v1/nothing/"+s.ID, "", nil), 404)
	// Metrics are on their own listener (scrape), not on the public port.
	decodeProblem(t, env.DoRaw("GET", "/metrics", "", nil), http.StatusNotFound)

	families := scrape(t, env)
	want := []struct {
		name   string
		labels map[string]string
		value  float64 // 0: at least one; -1: present
	}{
		{"visad_applications_submitted_total", map[string]string{"product": "business_2y"}, 1},
		{"visad_decisions_total", map[string]string{"outcome": "approve"}, 1},
		{"http_requests_total", map[string]string{"method": "POST", "route": "/v1/applications", "status": "202"}, 1},
		{"http_requests_total", map[string]string{"method": "POST", "route": "/v1/cases/:id/decision", "status": "200"}, 1},
		{"http_requests_total", map[string]string{"method": "GET", "route": "/v1/applications/:id", "status": "200"}, 0},
		{"http_requests_total", map[string]string{"method": "GET", "route": "unmatched", "status": "404"}, 2},
		{"http_request_duration_seconds", map[string]string{"method": "POST", "route": "/v1/applications"}, 1},
		// Read-model gauges, counted at scrape time.
		{"visad_applications", map[string]string{"product": "business_2y", "status": "issued"}, 1},
		{"visad_sla_events_total", map[string]string{"event": "escalated"}, -1},
	}
	for _, w := range want {
		got, ok := value(families, w.name, w.labels)
		if w.value == -1 { // present, any value
			if !ok {
				t.Errorf("%s%v missing", w.name, w.labels)
			}
			continue
		}
		if !ok || (w.value == 0 && got < 1) || (w.value != 0 && got != w.value) {
			t.Errorf("%s%v = %v (present %v), want %v", w.name, w.labels, got, ok, w.value)
		}
	}
	// Known label values are exported from the start.
	if v, ok := value(families, "visad_decisions_total", map[string]string{"outcome": "refuse"}); !ok || v != 0 {
		t.Errorf("visad_decisions_total{outcome=refuse} = %v (present %v), want 0", v, ok)
	}
	// Route labels are patterns: no series carries an application id.
	for name, f := range families {
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if strings.Contains(l.GetValue(), s.ID) {
					t.Errorf("%s has label %s=%q holding an application id", name, l.GetName(), l.GetValue())
				}
			}
		}
	}

	// The Temporal SDK's own metrics arrive with its reporting interval.
	deadline := time.Now().Add(10 * api.TemporalReportInterval)
	for {
		families = scrape(t, env)
		_, workflowTasks := families["temporal_workflow_task_execution_latency_seconds"]
		_, requests := families["temporal_request_total"]
		if workflowTasks && requests {
			break
		}
		if time.Now().After(deadline) {
			var names []string
			for n := range families {
				if strings.HasPrefix(n, "temporal_") {
					names = append(names, n)
				}
			}
			t.Fatalf("Temporal SDK metrics missing; temporal_* families: %v", names)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
