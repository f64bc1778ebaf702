// Package capacity is `visad plan`: a discrete-event model, in seconds and
// without the stack, of a scenario's cases going through the same domain
// rules the workflows apply (the decision deadline, escalation at 75 %,
// straight-through processing, the second approval of a five-year visa, a
// screening hit approved only by a supervisor), and a search for the fewest
// officers and supervisors per shift that keep the deadline.
package capacity

import (
	"container/heap"
	"math"
	"sort"
	"time"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/scenario"
)

// Target is the share of cases of each product that must be decided within their deadline.
const Target = 0.995

// Staffing is the people on duty per shift, in the scenario's shift order.
type Staffing struct {
	Officers    []int `json:"officers"`
	Supervisors []int `json:"supervisors"`
}

// FromScenario is the staffing the scenario file names.
func FromScenario(s *scenario.Scenario) Staffing {
	st := Staffing{Officers: make([]int, len(s.Shifts)), Supervisors: make([]int, len(s.Shifts))}
	for i, sh := range s.Shifts {
		st.Officers[i], st.Supervisors[i] = sh.Officers, sh.Supervisors
	}
	return st
}

func (st Staffing) clone() Staffing {
	return Staffing{Officers: append([]int(nil), st.Officers...), Supervisors: append([]int(nil), st.Supervisors...)}
}

// Peak is the shift with the most officers (the first of equals).
func (st Staffing) Peak() int {
	p := 0
	for i, n := range st.Officers {
		if n > st.Officers[p] {
			p = i
		}
	}
	return p
}

// Work is a kind of staff work.
type Work int

// Kinds of work.
const (
	WorkRequestInformation Work = iota + 1 // an officer reads the case and asks for more
	WorkReview                             // an officer decides (the first decision of a five-year case)
	WorkScreeningHit                       // a supervisor decides a case that matched the watchlist
	WorkSecondApproval                     // a supervisor's second decision on a five-year case
)

// Role is whose work it is.
func (w Work) Role() domain.Role {
	if w == WorkScreeningHit || w == WorkSecondApproval {
		return domain.RoleSupervisor
	}
	return domain.RoleOfficer
}

// FirstWork is the first piece of staff work a case needs, or 0 when the system decides it.
func FirstWork(a scenario.Arrival) Work {
	switch {
	case a.StraightThrough():
		return 0
	case a.ScreeningHit:
		return WorkScreeningHit
	case a.InformationRequest:
		return WorkRequestInformation
	}
	return WorkReview
}

// NextWork is the work after a decision, by the workflow's rule (domain.NextDecisionStep); 0 when it closes the case.
func NextWork(product domain.Product, done Work) Work {
	switch done {
	case WorkRequestInformation:
		return WorkReview
	case WorkSecondApproval:
		return 0
	}
	step := domain.NextDecisionStep(domain.CaseHold{Status: domain.StatusAwaitingReview, Product: product},
		domain.DecisionRequest{Decision: domain.OutcomeApprove})
	if step == domain.StepAwaitSecond {
		return WorkSecondApproval
	}
	return 0
}

// Handling is the staff time of a kind of work on a product.
func Handling(s *scenario.Scenario, w Work, p domain.Product) time.Duration {
	h := s.HandlingMinutes
	switch w {
	case WorkRequestInformation:
		return scenario.Minutes(h.InformationRequest)
	case WorkScreeningHit:
		return scenario.Minutes(h.ScreeningHit)
	case WorkSecondApproval:
		return scenario.Minutes(h.SecondApproval)
	}
	if p == domain.ProductBusiness5YMulti {
		return scenario.Minutes(h.Review5Y)
	}
	return scenario.Minutes(h.Review2Y)
}

// Result is one model run.
type Result struct {
	Staffing Staffing                        `json:"staffing"`
	Products map[domain.Product]ProductStats `json:"products"`
	Cases    int                             `json:"cases"`
	// StraightThrough cases the system decided.
	StraightThrough int `json:"straight_through"`
	Escalated       int `json:"escalated"`
	// BreachesStaffing: late without ever waiting on the applicant; BreachesApplicant: late after a request for
	// information (its second pass through the queue made it late).
	BreachesStaffing  int `json:"breaches_staffing"`
	BreachesApplicant int `json:"breaches_applicant"`
	Undecided         int `json:"undecided"`
	// Hourly series over the simulated time.
	QueueDepth  []int     `json:"queue_depth"`
	Utilisation []float64 `json:"officer_utilisation"`
}

// ProductStats are one product's figures.
type ProductStats struct {
	Cases  int     `json:"cases"`
	Within int     `json:"within_deadline"`
	Share  float64 `json:"share_within"`
	P50    float64 `json:"p50_hours"`
	P95    float64 `json:"p95_hours"`
	Max    float64 `json:"max_hours"`
}

// Meets says whether every product keeps the target.
func (r Result) Meets() bool {
	for _, p := range r.Products {
		if p.Share < Target {
			return false
		}
	}
	return true
}

type caseState struct {
	a           scenario.Arrival
	sla         time.Duration
	work        Work
	ready       time.Duration // when it entered the queue
	pausedTotal time.Duration
	firstBy     int // staff index of the first decision, -1
	hadRFI      bool
}

func (c *caseState) elapsed(now time.Duration) time.Duration { return now - c.a.At - c.pausedTotal }

type staff struct {
	role      domain.Role
	shift     int
	busyUntil time.Duration
	busy      time.Duration // total busy time
}

type event struct {
	at   time.Duration
	seq  int
	kind int // 0 case ready, 1 staff free, 2 hour tick
	c    *caseState
	who  int
	w    Work
}

type events []event

func (e events) Len() int { return len(e) }
func (e events) Less(i, j int) bool {
	if e[i].at != e[j].at {
		return e[i].at < e[j].at
	}
	return e[i].seq < e[j].seq
}
func (e events) Swap(i, j int) { e[i], e[j] = e[j], e[i] }
func (e *events) Push(x any)   { *e = append(*e, x.(event)) }
func (e *events) Pop() any {
	old := *e
	x := old[len(old)-1]
	*e = old[:len(old)-1]
	return x
}

// Run models the scenario with the staffing. slas overrides the catalogue's deadlines (domain.DecisionSLA).
func Run(s *scenario.Scenario, arrivals []scenario.Arrival, st Staffing, slas map[string]time.Duration) Result {
	return RunSlower(s, arrivals, st, slas, 0)
}

// RunSlower is Run with every handling time longer by the share slower (0.15: 15 % longer): the
// staff time that a queue look-up, a claim and a decision's round trip take in real life.
func RunSlower(s *scenario.Scenario, arrivals []scenario.Arrival, st Staffing, slas map[string]time.Duration,
	slower float64) Result {
	res := Result{Staffing: st.clone(), Products: map[domain.Product]ProductStats{}}
	var people []staff
	for i := range s.Shifts {
		for n := 0; n < st.Officers[i]; n++ {
			people = append(people, staff{role: domain.RoleOfficer, shift: i})
		}
		for n := 0; n < st.Supervisors[i]; n++ {
			people = append(people, staff{role: domain.RoleSupervisor, shift: i})
		}
	}
	end := s.Duration()
	hours := int(end / time.Hour)
	res.QueueDepth = make([]int, hours)
	res.Utilisation = make([]float64, hours)
	busyHour := make([]time.Duration, hours+1)
	var ev events
	seq := 0
	push := func(e event) {
		e.seq = seq
		seq++
		heap.Push(&ev, e)
	}
	times := map[domain.Product][]float64{}
	within := map[domain.Product]int{}
	escalated := map[int]bool{}
	for _, a := range arrivals {
		c := &caseState{a: a, sla: domain.DecisionSLA(a.Product, slas), firstBy: -1}
		res.Cases++
		ps := res.Products[a.Product]
		ps.Cases++
		res.Products[a.Product] = ps
		c.work = FirstWork(a)
		if c.work == 0 {
			res.StraightThrough++
			times[a.Product] = append(times[a.Product], 0)
			within[a.Product]++
			continue
		}
		push(event{at: a.At, kind: 0, c: c})
	}
	// The queue runs past the scenario's end until every case is decided (or a week more passes).
	limit := end + 7*24*time.Hour
	for h := time.Duration(0); h <= limit; h += time.Hour {
		push(event{at: h, kind: 2})
	}
	var queue []*caseState
	decided := 0
	toDecide := res.Cases - res.StraightThrough
	addBusy := func(from, to time.Duration) {
		for from < to && from < end {
			h := int(from / time.Hour)
			next := min(time.Duration(h+1)*time.Hour, to)
			busyHour[h] += next - from
			from = next
		}
	}
	for ev.Len() > 0 && decided < toDecide {
		now := ev[0].at
		for ev.Len() > 0 && ev[0].at == now {
			e := heap.Pop(&ev).(event)
			switch e.kind {
			case 0:
				e.c.ready = now
				queue = append(queue, e.c)
			case 1:
				c := e.c
				next := NextWork(c.a.Product, e.w)
				if e.w == WorkReview || e.w == WorkScreeningHit {
					c.firstBy = e.who
				}
				switch {
				case e.w == WorkRequestInformation:
					c.hadRFI = true
					c.pausedTotal += c.a.AnswerAfter
					c.work = next
					push(event{at: now + c.a.AnswerAfter, kind: 0, c: c})
				case next != 0:
					c.work = next
					push(event{at: now, kind: 0, c: c})
				default:
					decided++
					el := c.elapsed(now)
					times[c.a.Product] = append(times[c.a.Product], (now - c.a.At).Hours())
					if el <= c.sla {
						within[c.a.Product]++
					} else if c.hadRFI {
						res.BreachesApplicant++
					} else {
						res.BreachesStaffing++
					}
				}
			case 2:
				if h := int(now / time.Hour); h < hours {
					// Waiting in the queue or being worked on, as the report of a simulation counts them.
					working := 0
					for _, p := range people {
						if p.busyUntil > now {
							working++
						}
					}
					res.QueueDepth[h] = len(queue) + working
				}
			}
		}
		for _, c := range queue {
			if c.elapsed(now) >= domain.EscalationAfter(c.sla) {
				escalated[c.a.Seq] = true
			}
		}
		// Idle people on duty take the next case: escalated first, then the earliest deadline.
		shift := s.ShiftAt(now)
		if shift < 0 || len(queue) == 0 {
			continue
		}
		sort.SliceStable(queue, func(i, j int) bool {
			ei := queue[i].elapsed(now) >= domain.EscalationAfter(queue[i].sla)
			ej := queue[j].elapsed(now) >= domain.EscalationAfter(queue[j].sla)
			if ei != ej {
				return ei
			}
			di := queue[i].a.At + queue[i].pausedTotal + queue[i].sla
			dj := queue[j].a.At + queue[j].pausedTotal + queue[j].sla
			if di != dj {
				return di < dj
			}
			return queue[i].a.Seq < queue[j].a.Seq
		})
		for who := range people {
			p := &people[who]
			if p.shift != shift || p.busyUntil > now {
				continue
			}
			for i, c := range queue {
				if c.work.Role() != p.role || (c.work == WorkSecondApproval && c.firstBy == who) {
					continue
				}
				d := time.Duration(float64(Handling(s, c.work, c.a.Product)) * (1 + slower))
				p.busyUntil = now + d
				p.busy += d
				if p.role == domain.RoleOfficer {
					addBusy(now, now+d)
				}
				push(event{at: now + d, kind: 1, c: c, who: who, w: c.work})
				queue = append(queue[:i], queue[i+1:]...)
				break
			}
		}
	}
	res.Undecided = toDecide - decided
	for h := 0; h < hours; h++ {
		sh := s.ShiftAt(time.Duration(h) * time.Hour)
		if sh >= 0 && st.Officers[sh] > 0 {
			res.Utilisation[h] = math.Min(1, busyHour[h].Hours()/float64(st.Officers[sh]))
		}
	}
	res.Escalated = len(escalated)
	for p, ps := range res.Products {
		ps.Within = within[p]
		ps.Share = 1
		if ps.Cases > 0 {
			ps.Share = float64(ps.Within) / float64(ps.Cases)
		}
		ps.P50, ps.P95, ps.Max = Percentiles(times[p])
		res.Products[p] = ps
	}
	return res
}

// Percentiles are the p50, p95 and maximum of xs (nearest rank); zero for none.
func Percentiles(xs []float64) (p50, p95, maxV float64) {
	if len(xs) == 0 {
		return 0, 0, 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	rank := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(s)))) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return rank(0.50), rank(0.95), s[len(s)-1]
}
