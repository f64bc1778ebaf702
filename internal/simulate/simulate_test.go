package simulate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/capacity"
	"github.com/visad/visad/internal/scenario"
)

// tiny is a day of demand: a few portal applicants (one with a request for
// information), and a chamber batch with straight-through members.
const tiny = `name: tiny
days: 1
seed: 5
products: {business_2y: 0.75, business_5y_multi: 0.25}
individuals:
  per_hour: [0,0,0,0,0,0,0,0,1,1,1,1,1,1,1,1,1,1,0,0,0,0,0,0]
batches:
  - {name: Tiny forum delegation, day: 1, hour: 9, rows: 8, straight_through_share: 0.75}
screening_hit_share: 0.05
information_requests: {share: 0.2, answer_hours: {min: 1, max: 2}}
handling_minutes: {review_2y: 20, review_5y: 30, second_approval: 10, screening_hit: 20, information_request: 10}
shifts:
  - {name: day, from: 6, to: 22, officers: 2, supervisors: 2}
  - {name: night, from: 22, to: 6, officers: 1, supervisors: 1}
`

// TestSimulateTinyScenarioOnTheRealStack runs a simulated day on the real
// stack (embedded Temporal, the workflows, SQLite, the HTTP API) in about
// half a minute, and checks the report against what happened.
func TestSimulateTinyScenarioOnTheRealStack(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the stack for about a minute")
	}
	s, err := scenario.Parse("tiny.yaml", []byte(tiny))
	if err != nil {
		t.Fatal(err)
	}
	arrivals := s.Arrivals()
	stp, rfi := 0, 0
	for _, a := range arrivals {
		if a.StraightThrough() {
			stp++
		}
		if a.InformationRequest {
			rfi++
		}
	}
	if stp == 0 || rfi == 0 {
		t.Fatalf("the tiny scenario should have straight-through cases and a request for information: %d, %d", stp, rfi)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	rep, err := Run(ctx, Options{Scenario: s, Compress: 3600, Staffing: capacity.FromScenario(s),
		StaffingSource: "the scenario's shifts", Grace: 48 * time.Hour, WorkDir: t.TempDir(), LogLevel: "off",
		Progress: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s in %s", rep.Summary(), time.Since(start).Round(time.Second))
	if rep.Submitted != int64(len(arrivals)) || rep.SubmitErrors != 0 || rep.Cases != len(arrivals) {
		t.Errorf("%d arrivals, %d submitted (%d errors), %d cases in the queue listing", len(arrivals), rep.Submitted,
			rep.SubmitErrors, rep.Cases)
	}
	if rep.Undecided != 0 {
		t.Errorf("%d cases undecided (last bot error: %s)", rep.Undecided, rep.LastBotError)
	}
	if rep.StraightThrough != stp {
		t.Errorf("%d decided by the system, the domain rule says %d", rep.StraightThrough, stp)
	}
	if rep.Answers != int64(rfi) {
		t.Errorf("%d answers to requests for information, want %d", rep.Answers, rfi)
	}
	decided := 0
	for _, p := range rep.Products {
		decided += p.Decided
	}
	if decided+rep.ClosedUndecided != len(arrivals) || rep.Products[domain.ProductBusiness5YMulti].Decided == 0 {
		t.Errorf("decided %d of %d; products %+v", decided, len(arrivals), rep.Products)
	}
	if len(rep.QueueDepth) != 24 || len(rep.Utilisation) != 24 {
		t.Errorf("series of %d and %d hours, want 24", len(rep.QueueDepth), len(rep.Utilisation))
	}
	busy := 0.0
	for _, u := range rep.Utilisation {
		busy += u
	}
	if busy == 0 {
		t.Error("the officers were never busy")
	}
	dir := t.TempDir()
	_, hp, err := rep.WriteFiles(dir, "tiny")
	if err != nil {
		t.Fatal(err)
	}
	html, _ := os.ReadFile(hp)
	for _, want := range []string{"<svg", "Decisions within the deadline", string(domain.ProductBusiness2Y)} {
		if !strings.Contains(string(html), want) {
			t.Errorf("the HTML report lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "tiny.json")); err != nil {
		t.Error(err)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
