package domain

import (
	"fmt"
	"strings"
	"testing"
)

func TestCheckDecisionDocuments(t *testing.T) {
	rfi := func(kinds ...DocumentKind) DecisionRequest {
		return DecisionRequest{Decision: OutcomeRequestInformation, Message: "x", Documents: kinds}
	}
	tests := []struct {
		name string
		d    DecisionRequest
		want []string // pointer:code of every error
	}{
		{"rfi for one document", rfi(DocumentPhotograph), nil},
		{"rfi for two documents", rfi(DocumentPhotograph, DocumentPassportDataPage), nil},
		{"rfi for an unknown kind", rfi("selfie"), []string{"/documents/0:one_of"}},
		{"rfi for a kind twice", rfi(DocumentPhotograph, DocumentPhotograph), []string{"/documents/1:duplicate"}},
		{"approval asking for documents", DecisionRequest{Decision: OutcomeApprove, Documents: []DocumentKind{
			DocumentPhotograph}}, []string{"/documents:not_allowed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range CheckDecision(tt.d) {
				got = append(got, e.Pointer+":"+e.Code)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("CheckDecision = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckDocumentAnswer(t *testing.T) {
	many := make([]string, MaxAnswerUploads+1)
	for i := range many {
		many[i] = upload(i)
	}
	tests := []struct {
		name    string
		message string
		uploads []string
		want    []string
	}{
		{"message, no uploads", "here", nil, nil},
		{"no message, no uploads", "", nil, []string{"/message:required"}},
		{"uploads, no message", "", []string{upload(1)}, nil},
		{"uploads and a message", "the photograph", []string{upload(1), upload(2)}, nil},
		{"an upload twice", "", []string{upload(1), upload(1)}, []string{"/uploads/1:duplicate"}},
		{"a blank upload id", "", []string{" "}, []string{"/uploads/0:invalid_format"}},
		{"not an upload id", "", []string{"app_1234"}, []string{"/uploads/0:invalid_format"}},
		{"too many uploads", "", many, []string{"/uploads:too_long"}},
		{"too long a message", strings.Repeat("a", MaxAnswerLength+1), []string{upload(1)}, []string{"/message:too_long"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range CheckDocumentAnswer(tt.message, tt.uploads) {
				got = append(got, e.Pointer+":"+e.Code)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("CheckDocumentAnswer = %v, want %v", got, tt.want)
			}
		})
	}
}

// Approval needs a complete checklist; refusing and asking for the documents do not.
func TestMayDecideNeedsCompleteDocuments(t *testing.T) {
	officer := Actor{ID: "usr_o1", Role: RoleOfficer}
	super := Actor{ID: "usr_s1", Role: RoleSupervisor}
	missing := []string{string(DocumentPhotograph)}
	tests := []struct {
		name string
		c    CaseHold
		d    DecisionRequest
		want RuleKind
	}{
		{"approve, complete", CaseHold{Status: StatusAwaitingReview}, DecisionRequest{Decision: OutcomeApprove,
			Actor: officer}, 0},
		{"approve, photograph missing", CaseHold{Status: StatusAwaitingReview, MissingDocuments: missing},
			DecisionRequest{Decision: OutcomeApprove, Actor: officer}, InvalidTransition},
		{"supervisor approves, photograph missing", CaseHold{Status: StatusAwaitingReview, MissingDocuments: missing},
			DecisionRequest{Decision: OutcomeApprove, Actor: super}, InvalidTransition},
		{"second approval, photograph missing", CaseHold{Status: StatusAwaitingSecondApproval, FirstDecider: officer.ID,
			FirstOutcome: OutcomeApprove, MissingDocuments: missing},
			DecisionRequest{Decision: OutcomeApprove, Actor: super}, InvalidTransition},
		{"refuse, photograph missing", CaseHold{Status: StatusAwaitingReview, MissingDocuments: missing},
			DecisionRequest{Decision: OutcomeRefuse, ReasonCode: ReasonOther, Actor: officer}, 0},
		{"ask for it", CaseHold{Status: StatusAwaitingReview, MissingDocuments: missing},
			DecisionRequest{Decision: OutcomeRequestInformation, Message: "x", Documents: []DocumentKind{
				DocumentPhotograph}, Actor: officer}, 0},
	}
	for _, tt := range tests {
		err := MayDecide(tt.c, tt.d)
		if got := ruleKind(err); got != tt.want {
			t.Errorf("%s: MayDecide = %v (%v), want kind %v", tt.name, got, err, tt.want)
		}
		if err != nil && !strings.Contains(err.Error(), "photograph") {
			t.Errorf("%s: the refusal %q does not name the missing document", tt.name, err)
		}
	}
}

func TestDocumentRequestMessageNamesEachCode(t *testing.T) {
	msg := DocumentRequestMessage([]string{"passport_data_page", "photograph"})
	for _, code := range []string{"passport_data_page", "photograph"} {
		if !strings.Contains(msg, code) {
			t.Errorf("%q does not name %s", msg, code)
		}
	}
}

// upload is a well-formed upload id.
func upload(i int) string { return UploadID([]byte(fmt.Sprintf("%016d", i))) }

func TestUnmetRequirements(t *testing.T) {
	reqs := MissingRequirements(ProductBusiness2Y, nil)
	if len(reqs) != 3 || reqs[0] != "passport_data_page" || reqs[1] != "photograph" ||
		!strings.Contains(reqs[2], "invitation_letter") || !strings.Contains(reqs[2], "_or_") {
		t.Fatalf("MissingRequirements(business_2y, none) = %v", reqs)
	}
	tests := []struct {
		present []DocumentKind
		want    []string
	}{
		{nil, reqs},
		{[]DocumentKind{DocumentPassportDataPage, DocumentPhotograph}, reqs[2:]},
		{[]DocumentKind{DocumentChamberRecommendation}, reqs[:2]},
		{[]DocumentKind{DocumentInvitationLetter, DocumentPhotograph, DocumentPassportDataPage}, nil},
	}
	for _, tt := range tests {
		if got := UnmetRequirements(reqs, tt.present); strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("UnmetRequirements(%v) = %v, want %v", tt.present, got, tt.want)
		}
		if got := MissingRequirements(ProductBusiness2Y, tt.present); strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("MissingRequirements(%v) = %v, want %v", tt.present, got, tt.want)
		}
	}
}
