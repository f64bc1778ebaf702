package capacity

import (
	"testing"
	"time"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/scenario"
)

const tiny = `name: tiny
days: 2
seed: 3
products: {business_2y: 0.8, business_5y_multi: 0.2}
individuals:
  per_hour: [0,0,0,0,0,0,0,0,4,4,4,4,4,4,4,4,4,4,0,0,0,0,0,0]
batches:
  - {name: forum, day: 1, hour: 9, rows: 60, straight_through_share: 0.5}
screening_hit_share: 0.03
information_requests: {share: 0.1, answer_hours: {min: 1, max: 6}}
handling_minutes: {review_2y: 30, review_5y: 45, second_approval: 15, screening_hit: 30, information_request: 10}
shifts:
  - {name: day, from: 8, to: 18, officers: 1, supervisors: 1}
  - {name: evening, from: 18, to: 24, officers: 1, supervisors: 1}
  - {name: night, from: 0, to: 8, officers: 0, supervisors: 0}
`

func load(t *testing.T) *scenario.Scenario {
	t.Helper()
	s, err := scenario.Parse("tiny.yaml", []byte(tiny))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestPlanIsMinimal: the planned staffing keeps the target in the model, and one person fewer on any shift
// (officer or supervisor) misses it.
func TestPlanIsMinimal(t *testing.T) {
	s := load(t)
	p, err := Search(s, nil, DefaultHeadroom)
	if err != nil {
		t.Fatal(err)
	}
	arrivals := s.Arrivals()
	if r := RunSlower(s, arrivals, p.Staffing, nil, p.Headroom); !r.Meets() {
		t.Fatalf("the plan %+v misses the target: %+v", p.Staffing, r.Products)
	}
	for _, v := range []*[]int{&p.Staffing.Officers, &p.Staffing.Supervisors} {
		for i := range *v {
			if (*v)[i] == 0 {
				continue
			}
			less := p.Staffing.clone()
			if v == &p.Staffing.Officers {
				less.Officers[i]--
			} else {
				less.Supervisors[i]--
			}
			if r := RunSlower(s, arrivals, less, nil, p.Headroom); r.Meets() {
				t.Errorf("%+v (one fewer on shift %s) still keeps the target, so the plan %+v is not minimal",
					less, s.Shifts[i].Name, p.Staffing)
			}
		}
	}
	if p.PeakLess == nil || p.PeakLess.Meets() {
		t.Errorf("peak minus one: %+v, want a result that misses the target", p.PeakLess)
	}
	if !p.Nominal.Meets() {
		t.Errorf("the plan misses the target at the scenario's own handling times: %+v", p.Nominal.Products)
	}
	if p.Staffing.Officers[p.Staffing.Peak()] < 1 {
		t.Errorf("no officer on the peak shift: %+v", p.Staffing)
	}
}

// TestHeadroomHolds: the plan with headroom keeps the target with handling times that much longer, and the plan
// without headroom, whose people work flat out, does not.
func TestHeadroomHolds(t *testing.T) {
	s := load(t)
	bare, err := Search(s, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	roomy, err := Search(s, nil, DefaultHeadroom)
	if err != nil {
		t.Fatal(err)
	}
	arrivals := s.Arrivals()
	if r := RunSlower(s, arrivals, roomy.Staffing, nil, DefaultHeadroom); !r.Meets() {
		t.Errorf("the plan with headroom misses the target with slower handling: %+v", r.Products)
	}
	if r := RunSlower(s, arrivals, bare.Staffing, nil, DefaultHeadroom); r.Meets() {
		t.Errorf("the plan without headroom %+v keeps the target with handling %.0f %% slower too",
			bare.Staffing, DefaultHeadroom*100)
	}
}

func TestPlanIsDeterministic(t *testing.T) {
	s := load(t)
	a, err := Search(s, nil, DefaultHeadroom)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Search(s, nil, DefaultHeadroom)
	ra, rb := a.Result, b.Result
	if ra.Escalated != rb.Escalated || ra.Products[domain.ProductBusiness2Y] != rb.Products[domain.ProductBusiness2Y] {
		t.Errorf("two searches differ: %+v vs %+v", ra, rb)
	}
	for i := range a.Staffing.Officers {
		if a.Staffing.Officers[i] != b.Staffing.Officers[i] || a.Staffing.Supervisors[i] != b.Staffing.Supervisors[i] {
			t.Errorf("staffing differs: %+v vs %+v", a.Staffing, b.Staffing)
		}
	}
}

// TestModelUsesTheDeadline: the same staffing keeps a long deadline and misses a short one (domain.DecisionSLA
// overrides, as VISA_SLA_* gives them).
func TestModelUsesTheDeadline(t *testing.T) {
	s := load(t)
	st := Staffing{Officers: []int{1, 0, 0}, Supervisors: []int{1, 0, 0}}
	arr := s.Arrivals()
	long := Run(s, arr, st, map[string]time.Duration{string(domain.ProductBusiness2Y): 240 * time.Hour,
		string(domain.ProductBusiness5YMulti): 240 * time.Hour})
	short := Run(s, arr, st, map[string]time.Duration{string(domain.ProductBusiness2Y): 2 * time.Hour,
		string(domain.ProductBusiness5YMulti): 2 * time.Hour})
	if long.Products[domain.ProductBusiness2Y].Share <= short.Products[domain.ProductBusiness2Y].Share {
		t.Errorf("a 240 h deadline keeps %v, a 2 h one %v", long.Products, short.Products)
	}
	if short.BreachesStaffing == 0 || short.Escalated == 0 {
		t.Errorf("a 2 h deadline with one officer: %d breaches, %d escalated", short.BreachesStaffing, short.Escalated)
	}
}

func TestRoutingFollowsTheDomain(t *testing.T) {
	stp := scenario.Arrival{Source: scenario.Chamber, Product: domain.ProductBusiness2Y, Member: true}
	if FirstWork(stp) != 0 {
		t.Error("a clean two-year member of the posting chamber is decided by the system")
	}
	stp.ScreeningHit = true
	if FirstWork(stp) != WorkScreeningHit || WorkScreeningHit.Role() != domain.RoleSupervisor {
		t.Error("a screening hit goes to a supervisor")
	}
	five := scenario.Arrival{Source: scenario.Chamber, Product: domain.ProductBusiness5YMulti, Member: true}
	if FirstWork(five) != WorkReview || NextWork(five.Product, WorkReview) != WorkSecondApproval {
		t.Error("a five-year case takes an officer's review and a supervisor's second approval")
	}
	if NextWork(domain.ProductBusiness2Y, WorkReview) != 0 {
		t.Error("a two-year review closes the case")
	}
	rfi := scenario.Arrival{Source: scenario.Portal, Product: domain.ProductBusiness2Y, InformationRequest: true}
	if FirstWork(rfi) != WorkRequestInformation || NextWork(rfi.Product, WorkRequestInformation) != WorkReview {
		t.Error("a request for information comes back for a review")
	}
}

func TestShippedScenariosPlan(t *testing.T) {
	for _, f := range []string{"../../scenarios/ordinary-week.yaml", "../../scenarios/forum-week.yaml"} {
		s, err := scenario.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		p, err := Search(s, nil, DefaultHeadroom)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Result.Meets() || p.PeakLess == nil || p.PeakLess.Meets() {
			t.Errorf("%s: plan %+v meets %v, peak minus one %+v", f, p.Staffing, p.Result.Meets(), p.PeakLess)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("%s: the plan took %s; it should answer in seconds", f, d)
		}
	}
}
