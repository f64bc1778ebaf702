package e2e_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/visad/visad/api"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/sample"
	"github.com/visad/visad/internal/testenv"
)

// ok means the caller is let through: the handler answers (2xx, or a 409/422
// about the request itself), never 401, 403 or 404.
const ok = 0

type principalCase struct {
	name  string
	token string
}

// TestAuthorizationMatrix walks every route of the API with every kind of
// caller and checks the answer: 401 for no or bad credentials, 403 for the
// wrong role, 404 for another party's object (no existence leak), and that no
// response carries another party's data. A route that is not listed here
// fails the test, so new routes must be added to the matrix.
func TestAuthorizationMatrix(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	supervisor, _ := env.StaffToken(domain.RoleSupervisor, "Supervisor")
	admin, _ := env.StaffToken(domain.RoleAdmin, "Admin")
	revoked, revokedID := env.StaffToken(domain.RoleSupervisor, "Leaver")
	if okRevoke, err := env.Store.RevokeUser(context.Background(), revokedID, time.Now()); !okRevoke || err != nil {
		t.Fatal(okRevoke, err)
	}
	expired, _ := env.StaffToken(domain.RoleOfficer, "Expired")
	expire := env.Store.DB().Rebind(`UPDATE users SET expires_at = ? WHERE name = 'Expired'`)
	if _, err := env.Store.DB().Exec(expire, time.Now().Add(-time.Hour).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	chamberID, chamberTok := env.Chamber("Own Chamber")
	otherChamberID, otherChamberTok := env.Chamber("Other Chamber")
	rotatedChamberID, _ := env.Chamber("Rotated Chamber") // its token is rotated below

	formA := testenv.ValidApplication(domain.ProductBusiness2Y)
	a := submit(t, env, formA)
	formB := testenv.ValidApplication(domain.ProductBusiness2Y)
	formB.Applicant.Surname, formB.Applicant.Email = "Otherperson", "other.person@example.kz"
	formB = testenv.WithMRZ(formB)
	b := submit(t, env, formB)
	env.WaitForStatus(a.ID, a.AccessToken, "awaiting_review")
	env.WaitForStatus(b.ID, b.AccessToken, "awaiting_review")
	people := sample.Generate(sample.Options{Rows: 1, Seed: 77})
	batch := postBatch(t, env, chamberID, chamberTok, "authz", batchCSV(t, people))

	principals := []principalCase{
		{"anonymous", ""}, {"malformed", "not-a-token"}, {"revoked", revoked}, {"expired", expired},
		{"applicant", a.AccessToken}, {"other applicant", b.AccessToken}, {"officer", officer},
		{"supervisor", supervisor}, {"admin", admin}, {"chamber", chamberTok}, {"other chamber", otherChamberTok},
	}
	roster := "membership_number,surname,given_names,date_of_birth,nationality,passport_number,status,valid_until\n" +
		"M-9,Abenov,Nurlan,1985-03-14,KAZ,N7777777,active,2030-01-01\n"
	type route struct {
		method, pattern, path string
		body                  any
		ctype                 string
		want                  map[string]int // principal -> status (ok = let through); missing = default below
		public                bool
	}
	appRoute := func(method, suffix string, body any, let ...string) route {
		want := map[string]int{"other applicant": 404}
		for _, p := range principals {
			if _, set := want[p.name]; !set && p.name != "anonymous" && p.name != "malformed" && p.name != "revoked" &&
				p.name != "expired" {
				want[p.name] = 403
			}
		}
		for _, p := range let {
			want[p] = ok
		}
		return route{
			method:  method,
			pattern: "/v1/applications/:id" + suffix,
			path:    "/v1/applications/" + a.ID + suffix,
			body:    body,
			want:    want,
		}
	}
	staffRoute := func(method, pattern, path string, body any, let ...string) route {
		want := map[string]int{}
		for _, p := range principals {
			switch p.name {
			case "anonymous", "malformed", "revoked", "expired":
			default:
				want[p.name] = 403
			}
		}
		for _, p := range let {
			want[p] = ok
		}
		return route{method: method, pattern: pattern, path: path, body: body, want: want}
	}
	chamberRoute := func(method, pattern, path string, body any, ctype string) route {
		r := staffRoute(method, pattern, path, body, "chamber")
		r.want["other chamber"] = 404
		r.ctype = ctype
		return r
	}
	// By the time release is tried, the supervisor has taken the case over from
	// the officer (claim runs first), so the officer may no longer release it.
	release := staffRoute("POST", "/v1/cases/:id/release", "/v1/cases/"+b.ID+"/release", nil, "supervisor")
	release.want["officer"] = 403
	getApp := appRoute("GET", "", nil, "applicant", "officer", "supervisor")
	getApp.want["chamber"], getApp.want["other chamber"] = 404, 404 // chambers see only what they submitted
	evisaPDF := appRoute("GET", "/evisa.pdf", nil, "applicant", "officer", "supervisor")
	evisaPDF.want["chamber"], evisaPDF.want["other chamber"] = 404, 404
	routes := []route{
		{method: "GET", pattern: "/healthz", path: "/healthz", public: true},
		{method: "GET", pattern: "/readyz", path: "/readyz", public: true},
		{method: "GET", pattern: "/metrics", path: "/metrics", public: true},
		{method: "GET", pattern: "/openapi.yaml", path: "/openapi.yaml", public: true},
		{
			method:  "POST",
			pattern: "/v1/applications",
			path:    "/v1/applications",
			body:    map[string]string{"product": "tourist"},
			public:  true,
		},
		{
			method:  "POST",
			pattern: "/v1/status-lookup",
			path:    "/v1/status-lookup",
			body:    map[string]string{"reference": "x", "passport_number": "y", "date_of_birth": "bad"},
			public:  true,
		},
		getApp,
		appRoute("POST", "/withdraw", nil, "applicant"),
		appRoute("POST", "/information", map[string]string{"message": "answer"}, "applicant"),
		staffRoute("GET", "/v1/cases", "/v1/cases", nil, "officer", "supervisor"),
		staffRoute(
			"POST",
			"/v1/cases/:id/decision",
			"/v1/cases/"+b.ID+"/decision",
			map[string]string{"decision": "maybe"},
			"officer",
			"supervisor",
		),
		staffRoute("POST", "/v1/cases/:id/claim", "/v1/cases/"+b.ID+"/claim", nil, "officer", "supervisor"),
		release,
		staffRoute("POST", "/v1/chambers", "/v1/chambers", map[string]string{"name": ""}, "admin"),
		staffRoute("POST", "/v1/chambers/:id/token", "/v1/chambers/"+rotatedChamberID+"/token", nil, "admin"),
		chamberRoute("PUT", "/v1/chambers/:id/members", "/v1/chambers/"+chamberID+"/members", []byte(roster), "text/csv"),
		chamberRoute("GET", "/v1/chambers/:id/members", "/v1/chambers/"+chamberID+"/members", nil, ""),
		chamberRoute(
			"POST",
			"/v1/chambers/:id/batches",
			"/v1/chambers/"+chamberID+"/batches",
			[]byte("product\n"),
			"text/csv",
		),
		chamberRoute("GET", "/v1/batches/:id", "/v1/batches/"+batch.BatchID, nil, ""),
		chamberRoute("GET", "/v1/batches/:id/report", "/v1/batches/"+batch.BatchID+"/report", nil, ""),
		// The e-visa: the PDF as the case view; revocation for supervisors; seals and certificates public.
		evisaPDF,
		staffRoute("POST", "/v1/visas/:number/revoke", "/v1/visas/PK2Y-26-ZZZZZZZZ-Z/revoke",
			map[string]string{"reason_code": "maybe"}, "supervisor"),
		{method: "POST", pattern: "/v1/seals/verify", path: "/v1/seals/verify",
			body: map[string]string{"seal": "3A=="}, public: true},
		{method: "GET", pattern: "/v1/seals/revocations", path: "/v1/seals/revocations", public: true},
		{method: "GET", pattern: "/.well-known/visad/seal-certificates",
			path: "/.well-known/visad/seal-certificates", public: true},
		{method: "GET", pattern: "/check", path: "/check", public: true},
		{method: "GET", pattern: "/check.css", path: "/check.css", public: true},
		{method: "POST", pattern: "/check", path: "/check", body: "seal=3A%3D%3D",
			ctype: "application/x-www-form-urlencoded", public: true},
	}

	// Every route the server has must be in the matrix.
	listed := map[string]bool{}
	for _, r := range routes {
		listed[r.method+" "+r.pattern] = true
	}
	var missing []string
	for _, r := range api.Routes(env.HTTP.Config.Handler) {
		if !listed[r.Method+" "+r.Path] {
			missing = append(missing, r.Method+" "+r.Path)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("routes missing from the authorization matrix: %v", missing)
	}
	if len(api.Routes(env.HTTP.Config.Handler)) == 0 {
		t.Fatal("no routes found")
	}

	// Data that must never appear in an answer to someone else.
	foreign := map[string][]string{
		"other applicant": {a.Reference, formA.Passport.Number, formA.Applicant.Email, formB.Passport.Number},
		"other chamber":   {batch.BatchID, chamberID, "Own Chamber", people[0].Row.Values["passport_number"]},
		"applicant":       {b.Reference, formB.Applicant.Email, "Otherperson"},
		"chamber":         {a.Reference, formA.Applicant.Email, otherChamberID},
	}
	for _, r := range routes {
		for _, p := range principals {
			want, set := r.want[p.name]
			switch {
			case r.public:
				want = ok
			case !set: // no or bad credentials
				want = 401
			}
			headers := []string{}
			if r.ctype != "" {
				headers = append(headers, "Content-Type", r.ctype, "Idempotency-Key", "authz-"+p.name)
			}
			resp := env.DoRaw(r.method, r.path, p.token, r.body, headers...)
			name := r.method + " " + r.pattern + " as " + p.name
			switch {
			case resp.Status >= 500:
				t.Errorf("%s: server error %d %s", name, resp.Status, resp.Body)
			case want == ok && (resp.Status == 401 || resp.Status == 403 || resp.Status == 404):
				t.Errorf("%s: want access, got %d %s", name, resp.Status, resp.Body)
			case want != ok && resp.Status != want:
				t.Errorf("%s: want %d, got %d %s", name, want, resp.Status, resp.Body)
			}
			for _, secret := range foreign[p.name] {
				if secret != "" && strings.Contains(string(resp.Body), secret) && !strings.Contains(r.path, secret) {
					t.Errorf("%s: the answer carries another party's data %q", name, secret)
				}
			}
		}
	}
}
