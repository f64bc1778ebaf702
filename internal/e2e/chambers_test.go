package e2e_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/visad/visad/activities"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/sample"
	"github.com/visad/visad/internal/testenv"
	"github.com/visad/visad/workflows"
)

type batchAccepted struct {
	BatchID string `json:"batch_id"`
	Rows    int    `json:"rows"`
}

type batchStatus struct {
	Status    string `json:"status"`
	Total     int    `json:"total"`
	Processed int    `json:"processed"`
	Invalid   int    `json:"invalid"`
	Created   int    `json:"created"`
	Existing  int    `json:"existing"`
	Started   int    `json:"started"`
	InReview  int    `json:"in_review"`
}

type reportRow struct {
	Row           int    `json:"row"`
	Outcome       string `json:"outcome"`
	ApplicationID string `json:"application_id"`
	Status        string `json:"status"`
	Errors        []struct {
		Pointer string `json:"pointer"`
		Column  string `json:"column"`
		Code    string `json:"code"`
	} `json:"errors"`
}

func batchCSV(t *testing.T, people []sample.Person) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := sample.WriteBatchCSV(&buf, people); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func postBatch(t *testing.T, env *testenv.Env, chamberID, token, reference string, body []byte) batchAccepted {
	t.Helper()
	r := env.Do(
		"POST",
		"/v1/chambers/"+chamberID+"/batches",
		token,
		body,
		"Content-Type",
		"text/csv",
		"Idempotency-Key",
		reference,
	)
	if r.Status != http.StatusAccepted {
		t.Fatalf("post batch: %d %s", r.Status, r.Body)
	}
	var a batchAccepted
	r.JSON(t, &a)
	return a
}

func waitBatch(t *testing.T, env *testenv.Env, batchID, token string) batchStatus {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	var st batchStatus
	for time.Now().Before(deadline) {
		env.Do("GET", "/v1/batches/"+batchID, token, nil).JSON(t, &st)
		if st.Status == "completed" && st.Started == st.Created+st.Existing {
			return st
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("batch %s did not complete: %+v", batchID, st)
	return st
}

func countApplications(t *testing.T, env *testenv.Env) int {
	t.Helper()
	var n int
	if err := env.Store.DB().Get(&n, "SELECT COUNT(*) FROM applications"); err != nil {
		t.Fatal(err)
	}
	return n
}

// A 1,000-row batch with a sprinkling of bad rows: the report names exactly
// the bad rows and their fields; posting it again changes nothing; posting it
// with the bad rows fixed starts only those.
func TestBatchReportResubmitAndFix(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	chamberID, token := env.Chamber("Almaty Chamber of Commerce")
	people := sample.Generate(sample.Options{Rows: 1000, Seed: 11})

	// Break a few rows, each in one field.
	broken := map[int]string{ // row number -> column
		7: "passport_expiry_date", 123: "email", 456: "nationality", 789: "date_of_birth", 1000: "intended_arrival",
	}
	bad := make([]sample.Person, len(people))
	copy(bad, people)
	for row, col := range broken {
		p := bad[row-1]
		v := map[string]string{}
		for k, val := range p.Row.Values {
			v[k] = val
		}
		switch col {
		case "passport_expiry_date":
			v[col] = time.Now().AddDate(0, 2, 0).Format(time.DateOnly)
			v["passport_mrz_line1"], v["passport_mrz_line2"] = "", "" // keep the MRZ out of it
		case "email":
			v[col] = "not-an-email"
		case "nationality":
			v[col] = "FRA"
			v["passport_mrz_line1"], v["passport_mrz_line2"] = "", ""
		case "date_of_birth":
			v[col] = "1990-02-30"
			v["passport_mrz_line1"], v["passport_mrz_line2"] = "", ""
		case "intended_arrival":
			v[col] = time.Now().AddDate(2, 0, 0).Format(time.DateOnly)
		}
		p.Row.Values = v
		bad[row-1] = p
	}
	body := batchCSV(t, bad)
	first := postBatch(t, env, chamberID, token, "karachi-forum-2026", body)
	if first.Rows != 1000 {
		t.Fatalf("rows = %d", first.Rows)
	}
	st := waitBatch(t, env, first.BatchID, token)
	if st.Invalid != len(broken) || st.Created != 1000-len(broken) || st.Started != 1000-len(broken) {
		t.Fatalf("progress %+v", st)
	}

	var report struct {
		Rows []reportRow `json:"rows"`
	}
	env.Do("GET", "/v1/batches/"+first.BatchID+"/report", token, nil).JSON(t, &report)
	if len(report.Rows) != 1000 {
		t.Fatalf("report has %d rows", len(report.Rows))
	}
	got := map[int]string{}
	for _, r := range report.Rows {
		if r.Outcome == "invalid" {
			if len(r.Errors) == 0 || r.ApplicationID != "" {
				t.Fatalf("invalid row %+v", r)
			}
			cols := []string{}
			for _, e := range r.Errors {
				cols = append(cols, e.Column)
			}
			sort.Strings(cols)
			got[r.Row] = strings.Join(cols, ",")
		} else if r.Outcome != "created" || r.ApplicationID == "" {
			t.Fatalf("valid row %+v", r)
		}
	}
	for row, col := range broken {
		if !strings.Contains(got[row], col) {
			t.Fatalf("row %d: want an error on %s, got %q (all: %v)", row, col, got[row], got)
		}
	}
	if len(got) != len(broken) {
		t.Fatalf("invalid rows %v, want exactly %v", got, broken)
	}
	// The CSV form of the report says the same.
	r := env.Do("GET", "/v1/batches/"+first.BatchID+"/report", token, nil, "Accept", "text/csv")
	records, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
	if err != nil || len(records) != 1001 || records[0][0] != "row" ||
		!strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv report: %v, %d records", err, len(records))
	}
	if records[7][1] != "invalid" || !strings.Contains(records[7][5], "passport_expiry_date") {
		t.Fatalf("csv row 7: %v", records[7])
	}
	apps := countApplications(t, env)
	if apps != 1000-len(broken) {
		t.Fatalf("%d applications", apps)
	}
	// The rows were admitted before beginning work: the first row's workflow
	// held its first step (about 1,000 rows' worth of starts), then worked.
	firstRow := ""
	for _, r := range report.Rows {
		if r.Outcome == "created" {
			firstRow = r.ApplicationID
			break
		}
	}
	hist := env.Services.Temporal.GetWorkflowHistory(
		context.Background(),
		workflows.WorkflowID(firstRow),
		"",
		false,
		enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT,
	)
	ev, err := hist.Next()
	if err != nil {
		t.Fatal(err)
	}
	hold := ev.GetWorkflowExecutionStartedEventAttributes().GetFirstWorkflowTaskBackoff().AsDuration()
	if hold < time.Second || hold > activities.MaxWorkDelay {
		t.Fatalf("first row's workflow held its first step %v, want 1 s to %v", hold, activities.MaxWorkDelay)
	}
	// While held it is still tracked like any case.
	held := env.Do("GET", "/v1/applications/"+firstRow, token, nil)
	if held.Status != http.StatusOK {
		t.Fatalf("held application: HTTP %d %s", held.Status, held.Body)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var status string
		query := env.Store.DB().Rebind("SELECT status FROM applications WHERE id = ?")
		if err := env.Store.DB().Get(&status, query, firstRow); err != nil {
			t.Fatal(err)
		}
		if status != "received" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first row's workflow never began work")
		}
		time.Sleep(200 * time.Millisecond)
	}

	// The same batch again: the same batch, nothing new.
	again := postBatch(t, env, chamberID, token, "karachi-forum-2026", body)
	if again.BatchID != first.BatchID {
		t.Fatalf("repost made a new batch %s", again.BatchID)
	}
	if n := countApplications(t, env); n != apps {
		t.Fatalf("repost created applications: %d -> %d", apps, n)
	}

	// The batch with the bad rows fixed: only those rows become new applications.
	fixed := postBatch(t, env, chamberID, token, "karachi-forum-2026", batchCSV(t, people))
	if fixed.BatchID == first.BatchID {
		t.Fatal("corrected content must be a new submission")
	}
	st = waitBatch(t, env, fixed.BatchID, token)
	if st.Created != len(broken) || st.Existing != 1000-len(broken) || st.Invalid != 0 {
		t.Fatalf("fixed batch progress %+v", st)
	}
	if n := countApplications(t, env); n != 1000 {
		t.Fatalf("after fix: %d applications, want 1000", n)
	}
	// Every application's workflow exists exactly once (started once each).
	var unstarted int
	err = env.Store.DB().Get(&unstarted, "SELECT COUNT(*) FROM applications WHERE workflow_started = FALSE")
	if err != nil || unstarted != 0 {
		t.Fatalf("unstarted %d (%v)", unstarted, err)
	}
	var ids []string
	if err := env.Store.DB().Select(&ids, "SELECT id FROM applications"); err != nil {
		t.Fatal(err)
	}
	runs := applicationRuns(t, env, len(ids))
	for _, id := range ids {
		if n := runs[workflows.WorkflowID(id)]; n != 1 {
			t.Fatalf("application %s has %d workflow executions in Temporal, want 1", id, n)
		}
	}
}

// applicationRuns asks Temporal's visibility how many executions of the
// application workflow each workflow id has on the stack's task queues (the
// main one and the bulk lane), waiting (visibility lags) until it lists at
// least want of them.
func applicationRuns(t *testing.T, env *testenv.Env, want int) map[string]int {
	t.Helper()
	query := fmt.Sprintf("WorkflowType = 'ApplicationWorkflow' AND TaskQueue IN ('%s', '%s')",
		env.Services.Config.TaskQueue, env.Services.Cases.BulkQueue())
	deadline := time.Now().Add(2 * time.Minute)
	for {
		runs, total := map[string]int{}, 0
		var token []byte
		var listErr error
		for {
			// Visibility on SQLite can be slow to list while a thousand workflows still write: a timed-out
			// page is asked again on the next round, until the deadline.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			resp, err := env.Services.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
				Namespace: env.Services.Config.Namespace, Query: query, PageSize: 100, NextPageToken: token})
			cancel()
			if err != nil {
				listErr = err
				break
			}
			for _, ex := range resp.GetExecutions() {
				runs[ex.GetExecution().GetWorkflowId()]++
				total++
			}
			if token = resp.GetNextPageToken(); len(token) == 0 {
				break
			}
		}
		if listErr == nil && total >= want {
			return runs
		}
		if time.Now().After(deadline) {
			t.Fatalf("Temporal lists %d application workflows, want %d (last error: %v)", total, want, listErr)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// Chamber-endorsed two-year applications proceed on the chamber's
// recommendation and, for active members on its roster, go straight through;
// the batch also accepts JSON.
func TestBatchJSONEndorsedTwoYear(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	chamberID, token := env.Chamber("Astana Chamber")
	people := sample.Generate(sample.Options{Rows: 3, Seed: 21})
	putRoster(t, env, chamberID, token, people)
	var rows []map[string]string
	for _, p := range people {
		v := map[string]string{}
		for k, val := range p.Row.Values {
			if !strings.HasPrefix(k, "host_") { // the endorsement is the evidence
				v[k] = val
			}
		}
		rows = append(rows, v)
	}
	r := env.Do(
		"POST",
		"/v1/chambers/"+chamberID+"/batches",
		token,
		map[string]any{"batch_reference": "astana-1", "rows": rows},
	)
	if r.Status != http.StatusAccepted {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	var a batchAccepted
	r.JSON(t, &a)
	st := waitBatch(t, env, a.BatchID, token)
	if st.Created != 3 {
		t.Fatalf("%+v", st)
	}
	var report struct {
		Rows []reportRow `json:"rows"`
	}
	env.Do("GET", "/v1/batches/"+a.BatchID+"/report", token, nil).JSON(t, &report)
	id := report.Rows[0].ApplicationID
	// Straight-through processing: a clean, chamber-endorsed two-year case is
	// issued by the system, with no officer involved.
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	v := env.WaitForStatus(id, officer, "issued")
	if d, _ := v["decision"].(map[string]any); d["decided_by"] != "system" {
		t.Fatalf("decided by %v, want system", v["decision"])
	}
	if v := env.Do("GET", "/v1/applications/"+id, token, nil); v.Status != 200 {
		t.Fatalf("chamber view: %d %s", v.Status, v.Body)
	}
}

func TestFiveYearNeedsAnActiveRosterMember(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	chamberID, token := env.Chamber("Kazakh Chamber of International Commerce")

	member := testenv.ValidApplication(domain.ProductBusiness5YMulti)
	lapsed := testenv.ValidApplication(domain.ProductBusiness5YMulti)
	wrongDOB := testenv.ValidApplication(domain.ProductBusiness5YMulti)
	stranger := testenv.ValidApplication(domain.ProductBusiness5YMulti)
	roster := []domain.Member{}
	for i, c := range []struct {
		form   *domain.Application
		status string
		dob    string
	}{{&member, "active", ""}, {&lapsed, "lapsed", ""}, {&wrongDOB, "active", "1970-01-01"}} {
		no := fmt.Sprintf("M-%d", i+1)
		c.form.Chamber = &domain.Chamber{ChamberID: chamberID, MembershipNumber: no}
		dob := c.form.Applicant.DateOfBirth
		if c.dob != "" {
			dob = c.dob
		}
		roster = append(
			roster,
			domain.Member{MembershipNumber: no, Surname: c.form.Applicant.Surname, GivenNames: c.form.Applicant.GivenNames,
				DateOfBirth: dob, Nationality: "KAZ", PassportNumber: c.form.Passport.Number, Status: c.status,
				ValidUntil: time.Now().AddDate(1, 0, 0).Format(time.DateOnly)},
		)
	}
	stranger.Chamber = &domain.Chamber{ChamberID: chamberID, MembershipNumber: "M-404"}
	r := env.Do("PUT", "/v1/chambers/"+chamberID+"/members", token, roster)
	if r.Status != 200 {
		t.Fatalf("roster: %d %s", r.Status, r.Body)
	}

	ok := submit(t, env, member)
	env.WaitForStatus(ok.ID, ok.AccessToken, "awaiting_review")

	for _, tc := range []struct {
		name    string
		form    domain.Application
		pointer string
		code    string
	}{
		{"lapsed", lapsed, "/chamber/membership_number", "membership_lapsed"},
		{"wrong birth date", wrongDOB, "/applicant/date_of_birth", "roster_mismatch"},
		{"not a member", stranger, "/chamber/membership_number", "not_a_member"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := submit(t, env, tc.form)
			v := env.WaitForStatus(s.ID, s.AccessToken, "ineligible")
			// The applicant reads one reason for every roster failure: no oracle
			// for membership numbers or members' birth dates.
			reasons, _ := v["ineligible_reasons"].([]any)
			if len(reasons) != 1 || fmt.Sprint(reasons[0]) != fmt.Sprint(map[string]any{
				"pointer": "/chamber/membership_number", "code": domain.CodeMembershipNotVerified,
				"detail": "the chamber membership could not be verified"}) {
				t.Errorf("applicant reads %v, want the one generic reason", reasons)
			}
			body, _ := json.Marshal(v)
			for _, detail := range []string{"not_a_member", "membership_lapsed", "roster_mismatch", "date_of_birth"} {
				if strings.Contains(string(body), detail) {
					t.Errorf("the applicant's view says %q: %s", detail, body)
				}
			}
			// Officers see the detail.
			var staff map[string]any
			env.Do("GET", "/v1/applications/"+s.ID, officer, nil).JSON(t, &staff)
			found := false
			for _, x := range staff["ineligible_reasons"].([]any) {
				m := x.(map[string]any)
				if m["pointer"] == tc.pointer && m["code"] == tc.code {
					found = true
				}
			}
			if !found {
				t.Fatalf("officer: want %s %s in %v", tc.pointer, tc.code, staff["ineligible_reasons"])
			}
		})
	}

	// The roster lists members without passport numbers.
	list := env.Do("GET", "/v1/chambers/"+chamberID+"/members?limit=2", token, nil)
	if list.Status != 200 || strings.Contains(string(list.Body), member.Passport.Number) ||
		!strings.Contains(string(list.Body), "next_cursor") {
		t.Fatalf("roster list %d %s", list.Status, list.Body)
	}
}

// Chamber A cannot read, submit to, or learn the existence of chamber B's
// roster, batches or applications.
func TestChambersAreIsolated(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	aID, aTok := env.Chamber("Chamber A")
	bID, bTok := env.Chamber("Chamber B")
	people := sample.Generate(sample.Options{Rows: 2, Seed: 31})
	bBatch := postBatch(t, env, bID, bTok, "b-1", batchCSV(t, people))
	waitBatch(t, env, bBatch.BatchID, bTok)
	var report struct {
		Rows []reportRow `json:"rows"`
	}
	env.Do("GET", "/v1/batches/"+bBatch.BatchID+"/report", bTok, nil).JSON(t, &report)
	bApp := report.Rows[0].ApplicationID

	for _, req := range []struct{ method, path, ctype string }{
		{"GET", "/v1/chambers/" + bID + "/members", ""},
		{"PUT", "/v1/chambers/" + bID + "/members", "text/csv"},
		{"POST", "/v1/chambers/" + bID + "/batches", "text/csv"},
		{"GET", "/v1/batches/" + bBatch.BatchID, ""},
		{"GET", "/v1/batches/" + bBatch.BatchID + "/report", ""},
		{"GET", "/v1/applications/" + bApp, ""},
		{"GET", "/v1/chambers/chb_doesnotexist0000000/members", ""},
		{"GET", "/v1/batches/bat_doesnotexist", ""},
	} {
		var body any
		headers := []string{}
		if req.ctype != "" {
			body = batchCSV(t, people)
			headers = append(headers, "Content-Type", req.ctype, "Idempotency-Key", "x")
		}
		r := env.Do(req.method, req.path, aTok, body, headers...)
		p := decodeProblem(t, r, http.StatusNotFound)
		if strings.Contains(string(r.Body), bID) || strings.Contains(string(r.Body), "Chamber B") {
			t.Fatalf("%s %s leaks chamber B: %s", req.method, req.path, r.Body)
		}
		_ = p
	}
	// Nothing was submitted to B by A.
	var n int
	if err := env.Store.DB().Get(&n, "SELECT COUNT(*) FROM batches WHERE chamber_id = '"+bID+"'"); err != nil || n != 1 {
		t.Fatalf("chamber B has %d batches (%v)", n, err)
	}
	// Officers and applicants are not chambers.
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	decodeProblem(t, env.Do("GET", "/v1/chambers/"+aID+"/members", officer, nil), http.StatusForbidden)
	// Only admins create chambers.
	decodeProblem(t, env.Do("POST", "/v1/chambers", aTok, map[string]string{"name": "Rogue"}), http.StatusForbidden)
	admin, _ := env.StaffToken(domain.RoleAdmin, "Admin")
	r := env.Do("POST", "/v1/chambers", admin, map[string]string{"name": "Faisalabad Chamber"})
	var created struct {
		ChamberID string `json:"chamber_id"`
		Token     string `json:"token"`
	}
	r.JSON(t, &created)
	if r.Status != http.StatusCreated || created.ChamberID == "" || created.Token == "" {
		t.Fatalf("admin create: %d %s", r.Status, r.Body)
	}
	if r := env.Do("GET", "/v1/chambers/"+created.ChamberID+"/members", created.Token, nil); r.Status != 200 {
		t.Fatalf("new chamber token: %d %s", r.Status, r.Body)
	}
}

func TestMalformedBatchesGetClearProblems(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	chamberID, token := env.Chamber("Chamber")
	good := string(batchCSV(t, sample.Generate(sample.Options{Rows: 2, Seed: 41})))
	header := strings.Join(domain.BatchColumns, ",")
	lines := strings.Split(strings.TrimSpace(good), "\n")

	var big strings.Builder
	big.WriteString(header + "\n")
	row := lines[1]
	for i := 0; i < domain.MaxBatchRows+1; i++ {
		big.WriteString(row + "\n")
	}
	cases := []struct {
		name   string
		body   string
		ctype  string
		status int
		code   string
	}{
		{"unknown column", strings.Replace(good, "surname", "family_name", 1), "text/csv", 422, "bad_header"},
		{"missing column", strings.Replace(good, "email,", "", 1), "text/csv", 422, ""},
		{"ragged row", header + "\n" + lines[1] + ",extra\n", "text/csv", 422, "ragged_row"},
		{"bad quoting", header + "\n\"unterminated," + lines[1] + "\n", "text/csv", 422, ""},
		{"binary junk", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "text/csv", 415, ""},
		{"empty", "", "text/csv", 422, ""},
		{"header only", header + "\n", "text/csv", 422, ""},
		{"10,001 rows", big.String(), "text/csv", 413, ""},
		{"not an array", `{"rows": 5}`, "application/json", 422, ""},
		{"non-string field", `[{"surname": 5}]`, "application/json", 422, ""},
		{"wrong media type", good, "application/xml", 415, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := env.DoRaw(
				"POST",
				"/v1/chambers/"+chamberID+"/batches",
				token,
				[]byte(tc.body),
				"Content-Type",
				tc.ctype,
				"Idempotency-Key",
				"bad-"+tc.name,
			)
			p := decodeProblem(t, r, tc.status)
			if tc.code != "" && (len(p.Errors) == 0 || p.Errors[0].Code != tc.code) {
				t.Fatalf("want code %s, got %+v", tc.code, p)
			}
		})
	}
	// BOM, CRLF line ends and quoted fields with commas are fine.
	crlf := "\ufeff" + strings.ReplaceAll(good, "\n", "\r\n")
	crlf = strings.Replace(crlf, "Steppe Grain LLP", `"Steppe Grain, LLP"`, 1)
	r := env.Do(
		"POST",
		"/v1/chambers/"+chamberID+"/batches",
		token,
		[]byte(crlf),
		"Content-Type",
		"text/csv",
		"Idempotency-Key",
		"bom-crlf",
	)
	if r.Status != http.StatusAccepted {
		t.Fatalf("BOM/CRLF batch: %d %s", r.Status, r.Body)
	}
	// A batch needs a reference.
	decodeProblem(
		t,
		env.Do("POST", "/v1/chambers/"+chamberID+"/batches", token, []byte(good), "Content-Type", "text/csv"),
		422,
	)
	// A roster with a bad row stores nothing and names the row.
	roster := "membership_number,surname,given_names,date_of_birth,nationality,passport_number,status,valid_until\n" +
		"M-1,Abenov,Nurlan,1985-03-14,KAZ,N1234567,active,2030-01-01\n" +
		"M-2,Seitkali,Dana,1985-13-14,KAZ,N7654321,sleeping,2030-01-01\n"
	p := decodeProblem(
		t,
		env.Do("PUT", "/v1/chambers/"+chamberID+"/members", token, []byte(roster), "Content-Type", "text/csv"),
		422,
	)
	if !hasError(p, "/rows/2/date_of_birth", "") || !hasError(p, "/rows/2/status", "") {
		t.Fatalf("roster problem %+v", p)
	}
	if members, _, _ := env.Store.ListMembers(context.Background(), chamberID, "", 10); len(members) != 0 {
		t.Fatalf("a bad roster stored %d members", len(members))
	}
}
