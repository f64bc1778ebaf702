package simulate

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/capacity"
	"github.com/visad/visad/internal/scenario"
)

// Report is what a run found; WriteFiles writes it as JSON and as an HTML page.
type Report struct {
	Scenario       string                          `json:"scenario"`
	Seed           uint64                          `json:"seed"`
	Compress       float64                         `json:"compress"`
	StaffingSource string                          `json:"staffing_source"`
	Shifts         []capacity.PlanShift            `json:"shifts"`
	SLAHours       map[domain.Product]float64      `json:"sla_hours"`
	RealSeconds    float64                         `json:"real_seconds"`
	SimulatedHours float64                         `json:"simulated_hours"`
	Arrivals       int                             `json:"arrivals"`
	Submitted      int64                           `json:"submitted"`
	SubmitErrors   int64                           `json:"submit_errors"`
	Cases          int                             `json:"cases"`
	Products       map[domain.Product]ProductStats `json:"products"`
	// StraightThrough cases the system decided by itself.
	StraightThrough int `json:"straight_through"`
	Escalated       int `json:"escalated"`
	// BreachesStaffing: decided late with no request for information; BreachesApplicant: late after one
	// (the clock stops while the applicant holds the case, so the lateness came from the queue after the answer).
	BreachesStaffing  int `json:"breaches_staffing"`
	BreachesApplicant int `json:"breaches_applicant"`
	// BreachEvents counts the sla_breached events the workflows' timers recorded.
	BreachEvents int `json:"breach_events"`
	Undecided    int `json:"undecided"`
	// ClosedUndecided cases closed without a decision (found ineligible, withdrawn or lapsed).
	ClosedUndecided int    `json:"closed_without_decision"`
	Answers         int64  `json:"answers"`
	BotErrors       int64  `json:"bot_errors"`
	LastBotError    string `json:"last_bot_error,omitempty"`
	// Hourly series (simulated hours): cases in the staff queues (awaiting review or a second approval,
	// including those being worked on) at each hour, and the officers' busy share of the hour.
	QueueDepth  []int     `json:"queue_depth"`
	Utilisation []float64 `json:"officer_utilisation"`
	// Model is capacity.Run with the same staffing: what `visad plan` predicts for this run.
	Model capacity.Result `json:"model"`
}

// ProductStats are one product's figures.
type ProductStats struct {
	Cases   int     `json:"cases"`
	Decided int     `json:"decided"`
	Within  int     `json:"within_deadline"`
	Share   float64 `json:"share_within"`
	P50     float64 `json:"p50_hours"`
	P95     float64 `json:"p95_hours"`
	Max     float64 `json:"max_hours"`
}

// Meets says whether every product kept capacity.Target.
func (r *Report) Meets() bool {
	for _, p := range r.Products {
		if p.Share < capacity.Target {
			return false
		}
	}
	return true
}

type timelineEntry struct {
	At     time.Time     `json:"at"`
	Status domain.Status `json:"status"`
	Event  domain.Event  `json:"event"`
}

type caseView struct {
	ID          string         `json:"id"`
	Product     domain.Product `json:"product"`
	Status      domain.Status  `json:"status"`
	SubmittedAt time.Time      `json:"submitted_at"`
	Decision    *struct {
		DecidedAt time.Time `json:"decided_at"`
		DecidedBy string    `json:"decided_by"`
	} `json:"decision"`
	Timeline []timelineEntry `json:"timeline"`
}

func (r *runner) allCaseIDs(ctx context.Context, token string) ([]string, error) {
	var ids []string
	cursor := ""
	for {
		path := "/v1/cases?limit=200"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		var l caseList
		if _, err := r.call(ctx, http.MethodGet, path, token, nil, &l); err != nil {
			return nil, err
		}
		for _, it := range l.Items {
			ids = append(ids, it.ID)
		}
		if l.NextCursor == "" {
			return ids, nil
		}
		cursor = l.NextCursor
	}
}

func (r *runner) report(ctx context.Context, su *setup, arrivals []scenario.Arrival, simEnd time.Duration) (*Report,
	error) {
	s := r.o.Scenario
	ids, err := r.allCaseIDs(ctx, su.supervisorToken)
	if err != nil {
		return nil, err
	}
	views := make([]caseView, len(ids))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	var firstErr error
	var mu sync.Mutex
	for i, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := r.call(ctx, http.MethodGet, "/v1/applications/"+id, su.supervisorToken, nil, &views[i]); err != nil {
				mu.Lock()
				firstErr = err
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	rep := &Report{Scenario: s.Name, Seed: s.Seed, Compress: r.o.Compress, StaffingSource: r.o.StaffingSource,
		SLAHours: map[domain.Product]float64{}, RealSeconds: time.Since(r.t0).Seconds(),
		SimulatedHours: simEnd.Hours(), Arrivals: len(arrivals), Submitted: r.subs.Load(),
		SubmitErrors: r.subErrs.Load(), Cases: len(views), Products: map[domain.Product]ProductStats{},
		Answers: r.answers.Load(), BotErrors: r.errs.Load()}
	if e, ok := r.lastErr.Load().(string); ok {
		rep.LastBotError = e
	}
	for i, sh := range s.Shifts {
		rep.Shifts = append(rep.Shifts, capacity.PlanShift{Name: sh.Name, From: sh.From, To: sh.To,
			Officers: r.o.Staffing.Officers[i], Supervisors: r.o.Staffing.Supervisors[i]})
	}
	for p, d := range r.slas {
		rep.SLAHours[p] = (time.Duration(float64(d) * r.o.Compress)).Hours()
	}
	hours := int(s.Duration() / time.Hour)
	rep.QueueDepth = make([]int, hours)
	rep.Utilisation = make([]float64, hours)
	toSim := func(t time.Time) time.Duration { return time.Duration(float64(t.Sub(r.t0)) * r.o.Compress) }
	times := map[domain.Product][]float64{}
	waiting := map[domain.Status]bool{domain.StatusAwaitingReview: true, domain.StatusAwaitingSecondApproval: true,
		domain.StatusDisagreement: true}
	for _, v := range views {
		ps := rep.Products[v.Product]
		ps.Cases++
		var paused time.Duration
		var pausedAt time.Time
		hadRFI, escalated := false, false
		for i, e := range v.Timeline {
			switch e.Event {
			case domain.EventClockPaused:
				pausedAt = e.At
			case domain.EventClockResumed:
				if !pausedAt.IsZero() {
					paused += e.At.Sub(pausedAt)
					pausedAt = time.Time{}
				}
			case domain.EventInformationRequested:
				hadRFI = true
			case domain.EventEscalated:
				escalated = true
			case domain.EventSLABreached:
				rep.BreachEvents++
			}
			if waiting[e.Status] {
				from := toSim(e.At)
				to := simEnd
				if i+1 < len(v.Timeline) {
					to = toSim(v.Timeline[i+1].At)
				}
				for h := max(0, int((from+time.Hour-1)/time.Hour)); h < hours && time.Duration(h)*time.Hour < to; h++ {
					rep.QueueDepth[h]++
				}
			}
		}
		if escalated {
			rep.Escalated++
		}
		if v.Status.IsClosed() && v.Decision == nil {
			// Closed without a decision (found ineligible, withdrawn, lapsed): no deadline to keep.
			rep.ClosedUndecided++
			ps.Cases--
			rep.Products[v.Product] = ps
			continue
		}
		if v.Decision == nil || !v.Status.IsClosed() {
			rep.Undecided++
			rep.Products[v.Product] = ps
			continue
		}
		ps.Decided++
		if v.Decision.DecidedBy == domain.SystemActor.Name() {
			rep.StraightThrough++
		}
		wall := v.Decision.DecidedAt.Sub(v.SubmittedAt)
		times[v.Product] = append(times[v.Product], (time.Duration(float64(wall) * r.o.Compress)).Hours())
		switch {
		case wall-paused <= r.slas[v.Product]:
			ps.Within++
		case hadRFI:
			rep.BreachesApplicant++
		default:
			rep.BreachesStaffing++
		}
		rep.Products[v.Product] = ps
	}
	for p, ps := range rep.Products {
		if ps.Cases > 0 {
			ps.Share = float64(ps.Within) / float64(ps.Cases)
		}
		ps.P50, ps.P95, ps.Max = capacity.Percentiles(times[p])
		rep.Products[p] = ps
	}
	busyHour := make([]time.Duration, hours+1)
	for _, iv := range r.busy {
		for from := iv.from; from < iv.to && from < s.Duration(); {
			h := int(from / time.Hour)
			next := min(time.Duration(h+1)*time.Hour, iv.to)
			busyHour[h] += next - from
			from = next
		}
	}
	for h := 0; h < hours; h++ {
		if sh := s.ShiftAt(time.Duration(h) * time.Hour); sh >= 0 && r.o.Staffing.Officers[sh] > 0 {
			rep.Utilisation[h] = min(1, busyHour[h].Hours()/float64(r.o.Staffing.Officers[sh]))
		}
	}
	rep.Model = capacity.Run(s, arrivals, r.o.Staffing, r.o.SLA)
	return rep, nil
}

// Summary is a line per product for the terminal.
func (r *Report) Summary() string {
	out := fmt.Sprintf("%s: %d cases, %d straight through, %d escalated, breaches %d staffing + %d after a request "+
		"for information, %d undecided, %d bot errors\n", r.Scenario, r.Cases, r.StraightThrough, r.Escalated,
		r.BreachesStaffing, r.BreachesApplicant, r.Undecided, r.BotErrors)
	for _, p := range sortedKeys(r.Products) {
		ps := r.Products[p]
		out += fmt.Sprintf("  %-18s %4d cases, %6.2f %% within deadline (model %6.2f %%), p50 %.1f h, p95 %.1f h, "+
			"max %.1f h\n", p, ps.Cases, ps.Share*100, r.Model.Products[p].Share*100, ps.P50, ps.P95, ps.Max)
	}
	return out
}

func sortedKeys[V any](m map[domain.Product]V) []domain.Product {
	out := make([]domain.Product, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
