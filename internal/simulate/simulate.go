package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/capacity"
	"github.com/visad/visad/internal/sample"
	"github.com/visad/visad/internal/scenario"
)

// DefaultCompress runs a simulated day in a real minute.
const DefaultCompress = 1440

// Options shape a run.
type Options struct {
	Scenario *scenario.Scenario
	// Compress is how many simulated seconds pass in a real second; decision deadlines, handling times and
	// answer delays are all divided by it.
	Compress float64
	Staffing capacity.Staffing
	// StaffingSource says where the staffing came from, for the report.
	StaffingSource string
	// SLA is the real (uncompressed) decision deadline per product, from VISA_SLA_*.
	SLA map[string]time.Duration
	// Grace is the simulated time after the scenario's end in which open cases may still be decided.
	Grace time.Duration
	// WorkDir holds the database and keys of the run (a fresh directory).
	WorkDir  string
	LogLevel string // the embedded Temporal server's
	Log      io.Writer
	Progress io.Writer
}

type portalCase struct {
	arrival scenario.Arrival
	token   string
	asked   atomic.Bool
}

type interval struct{ from, to time.Duration }

type runner struct {
	o       Options
	st      *stack
	t0      time.Time
	client  *http.Client
	slas    map[domain.Product]time.Duration // compressed
	mu      sync.Mutex
	portal  map[string]*portalCase
	busy    []interval // officers' busy time, simulated
	stop    atomic.Bool
	errs    atomic.Int64
	lastErr atomic.Value
	subs    atomic.Int64
	subErrs atomic.Int64
	answers atomic.Int64
}

// sim is the simulated time since the start.
func (r *runner) sim() time.Duration { return time.Duration(float64(time.Since(r.t0)) * r.o.Compress) }

// real turns a simulated duration into real time.
func (r *runner) real(d time.Duration) time.Duration { return time.Duration(float64(d) / r.o.Compress) }

func (r *runner) sleepUntil(ctx context.Context, at time.Duration) bool {
	d := r.real(at - r.sim())
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (r *runner) fail(what string, err error) {
	r.errs.Add(1)
	r.lastErr.Store(what + ": " + err.Error())
}

// call sends a request; body is JSON unless raw is given with its content type.
func (r *runner) call(ctx context.Context, method, path, token string, body any, out any) (int, error) {
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case csvBody:
		rd, ctype = bytes.NewReader(b), "text/csv"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.st.base+path, rd)
	if err != nil {
		return 0, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(raw))
	}
	if out != nil {
		return resp.StatusCode, json.Unmarshal(raw, out)
	}
	return resp.StatusCode, nil
}

type csvBody []byte

// Run runs the scenario and returns its report.
func Run(ctx context.Context, o Options) (*Report, error) {
	s := o.Scenario
	if o.Compress <= 0 {
		o.Compress = DefaultCompress
	}
	if o.Grace <= 0 {
		o.Grace = 3 * 24 * time.Hour
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if len(o.Staffing.Officers) != len(s.Shifts) || len(o.Staffing.Supervisors) != len(s.Shifts) {
		return nil, fmt.Errorf("the staffing names %d and %d shifts, the scenario has %d",
			len(o.Staffing.Officers), len(o.Staffing.Supervisors), len(s.Shifts))
	}
	r := &runner{o: o, portal: map[string]*portalCase{}, slas: map[domain.Product]time.Duration{},
		client: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	for _, p := range []domain.Product{domain.ProductBusiness2Y, domain.ProductBusiness5YMulti} {
		r.slas[p] = r.real(domain.DecisionSLA(p, o.SLA))
	}
	if err := os.MkdirAll(o.WorkDir, 0o700); err != nil {
		return nil, err
	}
	st, err := startStack(ctx, o.WorkDir, r.slas, o.LogLevel, o.Log)
	if err != nil {
		return nil, err
	}
	defer st.close()
	r.st = st
	arrivals := s.Arrivals()
	setup, err := r.prepare(ctx, arrivals)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Progress, "simulate %s: %d applications, %.0fx compressed (a simulated day in %s), stack at %s\n",
		s.Name, len(arrivals), o.Compress, r.real(24*time.Hour).Round(time.Second), st.base)

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.t0 = time.Now()
	var wg sync.WaitGroup
	for _, b := range setup.bots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if b.role == domain.RoleSupervisor {
				r.supervisor(runCtx, b)
			} else {
				r.officer(runCtx, b)
			}
		}()
	}
	var subWG sync.WaitGroup
	r.submit(runCtx, &subWG, arrivals, setup)
	subWG.Wait()
	// After the last arrival: work on until the scenario ends and every case is decided, or the grace runs out.
	end := s.Duration()
	for runCtx.Err() == nil {
		now := r.sim()
		if now >= end+o.Grace {
			break
		}
		if now >= end {
			open, err := r.openCases(runCtx, setup.supervisorToken)
			if err == nil && open == 0 {
				break
			}
		}
		fmt.Fprintf(o.Progress, "  day %d %02d:00 simulated (%s real), %d submitted\n",
			int(now/(24*time.Hour))+1, int(now/time.Hour)%24, time.Since(r.t0).Round(time.Second), r.subs.Load())
		r.sleepUntil(runCtx, now+6*time.Hour)
	}
	simEnd := r.sim()
	r.stop.Store(true)
	cancel()
	wg.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	fmt.Fprintf(o.Progress, "  collecting the cases' timelines (%s real so far)\n", time.Since(r.t0).Round(time.Second))
	return r.report(ctx, setup, arrivals, simEnd)
}

type bot struct {
	role  domain.Role
	shift int
	token string
	id    string
}

type setup struct {
	bots            []bot
	supervisorToken string
	memberChamber   string
	batchChambers   []chamberAccount
	portalPeople    []sample.Person
}

type chamberAccount struct{ id, token string }

// prepare creates the staff, the chambers and their rosters, before the clock starts.
func (r *runner) prepare(ctx context.Context, arrivals []scenario.Arrival) (*setup, error) {
	s := r.o.Scenario
	su := &setup{}
	for i, sh := range s.Shifts {
		for n := 0; n < r.o.Staffing.Officers[i]; n++ {
			tok, id, err := r.st.staffToken(ctx, domain.RoleOfficer, fmt.Sprintf("Officer %d (%s)", n+1, sh.Name))
			if err != nil {
				return nil, err
			}
			su.bots = append(su.bots, bot{role: domain.RoleOfficer, shift: i, token: tok, id: id})
		}
		for n := 0; n < r.o.Staffing.Supervisors[i]; n++ {
			tok, id, err := r.st.staffToken(ctx, domain.RoleSupervisor, fmt.Sprintf("Supervisor %d (%s)", n+1, sh.Name))
			if err != nil {
				return nil, err
			}
			su.bots = append(su.bots, bot{role: domain.RoleSupervisor, shift: i, token: tok, id: id})
		}
	}
	tok, _, err := r.st.staffToken(ctx, domain.RoleSupervisor, "Report reader")
	if err != nil {
		return nil, err
	}
	su.supervisorToken = tok
	portal := 0
	for _, a := range arrivals {
		if a.Source == scenario.Portal {
			portal++
		}
	}
	su.portalPeople = sample.Generate(sample.Options{Rows: max(portal, 1), Seed: 1})
	su.memberChamber, _, err = r.st.svc.Cases.NewChamber(ctx, "simulate", "Kazakh Chamber of International Commerce")
	if err != nil {
		return nil, err
	}
	// Five-year portal applicants carry this chamber's recommendation, and are on its roster.
	var members []domain.Member
	for _, p := range su.portalPeople {
		members = append(members, p.Member)
	}
	if _, _, err := r.st.svc.Cases.UpsertRoster(ctx, su.memberChamber, members); err != nil {
		return nil, fmt.Errorf("roster: %w", err)
	}
	for i, b := range s.Batches {
		id, token, err := r.st.svc.Cases.NewChamber(ctx, "simulate", b.Name)
		if err != nil {
			return nil, err
		}
		su.batchChambers = append(su.batchChambers, chamberAccount{id: id, token: token})
		_ = i
	}
	return su, nil
}

// listed is the watchlist entry a screening hit is made to match (internal/sample's invented list).
var listed = struct{ surname, given, dob string }{"Badguy", "Oskar", "1970-01-01"}

func hit(v map[string]string) {
	v["surname"], v["given_names"], v["date_of_birth"] = listed.surname, listed.given, listed.dob
	dob, _ := domain.ParseDate(v["date_of_birth"])
	exp, _ := domain.ParseDate(v["passport_expiry_date"])
	l1, l2 := domain.BuildTD3(domain.MRZ{DocumentCode: "P", IssuingState: v["passport_issuing_country"],
		Surname: v["surname"], GivenNames: v["given_names"], DocumentNumber: v["passport_number"],
		Nationality: v["nationality"], BirthDate: dob.Format("060102"), Sex: v["sex"], ExpiryDate: exp.Format("060102")})
	v["passport_mrz_line1"], v["passport_mrz_line2"] = l1, l2
}

// submit posts the arrivals at their simulated times: portal applications one by one, batches whole.
func (r *runner) submit(ctx context.Context, wg *sync.WaitGroup, arrivals []scenario.Arrival, su *setup) {
	s := r.o.Scenario
	next := 0
	posted := map[int]bool{}
	for i := 0; i < len(arrivals); i++ {
		a := arrivals[i]
		if !r.sleepUntil(ctx, a.At) {
			return
		}
		if a.Source == scenario.Chamber {
			if posted[a.Batch] {
				continue
			}
			posted[a.Batch] = true
			var rows []scenario.Arrival
			for _, b := range arrivals[i:] {
				if b.Source == scenario.Chamber && b.Batch == a.Batch {
					rows = append(rows, b)
				}
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.postBatch(ctx, a.Batch, s.Batches[a.Batch], rows, su)
			}()
			continue
		}
		p := su.portalPeople[next]
		next++
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.apply(ctx, a, p, su)
		}()
	}
}

func (r *runner) apply(ctx context.Context, a scenario.Arrival, p sample.Person, su *setup) {
	v := map[string]string{}
	for k, x := range p.Row.Values {
		v[k] = x
	}
	v["product"] = string(a.Product)
	if a.ScreeningHit {
		hit(v)
	}
	form := domain.ApplicationFromRow(domain.BatchRow{Number: 1, Values: v}, su.memberChamber)
	if a.Product != domain.ProductBusiness5YMulti {
		form.Chamber = nil // an individual two-year applicant carries no chamber's recommendation
	}
	var resp struct {
		ID          string `json:"id"`
		AccessToken string `json:"access_token"`
	}
	if _, err := r.call(ctx, http.MethodPost, "/v1/applications", "", form, &resp); err != nil {
		r.subErrs.Add(1)
		r.fail("submit", err)
		return
	}
	r.subs.Add(1)
	r.mu.Lock()
	r.portal[resp.ID] = &portalCase{arrival: a, token: resp.AccessToken}
	r.mu.Unlock()
}

func (r *runner) postBatch(ctx context.Context, i int, b scenario.Batch, rows []scenario.Arrival, su *setup) {
	people := sample.Generate(sample.Options{Rows: len(rows), Seed: uint64(2 + i)})
	var members []domain.Member
	for n, a := range rows {
		v := people[n].Row.Values
		v["product"] = string(a.Product)
		if a.ScreeningHit {
			hit(v)
		}
		if a.Member {
			members = append(members, people[n].Member)
		}
	}
	acct := su.batchChambers[i]
	if len(members) > 0 {
		var buf bytes.Buffer
		var onRoster []sample.Person
		for n, a := range rows {
			if a.Member {
				onRoster = append(onRoster, people[n])
			}
		}
		if err := sample.WriteRosterCSV(&buf, onRoster); err != nil {
			r.fail("roster", err)
			return
		}
		if _, err := r.call(ctx, http.MethodPut, "/v1/chambers/"+acct.id+"/members", acct.token, csvBody(buf.Bytes()),
			nil); err != nil {
			r.fail("roster", err)
			return
		}
	}
	var buf bytes.Buffer
	if err := sample.WriteBatchCSV(&buf, people); err != nil {
		r.fail("batch", err)
		return
	}
	path := fmt.Sprintf("/v1/chambers/%s/batches?batch_reference=sim-%d", acct.id, i)
	if _, err := r.call(ctx, http.MethodPost, path, acct.token, csvBody(buf.Bytes()), nil); err != nil {
		r.subErrs.Add(int64(len(rows)))
		r.fail("batch", err)
		return
	}
	r.subs.Add(int64(len(rows)))
}

// decisionBody is POST /v1/cases/{id}/decision's body: the API takes the actor from the token.
type decisionBody struct {
	Decision domain.Outcome `json:"decision"`
	Message  string         `json:"message,omitempty"`
	Note     string         `json:"note,omitempty"`
}

type caseItem struct {
	ID           string         `json:"id"`
	Product      domain.Product `json:"product"`
	Status       domain.Status  `json:"status"`
	ScreeningHit bool           `json:"screening_hit"`
	SLADueAt     time.Time      `json:"sla_due_at"`
	Assignee     string         `json:"assignee"`
	SLA          struct {
		Escalated bool `json:"escalated"`
	} `json:"sla"`
}

type caseList struct {
	Items      []caseItem `json:"items"`
	NextCursor string     `json:"next_cursor"`
}

func (r *runner) queue(ctx context.Context, token string, status domain.Status) ([]caseItem, error) {
	var l caseList
	_, err := r.call(ctx, http.MethodGet, "/v1/cases?limit=50&status="+string(status), token, nil, &l)
	return l.Items, err
}

// idle is how long a bot with nothing to do waits before it looks at the queue again: five simulated minutes.
func (r *runner) idle(ctx context.Context) {
	d := max(r.real(5*time.Minute), 50*time.Millisecond)
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// work holds the bot for the handling time (less what the claim already took), then runs decide.
func (r *runner) work(ctx context.Context, began time.Duration, handling time.Duration) bool {
	return r.sleepUntil(ctx, began+handling)
}

func (r *runner) onDuty(b bot) bool { return r.o.Scenario.ShiftAt(r.sim()) == b.shift }

// officer works the queue as the console does: the first case in the queue's order (escalated first, then the
// earliest deadline) that is free or already theirs; claim it, work it, decide it.
func (r *runner) officer(ctx context.Context, b bot) {
	for ctx.Err() == nil {
		if !r.onDuty(b) {
			r.idle(ctx)
			continue
		}
		items, err := r.queue(ctx, b.token, domain.StatusAwaitingReview)
		if err != nil {
			r.fail("queue", err)
			r.idle(ctx)
			continue
		}
		began := r.sim()
		var picked *caseItem
		for i := range items {
			it := &items[i]
			if it.ScreeningHit || (it.Assignee != "" && it.Assignee != b.id) {
				continue
			}
			if it.Assignee != b.id {
				if _, err := r.call(ctx, http.MethodPost, "/v1/cases/"+it.ID+"/claim", b.token, nil, nil); err != nil {
					continue // another officer was quicker
				}
			}
			picked = it
			break
		}
		if picked == nil {
			r.idle(ctx)
			continue
		}
		r.mu.Lock()
		pc := r.portal[picked.ID]
		r.mu.Unlock()
		w := capacity.WorkReview
		if pc != nil && pc.arrival.InformationRequest && !pc.asked.Load() {
			w = capacity.WorkRequestInformation
		}
		if !r.work(ctx, began, capacity.Handling(r.o.Scenario, w, picked.Product)) {
			return
		}
		d := decisionBody{Decision: domain.OutcomeApprove}
		if w == capacity.WorkRequestInformation {
			d = decisionBody{Decision: domain.OutcomeRequestInformation,
				Message: "Please upload the invitation letter from your host company."}
		}
		_, err = r.call(ctx, http.MethodPost, "/v1/cases/"+picked.ID+"/decision", b.token, d, nil)
		r.mu.Lock()
		r.busy = append(r.busy, interval{began, r.sim()})
		r.mu.Unlock()
		if err != nil {
			r.fail("decide", err)
			_, _ = r.call(ctx, http.MethodPost, "/v1/cases/"+picked.ID+"/release", b.token, nil, nil)
			continue
		}
		if w == capacity.WorkRequestInformation {
			pc.asked.Store(true)
			// The answer comes back to the queue for whoever is on duty.
			if _, err := r.call(ctx, http.MethodPost, "/v1/cases/"+picked.ID+"/release", b.token, nil, nil); err != nil {
				r.fail("release", err)
			}
			go r.answer(ctx, picked.ID, pc, r.sim()+pc.arrival.AnswerAfter)
		}
	}
}

// answer is the applicant answering the request for information after the scenario's delay.
func (r *runner) answer(ctx context.Context, id string, pc *portalCase, at time.Duration) {
	if !r.sleepUntil(ctx, at) || r.stop.Load() {
		return
	}
	body := map[string]string{"message": "The invitation letter is attached to this answer."}
	if _, err := r.call(ctx, http.MethodPost, "/v1/applications/"+id+"/information", pc.token, body, nil); err != nil {
		r.fail("answer", err)
		return
	}
	r.answers.Add(1)
}

// supervisor works the second approvals of five-year cases and the screening hits, in queue order.
func (r *runner) supervisor(ctx context.Context, b bot) {
	mine := map[string]bool{} // cases whose first decision was this supervisor's: four eyes
	for ctx.Err() == nil {
		if !r.onDuty(b) {
			r.idle(ctx)
			continue
		}
		second, err1 := r.queue(ctx, b.token, domain.StatusAwaitingSecondApproval)
		review, err2 := r.queue(ctx, b.token, domain.StatusAwaitingReview)
		if err := errors.Join(err1, err2); err != nil {
			r.fail("queue", err)
			r.idle(ctx)
			continue
		}
		items := second
		for _, it := range review {
			if it.ScreeningHit {
				items = append(items, it)
			}
		}
		sort.SliceStable(items, func(i, j int) bool {
			if items[i].SLA.Escalated != items[j].SLA.Escalated {
				return items[i].SLA.Escalated
			}
			return items[i].SLADueAt.Before(items[j].SLADueAt)
		})
		began := r.sim()
		var picked *caseItem
		for i := range items {
			it := &items[i]
			if mine[it.ID] || (it.Assignee != "" && it.Assignee != b.id && it.Status == domain.StatusAwaitingReview) {
				continue
			}
			if it.Assignee != b.id {
				if _, err := r.call(ctx, http.MethodPost, "/v1/cases/"+it.ID+"/claim", b.token, nil, nil); err != nil {
					continue
				}
			}
			picked = it
			break
		}
		if picked == nil {
			r.idle(ctx)
			continue
		}
		w := capacity.WorkSecondApproval
		if picked.Status == domain.StatusAwaitingReview {
			w = capacity.WorkScreeningHit
		}
		if !r.work(ctx, began, capacity.Handling(r.o.Scenario, w, picked.Product)) {
			return
		}
		d := decisionBody{Decision: domain.OutcomeApprove,
			Note: "Screening match reviewed: a different person (date of birth and passport checked)."}
		if _, err := r.call(ctx, http.MethodPost, "/v1/cases/"+picked.ID+"/decision", b.token, d, nil); err != nil {
			r.fail("decide", err)
			mine[picked.ID] = true
			_, _ = r.call(ctx, http.MethodPost, "/v1/cases/"+picked.ID+"/release", b.token, nil, nil)
			continue
		}
		if w == capacity.WorkScreeningHit {
			mine[picked.ID] = true
		}
	}
}

// openCases counts the cases not yet closed.
func (r *runner) openCases(ctx context.Context, token string) (int, error) {
	n := 0
	for _, s := range domain.AllStatuses {
		if s.IsClosed() {
			continue
		}
		var l caseList
		if _, err := r.call(ctx, http.MethodGet, "/v1/cases?limit=1&status="+string(s), token, nil, &l); err != nil {
			return 0, err
		}
		n += len(l.Items)
	}
	return n, nil
}
