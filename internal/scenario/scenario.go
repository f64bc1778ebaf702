// Package scenario reads a week of demand and staffing from a file (YAML or
// JSON; docs/capacity.md documents the schema), checks it with errors that
// name the field and its line, and turns it into a deterministic list of
// arrivals. `visad plan` models the arrivals; `visad simulate` submits them
// to a real stack.
package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/visad/visad/domain"
)

// Scenario is one file: demand, the shares that route cases, handling times and shifts.
type Scenario struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description" json:"description,omitempty"`
	// Days is the simulated duration, in days from midnight of day 1.
	Days int `yaml:"days" json:"days"`
	// Seed makes the arrivals reproducible.
	Seed uint64 `yaml:"seed" json:"seed"`
	// Products is the product mix (shares that add up to 1) of every application.
	Products map[domain.Product]float64 `yaml:"products" json:"products"`
	// Individuals are applicants who apply one by one on the portal.
	Individuals Individuals `yaml:"individuals" json:"individuals"`
	// Batches are chamber batches: a delegation's rows posted at once.
	Batches []Batch `yaml:"batches" json:"batches,omitempty"`
	// ScreeningHitShare of all applicants match the watchlist (a supervisor decides them).
	ScreeningHitShare float64 `yaml:"screening_hit_share" json:"screening_hit_share"`
	// InformationRequests: the share of individual applications an officer asks more of, and how long
	// applicants take to answer.
	InformationRequests InformationRequests `yaml:"information_requests" json:"information_requests"`
	// HandlingMinutes is the staff time per kind of work.
	HandlingMinutes Handling `yaml:"handling_minutes" json:"handling_minutes"`
	// Shifts are the people on duty by hour of day, the same every day.
	Shifts []Shift `yaml:"shifts" json:"shifts"`
}

// Individuals are the portal's arrivals.
type Individuals struct {
	// PerHour is the mean number of applications in each hour of the day (24 numbers, hour 0 first).
	PerHour []float64 `yaml:"per_hour" json:"per_hour"`
	// DayFactors scales PerHour by day of the scenario (optional; one factor per day, default 1).
	DayFactors []float64 `yaml:"day_factors" json:"day_factors,omitempty"`
}

// Batch is one chamber batch.
type Batch struct {
	Name string `yaml:"name" json:"name"`
	// Day (1-based) and Hour (0–23, fractions allowed) of the post.
	Day  int     `yaml:"day" json:"day"`
	Hour float64 `yaml:"hour" json:"hour"`
	Rows int     `yaml:"rows" json:"rows"`
	// StraightThroughShare of the rows are active members on the chamber's roster: their clean two-year
	// cases are approved by the system (domain.DecideSTP).
	StraightThroughShare float64 `yaml:"straight_through_share" json:"straight_through_share"`
}

// InformationRequests shape the requests for information.
type InformationRequests struct {
	Share       float64 `yaml:"share" json:"share"`
	AnswerHours Range   `yaml:"answer_hours" json:"answer_hours"`
}

// Range is a uniform range.
type Range struct {
	Min float64 `yaml:"min" json:"min"`
	Max float64 `yaml:"max" json:"max"`
}

// Handling is staff minutes per kind of work.
type Handling struct {
	// Review2Y: an officer's decision on a two-year case.
	Review2Y float64 `yaml:"review_2y" json:"review_2y"`
	// Review5Y: an officer's first decision on a five-year case.
	Review5Y float64 `yaml:"review_5y" json:"review_5y"`
	// SecondApproval: a supervisor's second decision on a five-year case.
	SecondApproval float64 `yaml:"second_approval" json:"second_approval"`
	// ScreeningHit: a supervisor's decision on a case that matched the watchlist.
	ScreeningHit float64 `yaml:"screening_hit" json:"screening_hit"`
	// InformationRequest: an officer reading a case and writing a request for information.
	InformationRequest float64 `yaml:"information_request" json:"information_request"`
}

// Shift is people on duty from From to To (hours of day; To ≤ From wraps past midnight).
type Shift struct {
	Name        string `yaml:"name" json:"name"`
	From        int    `yaml:"from" json:"from"`
	To          int    `yaml:"to" json:"to"`
	Officers    int    `yaml:"officers" json:"officers"`
	Supervisors int    `yaml:"supervisors" json:"supervisors"`
}

// Covers says whether the shift is on duty in the hour of day h.
func (s Shift) Covers(h int) bool {
	if s.From < s.To {
		return h >= s.From && h < s.To
	}
	return h >= s.From || h < s.To
}

// Hours is the shift's length in hours.
func (s Shift) Hours() int {
	if s.From < s.To {
		return s.To - s.From
	}
	return 24 - s.From + s.To
}

// Duration is the simulated time.
func (s *Scenario) Duration() time.Duration { return time.Duration(s.Days) * 24 * time.Hour }

// ShiftAt is the index of the shift on duty at offset t from the start, or -1.
func (s *Scenario) ShiftAt(t time.Duration) int {
	h := int(t/time.Hour) % 24
	for i, sh := range s.Shifts {
		if sh.Covers(h) {
			return i
		}
	}
	return -1
}

// Minutes is a handling time of a kind of work, as a duration.
func Minutes(m float64) time.Duration { return time.Duration(m * float64(time.Minute)) }

// Error is one problem in a scenario file: the field's path and its line.
type Error struct {
	File string
	Line int
	Path string
	Msg  string
}

func (e Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File + ":")
	}
	if e.Line > 0 {
		b.WriteString(strconv.Itoa(e.Line) + ":")
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors are all the problems found.
type Errors []Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Load reads and checks a scenario file.
func Load(path string) (*Scenario, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, raw)
}

// Parse decodes a scenario (YAML, or JSON, which YAML reads too) strictly: an
// unknown field, a wrong type or a second document is an error, and so is
// every rule Validate checks. Each error names the file, the line and the field.
func Parse(name string, raw []byte) (*Scenario, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return nil, Errors{{File: name, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var s Scenario
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{File: name, Msg: "the file is empty"}}
		}
		var te *yaml.TypeError
		if errors.As(err, &te) {
			out := make(Errors, 0, len(te.Errors))
			for _, m := range te.Errors {
				e := typeError(name, m)
				if p := pathAt(&root, e.Line, e.Path); p != "" {
					e.Path = p
				}
				out = append(out, e)
			}
			return nil, out
		}
		return nil, Errors{{File: name, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, Errors{{File: name, Line: extra.Line, Msg: "a scenario file holds one document"}}
	}
	if errs := s.Validate(); len(errs) > 0 {
		for i := range errs {
			errs[i].File = name
			errs[i].Line = lineOf(&root, errs[i].Path)
		}
		return nil, errs
	}
	return &s, nil
}

// typeError turns yaml.v3's "line 4: field x not found in type scenario.Batch" into an Error.
func typeError(file, msg string) Error {
	e := Error{File: file, Msg: msg}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, tail, ok := strings.Cut(rest, ": "); ok {
			if line, err := strconv.Atoi(n); err == nil {
				e.Line, e.Msg = line, tail
			}
		}
	}
	if f, ok := strings.CutPrefix(e.Msg, "field "); ok {
		if field, typ, ok := strings.Cut(f, " not found in type "); ok {
			e.Path, e.Msg = field, "unknown field (in "+strings.TrimPrefix(typ, "scenario.")+")"
		}
	}
	return e
}

// lineOf finds the line of a field path ("batches[2].rows") in the document, or 0.
func lineOf(root *yaml.Node, path string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, seg := range splitPath(path) {
		var next *yaml.Node
		switch {
		case seg.key != "" && n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == seg.key {
					next = n.Content[i+1]
					line = n.Content[i].Line
				}
			}
		case seg.key == "" && n.Kind == yaml.SequenceNode && seg.index < len(n.Content):
			next = n.Content[seg.index]
			line = next.Line
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
}

// pathAt is the full path ("batches[0].rowz") of the mapping key on the line, or "".
func pathAt(n *yaml.Node, line int, key string) string {
	if key == "" {
		return ""
	}
	var walk func(n *yaml.Node, path string) string
	walk = func(n *yaml.Node, path string) string {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				if p := walk(c, path); p != "" {
					return p
				}
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				if k.Line == line && k.Value == key {
					return p
				}
				if q := walk(n.Content[i+1], p); q != "" {
					return q
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				if p := walk(c, fmt.Sprintf("%s[%d]", path, i)); p != "" {
					return p
				}
			}
		}
		return ""
	}
	return walk(n, "")
}

type segment struct {
	key   string
	index int
}

func splitPath(path string) []segment {
	var out []segment
	for _, part := range strings.Split(path, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key != "" {
			out = append(out, segment{key: key})
		}
		for rest != "" {
			n, after, _ := strings.Cut(rest, "]")
			i, _ := strconv.Atoi(n)
			out = append(out, segment{index: i})
			_, rest, _ = strings.Cut(after, "[")
		}
	}
	return out
}

// Validate checks the rules a scenario must keep; every Error names its field path.
func (s *Scenario) Validate() Errors {
	var errs Errors
	bad := func(path, format string, args ...any) {
		errs = append(errs, Error{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	share := func(path string, v float64) {
		if math.IsNaN(v) || v < 0 || v > 1 {
			bad(path, "must be a share from 0 to 1, got %v", v)
		}
	}
	if strings.TrimSpace(s.Name) == "" {
		bad("name", "is required")
	}
	if s.Days < 1 || s.Days > 31 {
		bad("days", "must be from 1 to 31, got %d", s.Days)
	}
	if len(s.Products) == 0 {
		bad("products", "is required: the share of each product, e.g. %s: 0.8", domain.ProductBusiness2Y)
	}
	total := 0.0
	for _, p := range sortedProducts(s.Products) {
		if _, ok := domain.LookupProduct(p); !ok {
			bad("products."+string(p), "is not a product (%s or %s)", domain.ProductBusiness2Y, domain.ProductBusiness5YMulti)
			continue
		}
		share("products."+string(p), s.Products[p])
		total += s.Products[p]
	}
	if len(s.Products) > 0 && math.Abs(total-1) > 1e-6 {
		bad("products", "the shares must add up to 1, they add up to %v", total)
	}
	if len(s.Individuals.PerHour) != 24 {
		bad("individuals.per_hour", "needs 24 numbers (hours 0 to 23), got %d", len(s.Individuals.PerHour))
	}
	for i, v := range s.Individuals.PerHour {
		if v < 0 || v > 1000 || math.IsNaN(v) {
			bad(fmt.Sprintf("individuals.per_hour[%d]", i), "must be from 0 to 1000 applications an hour, got %v", v)
		}
	}
	if n := len(s.Individuals.DayFactors); n != 0 && n != s.Days {
		bad("individuals.day_factors", "needs one factor per day (%d), got %d", s.Days, n)
	}
	for i, v := range s.Individuals.DayFactors {
		if v < 0 || v > 100 || math.IsNaN(v) {
			bad(fmt.Sprintf("individuals.day_factors[%d]", i), "must be from 0 to 100, got %v", v)
		}
	}
	for i, b := range s.Batches {
		p := fmt.Sprintf("batches[%d]", i)
		if strings.TrimSpace(b.Name) == "" {
			bad(p+".name", "is required")
		}
		if b.Day < 1 || b.Day > s.Days {
			bad(p+".day", "must be from 1 to days (%d), got %d", s.Days, b.Day)
		}
		if b.Hour < 0 || b.Hour >= 24 || math.IsNaN(b.Hour) {
			bad(p+".hour", "must be from 0 to less than 24, got %v", b.Hour)
		}
		if b.Rows < 1 || b.Rows > domain.MaxBatchRows {
			bad(p+".rows", "must be from 1 to %d, got %d", domain.MaxBatchRows, b.Rows)
		}
		share(p+".straight_through_share", b.StraightThroughShare)
	}
	share("screening_hit_share", s.ScreeningHitShare)
	share("information_requests.share", s.InformationRequests.Share)
	r := s.InformationRequests.AnswerHours
	if r.Min < 0 || r.Max < r.Min || r.Max > 24*float64(domain.DefaultInformationDays) {
		bad("information_requests.answer_hours", "needs 0 ≤ min ≤ max ≤ %d (the time an applicant has), got %v–%v",
			24*domain.DefaultInformationDays, r.Min, r.Max)
	}
	for _, h := range []struct {
		path string
		v    float64
	}{
		{"handling_minutes.review_2y", s.HandlingMinutes.Review2Y},
		{"handling_minutes.review_5y", s.HandlingMinutes.Review5Y},
		{"handling_minutes.second_approval", s.HandlingMinutes.SecondApproval},
		{"handling_minutes.screening_hit", s.HandlingMinutes.ScreeningHit},
		{"handling_minutes.information_request", s.HandlingMinutes.InformationRequest},
	} {
		if h.v <= 0 || h.v > 8*60 || math.IsNaN(h.v) {
			bad(h.path, "must be more than 0 and at most 480 minutes, got %v", h.v)
		}
	}
	if len(s.Shifts) == 0 {
		bad("shifts", "needs at least one shift")
	}
	var owner [24]int
	for i := range owner {
		owner[i] = -1
	}
	for i, sh := range s.Shifts {
		p := fmt.Sprintf("shifts[%d]", i)
		if strings.TrimSpace(sh.Name) == "" {
			bad(p+".name", "is required")
		}
		if sh.From < 0 || sh.From > 23 {
			bad(p+".from", "must be an hour from 0 to 23, got %d", sh.From)
			continue
		}
		if sh.To < 0 || sh.To > 24 || sh.To == sh.From {
			bad(p+".to", "must be an hour from 0 to 24 other than from, got %d", sh.To)
			continue
		}
		if sh.Officers < 0 || sh.Officers > 500 {
			bad(p+".officers", "must be from 0 to 500, got %d", sh.Officers)
		}
		if sh.Supervisors < 0 || sh.Supervisors > 100 {
			bad(p+".supervisors", "must be from 0 to 100, got %d", sh.Supervisors)
		}
		for h := 0; h < 24; h++ {
			if !sh.Covers(h) {
				continue
			}
			if o := owner[h]; o >= 0 {
				bad(p, "overlaps shift %q at %02d:00: shifts must not overlap", s.Shifts[o].Name, h)
				break
			}
			owner[h] = i
		}
	}
	return errs
}

func sortedProducts(m map[domain.Product]float64) []domain.Product {
	out := make([]domain.Product, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Source says where an application came from.
type Source int

// Sources.
const (
	Portal  Source = iota + 1 // an individual applicant on the portal
	Chamber                   // a row of a chamber batch
)

// Arrival is one application of the scenario.
type Arrival struct {
	Seq     int           `json:"seq"`
	At      time.Duration `json:"at"` // offset from the start
	Source  Source        `json:"source"`
	Batch   int           `json:"batch"` // index into Batches, for Chamber arrivals
	Product domain.Product
	// Member: an active member on the vouching chamber's roster (a straight-through candidate).
	Member       bool
	ScreeningHit bool
	// InformationRequest: the officer asks for more once; the applicant answers AnswerAfter later.
	InformationRequest bool
	AnswerAfter        time.Duration
}

// Arrivals draws the scenario's applications, in time order, from its seed:
// the same file gives the same arrivals, to plan and to simulate alike.
func (s *Scenario) Arrivals() []Arrival {
	r := rand.New(rand.NewPCG(s.Seed, s.Seed^0x5DEECE66D))
	products := sortedProducts(s.Products)
	pick := func() domain.Product {
		x, acc := r.Float64(), 0.0
		for _, p := range products {
			acc += s.Products[p]
			if x < acc {
				return p
			}
		}
		return products[len(products)-1]
	}
	var out []Arrival
	for day := 0; day < s.Days; day++ {
		f := 1.0
		if len(s.Individuals.DayFactors) > 0 {
			f = s.Individuals.DayFactors[day]
		}
		for h := 0; h < 24; h++ {
			rate := s.Individuals.PerHour[h] * f
			if rate <= 0 {
				continue
			}
			start := time.Duration(day*24+h) * time.Hour
			// A Poisson process: exponential gaps at the hour's rate.
			for t := r.ExpFloat64() / rate; t < 1; t += r.ExpFloat64() / rate {
				a := Arrival{At: start + time.Duration(t*float64(time.Hour)), Source: Portal, Product: pick()}
				a.Member = a.Product == domain.ProductBusiness5YMulti // a five-year visa needs a chamber's membership
				a.ScreeningHit = r.Float64() < s.ScreeningHitShare
				// A supervisor decides a screening hit as it stands; officers ask the others for more.
				if r.Float64() < s.InformationRequests.Share && !a.ScreeningHit {
					a.InformationRequest = true
					ah := s.InformationRequests.AnswerHours
					a.AnswerAfter = time.Duration((ah.Min + r.Float64()*(ah.Max-ah.Min)) * float64(time.Hour))
				}
				out = append(out, a)
			}
		}
	}
	for i, b := range s.Batches {
		at := time.Duration(b.Day-1)*24*time.Hour + time.Duration(b.Hour*float64(time.Hour))
		for n := 0; n < b.Rows; n++ {
			a := Arrival{At: at, Source: Chamber, Batch: i, Product: pick()}
			a.Member = a.Product == domain.ProductBusiness5YMulti || r.Float64() < b.StraightThroughShare
			a.ScreeningHit = r.Float64() < s.ScreeningHitShare
			out = append(out, a)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At < out[j].At })
	for i := range out {
		out[i].Seq = i
	}
	return out
}

// StraightThrough says whether the system approves the arrival by itself, by the same rule the workflow applies.
// Scenario applicants bring every document their checklist asks for: missing documents are a request for
// information, which a scenario models with its own share.
func (a Arrival) StraightThrough() bool {
	ok, _ := domain.DecideSTP(domain.STPFacts{Enabled: true, Product: a.Product, ScreeningHit: a.ScreeningHit,
		Screened: true, Member: a.Member && a.Source == Chamber, DocumentsComplete: true})
	return ok
}
