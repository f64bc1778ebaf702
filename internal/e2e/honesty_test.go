package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
	"github.com/visad/visad/internal/testenv"
)

// Issue 12, defect 8: a case held in its batch's admission is not closed.
func TestClaimOfACaseHeldInAdmission(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	ctx := context.Background()
	// A batch row as the batch workflow leaves it: recorded, its workflow
	// started on the bulk lane with its first step held, and marked started.
	id, now := casework.NewApplicationID(), time.Now().UTC()
	if _, _, err := env.Store.CreateApplication(ctx, db.NewApplication{ID: id, Reference: casework.NewReference(),
		Product: string(domain.ProductBusiness2Y), PassportHash: "held-" + id, FormSealed: "v1.held",
		RequestHash: "held", SubmittedAt: now, SLADueAt: now.Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	bulk := env.Services.Cases.Bulk()
	if err := bulk.StartApplicationWorkflow(ctx, id, string(domain.ProductBusiness2Y), now,
		5*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := bulk.MarkStarted(ctx, []string{id}); err != nil {
		t.Fatal(err)
	}
	p := decodeProblem(t, env.Do("POST", "/v1/cases/"+id+"/claim", officer, nil), http.StatusConflict)
	if strings.Contains(p.Detail, "closed") || !strings.Contains(p.Detail, "not begun") {
		t.Errorf("claim of a held case: %q, want it said the case has not begun processing", p.Detail)
	}
}

// Issue 12, defect 8: the losers of decisions sent at once hear the status
// the case is in now, not the one it had when they were refused.
func TestLosersOfConcurrentDecisionsHearTheCurrentStatus(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	var tokens []string
	for range 4 {
		token, _ := env.StaffToken(domain.RoleSupervisor, "Supervisor")
		tokens = append(tokens, token)
	}
	bodies := []map[string]string{
		{"decision": string(domain.OutcomeApprove)},
		{"decision": string(domain.OutcomeRefuse), "reason_code": string(domain.ReasonInsufficientEvidence)},
	}
	for round := range 3 {
		s := submit(t, env, testenv.ValidApplication(domain.ProductBusiness2Y))
		env.WaitForStatus(s.ID, s.AccessToken, domain.StatusAwaitingReview)
		results := make([]testenv.Response, len(tokens))
		var wg sync.WaitGroup
		for i, token := range tokens {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = decide(env, s.ID, token, bodies[i%2])
			}()
		}
		wg.Wait()
		final := getView(t, env, s.ID, tokens[0]).Status
		won := 0
		for _, r := range results {
			if r.Status == http.StatusOK {
				won++
				continue
			}
			p := decodeProblem(t, r, http.StatusConflict)
			if !strings.Contains(p.Detail, `"`+final+`"`) {
				t.Errorf("round %d: a loser heard %q; the case is %q", round, p.Detail, final)
			}
		}
		if won != 1 {
			t.Errorf("round %d: %d decisions won, want one", round, won)
		}
	}
}

// Issue 12, defect 8: an answer one character too long is too_long, not required.
func TestTooLongAnswerSaysTooLong(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	s := submit(t, env, testenv.ValidApplication(domain.ProductBusiness2Y))
	env.WaitForStatus(s.ID, s.AccessToken, domain.StatusAwaitingReview)
	action(t, env, "/v1/cases/"+s.ID+"/decision", officer, map[string]any{
		"decision": string(domain.OutcomeRequestInformation), "message": "Please send the letter."}, 200)
	long := strings.Repeat("a", domain.MaxAnswerLength+1)
	p := decodeProblem(t, env.DoRaw("POST", "/v1/applications/"+s.ID+"/information", s.AccessToken,
		map[string]string{"message": long}), http.StatusUnprocessableEntity)
	if !hasError(p, "/message", domain.CodeTooLong) {
		t.Errorf("answer of %d characters: %+v, want /message %s", len(long), p.Errors, domain.CodeTooLong)
	}
}
