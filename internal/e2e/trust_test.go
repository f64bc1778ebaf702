package e2e_test

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/sample"
	"github.com/visad/visad/internal/testenv"
)

// Issue 11, findings 3 and 4, through the full stack: real Temporal, worker, database and API.

// putRoster uploads the people's members to the chamber's roster.
func putRoster(t *testing.T, env *testenv.Env, chamberID, token string, people []sample.Person) {
	t.Helper()
	var buf bytes.Buffer
	if err := sample.WriteRosterCSV(&buf, people); err != nil {
		t.Fatal(err)
	}
	r := env.Do("PUT", "/v1/chambers/"+chamberID+"/members", token, buf.Bytes(), "Content-Type", "text/csv")
	if r.Status != http.StatusOK {
		t.Fatalf("put roster: %d %s", r.Status, r.Body)
	}
}

// Finding 3: a chamber's batch row for a two-year visa is processed straight through only for an active member
// on that chamber's roster; the row of someone not on it waits for an officer.
func TestChamberRowOfANonMemberIsNotIssuedStraightThrough(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	chamberID, chamberToken := env.Chamber("Shymkent Chamber of Commerce")
	people := sample.Generate(sample.Options{Rows: 2, Seed: 61})
	putRoster(t, env, chamberID, chamberToken, people[:1]) // the second person is not a member

	b := postBatch(t, env, chamberID, chamberToken, "members-only", batchCSV(t, people))
	waitBatch(t, env, b.BatchID, chamberToken)
	var report struct {
		Rows []reportRow `json:"rows"`
	}
	env.Do("GET", "/v1/batches/"+b.BatchID+"/report", chamberToken, nil).JSON(t, &report)
	member, stranger := report.Rows[0].ApplicationID, report.Rows[1].ApplicationID

	if v := env.WaitForStatus(member, officer, "issued"); v["decision"].(map[string]any)["decided_by"] != "system" {
		t.Fatalf("the member's case was not issued by the system: %v", v["decision"])
	}
	v := env.WaitForStatus(stranger, officer, "awaiting_review")
	time.Sleep(300 * time.Millisecond)
	if v = env.WaitForStatus(stranger, officer, "awaiting_review"); v["decision"] != nil {
		t.Fatalf("the non-member's case was decided: %v", v["decision"])
	}
}

type decisionJSON struct {
	Outcome   string `json:"outcome"`
	DecidedBy string `json:"decided_by"`
}

// Finding 4: an officer's refusal and one supervisor's approval do not issue a five-year visa; the case goes
// to a supervisor as a disagreement, visible as such in the case, the queue and the timeline.
func TestFiveYearDisagreementGoesToASupervisor(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	officer, officerID := env.StaffToken(domain.RoleOfficer, "Officer Ayesha")
	sup1, sup1ID := env.StaffToken(domain.RoleSupervisor, "Supervisor Imran")
	sup2, sup2ID := env.StaffToken(domain.RoleSupervisor, "Supervisor Sana")
	form := testenv.ValidApplication(domain.ProductBusiness5YMulti)
	env.EnrolMember(&form)
	s := submit(t, env, form)
	env.WaitForStatus(s.ID, s.AccessToken, "awaiting_review")
	dec := "/v1/cases/" + s.ID + "/decision"

	action(t, env, dec, officer, map[string]string{"decision": "refuse", "reason_code": "insufficient_evidence"}, 200)
	st := action(t, env, dec, sup1, map[string]string{"decision": "approve"}, 200)
	if st.Status != "disagreement" || st.Decision != nil {
		t.Fatalf("an officer's refusal and one supervisor's approval: %+v", st)
	}
	var view struct {
		Status         string        `json:"status"`
		FirstDecision  *decisionJSON `json:"first_decision"`
		SecondDecision *decisionJSON `json:"second_decision"`
		Visa           any           `json:"visa"`
		Timeline       []struct {
			Event string `json:"event"`
			Actor string `json:"actor"`
		} `json:"timeline"`
	}
	env.Do("GET", "/v1/applications/"+s.ID, sup2, nil).JSON(t, &view)
	if view.Status != "disagreement" || view.Visa != nil || view.FirstDecision == nil ||
		view.FirstDecision.DecidedBy != "officer:"+officerID || view.SecondDecision == nil ||
		view.SecondDecision.Outcome != "approve" || view.SecondDecision.DecidedBy != "supervisor:"+sup1ID {
		t.Fatalf("case view %+v (first %+v, second %+v)", view, view.FirstDecision, view.SecondDecision)
	}
	last := view.Timeline[len(view.Timeline)-1]
	if last.Event != "disagreement" || last.Actor != "supervisor:"+sup1ID {
		t.Fatalf("timeline ends with %+v, want the disagreement", last)
	}
	var queue struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	env.Do("GET", "/v1/cases?status=disagreement", sup2, nil).JSON(t, &queue)
	if len(queue.Items) != 1 || queue.Items[0].ID != s.ID {
		t.Fatalf("queue of disagreements %+v", queue.Items)
	}

	// Neither of the two may settle it, nor an officer; a third person, a supervisor, does.
	action(t, env, dec, sup1, map[string]string{"decision": "approve"}, http.StatusConflict)
	other, _ := env.StaffToken(domain.RoleOfficer, "Officer Bilal")
	action(t, env, dec, other, map[string]string{"decision": "approve"}, http.StatusForbidden)
	st = action(t, env, dec, sup2, map[string]string{"decision": "approve"}, 200)
	if st.Status != "issued" || st.Decision == nil || st.Decision.DecidedBy != "supervisor:"+sup2ID {
		t.Fatalf("resolution: %+v", st)
	}
}

// Finding 4: an officer alone cannot approve an applicant who matched the watchlist; a supervisor can.
func TestScreeningHitNeedsASupervisorsApproval(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Watchlist: "surname,given_names,date_of_birth\nAbenov,Nurlan,1985-03-14\n"})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	supervisor, _ := env.StaffToken(domain.RoleSupervisor, "Supervisor")
	hit := submit(t, env, testenv.ValidApplication(domain.ProductBusiness2Y))
	env.WaitForStatus(hit.ID, hit.AccessToken, "awaiting_review")
	dec := "/v1/cases/" + hit.ID + "/decision"
	action(t, env, dec, officer, map[string]string{"decision": "approve"}, http.StatusForbidden)
	if st := action(t, env, dec, supervisor, map[string]string{"decision": "approve"}, 200); st.Status != "issued" {
		t.Fatalf("supervisor's approval: %+v", st)
	}
}

// Finding 3: a chamber's rows per day are bounded (a batch over the quota is refused whole with 429), and a
// chamber's token expires and can be rotated, after which the old one no longer works.
func TestChamberQuotaAndTokenRotation(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	env.Services.Cases.ChamberRowsPerDay = 3
	admin, _ := env.StaffToken(domain.RoleAdmin, "Admin")
	chamberID, token := env.Chamber("Aktobe Chamber")
	people := sample.Generate(sample.Options{Rows: 4, Seed: 62})

	postBatch(t, env, chamberID, token, "day-1", batchCSV(t, people[:2]))
	r := env.Do("POST", "/v1/chambers/"+chamberID+"/batches", token, batchCSV(t, people[2:]),
		"Content-Type", "text/csv", "Idempotency-Key", "day-2")
	p := decodeProblem(t, r, http.StatusTooManyRequests)
	if p.Type != "urn:visad:problem:chamber-quota-exceeded" {
		t.Fatalf("over-quota problem %+v", p)
	}
	if after, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || after < 1 || after > 86400 {
		t.Fatalf("Retry-After %q, want seconds until midnight UTC", r.Header.Get("Retry-After"))
	}
	// Posting the accepted batch again is no new row: it is answered as before.
	postBatch(t, env, chamberID, token, "day-1", batchCSV(t, people[:2]))

	var expires int64
	if err := env.Store.DB().Get(&expires, env.Store.DB().Rebind(
		`SELECT expires_at FROM users WHERE chamber_id = ?`), chamberID); err != nil {
		t.Fatal(err)
	}
	if ttl := time.Until(time.UnixMilli(expires)); ttl < domain.DefaultChamberTokenTTL-time.Hour ||
		ttl > domain.DefaultChamberTokenTTL {
		t.Fatalf("chamber token expires in %v, want %v", ttl, domain.DefaultChamberTokenTTL)
	}

	members := "/v1/chambers/" + chamberID + "/members"
	if r := env.Do("GET", members, token, nil); r.Status != http.StatusOK {
		t.Fatalf("before rotation: %d", r.Status)
	}
	rot := env.Do("POST", "/v1/chambers/"+chamberID+"/token", admin, nil)
	if rot.Status != http.StatusOK {
		t.Fatalf("rotate: %d %s", rot.Status, rot.Body)
	}
	var rotated struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	rot.JSON(t, &rotated)
	if r := env.Do("GET", members, token, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("the old token after rotation: %d, want 401", r.Status)
	}
	if r := env.Do("GET", members, rotated.Token, nil); r.Status != http.StatusOK {
		t.Fatalf("the new token: %d %s", r.Status, r.Body)
	}
	if r := env.Do("POST", "/v1/chambers/chb_nosuchchamber0000000/token", admin, nil); r.Status != http.StatusNotFound {
		t.Fatalf("rotating an unknown chamber: %d", r.Status)
	}
	_ = context.Background()
}
