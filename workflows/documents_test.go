package workflows_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/visad/visad/activities"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/workflows"
)

// Completeness (docs/documents.md): a case whose checklist lacks documents
// asks for them before screening, with the clock paused; the applicant
// answers with upload references, which the workflow attaches by id.

// Well-formed upload ids.
var (
	uplPassport = domain.UploadID([]byte("passport-page-01"))
	uplPhoto    = domain.UploadID([]byte("photograph-000001"))
	uplLetter   = domain.UploadID([]byte("invitation-letter"))
)

var missingBoth = []string{"passport_data_page", "photograph"}

func TestMissingDocumentsAreRequestedAtOnce(t *testing.T) {
	h := newHarness(t, scenario{
		validation: activities.ValidateResult{MissingDocuments: missingBoth},
		attach:     []activities.AttachResult{{}}, // complete after the answer
	})
	start := h.env.Now()
	var during workflows.CaseState
	h.queryAt(time.Hour, &during)
	decideDuring := h.update(2*time.Hour, workflows.UpdateDecide, "decide-during", approve)
	noUploads := h.update(3*time.Hour, workflows.UpdateInform, "no-uploads",
		workflows.InformationReply{Message: "here", Actor: applicant})
	answer := h.update(5*time.Hour, workflows.UpdateInform, "answer",
		workflows.InformationReply{Actor: applicant, Uploads: []string{uplPassport, uplPhoto}})
	var after workflows.CaseState
	h.queryAt(6*time.Hour, &after)
	dec := h.update(7*time.Hour, workflows.UpdateDecide, "decide", approve)
	h.runCase(domain.ProductBusiness2Y)

	if during.Status != domain.StatusInformationRequested {
		t.Fatalf("status while documents are missing %q, want information_requested", during.Status)
	}
	r := during.InformationRequest
	if r == nil || !slices.Equal(r.Documents, missingBoth) || r.RequestedBy != "system" ||
		!strings.Contains(r.Message, "passport_data_page") || !strings.Contains(r.Message, "photograph") {
		t.Errorf("request %+v, want the system asking for both documents by code", r)
	}
	if !slices.Equal(during.MissingDocuments, missingBoth) {
		t.Errorf("missing documents %v, want %v", during.MissingDocuments, missingBoth)
	}
	if s := during.SLA; s == nil || !s.Paused || s.RemainingAtPause != 24*time.Hour {
		t.Errorf("SLA while documents are missing %+v, want paused with the whole 24h left", s)
	}
	mustReject(t, "decide while documents are asked for", decideDuring, workflows.IsInvalidTransition,
		"InvalidTransition")
	mustReject(t, "an answer without uploads to a request for documents", noUploads, workflows.IsInvalidRequest,
		"InvalidRequest")
	mustAccept(t, "answer with uploads", answer)
	if len(h.attached) != 1 || !slices.Equal(h.attached[0].Uploads, []string{uplPassport, uplPhoto}) ||
		h.attached[0].ApplicationID != "app_x" {
		t.Errorf("AttachDocuments got %+v, want the two upload ids for app_x", h.attached)
	}
	if after.Status != domain.StatusAwaitingReview || len(after.MissingDocuments) != 0 {
		t.Errorf("after the answer %q missing %v, want awaiting_review with nothing missing", after.Status,
			after.MissingDocuments)
	}
	if s := after.SLA; s == nil || s.Paused || !s.DueAt.Equal(start.Add(5*time.Hour+24*time.Hour)) {
		t.Errorf("SLA after the answer %+v, want running, due 24h after the documents arrived", s)
	}
	mustAccept(t, "approve once complete", dec)
	if final := h.finalState(); final.Status != domain.StatusIssued {
		t.Errorf("final state %+v", final)
	}
	h.assertCalls(
		"RecordStatus:validating", "ValidateApplication",
		"RecordSLAEvent:clock_paused", "RecordStatus:information_requested",
		"AttachDocuments", "RecordSLAEvent:clock_resumed", "RecordStatus:validating",
		"RecordStatus:screening", "ScreenApplication", "CheckSTP",
		"RecordStatus:awaiting_review", "IssueVisa:issued",
	)
	requested := h.statusRecorded(domain.StatusInformationRequested)
	if requested.Actor != "system" || !strings.Contains(requested.Detail, "photograph") {
		t.Errorf("request recorded as %+v", requested)
	}
	h.assertSeq()
}

// An answer that still leaves a document out is asked again for the rest.
func TestDocumentsAskedAgainUntilComplete(t *testing.T) {
	h := newHarness(t, scenario{
		validation: activities.ValidateResult{MissingDocuments: missingBoth},
		attach: []activities.AttachResult{
			{Missing: []string{"photograph"}}, {},
		},
	})
	first := h.update(time.Hour, workflows.UpdateInform, "first",
		workflows.InformationReply{Actor: applicant, Uploads: []string{uplPassport}})
	var between workflows.CaseState
	h.queryAt(2*time.Hour, &between)
	second := h.update(3*time.Hour, workflows.UpdateInform, "second",
		workflows.InformationReply{Actor: applicant, Uploads: []string{uplPhoto}})
	withdraw := h.update(4*time.Hour, workflows.UpdateWithdraw, "withdraw", workflows.WithdrawRequest{Actor: applicant})
	h.runCase(domain.ProductBusiness2Y)

	mustAccept(t, "first answer", first)
	if r := between.InformationRequest; between.Status != domain.StatusInformationRequested || r == nil ||
		!slices.Equal(r.Documents, []string{"photograph"}) {
		t.Errorf("after a partial answer %q %+v, want a new request for the photograph", between.Status, r)
	}
	mustAccept(t, "second answer", second)
	mustAccept(t, "withdraw", withdraw)
	if final := h.finalState(); final.Status != domain.StatusWithdrawn {
		t.Errorf("final state %+v", final)
	}
}

// Unanswered, the request for documents lapses like any other.
func TestMissingDocumentsLapse(t *testing.T) {
	h := newHarness(t, scenario{validation: activities.ValidateResult{MissingDocuments: missingBoth}})
	h.runCase(domain.ProductBusiness2Y)
	if final := h.finalState(); final.Status != domain.StatusLapsed {
		t.Errorf("final state %+v, want lapsed", final)
	}
	h.assertCalls(
		"RecordStatus:validating", "ValidateApplication",
		"RecordSLAEvent:clock_paused", "RecordStatus:information_requested", "RecordStatus:lapsed",
	)
}

// An officer may ask for a particular document; the answer then needs uploads.
func TestOfficerRequestsADocument(t *testing.T) {
	h := newHarness(t, scenario{attach: []activities.AttachResult{{}}})
	rfi := requestInformation(0)
	rfi.Documents = []domain.DocumentKind{domain.DocumentInvitationLetter}
	ask := h.update(time.Hour, workflows.UpdateDecide, "rfi", rfi)
	noUploads := h.update(2*time.Hour, workflows.UpdateInform, "no-uploads",
		workflows.InformationReply{Message: "posted it", Actor: applicant})
	answer := h.update(3*time.Hour, workflows.UpdateInform, "answer",
		workflows.InformationReply{Message: "attached", Actor: applicant, Uploads: []string{uplLetter}})
	dec := h.update(4*time.Hour, workflows.UpdateDecide, "decide", approve)
	h.runCase(domain.ProductBusiness2Y)

	mustAccept(t, "request for the letter", ask)
	if r := ask.result.InformationRequest; r == nil ||
		!slices.Equal(r.Documents, []string{"invitation_letter"}) {
		t.Errorf("request %+v, want it to name invitation_letter", r)
	}
	mustReject(t, "answer without the upload", noUploads, workflows.IsInvalidRequest, "InvalidRequest")
	mustAccept(t, "answer with the upload", answer)
	mustAccept(t, "approve", dec)
	if final := h.finalState(); final.Status != domain.StatusIssued {
		t.Errorf("final state %+v", final)
	}
	var provided *activities.StatusInput
	for _, s := range h.statusLog() {
		if s.Event == domain.EventInformationProvided {
			provided = &s
		}
	}
	if provided == nil || provided.Detail != "attached (1 document(s) uploaded)" {
		t.Errorf("answer recorded as %+v", provided)
	}
}
