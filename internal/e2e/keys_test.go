package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/testenv"
)

// Finding 7: an applicant's token stops working a set time (90 days by
// default) after the case closed; until then it works.
func TestApplicantTokenExpiresAfterCaseCloses(t *testing.T) {
	env := testenv.Start(t, testenv.Options{NoSTP: true})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	s := submit(t, env, testenv.ValidApplication(domain.ProductBusiness2Y))
	env.WaitForStatus(s.ID, s.AccessToken, "awaiting_review")
	if r := decide(env, s.ID, officer, map[string]string{"decision": "refuse",
		"reason_code": "insufficient_evidence"}); r.Status != http.StatusOK {
		t.Fatalf("refuse: %d %s", r.Status, r.Body)
	}
	getView(t, env, s.ID, s.AccessToken) // closed just now: still readable

	// The case closed 89 days ago: still readable; 91 days ago: the token has expired.
	age := func(days int) {
		t.Helper()
		at := time.Now().AddDate(0, 0, -days).UnixMilli()
		if _, err := env.Store.DB().Exec(env.Store.DB().Rebind(
			`UPDATE applications SET decided_at = ?, updated_at = ? WHERE id = ?`), at, at, s.ID); err != nil {
			t.Fatal(err)
		}
	}
	age(89)
	getView(t, env, s.ID, s.AccessToken)
	age(91)
	r := env.Do("GET", "/v1/applications/"+s.ID, s.AccessToken, nil)
	if r.Status != http.StatusUnauthorized {
		t.Fatalf("a token 91 days after the case closed: %d %s, want 401", r.Status, r.Body)
	}
	// Staff still see the case.
	if r := env.Do("GET", "/v1/applications/"+s.ID, officer, nil); r.Status != http.StatusOK {
		t.Fatalf("officer: %d %s", r.Status, r.Body)
	}
}

// Finding 6: staff reading a decrypted form leaves an audit entry naming who
// read which case, with no personal data; a decision's note is kept, sealed.
func TestStaffFormReadsAreAuditedAndNotesKeptSealed(t *testing.T) {
	env := testenv.Start(t, testenv.Options{NoSTP: true})
	officer, officerID := env.StaffToken(domain.RoleOfficer, "Officer")
	form := testenv.ValidApplication(domain.ProductBusiness2Y)
	s := submit(t, env, form)
	env.WaitForStatus(s.ID, s.AccessToken, "awaiting_review")

	ctx := context.Background()
	count := func() int {
		t.Helper()
		recs, err := env.Store.ListAudit(ctx, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range recs {
			if r.Action == "form.read" && r.Subject == s.ID {
				n++
				if r.Actor != "officer:"+officerID {
					t.Fatalf("form read by %q, want officer:%s", r.Actor, officerID)
				}
				if strings.Contains(r.Detail, form.Applicant.Surname) || strings.Contains(r.Detail, form.Passport.Number) {
					t.Fatalf("personal data in the audit entry: %+v", r)
				}
			}
		}
		return n
	}
	getView(t, env, s.ID, s.AccessToken) // the applicant's view holds no form: not audited
	if n := count(); n != 0 {
		t.Fatalf("%d form reads audited before staff looked", n)
	}
	v := getView(t, env, s.ID, officer)
	if v.Application == nil {
		t.Fatal("staff view without the form")
	}
	if n := count(); n != 1 {
		t.Fatalf("%d form reads audited after one staff view, want 1", n)
	}

	const note = "Called the employer; the invitation is genuine"
	if r := decide(env, s.ID, officer, map[string]string{"decision": "approve", "note": note}); r.Status != http.StatusOK {
		t.Fatalf("approve: %d %s", r.Status, r.Body)
	}
	var sealed []string
	if err := env.Store.DB().Select(&sealed, env.Store.DB().Rebind(
		`SELECT note_sealed FROM decision_notes WHERE application_id = ?`), s.ID); err != nil {
		t.Fatalf("decision notes: %v", err)
	}
	if len(sealed) != 1 || strings.Contains(sealed[0], "employer") {
		t.Fatalf("decision notes %q, want one sealed note", sealed)
	}
	notes, err := env.Services.Cases.DecisionNotes(ctx, s.ID)
	if err != nil || len(notes) != 1 || notes[0].Note != note || notes[0].Actor != "officer:"+officerID {
		t.Fatalf("opened notes %+v, %v", notes, err)
	}
}
