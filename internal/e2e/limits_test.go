package e2e_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/testenv"
)

func TestStatusLookupSaysStatusOnly(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	form := testenv.ValidApplication(domain.ProductBusiness2Y)
	s := submit(t, env, form)
	env.WaitForStatus(s.ID, s.AccessToken, "awaiting_review")

	lookup := func(ref, passport, dob string) testenv.Response {
		return env.Do(
			"POST",
			"/v1/status-lookup",
			"",
			map[string]string{"reference": ref, "passport_number": passport, "date_of_birth": dob},
		)
	}
	r := lookup(strings.ToLower(s.Reference), " "+form.Passport.Number+" ", form.Applicant.DateOfBirth)
	if r.Status != 200 {
		t.Fatalf("lookup %d %s", r.Status, r.Body)
	}
	var got map[string]any
	r.JSON(t, &got)
	if got["status"] != "awaiting_review" || got["reference"] != s.Reference || len(got) != 3 {
		t.Fatalf("lookup answer %v: want reference, status and updated_at only", got)
	}
	var details []string
	for _, bad := range [][3]string{
		{s.Reference, "X" + form.Passport.Number[1:], form.Applicant.DateOfBirth},
		{s.Reference, form.Passport.Number, "1970-01-01"},
		{"PKV-00000-00000", form.Passport.Number, form.Applicant.DateOfBirth},
	} {
		p := decodeProblem(t, lookup(bad[0], bad[1], bad[2]), 404)
		details = append(details, p.Detail)
	}
	// Every mismatch reads the same: the answer never tells which detail was wrong.
	if details[0] != details[1] || details[1] != details[2] {
		t.Fatalf("mismatches are distinguishable: %q", details)
	}
	decodeProblem(
		t,
		env.DoRaw(
			"POST",
			"/v1/status-lookup",
			"",
			map[string]string{"reference": "", "passport_number": "", "date_of_birth": "yesterday"},
		),
		422,
	)
	// Guessing is rate limited: 10 a minute per client.
	var last testenv.Response
	for i := 0; i < 10; i++ {
		last = lookup(s.Reference, form.Passport.Number, form.Applicant.DateOfBirth)
	}
	decodeProblem(t, last, http.StatusTooManyRequests)
	if sec, err := strconv.Atoi(last.Header.Get("Retry-After")); err != nil || sec < 1 {
		t.Fatalf("Retry-After %q", last.Header.Get("Retry-After"))
	}
	// A fresh junk Authorization header does not buy a fresh allowance.
	for i := 0; i < 3; i++ {
		r := env.DoRaw("POST", "/v1/status-lookup", "junk-"+strconv.Itoa(i), map[string]string{
			"reference": s.Reference, "passport_number": form.Passport.Number, "date_of_birth": form.Applicant.DateOfBirth})
		decodeProblem(t, r, http.StatusTooManyRequests)
	}
}

// One request a minute per client: the second request in a row is limited
// however slowly a loaded machine sends it, and another client is not.
func TestRateLimitPerClient(t *testing.T) {
	env := testenv.Start(t, testenv.Options{RateLimit: 1.0 / 60})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	other, _ := env.StaffToken(domain.RoleOfficer, "Other officer")
	if r := env.Do("GET", "/v1/cases", officer, nil); r.Status != http.StatusOK {
		t.Fatalf("first request: %d %s", r.Status, r.Body)
	}
	r := env.Do("GET", "/v1/cases", officer, nil)
	decodeProblem(t, r, http.StatusTooManyRequests)
	if sec, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || sec < 1 {
		t.Fatalf("429 with Retry-After %q", r.Header.Get("Retry-After"))
	}
	// Another client is not slowed down by the first.
	if r := env.Do("GET", "/v1/cases", other, nil); r.Status != http.StatusOK {
		t.Fatalf("other client: %d %s", r.Status, r.Body)
	}
}

// Must-show: with limits of one request a second, a second submission that
// carries a junk bearer token is limited like any other from that address,
// and the 429 says when to come back in the standard fields.
func TestJunkTokenSubmissionIsLimited(t *testing.T) {
	env := testenv.Start(t, testenv.Options{RateLimit: 1})
	first := env.Do("POST", "/v1/applications", "", testenv.ValidApplication(domain.ProductBusiness2Y),
		"Idempotency-Key", "junk-first")
	if first.Status != http.StatusAccepted {
		t.Fatalf("first submission: %d %s", first.Status, first.Body)
	}
	if first.Header.Get("RateLimit-Policy") == "" || first.Header.Get("RateLimit") == "" {
		t.Errorf("accepted submission without RateLimit fields: %v", first.Header)
	}
	form := testenv.ValidApplication(domain.ProductBusiness2Y)
	second := env.Do("POST", "/v1/applications", "junk", form, "Idempotency-Key", "junk-second")
	decodeProblem(t, second, http.StatusTooManyRequests)
	if sec, err := strconv.Atoi(second.Header.Get("Retry-After")); err != nil || sec < 1 {
		t.Errorf("Retry-After %q", second.Header.Get("Retry-After"))
	}
	if got := second.Header.Get("RateLimit-Policy"); got != `"default";q=1;w=1` {
		t.Errorf("RateLimit-Policy %q", got)
	}
	if got := second.Header.Get("RateLimit"); got != `"default";r=0;t=1` {
		t.Errorf("RateLimit %q", got)
	}
}
