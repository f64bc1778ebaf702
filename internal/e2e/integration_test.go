package e2e_test

// Integration tests through HTTP on a real Temporal server (embedded, in
// memory) and a real SQLite database. Nothing is mocked.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/visad/visad/api"
	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/testenv"
)

type submitted struct {
	ID          string `json:"id"`
	Reference   string `json:"reference"`
	Status      string `json:"status"`
	AccessToken string `json:"access_token"`
}

type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Pointer string `json:"pointer"`
		Detail  string `json:"detail"`
		Code    string `json:"code"`
	} `json:"errors"`
}

func submit(t *testing.T, env *testenv.Env, form domain.Application, headers ...string) submitted {
	t.Helper()
	r := env.Do("POST", "/v1/applications", "", form, headers...)
	if r.Status != http.StatusAccepted {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	var s submitted
	r.JSON(t, &s)
	if s.ID == "" || s.Reference == "" || !strings.HasPrefix(s.AccessToken, "vat_") {
		t.Fatalf("submit response %s", r.Body)
	}
	return s
}

func decodeProblem(t *testing.T, r testenv.Response, status int) problem {
	t.Helper()
	if r.Status != status {
		t.Fatalf("want %d, got %d %s", status, r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != api.ProblemContentType {
		t.Fatalf("problem content type = %q (body %s)", ct, r.Body)
	}
	var p problem
	r.JSON(t, &p)
	if p.Status != status || p.Type == "" || p.Title == "" {
		t.Fatalf("incomplete problem %s", r.Body)
	}
	return p
}

func hasError(p problem, pointer, code string) bool {
	for _, e := range p.Errors {
		if e.Pointer == pointer && (code == "" || e.Code == code) {
			return true
		}
	}
	return false
}

type appView struct {
	ID        string `json:"id"`
	Reference string `json:"reference"`
	Product   string `json:"product"`
	Status    string `json:"status"`
	Decision  *struct {
		Outcome    string `json:"outcome"`
		ReasonCode string `json:"reason_code"`
	} `json:"decision"`
	Visa *struct {
		VisaNumber  string `json:"visa_number"`
		ValidFrom   string `json:"valid_from"`
		ValidUntil  string `json:"valid_until"`
		Entries     string `json:"entries"`
		MaxStayDays int    `json:"max_stay_days"`
	} `json:"visa"`
	Timeline []struct {
		At     time.Time `json:"at"`
		Status string    `json:"status"`
		Event  string    `json:"event"`
		Actor  string    `json:"actor"`
	} `json:"timeline"`
	Screening *struct {
		Hit bool `json:"hit"`
	} `json:"screening"`
	Application *domain.Application `json:"application"`
}

func getView(t *testing.T, env *testenv.Env, id, token string) appView {
	t.Helper()
	r := env.Do("GET", "/v1/applications/"+id, token, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("get: %d %s", r.Status, r.Body)
	}
	var v appView
	r.JSON(t, &v)
	return v
}

// issuedOn is the UTC day the workflow recorded the case issued: the visa's
// dates follow it, whatever the clock says when the test reads them.
func issuedOn(t *testing.T, v appView) time.Time {
	t.Helper()
	for _, e := range v.Timeline {
		if e.Event == "issued" {
			return e.At.UTC()
		}
	}
	t.Fatalf("no issued event in the timeline %+v", v.Timeline)
	return time.Time{}
}

// yearsLater is the same day n years on; 29 February becomes 28 February.
func yearsLater(day time.Time, n int) string {
	later := day.AddDate(n, 0, 0)
	if later.Day() != day.Day() {
		later = later.AddDate(0, 0, -later.Day())
	}
	return later.Format(time.DateOnly)
}

func decide(env *testenv.Env, id, token string, body any) testenv.Response {
	return env.Do("POST", "/v1/cases/"+id+"/decision", token, body)
}

func TestBusiness2YFromSubmissionToIssued(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer Ayesha")

	form := testenv.ValidApplication(domain.ProductBusiness2Y)
	s := submit(t, env, form)
	if s.Status != "received" {
		t.Fatalf("status %q", s.Status)
	}
	env.WaitForStatus(s.ID, s.AccessToken, "awaiting_review")

	r := decide(env, s.ID, officer, map[string]string{"decision": "approve", "note": "host letter verified"})
	if r.Status != http.StatusOK {
		t.Fatalf("approve: %d %s", r.Status, r.Body)
	}
	var st struct {
		Status string `json:"status"`
		Visa   struct {
			VisaNumber string `json:"visa_number"`
			ValidUntil string `json:"valid_until"`
		} `json:"visa"`
	}
	r.JSON(t, &st)
	if st.Status != "issued" || st.Visa.VisaNumber == "" {
		t.Fatalf("approve result %s", r.Body)
	}

	v := getView(t, env, s.ID, s.AccessToken)
	issued := issuedOn(t, v)
	wantUntil := yearsLater(issued, 2) // passport expires in 8 years: not capped
	if v.Status != "issued" || v.Visa == nil || v.Visa.ValidUntil != wantUntil ||
		v.Visa.ValidFrom != issued.Format(
			time.DateOnly,
		) || v.Visa.Entries != "multiple" || v.Visa.MaxStayDays != 90 || v.Visa.VisaNumber != st.Visa.VisaNumber {
		t.Fatalf("applicant view %+v visa %+v", v, v.Visa)
	}
	events := []string{}
	for _, e := range v.Timeline {
		events = append(events, e.Event)
	}
	if got := strings.Join(events, ","); got != "submitted,validation_started,screening_started,screened,issued" {
		t.Fatalf("timeline %s", got)
	}
	// The applicant sees no staff-only data.
	if v.Application != nil || v.Screening != nil {
		t.Fatalf("applicant view leaks staff data: %+v", v)
	}
}

func TestVisaValidityCappedAtPassportExpiry(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	form := testenv.ValidApplication(domain.ProductBusiness2Y)
	arrival, _ := domain.ParseDate(form.Visit.IntendedArrival)
	expiry := arrival.AddDate(0, 7, 0) // valid long enough to travel, shorter than two years
	form.Passport.ExpiryDate = expiry.Format(time.DateOnly)
	form = testenv.WithMRZ(form)
	s := submit(t, env, form)
	env.WaitForStatus(s.ID, s.AccessToken, "awaiting_review")
	if r := decide(env, s.ID, officer, map[string]string{"decision": "approve"}); r.Status != http.StatusOK {
		t.Fatalf("approve: %d %s", r.Status, r.Body)
	}
	v := getView(t, env, s.ID, s.AccessToken)
	if v.Visa == nil || v.Visa.ValidUntil != form.Passport.ExpiryDate {
		t.Fatalf("valid_until %+v, want passport expiry %s", v.Visa, form.Passport.ExpiryDate)
	}
}

func TestBusiness5YIssuedForFiveYears(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	supervisor, _ := env.StaffToken(domain.RoleSupervisor, "Supervisor")
	form := testenv.ValidApplication(domain.ProductBusiness5YMulti)
	env.EnrolMember(&form)
	s := submit(t, env, form)
	env.WaitForStatus(s.ID, s.AccessToken, "awaiting_review")
	// Five-year visas need two people: an officer's approval, then a supervisor's.
	for _, token := range []string{officer, supervisor} {
		if r := decide(env, s.ID, token, map[string]string{"decision": "approve"}); r.Status != http.StatusOK {
			t.Fatalf("approve: %d %s", r.Status, r.Body)
		}
	}
	v := getView(t, env, s.ID, s.AccessToken)
	if v.Product != "business_5y_multi" || v.Visa == nil || v.Visa.ValidUntil != yearsLater(issuedOn(t, v), 5) {
		t.Fatalf("5-year visa %+v", v.Visa)
	}
	if !strings.HasPrefix(v.Visa.VisaNumber, "PK5Y-") {
		t.Fatalf("visa number %q", v.Visa.VisaNumber)
	}
}

func TestRefusalNeedsReasonAndIsFinal(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	s := submit(t, env, testenv.ValidApplication(domain.ProductBusiness2Y))
	env.WaitForStatus(s.ID, s.AccessToken, "awaiting_review")

	p := decodeProblem(t, decide(env, s.ID, officer, map[string]string{"decision": "refuse"}), 422)
	if !hasError(p, "/reason_code", "required") {
		t.Fatalf("missing reason: %+v", p)
	}
	p = decodeProblem(
		t,
		env.DoRaw(
			"POST",
			"/v1/cases/"+s.ID+"/decision",
			officer,
			map[string]string{"decision": "refuse", "reason_code": "vibes"},
		),
		422,
	)
	if !hasError(p, "/reason_code", "one_of") {
		t.Fatalf("bad reason: %+v", p)
	}
	p = decodeProblem(
		t,
		env.DoRaw("POST", "/v1/cases/"+s.ID+"/decision", officer, map[string]string{"decision": "maybe"}),
		422,
	)
	if !hasError(p, "/decision", "one_of") {
		t.Fatalf("bad decision: %+v", p)
	}
	r := decide(env, s.ID, officer, map[string]string{"decision": "refuse", "reason_code": "insufficient_evidence"})
	if r.Status != http.StatusOK {
		t.Fatalf("refuse: %d %s", r.Status, r.Body)
	}
	v := getView(t, env, s.ID, s.AccessToken)
	if v.Status != "refused" || v.Decision == nil || v.Decision.Outcome != "refuse" ||
		v.Decision.ReasonCode != "insufficient_evidence" ||
		v.Visa != nil {
		t.Fatalf("refused view %+v", v)
	}
	// Deciding again: 409.
	decodeProblem(t, decide(env, s.ID, officer, map[string]string{"decision": "approve"}), 409)
}

func TestDecidingTwiceConflicts(t *testing.T) {
	const watchlist = "surname,given_names,date_of_birth\nNobody,Matches,1900-01-01\n"
	env := testenv.Start(t, testenv.Options{Watchlist: watchlist})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	// Without its watchlist, screening fails and retries: the case is held
	// before review for as long as the test needs.
	watchlistFile := env.Services.Config.Watchlist
	if err := os.Remove(watchlistFile); err != nil {
		t.Fatal(err)
	}
	s := submit(t, env, testenv.ValidApplication(domain.ProductBusiness2Y))
	env.WaitForStatus(s.ID, s.AccessToken, "screening")

	// Too early: the case is still being screened.
	decodeProblem(t, decide(env, s.ID, officer, map[string]string{"decision": "approve"}), http.StatusConflict)
	if err := os.WriteFile(watchlistFile, []byte(watchlist), 0o600); err != nil {
		t.Fatal(err)
	}
	env.WaitForStatus(s.ID, s.AccessToken, "awaiting_review")
	// Two officers at once: exactly one wins, the other gets 409.
	results := make(chan int, 2)
	for i := 0; i < 2; i++ {
		go func() { results <- decide(env, s.ID, officer, map[string]string{"decision": "approve"}).Status }()
	}
	a, b := <-results, <-results
	if !(a == 200 && b == 409 || a == 409 && b == 200) {
		t.Fatalf("concurrent decisions answered %d and %d", a, b)
	}
	p := decodeProblem(t, decide(env, s.ID, officer, map[string]string{"decision": "refuse", "reason_code": "other"}), 409)
	if !strings.Contains(p.Detail, "issued") {
		t.Fatalf("conflict detail %q", p.Detail)
	}
}

func TestWithdraw(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	form := testenv.ValidApplication(domain.ProductBusiness2Y)
	s := submit(t, env, form)
	env.WaitForStatus(s.ID, s.AccessToken, "awaiting_review")

	// Only the applicant withdraws.
	decodeProblem(t, env.Do("POST", "/v1/applications/"+s.ID+"/withdraw", officer, nil), 403)

	r := env.Do("POST", "/v1/applications/"+s.ID+"/withdraw", s.AccessToken, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("withdraw: %d %s", r.Status, r.Body)
	}
	if v := getView(t, env, s.ID, s.AccessToken); v.Status != "withdrawn" {
		t.Fatalf("status %q", v.Status)
	}
	decodeProblem(t, env.Do("POST", "/v1/applications/"+s.ID+"/withdraw", s.AccessToken, nil), 409)
	decodeProblem(t, decide(env, s.ID, officer, map[string]string{"decision": "approve"}), 409)

	// A withdrawn case frees the passport for a new application, which is a case of its own.
	again := form
	again.Employment.Position = "Chief Executive Officer"
	next := submit(t, env, again)
	if next.ID == s.ID || next.Reference == s.Reference {
		t.Fatalf("the new application %+v reuses the withdrawn one's identity %+v", next, s)
	}
	if v := getView(t, env, s.ID, s.AccessToken); v.Status != "withdrawn" {
		t.Fatalf("the withdrawn case became %q", v.Status)
	}
}

func TestWithdrawAfterDecisionConflicts(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	s := submit(t, env, testenv.ValidApplication(domain.ProductBusiness2Y))
	env.WaitForStatus(s.ID, s.AccessToken, "awaiting_review")
	if r := decide(env, s.ID, officer, map[string]string{"decision": "approve"}); r.Status != 200 {
		t.Fatalf("approve %d %s", r.Status, r.Body)
	}
	decodeProblem(t, env.Do("POST", "/v1/applications/"+s.ID+"/withdraw", s.AccessToken, nil), 409)
}

// A second application for a passport that has an open one is accepted, not
// refused with the first one's reference: an anonymous caller learns nothing
// about other applications, and an impostor's application cannot block the
// holder's. Officers see both flagged as suspected duplicates of each other,
// in the case view and in the queue; applicants do not.
func TestSecondApplicationForAPassportIsAcceptedAndFlagged(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	form := testenv.ValidApplication(domain.ProductBusiness2Y)
	first := submit(t, env, form)

	again := form
	again.Applicant.Email = "someone.else@example.kz" // an impostor, or the holder: same passport and product
	r := env.Do("POST", "/v1/applications", "", again)
	if r.Status != http.StatusAccepted {
		t.Fatalf("second application for the passport: %d %s, want 202", r.Status, r.Body)
	}
	if strings.Contains(string(r.Body), first.Reference) || strings.Contains(string(r.Body), first.ID) {
		t.Fatalf("the answer names the other application: %s", r.Body)
	}
	var second submitted
	r.JSON(t, &second)
	env.WaitForStatus(first.ID, first.AccessToken, "awaiting_review")
	env.WaitForStatus(second.ID, second.AccessToken, "awaiting_review")

	for _, c := range []struct{ id, other, token string }{
		{first.ID, second.ID, first.AccessToken}, {second.ID, first.ID, second.AccessToken}} {
		var staff map[string]any
		env.Do("GET", "/v1/applications/"+c.id, officer, nil).JSON(t, &staff)
		if got := fmt.Sprint(staff["suspected_duplicate"]); got != "["+c.other+"]" {
			t.Errorf("staff view of %s: suspected_duplicate %s, want [%s]", c.id, got, c.other)
		}
		own := env.Do("GET", "/v1/applications/"+c.id, c.token, nil)
		if strings.Contains(string(own.Body), "suspected_duplicate") || strings.Contains(string(own.Body), c.other) {
			t.Errorf("the applicant's view of %s tells of the other application: %s", c.id, own.Body)
		}
	}
	var queue struct {
		Items []map[string]any `json:"items"`
	}
	env.Do("GET", "/v1/cases", officer, nil).JSON(t, &queue)
	flagged := 0
	for _, it := range queue.Items {
		if d, _ := it["suspected_duplicate"].([]any); len(d) == 1 {
			flagged++
		}
	}
	if flagged != 2 {
		t.Errorf("queue: %d cases flagged, want both: %+v", flagged, queue.Items)
	}
}

func TestIdempotentResubmission(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	form := testenv.ValidApplication(domain.ProductBusiness2Y)
	key := fmt.Sprintf("idem-%d", time.Now().UnixNano())
	a := submit(t, env, form, "Idempotency-Key", key)
	b := submit(t, env, form, "Idempotency-Key", key)
	if a.ID != b.ID || a.Reference != b.Reference || a.AccessToken != b.AccessToken {
		t.Fatalf("replay created another application: %+v vs %+v", a, b)
	}
	changed := form
	changed.Employment.Company = "Another Company"
	p := decodeProblem(t, env.Do("POST", "/v1/applications", "", changed, "Idempotency-Key", key), 422)
	if p.Type != "urn:visad:problem:idempotency-key-reused" {
		t.Fatalf("problem %+v", p)
	}
	rows, _, err := env.Store.ListCases(context.Background(), db.CaseFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows {
		if r.ID == a.ID {
			n++
		}
	}
	if len(rows) != 1 || n != 1 {
		t.Fatalf("want exactly one application, have %d", len(rows))
	}
}

// Every rule answers with a field error at the right pointer.
func TestEveryRuleHasAFieldError(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	today := time.Now().UTC()
	date := func(t time.Time) string { return t.Format(time.DateOnly) }
	cases := []struct {
		name    string
		mutate  func(a *domain.Application)
		pointer string
		code    string
	}{
		{"unknown product", func(a *domain.Application) { a.Product = "tourist" }, "/product", "one_of"},
		{"missing surname", func(a *domain.Application) { a.Applicant.Surname = "" }, "/applicant/surname", "required"},
		{"bad sex", func(a *domain.Application) { a.Applicant.Sex = "Q" }, "/applicant/sex", ""},
		{"bad email", func(a *domain.Application) { a.Applicant.Email = "not-an-email" }, "/applicant/email", ""},
		{
			"ineligible nationality",
			func(a *domain.Application) { a.Applicant.Nationality = "FRA" },
			"/applicant/nationality",
			"not_eligible_nationality",
		},
		{
			"not a country",
			func(a *domain.Application) { a.Passport.IssuingCountry = "ZZZ" },
			"/passport/issuing_country",
			"invalid_country",
		},
		{
			"bad date",
			func(a *domain.Application) { a.Applicant.DateOfBirth = "1985-02-30" },
			"/applicant/date_of_birth",
			"invalid_date",
		},
		{"expiry too soon", func(a *domain.Application) {
			a.Passport.ExpiryDate = date(today.AddDate(0, 3, 0))
		}, "/passport/expiry_date", "passport_validity"},
		{"issue after expiry", func(a *domain.Application) {
			a.Passport.IssueDate = date(today.AddDate(9, 0, 0))
		}, "/passport/issue_date", ""},
		{"issue date in future", func(a *domain.Application) {
			a.Passport.IssueDate = date(today.AddDate(0, 0, 3))
		}, "/passport/issue_date", "issue_date_in_future"},
		{"underage", func(a *domain.Application) {
			a.Applicant.DateOfBirth = date(today.AddDate(-17, 0, 0))
		}, "/applicant/date_of_birth", "underage"},
		{"arrival in the past", func(a *domain.Application) {
			a.Visit.IntendedArrival = date(today.AddDate(0, 0, -1))
		}, "/visit/intended_arrival", "arrival_out_of_range"},
		{"arrival beyond a year", func(a *domain.Application) {
			a.Visit.IntendedArrival = date(today.AddDate(1, 0, 2))
		}, "/visit/intended_arrival", "arrival_out_of_range"},
		{"bad purpose", func(a *domain.Application) { a.Visit.Purpose = "tourism" }, "/visit/purpose", ""},
		{
			"no evidence for 2y",
			func(a *domain.Application) { a.Visit.Host = nil; a.Chamber = nil },
			"/visit/host",
			"evidence_required",
		},
		{"5y without chamber", func(a *domain.Application) {
			a.Product = domain.ProductBusiness5YMulti
			a.Chamber = nil
		}, "/chamber", "evidence_required"},
		{"mrz check digit", func(a *domain.Application) {
			l2 := []byte(a.Passport.MRZ[1])
			l2[9] = '0' + (l2[9]-'0'+1)%10 // document number check digit
			a.Passport.MRZ[1] = string(l2)
		}, "/passport/mrz/1", "mrz_check_digit"},
		{"mrz disagrees with passport number", func(a *domain.Application) {
			a.Passport.Number = testenv.UniquePassport()
		}, "/passport/number", "mrz_mismatch"},
		{"mrz one line", func(a *domain.Application) { a.Passport.MRZ = a.Passport.MRZ[:1] }, "/passport/mrz", "mrz_format"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := testenv.ValidApplication(domain.ProductBusiness2Y)
			tc.mutate(&form)
			p := decodeProblem(t, env.DoRaw("POST", "/v1/applications", "", form), 422)
			if !hasError(p, tc.pointer, tc.code) {
				t.Fatalf("want %s (%s), got %+v", tc.pointer, tc.code, p.Errors)
			}
			// No field error may echo what the applicant typed.
			if strings.Contains(string(mustJSON(p)), form.Passport.Number) ||
				strings.Contains(string(mustJSON(p)), form.Applicant.Email) {
				t.Fatalf("problem echoes applicant data: %+v", p)
			}
		})
	}
}

func TestICAOSpecimenMRZThroughAPI(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	// The ICAO Doc 9303 specimen (Anna Maria Eriksson of Utopia). Its MRZ is valid;
	// Utopia is not an eligible nationality, so the only errors are eligibility ones.
	form := testenv.ValidApplication(domain.ProductBusiness2Y)
	form.Applicant.Surname, form.Applicant.GivenNames, form.Applicant.Sex = "Eriksson", "Anna Maria", "F"
	form.Applicant.Nationality, form.Passport.IssuingCountry = "UTO", "UTO"
	form.Applicant.DateOfBirth = "1974-08-12"
	form.Passport.Number = "L898902C3"
	form.Passport.MRZ = []string{
		"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
		"L898902C36UTO7408122F1204159ZE184226B<<<<<10",
	}
	form.Passport.IssueDate, form.Passport.ExpiryDate = "2002-04-16", "2012-04-15"
	p := decodeProblem(t, env.Do("POST", "/v1/applications", "", form), 422)
	for _, e := range p.Errors {
		if strings.HasPrefix(e.Code, "mrz_check") || e.Code == "mrz_format" {
			t.Fatalf("specimen MRZ rejected: %+v", e)
		}
	}
	if !hasError(p, "/applicant/nationality", "not_eligible_nationality") {
		t.Fatalf("want nationality error, got %+v", p.Errors)
	}
}

func TestWatchlistHitIsFlaggedNotRefused(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Watchlist: "surname,given_names,date_of_birth\nAbenov,Nurlan,1985-03-14\n"})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	hit := submit(t, env, testenv.ValidApplication(domain.ProductBusiness2Y))
	clearForm := testenv.ValidApplication(domain.ProductBusiness2Y)
	clearForm.Applicant.Surname = "Seitkali"
	clearForm = testenv.WithMRZ(clearForm)
	clear := submit(t, env, clearForm)

	env.WaitForStatus(hit.ID, hit.AccessToken, "awaiting_review")
	env.WaitForStatus(clear.ID, clear.AccessToken, "awaiting_review")
	if v := getView(t, env, hit.ID, officer); v.Screening == nil || !v.Screening.Hit {
		t.Fatalf("hit not flagged: %+v", v.Screening)
	}
	if v := getView(t, env, clear.ID, officer); v.Screening == nil || v.Screening.Hit {
		t.Fatalf("clear case flagged: %+v", v.Screening)
	}
	// The queue shows the flag too.
	r := env.Do("GET", "/v1/cases?status=awaiting_review", officer, nil)
	var list struct {
		Items []struct {
			ID           string `json:"id"`
			ScreeningHit bool   `json:"screening_hit"`
		} `json:"items"`
	}
	r.JSON(t, &list)
	flags := map[string]bool{}
	for _, it := range list.Items {
		flags[it.ID] = it.ScreeningHit
	}
	if !flags[hit.ID] || flags[clear.ID] {
		t.Fatalf("queue flags %v", flags)
	}
	// The applicant's own view does not reveal the screening.
	if v := getView(t, env, hit.ID, hit.AccessToken); v.Screening != nil {
		t.Fatal("applicant sees screening")
	}
}

func TestMalformedRequestsNeverFail500(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	huge := `{"product":"business_2y","employment":{"company":"` + strings.Repeat("x", api.MaxJSONBody) + `"}}`
	cases := []struct {
		name    string
		body    string
		ctype   string
		status  int
		pointer string
	}{
		{"not json", `{"product": `, "application/json", 400, ""},
		{"garbage", "\x00\x01\x02binary", "application/json", 400, ""},
		{"empty", "", "application/json", 400, ""},
		{"array", `[1,2,3]`, "application/json", 422, ""},
		{"trailing data", `{} {}`, "application/json", 400, ""},
		{"wrong type", `{"product": 42}`, "application/json", 422, "/product"},
		{"nested wrong type", `{"applicant": {"surname": ["a"]}}`, "application/json", 422, "/applicant/surname"},
		{"unknown field", `{"product":"business_2y","status":"issued"}`, "application/json", 422, "/status"},
		{
			"unknown nested field",
			`{"applicant":{"surname":"A","is_admin":true}}`,
			"application/json",
			422,
			"/applicant/is_admin",
		},
		{"case-folded field", `{"Product":"business_2y"}`, "application/json", 422, "/Product"},
		{"huge", huge, "application/json", 413, ""},
		{"form encoded", "product=business_2y", "application/x-www-form-urlencoded", 415, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := env.DoRaw("POST", "/v1/applications", "", []byte(tc.body), "Content-Type", tc.ctype)
			p := decodeProblem(t, r, tc.status)
			if tc.pointer != "" && !hasError(p, tc.pointer, "") {
				t.Fatalf("want pointer %s in %+v", tc.pointer, p.Errors)
			}
		})
	}
	// Unknown routes and methods are problems too.
	decodeProblem(t, env.Do("GET", "/v1/nothing", "", nil), 404)
	decodeProblem(t, env.Do("DELETE", "/v1/applications", "", nil), 405)
	decodeProblem(t, env.Do("GET", "/v1/applications/../../etc/passwd", "", nil), 404)
}

func TestAuthentication(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	admin, _ := env.StaffToken(domain.RoleAdmin, "Admin")
	s := submit(t, env, testenv.ValidApplication(domain.ProductBusiness2Y))

	decodeProblem(t, env.Do("GET", "/v1/applications/"+s.ID, "", nil), 401)
	decodeProblem(t, env.Do("GET", "/v1/applications/"+s.ID, "vst_not-a-real-token", nil), 401)
	decodeProblem(t, env.Do("GET", "/v1/cases", "", nil), 401)
	decodeProblem(t, env.Do("GET", "/v1/cases", s.AccessToken, nil), 403)
	decodeProblem(t, env.Do("GET", "/v1/cases", admin, nil), 403)
	decodeProblem(t, decide(env, s.ID, s.AccessToken, map[string]string{"decision": "approve"}), 403)
	if r := env.Do("GET", "/v1/cases", officer, nil); r.Status != 200 {
		t.Fatalf("officer queue: %d %s", r.Status, r.Body)
	}
	// A revoked token stops working at once.
	_, id := env.StaffToken(domain.RoleOfficer, "Leaver")
	tok2, id2 := env.StaffToken(domain.RoleOfficer, "Leaver 2")
	_ = id
	if ok, err := env.Store.RevokeUser(context.Background(), id2, time.Now()); !ok || err != nil {
		t.Fatal(ok, err)
	}
	decodeProblem(t, env.Do("GET", "/v1/cases", tok2, nil), 401)
}

func TestApplicantsCannotSeeEachOther(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	a := submit(t, env, testenv.ValidApplication(domain.ProductBusiness2Y))
	formB := testenv.ValidApplication(domain.ProductBusiness2Y)
	formB.Applicant.Surname, formB.Applicant.Email = "Zhaksybekova", "aigerim@example.kz"
	formB = testenv.WithMRZ(formB)
	b := submit(t, env, formB)

	// A's token on B's case: 404, as if it did not exist.
	r := env.Do("GET", "/v1/applications/"+b.ID, a.AccessToken, nil)
	decodeProblem(t, r, 404)
	decodeProblem(t, env.Do("POST", "/v1/applications/"+b.ID+"/withdraw", a.AccessToken, nil), 404)
	// A's own view contains nothing of B's.
	own := env.Do("GET", "/v1/applications/"+a.ID, a.AccessToken, nil)
	secrets := []string{b.ID, b.Reference, formB.Passport.Number, formB.Applicant.Surname, formB.Applicant.Email}
	for _, secret := range secrets {
		if strings.Contains(string(own.Body), secret) || strings.Contains(string(r.Body), secret) {
			t.Fatalf("B's data %q appears in A's responses", secret)
		}
	}
	// A forged token of the right shape is refused the same way.
	decodeProblem(t, env.Do("GET", "/v1/applications/"+a.ID, "vat_forged", nil), 404)
}

func TestQueueFiltersAndPages(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	var ids []string
	for i := 0; i < 5; i++ {
		product := domain.ProductBusiness2Y
		if i%2 == 1 {
			product = domain.ProductBusiness5YMulti
		}
		form := testenv.ValidApplication(product)
		if product == domain.ProductBusiness5YMulti {
			env.EnrolMember(&form)
		}
		s := submit(t, env, form)
		ids = append(ids, s.ID)
		env.WaitForStatus(s.ID, s.AccessToken, "awaiting_review")
	}
	seen := map[string]bool{}
	cursor := ""
	for page := 0; page < 5; page++ {
		r := env.Do("GET", "/v1/cases?status=awaiting_review&limit=2&cursor="+cursor, officer, nil)
		var list struct {
			Items []struct {
				ID      string `json:"id"`
				Product string `json:"product"`
				Status  string `json:"status"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		r.JSON(t, &list)
		if len(list.Items) > 2 {
			t.Fatalf("page of %d", len(list.Items))
		}
		for _, it := range list.Items {
			if seen[it.ID] || it.Status != "awaiting_review" {
				t.Fatalf("repeat or wrong status %+v", it)
			}
			seen[it.ID] = true
		}
		if list.NextCursor == "" {
			break
		}
		cursor = list.NextCursor
	}
	if len(seen) != 5 {
		t.Fatalf("paged through %d of 5", len(seen))
	}
	var five struct {
		Items []struct{ Product string } `json:"items"`
	}
	env.Do("GET", "/v1/cases?product=business_5y_multi", officer, nil).JSON(t, &five)
	if len(five.Items) != 2 {
		t.Fatalf("5-year filter returned %d", len(five.Items))
	}
	p := decodeProblem(t, env.DoRaw("GET", "/v1/cases?limit=0&status=nope&cursor=not-a-cursor", officer, nil), 422)
	for _, ptr := range []string{"/query/limit", "/query/status", "/query/cursor"} {
		if !hasError(p, ptr, "") {
			t.Fatalf("want %s in %+v", ptr, p.Errors)
		}
	}
}

// An application whose workflow start was lost (the API died after the commit)
// is started by the reconciler and proceeds.
func TestReconcilerStartsLostWorkflows(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	cases := env.Services.Cases
	form := domain.Normalize(testenv.ValidApplication(domain.ProductBusiness2Y))
	id := "app_" + strings.Repeat("r", 20) + fmt.Sprintf("%05d", time.Now().UnixNano()%100000)
	sealed, _, err := env.Services.Keys.SealForm(id, form)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(-time.Minute)
	if _, _, err := env.Store.CreateApplication(context.Background(), db.NewApplication{
		ID: id, Reference: "PKV-RECON-" + id[len(id)-5:], Product: string(form.Product),
		PassportHash: env.Services.Keys.PassportHash(form.Passport.IssuingCountry, form.Passport.Number),
		FormSealed:   sealed, RequestHash: "r", SubmittedAt: now, SLADueAt: now.Add(24 * time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	n, err := cases.Reconcile(context.Background(), time.Second)
	if err != nil || n < 1 {
		t.Fatalf("reconcile started %d (%v)", n, err)
	}
	env.WaitForStatus(id, env.Services.Keys.AccessToken(id), "awaiting_review")
	// Running it again starts nothing twice.
	if n, err := cases.Reconcile(context.Background(), time.Second); err != nil || n != 0 {
		t.Fatalf("second reconcile: %d %v", n, err)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	if r := env.Do("GET", "/healthz", "", nil); r.Status != 200 {
		t.Fatalf("healthz %d", r.Status)
	}
	r := env.Do("GET", "/readyz", "", nil)
	var body struct {
		Checks map[string]string `json:"checks"`
	}
	r.JSON(t, &body)
	if r.Status != 200 || body.Checks["database"] != "ok" || body.Checks["temporal"] != "ok" {
		t.Fatalf("readyz %d %s", r.Status, r.Body)
	}
}

func TestLogsCarryNoPII(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	form := testenv.ValidApplication(domain.ProductBusiness2Y)
	form.Applicant.Surname, form.Applicant.Email = "Canarysurname", "canary.mail@example.kz"
	form = testenv.WithMRZ(form)
	s := submit(t, env, form)
	env.WaitForStatus(s.ID, s.AccessToken, "awaiting_review")
	decide(env, s.ID, officer, map[string]string{"decision": "approve"})
	env.Do("POST", "/v1/applications", "", form) // a duplicate: the error path logs too
	logs := env.LogBuf.String()
	if !strings.Contains(logs, "http request") {
		t.Fatal("expected access logs to be captured")
	}
	for _, secret := range []string{form.Passport.Number, "Canarysurname", "CANARYSURNAME", "canary.mail"} {
		if strings.Contains(logs, secret) {
			t.Fatalf("logs contain PII %q", secret)
		}
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
