package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/sample"
)

// Kinds of request, as the summary names them.
const (
	kindSubmit      = "submit"       // POST /v1/applications
	kindView        = "view"         // GET /v1/applications/{id}, the applicant's token
	kindLookup      = "lookup"       // POST /v1/status-lookup
	kindQueue       = "queue"        // GET /v1/cases?status=awaiting_review, the officer
	kindDecide      = "decide"       // POST /v1/cases/{id}/decision
	kindPage        = "page"         // portal pages and assets
	kindBatch       = "batch"        // POST /v1/chambers/{id}/batches
	kindBatchStatus = "batch_status" // GET /v1/batches/{id} and its report
)

// mix is the share of each kind in the steady traffic, out of 100: as many
// decisions as submissions, so the officers' queue stays level; chamber
// batches come on their own clock (batchEvery).
var mix = []struct {
	kind   string
	weight int
}{
	{kindSubmit, 15}, {kindView, 15}, {kindLookup, 5}, {kindQueue, 5}, {kindDecide, 15}, {kindPage, 45},
}

// portalPages are the applicant portal's pages a visitor opens.
var portalPages = []string{"/", "/apply/product", "/find", "/assets/visad.css", "/assets/portal.js"}

// reading is one request's outcome.
type reading struct {
	at     time.Duration // since the phase began
	kind   string
	ms     float64
	status int // 0: no HTTP answer
	bad    bool
}

// applicant is what a submitter keeps to look their application up.
type applicant struct {
	id, token, reference, passport, dob string
}

type traffic struct {
	s    *stack
	http *http.Client
	run  string // distinguishes this run's idempotency keys

	mu        sync.Mutex
	phase     time.Time
	samples   []reading
	problems  []string          // the first few unexpected answers
	accepted  map[string]string // application id → where it came from
	apps      []applicant
	queue     []string
	taken     map[string]bool
	batches   sync.WaitGroup
	nextApp   atomic.Int64
	nextBatch atomic.Int64
	people    [][]sample.Person // each batch's delegation, on the roster up front
}

func newTraffic(s *stack, batches, rows int) *traffic {
	t := &traffic{
		s:        s,
		http:     &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 128}},
		run:      strconv.FormatInt(time.Now().UnixNano(), 36),
		accepted: map[string]string{},
		taken:    map[string]bool{},
	}
	for b := 0; b < batches; b++ {
		people := sample.Generate(sample.Options{Rows: rows, Seed: uint64(1000 + b)})
		for i := range people {
			// Membership numbers of their own per batch: the generator numbers every batch from 1.
			no := fmt.Sprintf("KZ-%03d-%05d", b, i+1)
			people[i].Row.Values["membership_number"], people[i].Member.MembershipNumber = no, no
		}
		t.people = append(t.people, people)
	}
	return t
}

// enrol puts every batch's delegation on the chamber's roster, so each row goes straight through.
func (t *traffic) enrol(ctx context.Context) error {
	var all []sample.Person
	for _, p := range t.people {
		all = append(all, p...)
	}
	var buf bytes.Buffer
	if err := sample.WriteRosterCSV(&buf, all); err != nil {
		return err
	}
	status, body, err := t.call(ctx, http.MethodPut, "/v1/chambers/"+t.s.chamberID+"/members", "text/csv",
		t.s.chamberToken, "", buf.Bytes())
	if err != nil || status != http.StatusOK {
		return fmt.Errorf("roster upload: HTTP %d %v %s", status, err, truncate(string(body), 300))
	}
	return nil
}

// startPhase resets the clock of the samples (the probe's and the soak's are kept apart).
func (t *traffic) startPhase() []reading {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.samples
	t.samples, t.phase = nil, time.Now()
	return old
}

func (t *traffic) record(kind string, began time.Time, status int, bad bool, why string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.samples = append(t.samples, reading{at: began.Sub(t.phase), kind: kind,
		ms: float64(time.Since(began).Microseconds()) / 1000, status: status, bad: bad})
	if bad && len(t.problems) < 20 {
		t.problems = append(t.problems, fmt.Sprintf("%s: %s", kind, why))
	}
}

func (t *traffic) call(ctx context.Context, method, path, contentType, token, idemKey string,
	body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, t.s.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	resp, err := t.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// request makes one timed request and records it; want is the status it expects.
func (t *traffic) request(ctx context.Context, kind, method, path, contentType, token, idemKey string,
	body []byte, want int) ([]byte, bool) {
	began := time.Now()
	status, out, err := t.call(ctx, method, path, contentType, token, idemKey, body)
	if ctx.Err() != nil && err != nil {
		return nil, false // the phase ended mid-request: neither a success nor an error
	}
	switch {
	case err != nil:
		t.record(kind, began, 0, true, err.Error())
		return nil, false
	case status != want:
		t.record(kind, began, status, true, fmt.Sprintf("%s %s: HTTP %d %s", method, pathShape(path), status,
			truncate(string(out), 200)))
		return out, false
	}
	t.record(kind, began, status, false, "")
	return out, true
}

// pick chooses a kind by the mix.
func pick(r *rand.Rand) string {
	n := r.IntN(100)
	for _, m := range mix {
		if n < m.weight {
			return m.kind
		}
		n -= m.weight
	}
	return kindPage
}

// op runs one request of the kind, or of the nearest kind it can make now
// (no application yet to look up: a page; nothing in the queue: the queue).
func (t *traffic) op(ctx context.Context, r *rand.Rand, kind string) {
	switch kind {
	case kindSubmit:
		t.submit(ctx)
	case kindView, kindLookup:
		a, ok := t.someApplicant(r)
		if !ok {
			t.page(ctx, r)
			return
		}
		if kind == kindView {
			t.request(ctx, kindView, http.MethodGet, "/v1/applications/"+a.id, "", a.token, "", nil, http.StatusOK)
			return
		}
		body, _ := json.Marshal(map[string]string{"reference": a.reference, "passport_number": a.passport,
			"date_of_birth": a.dob})
		t.request(ctx, kindLookup, http.MethodPost, "/v1/status-lookup", "application/json", "", "", body,
			http.StatusOK)
	case kindDecide:
		if id, ok := t.nextCase(); ok {
			t.request(ctx, kindDecide, http.MethodPost, "/v1/cases/"+id+"/decision", "application/json",
				t.s.officer, "soak-decide-"+id, []byte(`{"decision":"approve"}`), http.StatusOK)
			return
		}
		t.listQueue(ctx)
	case kindQueue:
		t.listQueue(ctx)
	default:
		t.page(ctx, r)
	}
}

func (t *traffic) page(ctx context.Context, r *rand.Rand) {
	t.request(ctx, kindPage, http.MethodGet, portalPages[r.IntN(len(portalPages))], "", "", "", nil, http.StatusOK)
}

func (t *traffic) someApplicant(r *rand.Rand) (applicant, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.apps) == 0 {
		return applicant{}, false
	}
	return t.apps[r.IntN(len(t.apps))], true
}

func (t *traffic) nextCase() (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.queue) == 0 {
		return "", false
	}
	id := t.queue[0]
	t.queue = t.queue[1:]
	return id, true
}

// listQueue reads the officers' queue, as the console does, and keeps the cases nobody has taken.
func (t *traffic) listQueue(ctx context.Context) {
	out, ok := t.request(ctx, kindQueue, http.MethodGet, "/v1/cases?status="+string(domain.StatusAwaitingReview)+
		"&limit=50", "", t.s.officer, "", nil, http.StatusOK)
	if !ok {
		return
	}
	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	_ = json.Unmarshal(out, &list)
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, it := range list.Items {
		if !t.taken[it.ID] {
			t.taken[it.ID] = true
			t.queue = append(t.queue, it.ID)
		}
	}
}

func (t *traffic) submit(ctx context.Context) {
	i := int(t.nextApp.Add(1))
	passport := fmt.Sprintf("SK%07d", i)
	dob := "1985-03-14"
	form := singleForm(i, passport, dob)
	out, ok := t.request(ctx, kindSubmit, http.MethodPost, "/v1/applications", "application/json", "",
		fmt.Sprintf("soak-%s-%07d", t.run, i), form, http.StatusAccepted)
	if !ok {
		return
	}
	var a struct {
		ID          string `json:"id"`
		Reference   string `json:"reference"`
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(out, &a) != nil || a.ID == "" {
		t.mu.Lock()
		t.problems = append(t.problems, "submit: 202 without an id")
		t.mu.Unlock()
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.accepted[a.ID] = "single"
	t.apps = append(t.apps, applicant{id: a.ID, token: a.AccessToken, reference: a.Reference,
		passport: passport, dob: dob})
}

// batch posts the next delegation's batch and follows it to its report, in the background.
func (t *traffic) batch(ctx context.Context) {
	n := int(t.nextBatch.Add(1)) - 1
	if n >= len(t.people) {
		return
	}
	people := t.people[n]
	var buf bytes.Buffer
	if err := sample.WriteBatchCSV(&buf, people); err != nil {
		panic(err)
	}
	t.batches.Add(1)
	go func() {
		defer t.batches.Done()
		out, ok := t.request(ctx, kindBatch, http.MethodPost, "/v1/chambers/"+t.s.chamberID+"/batches", "text/csv",
			t.s.chamberToken, fmt.Sprintf("soak-%s-batch-%d", t.run, n), buf.Bytes(), http.StatusAccepted)
		if !ok {
			return
		}
		var b struct {
			BatchID string `json:"batch_id"`
		}
		_ = json.Unmarshal(out, &b)
		// The chamber follows its batch until it is processed, then reads the report.
		for ctx.Err() == nil {
			out, ok := t.request(ctx, kindBatchStatus, http.MethodGet, "/v1/batches/"+b.BatchID, "",
				t.s.chamberToken, "", nil, http.StatusOK)
			var st struct {
				Status string `json:"status"`
			}
			if ok && json.Unmarshal(out, &st) == nil && st.Status == "completed" {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(2 * time.Second):
			}
		}
		out, ok = t.request(ctx, kindBatchStatus, http.MethodGet, "/v1/batches/"+b.BatchID+"/report", "",
			t.s.chamberToken, "", nil, http.StatusOK)
		if !ok {
			return
		}
		var report struct {
			Rows []struct {
				Outcome       string `json:"outcome"`
				ApplicationID string `json:"application_id"`
			} `json:"rows"`
		}
		_ = json.Unmarshal(out, &report)
		t.mu.Lock()
		defer t.mu.Unlock()
		for _, r := range report.Rows {
			if r.ApplicationID != "" {
				t.accepted[r.ApplicationID] = "batch"
			} else if len(t.problems) < 20 {
				t.problems = append(t.problems, "batch row not created: "+r.Outcome)
			}
		}
		if len(report.Rows) != len(people) && len(t.problems) < 20 {
			t.problems = append(t.problems, fmt.Sprintf("batch report lists %d of %d rows", len(report.Rows),
				len(people)))
		}
	}()
}

// singleForm is a valid two-year application with a host and no chamber: an officer decides it.
func singleForm(i int, passport, dob string) []byte {
	now := time.Now().UTC()
	given := []string{"Nurlan", "Aigerim", "Askar", "Dana", "Timur", "Saule"}[i%6]
	sex := "M"
	if i%2 == 1 {
		sex = "F"
	}
	f := domain.Application{
		Product: domain.ProductBusiness2Y,
		Applicant: domain.Applicant{Surname: "Soakova", GivenNames: given, Sex: sex, DateOfBirth: dob,
			PlaceOfBirth: "Almaty", Nationality: "KAZ", Email: fmt.Sprintf("soak%07d@example.kz", i),
			Phone: "+7 701 555 0101"},
		Passport: domain.Passport{Number: passport, IssuingCountry: "KAZ",
			IssueDate:  now.AddDate(-2, 0, 0).Format(time.DateOnly),
			ExpiryDate: now.AddDate(8, 0, 0).Format(time.DateOnly)},
		Employment: domain.Employment{Company: "Steppe Grain LLP", Position: "Export Director"},
		Visit: domain.Visit{Purpose: "business_forum", IntendedArrival: now.AddDate(0, 0, 14).Format(time.DateOnly),
			Host: &domain.Host{Company: "Lahore Textiles Ltd", City: "Lahore", Address: "12 Mall Road",
				Phone: "+92 42 555 0101"}},
	}
	b, _ := json.Marshal(f)
	return b
}

// pathShape drops ids from a path, so messages carry no identifiers.
func pathShape(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, "app_") || strings.HasPrefix(s, "bat_") {
			parts[i] = "{id}"
		}
	}
	return strings.Join(parts, "/")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
