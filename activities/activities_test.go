package activities_test

// Activity tests run each activity in Temporal's test activity environment
// against a real, migrated SQLite store: no Temporal server, no mocks of the
// database. They show the idempotency every activity promises under retry.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/visad/visad/activities"
	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/dbtest"
	"github.com/visad/visad/internal/keys"
	"github.com/visad/visad/internal/sample"
)

// harness is one activity environment with its store and keys.
type harness struct {
	t     *testing.T
	env   *testsuite.TestActivityEnvironment
	acts  *activities.Activities
	store *db.Store
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	k, err := keys.New(bytes.Repeat([]byte{0xab}, 32))
	if err != nil {
		t.Fatal(err)
	}
	store := dbtest.SQLite(t)
	acts := &activities.Activities{Store: store, Keys: k}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	return &harness{t: t, env: env, acts: acts, store: store}
}

// run executes one activity the way a worker would and decodes its result.
func (h *harness) run(result any, activity any, args ...any) error {
	h.t.Helper()
	val, err := h.env.ExecuteActivity(activity, args...)
	if err != nil {
		return err
	}
	if result == nil {
		return nil
	}
	return val.Get(result)
}

// people are generated, valid delegation members; each call gets new passports.
var peopleSeed uint64 = 40

func people(n int) []sample.Person {
	peopleSeed++
	return sample.Generate(sample.Options{Rows: n, Seed: peopleSeed})
}

var submitted int

// submit stores a single (not batch) application of the person, as the API would.
func (h *harness) submit(p sample.Person, submittedAt time.Time) db.Application {
	h.t.Helper()
	form := domain.ApplicationFromRow(p.Row, "")
	form.Chamber = nil // a single application's evidence is its host letter
	return h.submitForm(form, submittedAt)
}

// submitForm stores a single application of the form, as the API would.
func (h *harness) submitForm(form domain.Application, submittedAt time.Time) db.Application {
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
		SubmittedAt: submittedAt, SLADueAt: submittedAt.Add(24 * time.Hour),
	})
	if err != nil || !created {
		h.t.Fatalf("create application: created=%v err=%v", created, err)
	}
	return app
}

func TestIssueVisaReturnsTheSameVisaUnderRetry(t *testing.T) {
	h := newHarness(t)
	app := h.submit(people(1)[0], time.Now().UTC())
	approvedAt := time.Date(2026, 11, 30, 23, 59, 0, 0, time.UTC) // workflow time: fixed, whatever the wall clock
	in := activities.IssueInput{
		Status: activities.StatusInput{ApplicationID: app.ID, Seq: 5, Status: domain.StatusIssued,
			Event: domain.EventIssued, Actor: "officer:usr_a", At: approvedAt,
			Decision: &domain.Decision{Outcome: domain.OutcomeApprove, DecidedBy: "officer:usr_a"}},
		IssuedOn: approvedAt,
	}
	var first, retried domain.Visa
	if err := h.run(&first, h.acts.IssueVisa, in); err != nil {
		t.Fatal(err)
	}
	// The worker lost the answer and Temporal retries the same input.
	if err := h.run(&retried, h.acts.IssueVisa, in); err != nil {
		t.Fatal(err)
	}
	if first.VisaNumber == "" || retried != first {
		t.Fatalf("retry issued %+v, first attempt %+v", retried, first)
	}
	if !strings.HasPrefix(first.VisaNumber, "PK2Y-26-") {
		t.Fatalf("visa number %q does not name the product and the approval year", first.VisaNumber)
	}
	// Dates follow the recorded approval time, not the clock of the attempt.
	if first.ValidFrom != "2026-11-30" || first.ValidUntil != "2028-11-30" {
		t.Fatalf("validity %s to %s, want 2026-11-30 to 2028-11-30", first.ValidFrom, first.ValidUntil)
	}
	stored, err := h.store.GetVisa(context.Background(), app.ID)
	if err != nil || stored.VisaNumber != first.VisaNumber {
		t.Fatalf("stored visa %+v (%v), want %s", stored, err, first.VisaNumber)
	}
	var visas int
	if err := h.store.DB().Get(&visas, `SELECT COUNT(*) FROM visas`); err != nil || visas != 1 {
		t.Fatalf("%d visas stored (%v), want 1", visas, err)
	}
	events, err := h.store.Timeline(context.Background(), app.ID)
	if err != nil {
		t.Fatal(err)
	}
	issued := 0
	for _, e := range events {
		if e.Event == string(domain.EventIssued) {
			issued++
		}
	}
	if issued != 1 {
		t.Fatalf("timeline has %d issued events, want 1: %+v", issued, events)
	}
}

func TestIssueVisaOfAMissingApplicationIsNotRetried(t *testing.T) {
	h := newHarness(t)
	in := activities.IssueInput{
		Status: activities.StatusInput{
			ApplicationID: "app_missing",
			Seq:           5,
			Status:        domain.StatusIssued,
			Event:         domain.EventIssued,
		},
		IssuedOn: time.Now(),
	}
	err := h.run(nil, h.acts.IssueVisa, in)
	if err == nil || !strings.Contains(err.Error(), activities.ErrTypeApplicationMissing) {
		t.Fatalf("want a non-retryable %s error, got %v", activities.ErrTypeApplicationMissing, err)
	}
}

func fieldErrorCodes(errs []domain.FieldError) []string {
	codes := make([]string, 0, len(errs))
	for _, e := range errs {
		codes = append(codes, e.Code)
	}
	return codes
}

// Another open application for the same passport is no reason to find an
// application invalid (it may be an impostor's): both validate, and officers
// see them flagged instead.
func TestValidateApplicationIgnoresAnotherOpenApplication(t *testing.T) {
	h := newHarness(t)
	person := people(1)[0]
	submittedAt := time.Now().UTC()
	first := h.submit(person, submittedAt)
	person.Row.Values["position"] = "Founder and Chair" // a new request from the same passport
	second := h.submit(person, submittedAt.Add(time.Minute))
	for _, app := range []db.Application{first, second} {
		var res activities.ValidateResult
		if err := h.run(&res, h.acts.ValidateApplication, activities.ValidateInput{
			ApplicationID: app.ID, SubmittedAt: app.SubmittedAt()}); err != nil {
			t.Fatal(err)
		}
		if len(res.Errors) != 0 {
			t.Fatalf("%s fails validation: %v", app.ID, fieldErrorCodes(res.Errors))
		}
	}
}

// ensureChamber creates the chamber and its account unless it exists.
func (h *harness) ensureChamber(chamberID string) {
	h.t.Helper()
	ctx := context.Background()
	if _, err := h.store.GetChamber(ctx, chamberID); err == nil {
		return
	}
	now := time.Now().UnixMilli()
	if err := h.store.CreateChamber(ctx, db.Chamber{ID: chamberID, Name: "Chamber " + chamberID, CreatedAtMS: now},
		db.User{ID: "usr_" + chamberID, Name: "Chamber account", Role: "chamber",
			TokenHash: "th-" + chamberID, CreatedAtMS: now}); err != nil {
		h.t.Fatal(err)
	}
}

// The validation activity checks the chamber membership a five-year
// application claims against the roster, whose passports it can only compare
// by their blind index.
func TestValidateApplicationChecksTheRoster(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	submittedAt := time.Now().UTC()
	ppl := sample.Generate(sample.Options{Rows: 3, Product: domain.ProductBusiness5YMulti, Seed: 900, Today: submittedAt})
	h.ensureChamber("kcci")
	var roster []db.Member
	for i, p := range ppl[:2] {
		m := p.Member
		passport := m.PassportNumber
		if i == 1 {
			passport = ppl[2].Member.PassportNumber // the roster knows this member by another passport
		}
		roster = append(roster, db.Member{MembershipNumber: m.MembershipNumber, Surname: m.Surname,
			GivenNames: m.GivenNames, DateOfBirth: m.DateOfBirth, Nationality: m.Nationality,
			PassportHash: h.acts.Keys.MemberPassportHash(passport), Status: m.Status, ValidUntil: m.ValidUntil})
	}
	if _, _, err := h.store.UpsertMembers(ctx, "kcci", roster, submittedAt); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"", "/passport/number:roster_mismatch", "/chamber/membership_number:not_a_member"} {
		app := h.submitForm(domain.ApplicationFromRow(ppl[i].Row, "kcci"), submittedAt)
		var res activities.ValidateResult
		if err := h.run(&res, h.acts.ValidateApplication, activities.ValidateInput{
			ApplicationID: app.ID, SubmittedAt: submittedAt}); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range res.Errors {
			got = append(got, e.Pointer+":"+e.Code)
		}
		if strings.Join(got, " ") != want {
			t.Errorf("applicant %d: errors %q, want %q", i, got, want)
		}
	}
}

// createBatch stores a chamber's batch of the people's rows, as the API does.
func (h *harness) createBatch(chamberID, reference string, ppl []sample.Person) db.Batch {
	h.t.Helper()
	ctx := context.Background()
	h.ensureChamber(chamberID)
	var csvBuf bytes.Buffer
	if err := sample.WriteBatchCSV(&csvBuf, ppl); err != nil {
		h.t.Fatal(err)
	}
	plain := domain.EncodeBatchUpload("csv", csvBuf.Bytes())
	id := "bat_" + chamberID + "_" + reference
	sealed, err := h.acts.Keys.Seal(plain, id)
	if err != nil {
		h.t.Fatal(err)
	}
	batch, created, err := h.store.CreateBatch(ctx, db.Batch{ID: id, ChamberID: chamberID, Reference: reference,
		ContentHash: "hash-" + id, TotalRows: len(ppl), RowsSealed: sealed, CreatedAtMS: time.Now().UnixMilli()})
	if err != nil || !created {
		h.t.Fatalf("create batch: created=%v err=%v", created, err)
	}
	return batch
}

func (h *harness) countApplications() int {
	h.t.Helper()
	var n int
	if err := h.store.DB().Get(&n, `SELECT COUNT(*) FROM applications`); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// A page of a batch creates the valid rows' applications and reports the bad
// ones; the same page again (a retry) creates nothing new and names the same
// applications; once their workflows are started, it names none to start.
func TestProcessBatchPageIsIdempotent(t *testing.T) {
	h := newHarness(t)
	ppl := people(5)
	ppl[1].Row.Values["email"] = "not-an-email" // row 2 is invalid
	batch := h.createBatch("chb_astana", "forum-1", ppl)

	page := activities.BatchPageInput{BatchID: batch.ID, FromRow: 0, Rows: 3}
	var first activities.BatchPageResult
	if err := h.run(&first, h.acts.ProcessBatchPage, page); err != nil {
		t.Fatal(err)
	}
	if first.NextRow != 3 || first.Done || first.Invalid != 1 || first.TotalRows != 5 || len(first.ToStart) != 2 {
		t.Fatalf("first page %+v, want rows 1-3 with one invalid and two to start", first)
	}
	if n := h.countApplications(); n != 2 {
		t.Fatalf("%d applications after the first page, want 2", n)
	}
	report, err := h.store.GetBatchReport(context.Background(), batch.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(report) != 3 || report[1].Outcome != db.RowInvalid || !strings.Contains(report[1].Errors, `"column":"email"`) {
		t.Fatalf("report after the first page %+v, want row 2 invalid in its email column", report)
	}

	var retried activities.BatchPageResult
	if err := h.run(&retried, h.acts.ProcessBatchPage, page); err != nil {
		t.Fatal(err)
	}
	if !sameRefs(retried.ToStart, first.ToStart) || retried.NextRow != first.NextRow {
		t.Fatalf("retried page %+v, first %+v", retried, first)
	}
	if n := h.countApplications(); n != 2 {
		t.Fatalf("a retried page created applications: %d, want 2", n)
	}

	ids := make([]string, 0, len(first.ToStart))
	for _, r := range first.ToStart {
		ids = append(ids, r.ID)
	}
	if err := h.store.MarkWorkflowsStarted(context.Background(), ids); err != nil {
		t.Fatal(err)
	}
	if err := h.run(&retried, h.acts.ProcessBatchPage, page); err != nil {
		t.Fatal(err)
	}
	if len(retried.ToStart) != 0 {
		t.Fatalf("started applications offered again: %+v", retried.ToStart)
	}

	var last activities.BatchPageResult
	lastPage := activities.BatchPageInput{BatchID: batch.ID, FromRow: 3, Rows: 3}
	if err := h.run(&last, h.acts.ProcessBatchPage, lastPage); err != nil {
		t.Fatal(err)
	}
	if !last.Done || last.NextRow != 5 || len(last.ToStart) != 2 || last.Invalid != 0 {
		t.Fatalf("last page %+v, want rows 4-5, done, two to start", last)
	}
}

func sameRefs(a, b []activities.ApplicationRef) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Product != b[i].Product || !a[i].SubmittedAt.Equal(b[i].SubmittedAt) {
			return false
		}
	}
	return true
}

// A batch row whose passport already has an open application of the same
// product is created like any other (the report tells the chamber nothing of
// the other application), and officers see the two flagged.
func TestProcessBatchPageAcceptsARowWhosePassportIsOpenElsewhere(t *testing.T) {
	h := newHarness(t)
	ppl := people(2)
	single := h.submit(ppl[0], time.Now().UTC())
	batch := h.createBatch("chb_almaty", "forum-2", ppl)

	var res activities.BatchPageResult
	if err := h.run(&res, h.acts.ProcessBatchPage, activities.BatchPageInput{BatchID: batch.ID, Rows: 10}); err != nil {
		t.Fatal(err)
	}
	if len(res.ToStart) != 2 || !res.Done {
		t.Fatalf("page %+v, want both rows to start", res)
	}
	if n := h.countApplications(); n != 3 {
		t.Fatalf("%d applications, want the single one and both rows'", n)
	}
	report, err := h.store.GetBatchReport(context.Background(), batch.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(report) != 2 || report[0].Outcome != db.RowCreated || report[0].Errors != "" {
		t.Fatalf("report %+v, want row 1 created", report)
	}
	dups, err := h.store.SuspectedDuplicates(context.Background(), []string{single.ID})
	if err != nil || len(dups[single.ID]) != 1 || dups[single.ID][0] != report[0].ApplicationID.String {
		t.Fatalf("suspected duplicates of the single application %v (%v), want row 1's", dups, err)
	}
}

// A row that repeats an earlier row's passport in the same batch, on another
// page and with another person's details, is reported as a duplicate of that
// row and creates nothing; counts are per distinct application.
func TestProcessBatchPageReportsADuplicateInTheBatch(t *testing.T) {
	h := newHarness(t)
	ppl := people(4)
	for _, col := range []string{"passport_number", "passport_issuing_country"} {
		ppl[3].Row.Values[col] = ppl[2].Row.Values[col]
	}
	// Without the MRZ, which would contradict the borrowed passport number.
	ppl[3].Row.Values["passport_mrz_line1"], ppl[3].Row.Values["passport_mrz_line2"] = "", ""
	batch := h.createBatch("chb_astana", "forum-dup", ppl)

	var ids []string
	for from := 0; from < 4; from += 2 {
		var res activities.BatchPageResult
		if err := h.run(&res, h.acts.ProcessBatchPage,
			activities.BatchPageInput{BatchID: batch.ID, FromRow: from, Rows: 2}); err != nil {
			t.Fatal(err)
		}
		for _, r := range res.ToStart {
			ids = append(ids, r.ID)
		}
	}
	if len(ids) != 3 || h.countApplications() != 3 {
		t.Fatalf("to start %v, %d applications; want 3 of each", ids, h.countApplications())
	}
	ctx := context.Background()
	report, err := h.store.GetBatchReport(ctx, batch.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(report) != 4 || report[3].Outcome != db.RowDuplicate || report[3].ApplicationID.Valid {
		t.Fatalf("report %+v, want row 4 a duplicate without an application", report)
	}
	var errs []domain.FieldError
	if err := json.Unmarshal([]byte(report[3].Errors), &errs); err != nil || len(errs) != 1 ||
		errs[0].Code != domain.CodeDuplicateInBatch || errs[0].Pointer != "/passport_number" ||
		!strings.Contains(errs[0].Detail, "row 3") {
		t.Fatalf("duplicate row errors %s (%v)", report[3].Errors, err)
	}
	if err := h.store.MarkWorkflowsStarted(ctx, ids); err != nil {
		t.Fatal(err)
	}
	b, err := h.store.GetBatch(ctx, batch.ID)
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.store.GetBatchProgress(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if p.Created != 3 || p.Existing != 0 || p.Duplicate != 1 || p.Started != 3 {
		t.Fatalf("progress %+v, want 3 created, 1 duplicate, 3 started", p)
	}
}
