package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/visad/visad/api"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/sample"
	"github.com/visad/visad/internal/testenv"
)

type stateView struct {
	Status        string `json:"status"`
	Assignee      string `json:"assignee"`
	FirstDecision *struct {
		Outcome   string `json:"outcome"`
		DecidedBy string `json:"decided_by"`
	} `json:"first_decision"`
	Decision *struct {
		Outcome   string `json:"outcome"`
		DecidedBy string `json:"decided_by"`
	} `json:"decision"`
}

func action(t *testing.T, env *testenv.Env, path, token string, body any, want int) stateView {
	t.Helper()
	r := env.Do("POST", path, token, body)
	if r.Status != want {
		t.Fatalf("POST %s: want %d, got %d %s", path, want, r.Status, r.Body)
	}
	var st stateView
	if want == http.StatusOK {
		r.JSON(t, &st)
	} else if ct := r.Header.Get("Content-Type"); ct != api.ProblemContentType {
		t.Fatalf("POST %s: problem content type %q", path, ct)
	}
	return st
}

func TestFourEyesForFiveYearVisas(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	officer, officerID := env.StaffToken(domain.RoleOfficer, "Officer Ayesha")
	sup1, sup1ID := env.StaffToken(domain.RoleSupervisor, "Supervisor Imran")
	sup2, _ := env.StaffToken(domain.RoleSupervisor, "Supervisor Sana")

	form := testenv.ValidApplication(domain.ProductBusiness5YMulti)
	env.EnrolMember(&form)
	s := submit(t, env, form)
	env.WaitForStatus(s.ID, s.AccessToken, "awaiting_review")
	dec := "/v1/cases/" + s.ID + "/decision"

	st := action(t, env, dec, officer, map[string]string{"decision": "approve"}, 200)
	if st.Status != "awaiting_second_approval" || st.FirstDecision == nil ||
		st.FirstDecision.DecidedBy != "officer:"+officerID {
		t.Fatalf("after first approval: %+v", st)
	}
	// The same person cannot give the second approval, and an officer cannot give it at all.
	action(t, env, dec, officer, map[string]string{"decision": "approve"}, http.StatusConflict)
	other, _ := env.StaffToken(domain.RoleOfficer, "Officer Bilal")
	action(t, env, dec, other, map[string]string{"decision": "approve"}, http.StatusForbidden)
	st = action(t, env, dec, sup1, map[string]string{"decision": "approve"}, 200)
	if st.Status != "issued" || st.Decision == nil || st.Decision.DecidedBy != "supervisor:"+sup1ID {
		t.Fatalf("second approval: %+v", st)
	}

	// A refusal of a five-year case also needs two people.
	form2 := testenv.ValidApplication(domain.ProductBusiness5YMulti)
	env.EnrolMember(&form2)
	s2 := submit(t, env, form2)
	env.WaitForStatus(s2.ID, s2.AccessToken, "awaiting_review")
	dec2 := "/v1/cases/" + s2.ID + "/decision"
	st = action(t, env, dec2, sup1, map[string]string{"decision": "refuse", "reason_code": "insufficient_evidence"}, 200)
	if st.Status != "awaiting_second_approval" {
		t.Fatalf("first refusal: %+v", st)
	}
	action(
		t,
		env,
		dec2,
		sup1,
		map[string]string{"decision": "refuse", "reason_code": "insufficient_evidence"},
		http.StatusConflict,
	)
	st = action(t, env, dec2, sup2, map[string]string{"decision": "refuse", "reason_code": "insufficient_evidence"}, 200)
	if st.Status != "refused" {
		t.Fatalf("second refusal: %+v", st)
	}
}

func TestRequestForInformationRoundTrip(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	s := submit(t, env, testenv.ValidApplication(domain.ProductBusiness2Y))
	env.WaitForStatus(s.ID, s.AccessToken, "awaiting_review")

	// Answering before anything was asked is a conflict.
	action(
		t,
		env,
		"/v1/applications/"+s.ID+"/information",
		s.AccessToken,
		map[string]string{"message": "hello"},
		http.StatusConflict,
	)
	decodeProblem(
		t,
		env.Do("POST", "/v1/cases/"+s.ID+"/decision", officer, map[string]any{"decision": "request_information"}),
		422,
	)

	st := action(t, env, "/v1/cases/"+s.ID+"/decision", officer, map[string]any{
		"decision": "request_information", "message": "Please upload the invitation letter from your host.",
		"due_in_days": 10}, 200)
	if st.Status != "information_requested" {
		t.Fatalf("rfi: %+v", st)
	}
	var view struct {
		Status             string `json:"status"`
		InformationRequest *struct {
			Message string    `json:"message"`
			DueAt   time.Time `json:"due_at"`
		} `json:"information_request"`
		SLA *struct {
			Paused           bool  `json:"paused"`
			RemainingSeconds int64 `json:"remaining_seconds"`
		} `json:"sla"`
	}
	env.Do("GET", "/v1/applications/"+s.ID, s.AccessToken, nil).JSON(t, &view)
	if view.InformationRequest == nil || !strings.Contains(view.InformationRequest.Message, "invitation letter") ||
		view.InformationRequest.DueAt.Sub(time.Now()) < 9*24*time.Hour || view.SLA == nil || !view.SLA.Paused {
		t.Fatalf("applicant view during RFI: %+v sla %+v", view, view.SLA)
	}
	// Officers cannot decide while the applicant holds the case.
	action(t, env, "/v1/cases/"+s.ID+"/decision", officer, map[string]string{"decision": "approve"}, http.StatusConflict)

	st = action(
		t,
		env,
		"/v1/applications/"+s.ID+"/information",
		s.AccessToken,
		map[string]string{"message": "Attached the letter from Lahore Textiles."},
		200,
	)
	if st.Status != "awaiting_review" {
		t.Fatalf("after answer: %+v", st)
	}
	env.Do("GET", "/v1/applications/"+s.ID, s.AccessToken, nil).JSON(t, &view)
	if view.SLA == nil || view.SLA.Paused || view.SLA.RemainingSeconds <= 0 {
		t.Fatalf("clock after answer: %+v", view.SLA)
	}
	st = action(t, env, "/v1/cases/"+s.ID+"/decision", officer, map[string]string{"decision": "approve"}, 200)
	if st.Status != "issued" {
		t.Fatalf("approve after RFI: %+v", st)
	}
	// The applicant saw each step and got an e-mail queued for each visible one.
	notes, err := env.Store.Notifications(context.Background(), s.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, n := range notes {
		kinds = append(kinds, n.Kind)
	}
	if strings.Join(kinds, ",") != "received,information_requested,issued" {
		t.Fatalf("notifications %v", kinds)
	}
}

func TestWithdrawWhileInformationRequested(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	s := submit(t, env, testenv.ValidApplication(domain.ProductBusiness2Y))
	env.WaitForStatus(s.ID, s.AccessToken, "awaiting_review")
	action(
		t,
		env,
		"/v1/cases/"+s.ID+"/decision",
		officer,
		map[string]any{"decision": "request_information", "message": "Your host's address, please."},
		200,
	)
	st := action(t, env, "/v1/applications/"+s.ID+"/withdraw", s.AccessToken, nil, 200)
	if st.Status != "withdrawn" {
		t.Fatalf("%+v", st)
	}
}

func TestClaimAndReleaseRules(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	a, aID := env.StaffToken(domain.RoleOfficer, "Officer A")
	b, bID := env.StaffToken(domain.RoleOfficer, "Officer B")
	sup, _ := env.StaffToken(domain.RoleSupervisor, "Supervisor")
	s := submit(t, env, testenv.ValidApplication(domain.ProductBusiness2Y))
	env.WaitForStatus(s.ID, s.AccessToken, "awaiting_review")
	base := "/v1/cases/" + s.ID

	if st := action(t, env, base+"/claim", a, nil, 200); st.Assignee != aID {
		t.Fatalf("claim: %+v", st)
	}
	action(t, env, base+"/claim", b, nil, http.StatusConflict)
	action(t, env, base+"/decision", b, map[string]string{"decision": "approve"}, http.StatusForbidden)
	action(t, env, base+"/release", b, nil, http.StatusForbidden)
	// The queue shows who holds it.
	var list struct {
		Items []struct {
			ID       string `json:"id"`
			Assignee string `json:"assignee"`
		} `json:"items"`
	}
	env.Do("GET", "/v1/cases?status=awaiting_review", sup, nil).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].Assignee != aID {
		t.Fatalf("queue %+v", list.Items)
	}
	if st := action(t, env, base+"/release", a, nil, 200); st.Assignee != "" {
		t.Fatalf("release: %+v", st)
	}
	if st := action(t, env, base+"/claim", b, nil, 200); st.Assignee != bID {
		t.Fatalf("claim by b: %+v", st)
	}
	// A supervisor may decide a case someone else holds.
	if st := action(t, env, base+"/decision", sup, map[string]string{"decision": "approve"}, 200); st.Status != "issued" {
		t.Fatalf("supervisor decision: %+v", st)
	}
	action(t, env, base+"/claim", a, nil, http.StatusConflict)
	// Applicants cannot claim.
	decodeProblem(t, env.Do("POST", base+"/claim", s.AccessToken, nil), http.StatusForbidden)
}

// Straight-through processing issues a clean chamber-endorsed two-year case
// with no human step; a watchlist hit or a refusal in the past year keeps a
// case for an officer.
func TestStraightThroughProcessing(t *testing.T) {
	people := sample.Generate(sample.Options{Rows: 3, Seed: 51})
	hitPerson := people[1].Row.Values
	env := testenv.Start(t, testenv.Options{Watchlist: "surname,given_names,date_of_birth\n" +
		hitPerson["surname"] + "," + hitPerson["given_names"] + "," + hitPerson["date_of_birth"] + "\n"})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	chamberID, chamberToken := env.Chamber("Karachi Chamber of Commerce")

	// The third person had a visa refused this year.
	refusedPerson := people[2].Row.Values
	prior := testenv.ValidApplication(domain.ProductBusiness2Y)
	prior.Applicant.Surname, prior.Applicant.GivenNames = refusedPerson["surname"], refusedPerson["given_names"]
	prior.Applicant.Sex, prior.Applicant.DateOfBirth = refusedPerson["sex"], refusedPerson["date_of_birth"]
	prior.Passport.Number = refusedPerson["passport_number"]
	prior = testenv.WithMRZ(prior)
	ps := submit(t, env, prior)
	env.WaitForStatus(ps.ID, ps.AccessToken, "awaiting_review")
	action(
		t,
		env,
		"/v1/cases/"+ps.ID+"/decision",
		officer,
		map[string]string{"decision": "refuse", "reason_code": "insufficient_evidence"},
		200,
	)

	putRoster(t, env, chamberID, chamberToken, people) // straight-through processing needs active members
	b := postBatch(t, env, chamberID, chamberToken, "stp-1", batchCSV(t, people))
	waitBatch(t, env, b.BatchID, chamberToken)
	var report struct {
		Rows []reportRow `json:"rows"`
	}
	env.Do("GET", "/v1/batches/"+b.BatchID+"/report", chamberToken, nil).JSON(t, &report)
	clean, hit, refused := report.Rows[0].ApplicationID, report.Rows[1].ApplicationID, report.Rows[2].ApplicationID

	v := env.WaitForStatus(clean, officer, "issued")
	d, _ := v["decision"].(map[string]any)
	if d["decided_by"] != "system" {
		t.Fatalf("clean case decided by %v", d)
	}
	found := false
	for _, e := range v["timeline"].([]any) {
		ev := e.(map[string]any)
		if ev["event"] == "issued" && ev["actor"] == "system" && strings.Contains(ev["detail"].(string), "stp-") {
			found = true
		}
		if ev["event"] == "screened" || ev["status"] == "awaiting_review" {
			t.Fatalf("an STP case went through review: %v", ev)
		}
	}
	if !found {
		t.Fatalf("timeline lacks the policy version: %v", v["timeline"])
	}
	env.WaitForStatus(hit, officer, "awaiting_review")
	env.WaitForStatus(refused, officer, "awaiting_review")
	time.Sleep(300 * time.Millisecond)
	for _, id := range []string{hit, refused} {
		if v := env.WaitForStatus(id, officer, "awaiting_review"); v["decision"] != nil {
			t.Fatalf("%s was decided: %v", id, v["decision"])
		}
	}
}

func TestQueueShowsSLAAndEscalatedFirst(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	first := submit(t, env, testenv.ValidApplication(domain.ProductBusiness2Y))
	second := submit(t, env, testenv.ValidApplication(domain.ProductBusiness2Y))
	env.WaitForStatus(first.ID, first.AccessToken, "awaiting_review")
	env.WaitForStatus(second.ID, second.AccessToken, "awaiting_review")
	// Escalate the later case in the read model, as the workflow's timer does at 75 %.
	escalate := env.Store.DB().Rebind(`UPDATE applications SET escalated = TRUE, queue_rank = 0 WHERE id = ?`)
	if _, err := env.Store.DB().Exec(escalate, second.ID); err != nil {
		t.Fatal(err)
	}
	var list struct {
		Items []struct {
			ID  string `json:"id"`
			SLA struct {
				DueAt            time.Time `json:"due_at"`
				RemainingSeconds int64     `json:"remaining_seconds"`
				Escalated        bool      `json:"escalated"`
			} `json:"sla"`
		} `json:"items"`
	}
	env.Do("GET", "/v1/cases?status=awaiting_review", officer, nil).JSON(t, &list)
	if len(list.Items) != 2 || list.Items[0].ID != second.ID || !list.Items[0].SLA.Escalated {
		t.Fatalf("escalated case not first: %+v", list.Items)
	}
	rem := list.Items[1].SLA.RemainingSeconds
	if rem < 23*3600 || rem > 24*3600 {
		t.Fatalf("remaining %d s, want about 24 h", rem)
	}
	var esc struct {
		Items []struct{ ID string } `json:"items"`
	}
	env.Do("GET", "/v1/cases?escalated=true", officer, nil).JSON(t, &esc)
	if len(esc.Items) != 1 || esc.Items[0].ID != second.ID {
		t.Fatalf("supervisors' queue %+v", esc.Items)
	}
}
