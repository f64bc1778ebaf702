package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/visad/visad/api"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/documents/doctest"
	"github.com/visad/visad/internal/sample"
	"github.com/visad/visad/internal/testenv"
)

// ok means the caller is let through and the call succeeds: with a valid
// request, the answer is 2xx. A 400, 409, 415, 422 or 429 is no proof of access.
const ok = 0

type principalCase struct {
	name  string
	token string
}

// call is one request of the matrix.
type call struct {
	path, token string
	body        any
	ctype       string
}

// TestAuthorizationMatrix walks every route of the API with every kind of
// caller: each caller the route admits sends a valid request and must succeed
// (2xx; a state-changing route gets a fresh case for each), and each other
// gets 401 for no or bad credentials, 403 for the wrong role, 404 for another
// party's object (no existence leak). No response may carry another party's
// data. A route that is not listed here fails the test, so new routes must be
// added to the matrix.
func TestAuthorizationMatrix(t *testing.T) {
	env := testenv.Start(t, testenv.Options{LookupsPerMinute: 1000})
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

	// fresh submits a case and waits until an officer may act on it.
	fresh := func() submitted {
		s := submit(t, env, testenv.ValidApplication(domain.ProductBusiness2Y))
		env.WaitForStatus(s.ID, s.AccessToken, "awaiting_review")
		return s
	}
	mustDo := func(method, path, token string, body any) testenv.Response {
		r := env.Do(method, path, token, body)
		if r.Status/100 != 2 {
			t.Fatalf("setup %s %s: %d %s", method, path, r.Status, r.Body)
		}
		return r
	}
	approve := map[string]string{"decision": "approve"}

	// a: the applicant's case, issued (so its e-visa exists); b: another applicant's.
	formA := testenv.ValidApplication(domain.ProductBusiness2Y)
	a := submit(t, env, formA)
	formB := testenv.ValidApplication(domain.ProductBusiness2Y)
	formB.Applicant.Surname, formB.Applicant.Email = "Otherperson", "other.person@example.kz"
	formB = testenv.WithMRZ(formB)
	b := submit(t, env, formB)
	env.WaitForStatus(a.ID, a.AccessToken, "awaiting_review")
	env.WaitForStatus(b.ID, b.AccessToken, "awaiting_review")
	// a carries a document, which its officer lists and reads.
	letter, letterType := uploadForm(t, domain.DocumentInvitationLetter, doctest.PDF("Invitation to Karachi"))
	if r := env.DoRaw("POST", "/v1/applications/"+a.ID+"/uploads", a.AccessToken, letter, "Content-Type",
		letterType); r.Status != 201 {
		t.Fatalf("setup upload: %d %s", r.Status, r.Body)
	}
	var docs struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	mustDo("GET", "/v1/applications/"+a.ID+"/documents", officer, nil).JSON(t, &docs)
	if len(docs.Items) != 1 {
		t.Fatalf("setup: case a has %d documents, want 1", len(docs.Items))
	}
	mustDo("POST", "/v1/cases/"+a.ID+"/decision", officer, approve)
	var issued struct {
		Visa struct {
			VisaNumber string `json:"visa_number"`
			Seal       string `json:"seal"`
		} `json:"visa"`
	}
	mustDo("GET", "/v1/applications/"+a.ID, a.AccessToken, nil).JSON(t, &issued)
	// held: a case the supervisor has claimed, which the officer may not release.
	held := fresh()
	mustDo("POST", "/v1/cases/"+held.ID+"/claim", supervisor, nil)
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
		want                  map[string]int // principal -> status (ok = must succeed); missing = default below
		public                bool
		// allowed builds the valid request of an admitted principal (fresh objects for
		// state-changing routes); nil sends path and body with the principal's token.
		allowed func(p principalCase) call
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
	// A fresh case for each admitted staff member (state-changing routes succeed once).
	onFresh := func(suffix string, body any, prepare ...func(id string)) func(p principalCase) call {
		return func(p principalCase) call {
			s := fresh()
			for _, f := range prepare {
				f(s.ID)
			}
			return call{path: "/v1/cases/" + s.ID + suffix, token: p.token, body: body}
		}
	}
	withdraw := appRoute("POST", "/withdraw", nil, "applicant")
	withdraw.allowed = func(principalCase) call {
		s := fresh()
		return call{path: "/v1/applications/" + s.ID + "/withdraw", token: s.AccessToken}
	}
	answer := map[string]string{"message": "Attached the letter from my host."}
	information := appRoute("POST", "/information", answer, "applicant")
	information.allowed = func(principalCase) call {
		s := fresh()
		mustDo("POST", "/v1/cases/"+s.ID+"/decision", officer, map[string]any{
			"decision": "request_information", "message": "Your host's letter, please.", "due_in_days": 10})
		return call{path: "/v1/applications/" + s.ID + "/information", token: s.AccessToken, body: answer}
	}
	decision := staffRoute("POST", "/v1/cases/:id/decision", "/v1/cases/"+b.ID+"/decision", approve,
		"officer", "supervisor")
	decision.allowed = onFresh("/decision", approve)
	claim := staffRoute("POST", "/v1/cases/:id/claim", "/v1/cases/"+b.ID+"/claim", nil, "officer", "supervisor")
	claim.allowed = onFresh("/claim", nil)
	// The officer may not release a case the supervisor holds; the supervisor releases one it holds.
	release := staffRoute("POST", "/v1/cases/:id/release", "/v1/cases/"+held.ID+"/release", nil, "supervisor")
	release.allowed = onFresh("/release", nil, func(id string) {
		mustDo("POST", "/v1/cases/"+id+"/claim", supervisor, nil)
	})
	revoke := staffRoute("POST", "/v1/visas/:number/revoke", "/v1/visas/PK2Y-26-ZZZZZZZZ-Z/revoke",
		map[string]string{"reason_code": "holder_request"}, "supervisor")
	revoke.allowed = func(p principalCase) call {
		s := fresh()
		mustDo("POST", "/v1/cases/"+s.ID+"/decision", officer, approve)
		var v struct {
			Visa struct {
				VisaNumber string `json:"visa_number"`
			} `json:"visa"`
		}
		mustDo("GET", "/v1/applications/"+s.ID, s.AccessToken, nil).JSON(t, &v)
		return call{path: "/v1/visas/" + v.Visa.VisaNumber + "/revoke", token: p.token,
			body: map[string]string{"reason_code": "holder_request"}}
	}
	chambers := 0
	createChamber := staffRoute("POST", "/v1/chambers", "/v1/chambers", map[string]string{"name": "New Chamber"},
		"admin")
	createChamber.allowed = func(p principalCase) call {
		chambers++
		return call{path: "/v1/chambers", token: p.token, body: map[string]string{
			"name": fmt.Sprintf("Chamber of Commerce %d", chambers)}}
	}
	batches := 0
	postBatchRoute := chamberRoute("POST", "/v1/chambers/:id/batches", "/v1/chambers/"+chamberID+"/batches",
		batchCSV(t, people), "text/csv")
	postBatchRoute.allowed = func(p principalCase) call {
		batches++
		rows := sample.Generate(sample.Options{Rows: 1, Seed: uint64(100 + batches)})
		return call{path: "/v1/chambers/" + chamberID + "/batches", token: p.token, body: batchCSV(t, rows),
			ctype: "text/csv"}
	}
	getApp := appRoute("GET", "", nil, "applicant", "officer", "supervisor")
	getApp.want["chamber"], getApp.want["other chamber"] = 404, 404 // chambers see only what they submitted
	evisaPDF := appRoute("GET", "/evisa.pdf", nil, "applicant", "officer", "supervisor")
	evisaPDF.want["chamber"], evisaPDF.want["other chamber"] = 404, 404
	// Uploads: anonymous, or the applicant's own open case (a fresh one: a is closed by now).
	caseUpload := appRoute("POST", "/uploads", letter, "applicant")
	caseUpload.ctype = letterType
	caseUpload.allowed = func(principalCase) call {
		s := fresh()
		return call{path: "/v1/applications/" + s.ID + "/uploads", token: s.AccessToken, body: letter,
			ctype: letterType}
	}
	// Uploads without credentials are anonymous; with a chamber's token, the chamber's; any other token is refused.
	upload := staffRoute("POST", "/v1/uploads", "/v1/uploads", letter, "chamber", "other chamber")
	upload.ctype, upload.want["anonymous"] = letterType, ok
	listDocs := staffRoute("GET", "/v1/applications/:id/documents", "/v1/applications/"+a.ID+"/documents", nil,
		"officer", "supervisor")
	readDoc := staffRoute("GET", "/v1/applications/:id/documents/:doc",
		"/v1/applications/"+a.ID+"/documents/"+docs.Items[0].ID, nil, "officer", "supervisor")
	lookup := map[string]string{"reference": a.Reference, "passport_number": formA.Passport.Number,
		"date_of_birth": formA.Applicant.DateOfBirth}
	routes := []route{
		{method: "GET", pattern: "/healthz", path: "/healthz", public: true},
		{method: "GET", pattern: "/readyz", path: "/readyz", public: true},
		{method: "GET", pattern: "/openapi.yaml", path: "/openapi.yaml", public: true},
		{method: "POST", pattern: "/v1/applications", path: "/v1/applications", public: true,
			allowed: func(p principalCase) call {
				return call{path: "/v1/applications", token: p.token, body: testenv.ValidApplication(domain.ProductBusiness2Y)}
			}},
		{method: "POST", pattern: "/v1/status-lookup", path: "/v1/status-lookup", body: lookup, public: true},
		{method: "GET", pattern: "/v1/products", path: "/v1/products", public: true},
		upload,
		caseUpload,
		listDocs,
		readDoc,
		getApp,
		withdraw,
		information,
		staffRoute("GET", "/v1/cases", "/v1/cases", nil, "officer", "supervisor"),
		decision,
		claim,
		release,
		createChamber,
		staffRoute("POST", "/v1/chambers/:id/token", "/v1/chambers/"+rotatedChamberID+"/token", nil, "admin"),
		chamberRoute("PUT", "/v1/chambers/:id/members", "/v1/chambers/"+chamberID+"/members", []byte(roster), "text/csv"),
		chamberRoute("GET", "/v1/chambers/:id/members", "/v1/chambers/"+chamberID+"/members", nil, ""),
		postBatchRoute,
		chamberRoute("GET", "/v1/batches/:id", "/v1/batches/"+batch.BatchID, nil, ""),
		chamberRoute("GET", "/v1/batches/:id/report", "/v1/batches/"+batch.BatchID+"/report", nil, ""),
		// The e-visa: the PDF as the case view; revocation for supervisors; seals and certificates public.
		evisaPDF,
		revoke,
		{method: "POST", pattern: "/v1/seals/verify", path: "/v1/seals/verify",
			body: map[string]string{"seal": issued.Visa.Seal}, public: true},
		{method: "GET", pattern: "/v1/seals/revocations", path: "/v1/seals/revocations", public: true},
		{method: "GET", pattern: "/.well-known/visad/seal-certificates",
			path: "/.well-known/visad/seal-certificates", public: true},
		{method: "GET", pattern: "/check", path: "/check", public: true},
		{method: "GET", pattern: "/check.css", path: "/check.css", public: true},
		{method: "POST", pattern: "/check", path: "/check", body: url.Values{"seal": {issued.Visa.Seal}}.Encode(),
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
			c := call{path: r.path, token: p.token, body: r.body, ctype: r.ctype}
			if want == ok && r.allowed != nil {
				c = r.allowed(p)
			}
			headers := []string{"Idempotency-Key", fmt.Sprintf("authz-%s-%s-%d", p.name, r.pattern, time.Now().UnixNano())}
			if c.ctype != "" {
				headers = append(headers, "Content-Type", c.ctype)
			}
			var resp testenv.Response
			if want == ok {
				resp = env.Do(r.method, c.path, c.token, c.body, headers...) // a valid request, checked against the spec
			} else {
				resp = env.DoRaw(r.method, c.path, c.token, c.body, headers...)
			}
			name := r.method + " " + r.pattern + " as " + p.name
			switch {
			case resp.Status >= 500:
				t.Errorf("%s: server error %d %s", name, resp.Status, resp.Body)
			case want == ok && resp.Status/100 != 2:
				t.Errorf("%s: want success (2xx), got %d %s", name, resp.Status, resp.Body)
			case want != ok && resp.Status != want:
				t.Errorf("%s: want %d, got %d %s", name, want, resp.Status, resp.Body)
			}
			if r.public {
				continue // the answer depends on what the caller sends (a seal, a reference), not on who asks
			}
			for _, secret := range foreign[p.name] {
				if secret != "" && strings.Contains(string(resp.Body), secret) && !strings.Contains(c.path, secret) {
					t.Errorf("%s: the answer carries another party's data %q", name, secret)
				}
			}
		}
	}
}

// uploadForm is a multipart upload body of one document, and its content type.
func uploadForm(t *testing.T, kind domain.DocumentKind, data []byte) ([]byte, string) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if err := w.WriteField("kind", string(kind)); err != nil {
		t.Fatal(err)
	}
	part, err := w.CreateFormFile("file", "document.pdf")
	if err == nil {
		_, err = part.Write(data)
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return body.Bytes(), w.FormDataContentType()
}
