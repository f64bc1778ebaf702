package capacity

import (
	"fmt"
	"time"

	"github.com/visad/visad/internal/scenario"
)

// Plan is `visad plan`'s answer.
type Plan struct {
	Scenario string  `json:"scenario"`
	Seed     uint64  `json:"seed"`
	Target   float64 `json:"target"`
	// Headroom: the plan keeps the target with every handling time this share longer (Search).
	Headroom float64     `json:"headroom"`
	Shifts   []PlanShift `json:"shifts"`
	Staffing Staffing    `json:"staffing"`
	// Result and PeakLess are the model with the headroom; Nominal is the plan at the scenario's own
	// handling times, as the simulation runs them.
	Result   Result       `json:"result"`
	PeakLess *Result      `json:"peak_minus_one,omitempty"`
	Nominal  Result       `json:"nominal"`
	Runs     int          `json:"model_runs"`
	Elapsed  float64      `json:"elapsed_seconds"`
	Arrivals ArrivalStats `json:"arrivals"`
}

// PlanShift is one row of the staffing table.
type PlanShift struct {
	Name        string `json:"name"`
	From        int    `json:"from"`
	To          int    `json:"to"`
	Officers    int    `json:"officers"`
	Supervisors int    `json:"supervisors"`
}

// ArrivalStats count the scenario's applications.
type ArrivalStats struct {
	Total   int `json:"total"`
	Portal  int `json:"portal"`
	Chamber int `json:"chamber"`
}

// maxPerShift bounds the search.
const maxPerShift = 400

// DefaultHeadroom is the share by which `visad plan` lengthens every handling
// time while it searches. A plan that keeps the deadline only when every
// officer works flat out, case after case with no time between them, breaks
// at the first slow case: the real stack, with officers who look up the
// queue, claim and wait for each decision's answer, missed the deadline for a
// quarter of the two-year cases on such a plan (docs/capacity.md).
const DefaultHeadroom = 0.15

// Search finds the fewest officers and supervisors per shift that keep the
// target with every handling time longer by headroom: it grows every shift
// until the target holds, then takes one person away at a time (the one
// whose absence the model feels least) while the target still holds. At the
// answer, one person fewer on any shift misses the target in the model (with
// the same headroom).
func Search(s *scenario.Scenario, slas map[string]time.Duration, headroom float64) (Plan, error) {
	start := time.Now()
	arrivals := s.Arrivals()
	runs := 0
	eval := func(st Staffing) Result {
		runs++
		return RunSlower(s, arrivals, st, slas, headroom)
	}
	nominal := func(st Staffing) Result {
		runs++
		return Run(s, arrivals, st, slas)
	}
	st := FromScenario(s)
	for i := range st.Officers {
		st.Officers[i] = max(st.Officers[i], 1)
		st.Supervisors[i] = max(st.Supervisors[i], 1)
	}
	for !eval(st).Meets() {
		grown := false
		for i := range st.Officers {
			if st.Officers[i] < maxPerShift {
				st.Officers[i], grown = min(maxPerShift, st.Officers[i]*2), true
			}
			if st.Supervisors[i] < maxPerShift {
				st.Supervisors[i], grown = min(maxPerShift, st.Supervisors[i]*2), true
			}
		}
		if !grown {
			return Plan{}, fmt.Errorf("no staffing up to %d people per shift keeps %.1f %% of cases within their deadline",
				maxPerShift, Target*100)
		}
	}
	// Take away one person at a time, each time the one whose absence hurts least (the
	// highest worst share within the deadline, then the fewest escalations), while the target holds.
	for {
		var best *Staffing
		var bestRes Result
		for _, role := range []int{0, 1} {
			for i := range st.Officers {
				cand := st.clone()
				v := cand.Officers
				if role == 1 {
					v = cand.Supervisors
				}
				if v[i] == 0 {
					continue
				}
				v[i]--
				r := eval(cand)
				if r.Meets() && (best == nil || better(r, bestRes)) {
					best, bestRes = &cand, r
				}
			}
		}
		if best == nil {
			break
		}
		st = *best
	}
	p := Plan{Scenario: s.Name, Seed: s.Seed, Target: Target, Headroom: headroom, Staffing: st, Result: eval(st),
		Nominal: nominal(st)}
	for i, sh := range s.Shifts {
		p.Shifts = append(p.Shifts, PlanShift{Name: sh.Name, From: sh.From, To: sh.To, Officers: st.Officers[i],
			Supervisors: st.Supervisors[i]})
	}
	if less, ok := PeakMinusOne(st); ok {
		r := eval(less)
		p.PeakLess = &r
	}
	for _, a := range arrivals {
		p.Arrivals.Total++
		if a.Source == scenario.Chamber {
			p.Arrivals.Chamber++
		} else {
			p.Arrivals.Portal++
		}
	}
	p.Runs = runs
	p.Elapsed = time.Since(start).Seconds()
	return p, nil
}

// better says whether a is the better service: a higher worst share within the deadline, then fewer escalations.
func better(a, b Result) bool {
	wa, wb := a.worst(), b.worst()
	if wa != wb {
		return wa > wb
	}
	return a.Escalated < b.Escalated
}

func (r Result) worst() float64 {
	w := 1.0
	for _, p := range r.Products {
		w = min(w, p.Share)
	}
	return w
}

// PeakMinusOne is the staffing with one officer fewer on the peak shift.
func PeakMinusOne(st Staffing) (Staffing, bool) {
	less := st.clone()
	peak := st.Peak()
	if less.Officers[peak] == 0 {
		return less, false
	}
	less.Officers[peak]--
	return less, true
}
