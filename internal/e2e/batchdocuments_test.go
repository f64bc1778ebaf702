package e2e_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/documents/doctest"
	"github.com/visad/visad/internal/sample"
	"github.com/visad/visad/internal/testenv"
)

// chamberUpload uploads a document with the chamber's token and returns its id.
func chamberUpload(t *testing.T, env *testenv.Env, token string, kind domain.DocumentKind, data []byte) string {
	t.Helper()
	r := env.Upload("/v1/uploads", token, kind, "document", "application/octet-stream", data)
	var v struct {
		ID string `json:"id"`
	}
	if r.Status != http.StatusCreated {
		t.Fatalf("chamber upload %s: %d %s", kind, r.Status, r.Body)
	}
	r.JSON(t, &v)
	return v.ID
}

// documentsCell writes a batch row's documents column.
func documentsCell(refs ...domain.DocumentRef) string {
	var parts []string
	for _, r := range refs {
		parts = append(parts, string(r.Kind)+":"+r.UploadID)
	}
	return strings.Join(parts, ";")
}

type caseDocuments struct {
	Items []struct {
		ID          string              `json:"id"`
		Kind        domain.DocumentKind `json:"kind"`
		ContentType string              `json:"content_type"`
	} `json:"items"`
}

// A chamber uploads its members' letters (and passport pages and
// photographs) with its token and names them in the batch's documents
// column. Each row's case then holds its documents; with the checklist
// enforced, a member's row with every document is issued straight through
// while a row without asks its applicant for them. A row naming an upload it
// may not use is invalid with the entry's error, both in the 202 answer and
// at once in the report; posting the batch again attaches nothing twice.
func TestBatchRowsCarryTheirDocuments(t *testing.T) {
	env := testenv.Start(t, testenv.Options{DocumentsRequired: true})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	chamberID, token := env.Chamber("Turkistan Chamber of Commerce")
	_, otherToken := env.Chamber("Other Chamber")
	people := sample.Generate(sample.Options{Rows: 10, Seed: 316})
	putRoster(t, env, chamberID, token, people)

	letterPDF := func(n int) []byte { return doctest.PDF(fmt.Sprintf("Recommendation for member %d", n)) }
	letter, passport, photo := domain.DocumentChamberRecommendation, domain.DocumentPassportDataPage,
		domain.DocumentPhotograph
	ref := func(kind domain.DocumentKind, id string) domain.DocumentRef {
		return domain.DocumentRef{Kind: kind, UploadID: id}
	}
	full := []domain.DocumentRef{
		ref(passport, chamberUpload(t, env, token, passport, doctest.PDF("Passport data page of member 1"))),
		ref(photo, chamberUpload(t, env, token, photo, doctest.Photograph())),
		ref(letter, chamberUpload(t, env, token, letter, letterPDF(1))),
	}
	letter3 := letterPDF(3) // fpdf dates its files: keep the bytes sent
	onlyLetter := chamberUpload(t, env, token, letter, letter3)
	expired := chamberUpload(t, env, token, letter, letterPDF(5))
	if _, err := env.Store.DB().Exec(env.Store.DB().Rebind(`UPDATE documents SET expires_at = ? WHERE id = ?`),
		time.Now().Add(-time.Minute).UnixMilli(), expired); err != nil {
		t.Fatal(err)
	}
	aPhoto := chamberUpload(t, env, token, photo, doctest.Photograph())
	// An anonymous upload an applicant's own application already names.
	taken := env.UploadID(domain.DocumentInvitationLetter, "letter.pdf", "application/pdf", letterPDF(7))
	single := testenv.ValidApplication(domain.ProductBusiness2Y)
	single.Documents = []domain.DocumentRef{ref(domain.DocumentInvitationLetter, taken)}
	submit(t, env, single)
	othersLetter := chamberUpload(t, env, otherToken, letter, letterPDF(9))
	unknown := "upl_" + strings.Repeat("q", 32)

	cells := map[int]string{
		1:  documentsCell(full...), // every document: straight through
		2:  "",                     // none: the case asks for them
		3:  documentsCell(ref(letter, onlyLetter)),
		4:  documentsCell(ref(letter, unknown)),
		5:  documentsCell(ref(letter, expired)),
		6:  documentsCell(ref(letter, aPhoto)), // a photograph named as the letter
		7:  documentsCell(ref(domain.DocumentInvitationLetter, taken)),
		8:  documentsCell(ref(letter, onlyLetter)),                // row 3's letter again
		9:  documentsCell(ref(letter, othersLetter)),              // another chamber's upload
		10: documentsCell(ref(photo, aPhoto), ref(photo, aPhoto)), // a kind twice
	}
	want := map[int]string{ // row -> "pointer code" of its one error
		4: "/documents/0/upload_id unknown_upload", 5: "/documents/0/upload_id upload_expired",
		6: "/documents/0/kind kind_mismatch", 7: "/documents/0/upload_id upload_in_use",
		8: "/documents/0/upload_id upload_in_use", 9: "/documents/0/upload_id unknown_upload",
		10: "/documents/1/kind duplicate_kind",
	}
	for i := range people {
		people[i].Row.Values[domain.BatchColumnDocuments] = cells[i+1]
	}
	body := batchCSV(t, people)
	r := env.Do("POST", "/v1/chambers/"+chamberID+"/batches", token, body, "Content-Type", "text/csv",
		"Idempotency-Key", "letters-1")
	if r.Status != http.StatusAccepted {
		t.Fatalf("post batch: %d %s", r.Status, r.Body)
	}
	var accepted struct {
		BatchID        string `json:"batch_id"`
		DocumentErrors []struct {
			Row    int `json:"row"`
			Errors []struct {
				Pointer, Column, Code string
			} `json:"errors"`
		} `json:"document_errors"`
	}
	r.JSON(t, &accepted)
	got := map[int]string{}
	for _, row := range accepted.DocumentErrors {
		for _, e := range row.Errors {
			if e.Column != domain.BatchColumnDocuments {
				t.Errorf("row %d: error in column %q", row.Row, e.Column)
			}
			// Row 10 also names one upload twice; its duplicate kind is the error that counts here.
			if row.Row == 10 && e.Code == domain.CodeUploadInUse {
				continue
			}
			got[row.Row] += e.Pointer + " " + e.Code
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("document errors in the 202 answer\n got %v\nwant %v", got, want)
	}
	// The report shows them before the batch's rows are processed.
	var report struct {
		Rows []reportRow `json:"rows"`
	}
	env.Do("GET", "/v1/batches/"+accepted.BatchID+"/report", token, nil).JSON(t, &report)
	early := map[int]bool{}
	for _, row := range report.Rows {
		early[row.Row] = row.Outcome == "invalid"
	}
	for n := range want {
		if !early[n] {
			t.Errorf("row %d is not in the report as invalid right after posting: %+v", n, report.Rows)
		}
	}

	st := waitBatch(t, env, accepted.BatchID, token)
	if st.Created != 3 || st.Invalid != 7 {
		t.Fatalf("batch: %+v, want 3 created and 7 invalid", st)
	}
	env.Do("GET", "/v1/batches/"+accepted.BatchID+"/report", token, nil).JSON(t, &report)
	ids := map[int]string{}
	for _, row := range report.Rows {
		ids[row.Row] = row.ApplicationID
		if w, bad := want[row.Row]; bad {
			codes := ""
			for _, e := range row.Errors {
				if row.Row != 10 || e.Code != domain.CodeUploadInUse {
					codes += e.Pointer + " " + e.Code
				}
			}
			if row.Outcome != "invalid" || row.ApplicationID != "" || codes != w {
				t.Errorf("row %d in the report: %+v, want invalid with %s", row.Row, row, w)
			}
		} else if row.Outcome != "created" {
			t.Errorf("row %d: %+v, want created", row.Row, row)
		}
	}

	listKinds := func(id string) []domain.DocumentKind {
		var docs caseDocuments
		env.Do("GET", "/v1/applications/"+id+"/documents", officer, nil).JSON(t, &docs)
		var kinds []domain.DocumentKind
		for _, d := range docs.Items {
			kinds = append(kinds, d.Kind)
		}
		slices.Sort(kinds)
		return kinds
	}
	wantFull := []domain.DocumentKind{letter, passport, photo}
	slices.Sort(wantFull)
	if k := listKinds(ids[1]); !slices.Equal(k, wantFull) {
		t.Errorf("row 1's case lists %v, want %v", k, wantFull)
	}
	if k := listKinds(ids[3]); !slices.Equal(k, []domain.DocumentKind{letter}) {
		t.Errorf("row 3's case lists %v, want the letter", k)
	}
	if k := listKinds(ids[2]); len(k) != 0 {
		t.Errorf("row 2's case lists %v, want none", k)
	}
	// The letter opens, as uploaded.
	var docs caseDocuments
	env.Do("GET", "/v1/applications/"+ids[3]+"/documents", officer, nil).JSON(t, &docs)
	if len(docs.Items) != 1 {
		t.Fatalf("row 3's case has %d documents", len(docs.Items))
	}
	if c := env.Do("GET", "/v1/applications/"+ids[3]+"/documents/"+docs.Items[0].ID, officer, nil); c.Status != 200 ||
		!bytes.Equal(c.Body, letter3) {
		t.Errorf("row 3's letter: %d, %d bytes", c.Status, len(c.Body))
	}

	// Straight through with every document; the others ask for what they lack.
	v := env.WaitForStatus(ids[1], officer, domain.StatusIssued)
	if d, _ := v["decision"].(map[string]any); d["decided_by"] != string(domain.RoleSystem) {
		t.Errorf("row 1 decided by %v, want the system", v["decision"])
	}
	for n, missing := range map[int][]string{
		2: {string(passport), string(photo), "invitation_letter_or_chamber_recommendation_letter"},
		3: {string(passport), string(photo)},
	} {
		v := env.WaitForStatus(ids[n], officer, domain.StatusInformationRequested)
		if fmt.Sprint(v["missing_documents"]) != fmt.Sprint(missing) {
			t.Errorf("row %d misses %v, want %v", n, v["missing_documents"], missing)
		}
	}

	// Posted again, the same batch; with row 4 fixed, a new batch whose earlier rows find
	// their applications and uploads (no error, nothing attached twice).
	if again := postBatch(t, env, chamberID, token, "letters-1", body); again.BatchID != accepted.BatchID {
		t.Fatalf("posted again: %s, want %s", again.BatchID, accepted.BatchID)
	}
	people[3].Row.Values[domain.BatchColumnDocuments] = ""
	fixed := postBatch(t, env, chamberID, token, "letters-1", batchCSV(t, people))
	st = waitBatch(t, env, fixed.BatchID, token)
	if st.Existing != 3 || st.Created != 1 || st.Invalid != 6 {
		t.Errorf("the fixed batch: %+v, want 3 existing, 1 created, 6 invalid", st)
	}
	if k := listKinds(ids[1]); !slices.Equal(k, wantFull) {
		t.Errorf("after posting again row 1's case lists %v", k)
	}

	// A chamber's upload serves its batches only: an applicant cannot name it.
	own := testenv.ValidApplication(domain.ProductBusiness2Y)
	own.Documents = []domain.DocumentRef{ref(letter, chamberUpload(t, env, token, letter, letterPDF(11)))}
	p := decodeProblem(t, env.Do("POST", "/v1/applications", "", own), http.StatusUnprocessableEntity)
	if len(p.Errors) != 1 || p.Errors[0].Pointer != "/documents/0/upload_id" {
		t.Errorf("an application naming a chamber's upload: %+v", p)
	}
	// Only a chamber's token uploads as a chamber: others are refused, not ignored.
	for _, tok := range []string{officer, "vst_not-a-token"} {
		if r := env.Upload("/v1/uploads", tok, letter, "l.pdf", "application/pdf", letterPDF(12)); r.Status/100 != 4 {
			t.Errorf("upload with a non-chamber token: %d", r.Status)
		}
	}
}
