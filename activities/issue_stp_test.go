package activities_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/visad/visad/activities"
	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/keys"
	"github.com/visad/visad/internal/sample"
)

// submitEndorsed stores an application a chamber submitted (a batch row's), as the batch activity would.
func (h *harness) submitEndorsed(form domain.Application, chamberID string, submittedAt time.Time) db.Application {
	h.t.Helper()
	form = domain.Normalize(form)
	submitted++
	id := fmt.Sprintf("app_%025d", submitted)
	sealed, plain, err := h.acts.Keys.SealForm(id, form)
	if err != nil {
		h.t.Fatal(err)
	}
	app, created, err := h.store.CreateApplication(context.Background(), db.NewApplication{
		ID: id, Reference: fmt.Sprintf("PKV-%05d-TEST0", submitted), Product: string(form.Product),
		PassportHash: h.acts.Keys.PassportHash(form.Passport.IssuingCountry, form.Passport.Number),
		FormSealed:   sealed, RequestHash: keys.HashRequest(plain),
		SubmittedAt: submittedAt, SLADueAt: submittedAt.Add(24 * time.Hour), EndorsedBy: chamberID,
	})
	if err != nil || !created {
		h.t.Fatalf("create application: created=%v err=%v", created, err)
	}
	return app
}

// Finding 3 of issue 11: a chamber's batch row for a two-year visa was processed straight through without a
// roster check. Only an active member on the submitting chamber's roster may be.
func TestCheckSTPChecksTheSubmittingChambersRoster(t *testing.T) {
	h := newHarness(t)
	h.acts.STPEnabled = true
	ctx := context.Background()
	now := time.Now().UTC()
	ppl := sample.Generate(sample.Options{Rows: 4, Product: domain.ProductBusiness2Y, Seed: 911, Today: now})
	h.ensureChamber("kcci-stp")
	var roster []db.Member
	for i, p := range ppl[:2] {
		m := p.Member
		if i == 1 {
			m.Status = domain.MemberLapsed
		}
		roster = append(roster, db.Member{MembershipNumber: m.MembershipNumber, Surname: m.Surname,
			GivenNames: m.GivenNames, DateOfBirth: m.DateOfBirth, Nationality: m.Nationality,
			PassportHash: h.acts.Keys.MemberPassportHash(m.PassportNumber), Status: m.Status, ValidUntil: m.ValidUntil})
	}
	if _, _, err := h.store.UpsertMembers(ctx, "kcci-stp", roster, now); err != nil {
		t.Fatal(err)
	}
	noNumber := ppl[3].Row
	noNumber.Values = map[string]string{}
	for k, v := range ppl[3].Row.Values {
		noNumber.Values[k] = v
	}
	noNumber.Values["membership_number"] = ""
	cases := []struct {
		name string
		row  domain.BatchRow
		want bool
	}{
		{"active member", ppl[0].Row, true},
		{"lapsed member", ppl[1].Row, false},
		{"not on the roster", ppl[2].Row, false},
		{"no membership number", noNumber, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			app := h.submitEndorsed(domain.ApplicationFromRow(c.row, "kcci-stp"), "kcci-stp", now)
			var res activities.STPResult
			if err := h.run(&res, h.acts.CheckSTP, stpInput(app.ID, now)); err != nil {
				t.Fatal(err)
			}
			if res.Eligible != c.want {
				t.Errorf("CheckSTP eligible=%v (%s), want %v", res.Eligible, res.Reason, c.want)
			}
		})
	}
}

// Finding 9 of issue 11: a case that waited past its passport's validity must not be issued; the visa would be
// valid until before it is valid from.
func TestIssueVisaRechecksThePassport(t *testing.T) {
	h := newHarness(t)
	submittedAt := time.Now().UTC()
	form := domain.ApplicationFromRow(people(1)[0].Row, "")
	form.Chamber = nil
	expiry := submittedAt.AddDate(1, 0, 0)
	form.Passport.ExpiryDate = expiry.Format(time.DateOnly)
	for _, tt := range []struct {
		name     string
		issuedOn time.Time
		ok       bool
	}{
		{"within the margin", submittedAt.AddDate(0, 1, 0), true},
		{"expiring in under six months", expiry.AddDate(0, -5, 0), false},
		{"expired", expiry.AddDate(0, 2, 0), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			form.Passport.Number = testPassport()
			app := h.submitForm(form, submittedAt)
			in := activities.IssueInput{
				Status: activities.StatusInput{ApplicationID: app.ID, Seq: 5, Status: domain.StatusIssued,
					Event: domain.EventIssued, Actor: "officer:usr_a", At: tt.issuedOn,
					Decision: &domain.Decision{Outcome: domain.OutcomeApprove, DecidedBy: "officer:usr_a"}},
				IssuedOn: tt.issuedOn,
			}
			var visa domain.Visa
			err := h.run(&visa, h.acts.IssueVisa, in)
			if tt.ok {
				if err != nil {
					t.Fatalf("IssueVisa: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("issued %+v on %s for a passport expiring %s", visa, tt.issuedOn.Format(time.DateOnly),
					form.Passport.ExpiryDate)
			}
			if !strings.Contains(err.Error(), "PassportInvalid") || !strings.Contains(err.Error(), "passport_validity") {
				t.Fatalf("want a PassportInvalid error naming passport_validity, got %v", err)
			}
		})
	}
}

func stpInput(id string, at time.Time) activities.STPInput {
	return activities.STPInput{ApplicationID: id, DecidedAt: at, Screened: true}
}

var passportN int

// testPassport is a passport number no other application of the test uses.
func testPassport() string {
	passportN++
	return fmt.Sprintf("T%07d", passportN)
}
