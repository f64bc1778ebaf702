package scenario

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/visad/visad/domain"
)

const valid = `name: tiny
days: 2
seed: 7
products: {business_2y: 0.8, business_5y_multi: 0.2}
individuals:
  per_hour: [0,0,0,0,0,0,0,0,2,2,2,2,2,2,2,2,2,2,0,0,0,0,0,0]
batches:
  - {name: forum, day: 1, hour: 10, rows: 20, straight_through_share: 0.5}
screening_hit_share: 0.05
information_requests: {share: 0.1, answer_hours: {min: 1, max: 4}}
handling_minutes: {review_2y: 15, review_5y: 25, second_approval: 10, screening_hit: 30, information_request: 10}
shifts:
  - {name: day, from: 8, to: 20, officers: 2, supervisors: 1}
  - {name: night, from: 20, to: 8, officers: 0, supervisors: 0}
`

func TestParseValid(t *testing.T) {
	s, err := Parse("tiny.yaml", []byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if s.Days != 2 || len(s.Batches) != 1 || s.Products[domain.ProductBusiness5YMulti] != 0.2 {
		t.Errorf("parsed %+v", s)
	}
	if got := s.ShiftAt(25 * time.Hour); got != 1 {
		t.Errorf("01:00 on day 2 is shift %d, want the night shift (1)", got)
	}
	if got := s.ShiftAt(33 * time.Hour); got != 0 {
		t.Errorf("09:00 on day 2 is shift %d, want the day shift (0)", got)
	}
}

// TestParseJSON: JSON is read by the same strict decoder.
func TestParseJSON(t *testing.T) {
	j := `{"name":"j","days":1,"seed":1,"products":{"business_2y":1},"individuals":{"per_hour":` +
		`[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]},"screening_hit_share":0,` +
		`"information_requests":{"share":0,"answer_hours":{"min":0,"max":0}},"handling_minutes":` +
		`{"review_2y":1,"review_5y":1,"second_approval":1,"screening_hit":1,"information_request":1},` +
		`"shifts":[{"name":"all","from":0,"to":24,"officers":1,"supervisors":1}]}`
	if _, err := Parse("s.json", []byte(j)); err != nil {
		t.Fatal(err)
	}
}

func TestParseErrorsNameFieldAndLine(t *testing.T) {
	for _, tc := range []struct {
		name, from, to string
		want           []string // substrings of one error each
	}{
		{"unknown field", "seed: 7", "seed: 7\nsede: 8", []string{"tiny.yaml:4: sede: unknown field (in Scenario)"}},
		{"unknown nested field", "rows: 20,", "rows: 20, rowz: 3,",
			[]string{"tiny.yaml:8: batches[0].rowz: unknown field (in Batch)"}},
		{"wrong type", "days: 2", "days: two", []string{"tiny.yaml:2:", "cannot unmarshal"}},
		{"rows out of range", "rows: 20", "rows: 0", []string{"tiny.yaml:8: batches[0].rows: must be from 1 to 10000"}},
		{"day after the end", "day: 1,", "day: 3,", []string{"tiny.yaml:8: batches[0].day: must be from 1 to days (2)"}},
		{"shares do not add up", "business_5y_multi: 0.2", "business_5y_multi: 0.3",
			[]string{"tiny.yaml:4: products: the shares must add up to 1"}},
		{"unknown product", "business_5y_multi: 0.2", "business_1y: 0.2",
			[]string{"products.business_1y: is not a product"}},
		{"share above one", "screening_hit_share: 0.05", "screening_hit_share: 1.5",
			[]string{"tiny.yaml:9: screening_hit_share: must be a share from 0 to 1"}},
		{"per_hour too short", "[0,0,0,0,0,0,0,0,", "[0,0,0,0,0,0,0,",
			[]string{"tiny.yaml:6: individuals.per_hour: needs 24"}},
		{"overlapping shifts", "from: 20, to: 8", "from: 19, to: 8",
			[]string{`tiny.yaml:14: shifts[1]: overlaps shift "day" at 19:00`}},
		{"handling zero", "review_5y: 25", "review_5y: 0", []string{"handling_minutes.review_5y: must be more than 0"}},
		{"answer range reversed", "min: 1, max: 4", "min: 5, max: 4",
			[]string{"tiny.yaml:10: information_requests.answer_hours: needs 0 ≤ min ≤ max"}},
		{"two errors", "rows: 20", "rows: -1", []string{"batches[0].rows"}},
		{"no name", "name: tiny", "name: ''", []string{"tiny.yaml:1: name: is required"}},
		{"second document", "seed: 7", "seed: 7\n---\nname: x", []string{"one document"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(valid, tc.from, tc.to, 1)
			if src == valid {
				t.Fatalf("the case changes nothing: %q not found", tc.from)
			}
			_, err := Parse("tiny.yaml", []byte(src))
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("got %v, want scenario errors", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestArrivalsAreDeterministic(t *testing.T) {
	s, err := Parse("tiny.yaml", []byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	a, b := s.Arrivals(), s.Arrivals()
	if len(a) != len(b) || len(a) < 20 {
		t.Fatalf("%d and %d arrivals", len(a), len(b))
	}
	batch, stp := 0, 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("arrival %d differs: %+v vs %+v", i, a[i], b[i])
		}
		if i > 0 && a[i].At < a[i-1].At {
			t.Fatalf("arrival %d before %d", i, i-1)
		}
		if a[i].At < 0 || a[i].At >= s.Duration() {
			t.Errorf("arrival %d at %v, outside the scenario", i, a[i].At)
		}
		if a[i].Source == Chamber {
			batch++
		}
		if a[i].StraightThrough() {
			stp++
			if a[i].Source != Chamber || a[i].Product != domain.ProductBusiness2Y || a[i].ScreeningHit {
				t.Errorf("arrival %+v straight through", a[i])
			}
		}
		if a[i].InformationRequest && (a[i].ScreeningHit || a[i].Source != Portal) {
			t.Errorf("arrival %+v: only a portal case without a hit gets a request for information", a[i])
		}
	}
	if batch != 20 || stp == 0 {
		t.Errorf("%d batch rows (want 20), %d straight through", batch, stp)
	}
	s.Seed++
	if c := s.Arrivals(); len(c) == len(a) && c[0] == a[0] && c[len(c)-1] == a[len(a)-1] {
		t.Error("another seed draws the same arrivals")
	}
}

func TestShippedScenariosAreValid(t *testing.T) {
	for _, f := range []string{"../../scenarios/ordinary-week.yaml", "../../scenarios/forum-week.yaml"} {
		s, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Arrivals()) == 0 {
			t.Errorf("%s: no arrivals", f)
		}
	}
}
