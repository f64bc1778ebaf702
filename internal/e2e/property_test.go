package e2e_test

// A randomised concurrency property on the real stack (embedded Temporal,
// real worker, real SQLite, through HTTP): many interleavings of claim,
// release, decide, request information, answer and withdraw, from officers,
// supervisors and the applicant, with the worker stopped and started again
// mid-run. After each round every case must satisfy the invariants in
// checkCase. docs/testing.md shows how to replay a seed and run it longer.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/testenv"
)

// The property's knobs: the seed (VISA_PROP_SEED replays a run's plan) and
// its size. The defaults keep it well under a minute on two cores.
const (
	propSeedEnv    = "VISA_PROP_SEED"
	propRoundsEnv  = "VISA_PROP_ROUNDS"  // rounds, each with a worker restart (default 2)
	propCasesEnv   = "VISA_PROP_CASES"   // cases per round, worked at the same time (default 3)
	propActionsEnv = "VISA_PROP_ACTIONS" // actions per case (default 12)
)

func propInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

type propKind int

const (
	propClaim propKind = iota
	propRelease
	propApprove
	propRefuse
	propRequestInformation
	propAnswer
	propWithdraw
)

var propKindNames = []string{"claim", "release", "approve", "refuse", "request_information", "answer", "withdraw"}

// propWeights make claims and releases common (the races of defect 4) and
// closing actions rare enough that cases stay open for a while.
var propWeights = []int{5, 4, 2, 1, 2, 2, 1}

type propAction struct {
	Kind  propKind
	Actor int // index into the staff; the applicant answers and withdraws
}

func (a propAction) String() string { return fmt.Sprintf("%s/%d", propKindNames[a.Kind], a.Actor) }

// propCasePlan is one case's product and its actions, in bursts: the actions
// of a burst are sent at once, the bursts one after another.
type propCasePlan struct {
	FiveYear bool
	Bursts   [][]propAction
	Pauses   []time.Duration // before each burst
}

// propRound is what one seed decides for a round: the cases, their actions,
// and when the worker is stopped and for how long. The scheduling of the
// concurrent requests is the machine's, so a replay repeats the plan, not
// necessarily the exact interleaving.
type propRound struct {
	Cases        []propCasePlan
	RestartAfter time.Duration
	RestartPause time.Duration
}

func planRound(rng *rand.Rand, cases, actions, staff int) propRound {
	r := propRound{RestartAfter: time.Duration(rng.IntN(600)) * time.Millisecond,
		RestartPause: time.Duration(50+rng.IntN(300)) * time.Millisecond}
	total := 0
	for _, w := range propWeights {
		total += w
	}
	for range cases {
		c := propCasePlan{FiveYear: rng.IntN(4) == 0}
		for n := 0; n < actions; {
			size := min(1+rng.IntN(3), actions-n)
			burst := make([]propAction, size)
			for i := range burst {
				k, pick := propKind(0), rng.IntN(total)
				for pick >= propWeights[k] {
					pick -= propWeights[k]
					k++
				}
				burst[i] = propAction{Kind: k, Actor: rng.IntN(staff)}
			}
			c.Bursts = append(c.Bursts, burst)
			c.Pauses = append(c.Pauses, time.Duration(rng.IntN(40))*time.Millisecond)
			n += size
		}
		r.Cases = append(r.Cases, c)
	}
	return r
}

type propStaff struct {
	token, id string
	role      domain.Role
}

func TestCaseHandlingProperty(t *testing.T) {
	seed := time.Now().UnixNano()
	if v := os.Getenv(propSeedEnv); v != "" {
		var err error
		if seed, err = strconv.ParseInt(v, 10, 64); err != nil {
			t.Fatalf("%s=%q: want an integer", propSeedEnv, v)
		}
	}
	rounds, cases := propInt(t, propRoundsEnv, 2), propInt(t, propCasesEnv, 3)
	actions := propInt(t, propActionsEnv, 12)
	t.Logf("seed %d (replay: %s=%d); %d rounds of %d cases, %d actions each", seed, propSeedEnv, seed, rounds,
		cases, actions)
	defer func() {
		if t.Failed() {
			t.Logf("failed with seed %d: replay with %s=%d", seed, propSeedEnv, seed)
		}
	}()
	rng := rand.New(rand.NewPCG(uint64(seed), 12))

	env := testenv.Start(t, testenv.Options{NoSTP: true})
	var staff []propStaff
	for _, r := range []domain.Role{domain.RoleOfficer, domain.RoleOfficer, domain.RoleSupervisor,
		domain.RoleSupervisor} {
		token, id := env.StaffToken(r, "Staff "+string(r))
		staff = append(staff, propStaff{token: token, id: id, role: r})
	}
	counts := map[string]int{}
	var countsMu sync.Mutex
	for round := range rounds {
		plan := planRound(rng, cases, actions, len(staff))
		ids := runRound(t, env, staff, plan, func(what string) {
			countsMu.Lock()
			counts[what]++
			countsMu.Unlock()
		})
		if t.Failed() {
			return
		}
		for i, id := range ids {
			if problems := settle(env, staff[2].token, id); len(problems) > 0 {
				t.Errorf("round %d, case %s (bursts %v; worker stopped at %v for %v):\n  %s", round, id,
					plan.Cases[i].Bursts, plan.RestartAfter, plan.RestartPause, strings.Join(problems, "\n  "))
			}
		}
		if t.Failed() {
			return
		}
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var summary []string
	for _, k := range keys {
		summary = append(summary, fmt.Sprintf("%s=%d", k, counts[k]))
	}
	t.Logf("responses: %s", strings.Join(summary, " "))
}

// runRound submits the round's cases, waits until each awaits review, then
// works them all at once while the worker is restarted; it returns their ids
// once every request has been answered.
func runRound(t *testing.T, env *testenv.Env, staff []propStaff, plan propRound, count func(string)) []string {
	t.Helper()
	type started struct{ id, token string }
	var subs []started
	for _, c := range plan.Cases {
		product := domain.ProductBusiness2Y
		if c.FiveYear {
			product = domain.ProductBusiness5YMulti
		}
		form := testenv.ValidApplication(product)
		if c.FiveYear {
			env.EnrolMember(&form)
		}
		s := submit(t, env, form)
		subs = append(subs, started{s.ID, s.AccessToken})
	}
	for _, s := range subs {
		env.WaitForStatus(s.id, s.token, domain.StatusAwaitingReview)
	}

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the worker restart
		defer wg.Done()
		time.Sleep(plan.RestartAfter)
		env.Worker.Stop()
		time.Sleep(plan.RestartPause)
		w, err := env.Services.NewWorker()
		if err == nil {
			err = w.Start()
		}
		if err != nil {
			t.Errorf("restart the worker: %v", err)
			return
		}
		env.Worker = w
		count("worker_restarts")
	}()
	for i, c := range plan.Cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b, burst := range c.Bursts {
				time.Sleep(c.Pauses[b])
				var bw sync.WaitGroup
				for _, a := range burst {
					bw.Add(1)
					go func() {
						defer bw.Done()
						status := propDo(env, staff, subs[i].id, subs[i].token, a)
						count(fmt.Sprintf("%s:%d", propKindNames[a.Kind], status))
						switch status {
						case http.StatusOK, http.StatusForbidden, http.StatusConflict:
						default:
							t.Errorf("%s on case %s: unexpected HTTP %d", a, subs[i].id, status)
						}
					}()
				}
				bw.Wait()
			}
		}()
	}
	wg.Wait()
	t.Cleanup(env.Worker.Stop)
	ids := make([]string, len(subs))
	for i, s := range subs {
		ids[i] = s.id
	}
	return ids
}

// propDo sends one action and returns the HTTP status.
func propDo(env *testenv.Env, staff []propStaff, id, applicantToken string, a propAction) int {
	st := staff[a.Actor]
	var r testenv.Response
	switch a.Kind {
	case propClaim:
		r = env.Do("POST", "/v1/cases/"+id+"/claim", st.token, nil)
	case propRelease:
		r = env.Do("POST", "/v1/cases/"+id+"/release", st.token, nil)
	case propApprove:
		r = decide(env, id, st.token, map[string]string{"decision": string(domain.OutcomeApprove)})
	case propRefuse:
		r = decide(env, id, st.token, map[string]string{"decision": string(domain.OutcomeRefuse),
			"reason_code": string(domain.ReasonInsufficientEvidence)})
	case propRequestInformation:
		r = decide(env, id, st.token, map[string]any{"decision": string(domain.OutcomeRequestInformation),
			"message": "Please send the invitation letter.", "due_in_days": 3})
	case propAnswer:
		r = env.Do("POST", "/v1/applications/"+id+"/information", applicantToken,
			map[string]string{"message": "Sent by courier."})
	case propWithdraw:
		r = env.Do("POST", "/v1/applications/"+id+"/withdraw", applicantToken, nil)
	}
	return r.Status
}

// settle checks a case until it holds, for up to 20 s: the writes of the
// last actions may still be on their way. A case left wrong stays wrong, so
// the last check's problems are the case's.
func settle(env *testenv.Env, token, id string) []string {
	deadline := time.Now().Add(20 * time.Second)
	for {
		problems := checkCase(env, token, id)
		if len(problems) == 0 || time.Now().After(deadline) {
			return problems
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type propView struct {
	Status   domain.Status `json:"status"`
	Assignee string        `json:"assignee"`
	Decision *struct {
		Outcome domain.Outcome `json:"outcome"`
	} `json:"decision"`
	Visa *struct {
		VisaNumber string `json:"visa_number"`
	} `json:"visa"`
}

type propQueueItem struct {
	ID       string        `json:"id"`
	Status   domain.Status `json:"status"`
	Assignee string        `json:"assignee"`
}

// closingEvents are the timeline events that close a case.
var closingEvents = []domain.Event{domain.EventIssued, domain.EventRefused, domain.EventWithdrawn,
	domain.EventLapsed, domain.EventValidationFailed}

// checkCase returns every invariant the case breaks:
//   - the case view (live state merged with the read model), its queue row and
//     its last timeline event agree on the status, and the view, the queue and
//     the last claim or release on the timeline on who holds it;
//   - once closed, exactly one closing event, nothing after it changes the
//     status, and the outcome matches the status; never a closing event while open;
//   - a visa exactly when issued, and at most one issued event and approval;
//   - the case's audit entries follow the timeline: in sequence order, one per
//     claim, release and decision, each naming the same event.
func checkCase(env *testenv.Env, token, id string) []string {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	r := env.Do("GET", "/v1/applications/"+id, token, nil)
	if r.Status != http.StatusOK {
		return []string{fmt.Sprintf("view: HTTP %d", r.Status)}
	}
	var view propView
	r.JSON(env.T, &view)
	row, found := propQueueRow(env, token, id)
	if !found {
		return []string{"no queue row"}
	}
	ctx := context.Background()
	timeline, err := env.Store.Timeline(ctx, id)
	if err != nil || len(timeline) == 0 {
		return []string{fmt.Sprintf("timeline: %v (%d events)", err, len(timeline))}
	}

	last := timeline[len(timeline)-1]
	if view.Status != row.Status || string(view.Status) != last.Status {
		fail("status: view %q, queue %q, last timeline event %q (%s)", view.Status, row.Status, last.Status, last.Event)
	}
	holder := ""
	for _, e := range timeline {
		switch domain.Event(e.Event) {
		case domain.EventClaimed:
			_, holder, _ = strings.Cut(e.Actor, ":")
		case domain.EventReleased:
			holder = ""
		}
	}
	if view.Assignee != row.Assignee || view.Assignee != holder {
		fail("assignee: view %q, queue %q, timeline %q", view.Assignee, row.Assignee, holder)
	}

	var closing []db.TimelineEvent
	issued := 0
	for i, e := range timeline {
		if slices.Contains(closingEvents, domain.Event(e.Event)) {
			closing = append(closing, e)
			if domain.Event(e.Event) == domain.EventIssued {
				issued++
			}
			for _, later := range timeline[i+1:] {
				if later.Status != e.Status {
					fail("event %d %s (status %q) after the case closed as %q", later.Seq, later.Event, later.Status,
						e.Status)
				}
			}
		}
	}
	switch {
	case view.Status.IsClosed() && len(closing) != 1:
		fail("closed as %q with %d closing events", view.Status, len(closing))
	case !view.Status.IsClosed() && len(closing) != 0:
		fail("open (%q) with closing events %v", view.Status, closing)
	}
	if issued > 1 {
		fail("%d issued events", issued)
	}
	if (view.Visa != nil) != (view.Status == domain.StatusIssued) {
		fail("status %q with visa %v", view.Status, view.Visa)
	}
	wantOutcome := map[domain.Status]domain.Outcome{domain.StatusIssued: domain.OutcomeApprove,
		domain.StatusRefused: domain.OutcomeRefuse}[view.Status]
	if got := view.Decision; (got == nil) != (wantOutcome == "") || got != nil && got.Outcome != wantOutcome {
		fail("status %q with decision %+v", view.Status, got)
	}
	problems = append(problems, checkAudit(env, id, timeline)...)
	return problems
}

// checkAudit compares the case's audit entries with its timeline. Each
// entry's idempotency key names the timeline event it records
// ("assign:<id>:<seq>", "status:<id>:<seq>", "sla:<id>:<seq>").
func checkAudit(env *testenv.Env, id string, timeline []db.TimelineEvent) []string {
	var problems []string
	records, err := env.Store.ListAudit(context.Background(), 0, 1_000_000)
	if err != nil {
		return []string{fmt.Sprintf("audit: %v", err)}
	}
	bySeq := map[int64]db.TimelineEvent{}
	audited := 0 // timeline events that must have an audit entry
	for _, e := range timeline {
		bySeq[e.Seq] = e
		switch domain.Event(e.Event) {
		case domain.EventClaimed, domain.EventReleased, domain.EventIssued, domain.EventRefused,
			domain.EventFirstDecision, domain.EventDisagreement:
			audited++
		}
	}
	var prev int64 = -1
	entries, approvals := 0, 0
	for _, rec := range records {
		if rec.Subject != id || !rec.IdempotencyKey.Valid {
			continue
		}
		kind, rest, _ := strings.Cut(rec.IdempotencyKey.String, ":")
		seqText := rest[strings.LastIndex(rest, ":")+1:]
		seq, err := strconv.ParseInt(seqText, 10, 64)
		if err != nil {
			problems = append(problems, fmt.Sprintf("audit %d: key %q names no sequence", rec.Seq,
				rec.IdempotencyKey.String))
			continue
		}
		if seq <= prev {
			problems = append(problems, fmt.Sprintf("audit %d (%s, timeline seq %d) comes after timeline seq %d",
				rec.Seq, rec.Action, seq, prev))
		}
		prev = seq
		e, ok := bySeq[seq]
		want := map[string]bool{}
		switch kind {
		case "assign":
			want["case."+e.Event] = domain.Event(e.Event) == domain.EventClaimed ||
				domain.Event(e.Event) == domain.EventReleased
		case "sla":
			want["sla.escalated"], want["sla.breached"] = true, true
		case "status":
			// A decision's entry names the decision's own event: issued, refused, the first of two
			// approvals, or the second that disagrees with it.
			switch domain.Event(e.Event) {
			case domain.EventIssued, domain.EventRefused, domain.EventFirstDecision, domain.EventDisagreement:
				want[rec.Action] = strings.HasPrefix(rec.Action, "decision.")
			}
		}
		if !ok || !want[rec.Action] {
			problems = append(problems, fmt.Sprintf("audit %d %s names timeline seq %d (%s)", rec.Seq, rec.Action,
				seq, e.Event))
		}
		if kind != "sla" {
			entries++
		}
		if rec.Action == "decision.approve" && strings.Contains(rec.Detail, "status="+string(domain.StatusIssued)) {
			approvals++
		}
	}
	if entries != audited {
		problems = append(problems, fmt.Sprintf("%d audit entries for %d claims, releases and decisions",
			entries, audited))
	}
	if approvals > 1 {
		problems = append(problems, fmt.Sprintf("%d approvals that issued a visa", approvals))
	}
	return problems
}

// propQueueRow finds the case in the officers' queue (all statuses).
func propQueueRow(env *testenv.Env, token, id string) (propQueueItem, bool) {
	cursor := ""
	for {
		path := "/v1/cases?limit=200"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := env.Do("GET", path, token, nil)
		if r.Status != http.StatusOK {
			return propQueueItem{}, false
		}
		var page struct {
			Items      []propQueueItem `json:"items"`
			NextCursor string          `json:"next_cursor"`
		}
		r.JSON(env.T, &page)
		for _, it := range page.Items {
			if it.ID == id {
				return it, true
			}
		}
		if page.NextCursor == "" {
			return propQueueItem{}, false
		}
		cursor = page.NextCursor
	}
}
