package domain

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Completeness of a case's supporting documents (docs/documents.md,
// "Completeness"): a case whose checklist is incomplete is asked for the
// missing documents at once, is not processed straight through, and is not
// approved.

// Codes of the completeness rules' field errors.
const (
	// CodeNotAllowed: the field has no place in this request.
	CodeNotAllowed = "not_allowed"
	// CodeDuplicate: the same item is given twice.
	CodeDuplicate = "duplicate"
)

// MaxAnswerUploads bounds the uploads one answer to a request for information attaches.
const MaxAnswerUploads = 10

// IncompleteChecklistMessage starts the refusal of an approval while documents are missing.
const IncompleteChecklistMessage = "the case's documents are incomplete"

// Missing documents are named by requirement codes: a checklist item's
// Requirement ("passport_data_page", or "invitation_letter_or_…" for a
// choice), or the kind an officer asked for.

// MissingRequirements is the codes of the required checklist items of the
// product that none of the present kinds satisfies (MissingDocuments).
func MissingRequirements(p Product, present []DocumentKind) []string {
	var out []string
	for _, m := range MissingDocuments(p, present) {
		out = append(out, m.Requirement)
	}
	return out
}

// requirementSep joins the kinds of a choice in its requirement code.
const requirementSep = "_or_"

// RequirementKinds is the kinds that satisfy a requirement code.
func RequirementKinds(requirement string) []DocumentKind {
	var out []DocumentKind
	for _, k := range strings.Split(requirement, requirementSep) {
		out = append(out, DocumentKind(k))
	}
	return out
}

// UnmetRequirements is the requirements none of the present kinds satisfies, in order.
func UnmetRequirements(requirements []string, present []DocumentKind) []string {
	var out []string
	for _, r := range requirements {
		if !slices.ContainsFunc(RequirementKinds(r), func(k DocumentKind) bool { return slices.Contains(present, k) }) {
			out = append(out, r)
		}
	}
	return out
}

// DocumentRequestMessage is the system's request for the missing documents,
// naming each by its stable code.
func DocumentRequestMessage(missing []string) string {
	return "Please upload the documents your application still needs: " + strings.Join(missing, ", ") + "."
}

// RequestedDocuments is the requirement codes of the kinds an officer asks for.
func RequestedDocuments(kinds []DocumentKind) []string {
	var out []string
	for _, k := range kinds {
		out = append(out, string(k))
	}
	return out
}

// checkRequestedDocuments checks the documents a request for information asks for.
func checkRequestedDocuments(d DecisionRequest) FieldErrors {
	if len(d.Documents) == 0 {
		return nil
	}
	if d.Decision != OutcomeRequestInformation {
		return FieldErrors{{Pointer: "/documents", Code: CodeNotAllowed,
			Detail: "only a request for information asks for documents"}}
	}
	var errs FieldErrors
	seen := map[DocumentKind]bool{}
	for i, k := range d.Documents {
		ptr := fmt.Sprintf("/documents/%d", i)
		switch {
		case !k.IsKnown():
			errs = append(errs, FieldError{Pointer: ptr, Code: CodeOneOf, Detail: "is not a kind of document"})
		case seen[k]:
			errs = append(errs, FieldError{Pointer: ptr, Code: CodeDuplicate, Detail: "is asked for twice"})
		}
		seen[k] = true
	}
	return errs
}

// CheckDocumentAnswer checks an answer to a request for information that
// attaches uploads: the message may then be empty.
func CheckDocumentAnswer(message string, uploads []string) FieldErrors {
	if len(uploads) == 0 {
		return CheckAnswer(message)
	}
	var errs FieldErrors
	if utf8.RuneCountInString(message) > MaxAnswerLength {
		errs = append(errs, FieldError{Pointer: "/message", Code: CodeTooLong,
			Detail: fmt.Sprintf("must be at most %d characters", MaxAnswerLength)})
	}
	if len(uploads) > MaxAnswerUploads {
		errs = append(errs, FieldError{Pointer: "/uploads", Code: CodeTooLong,
			Detail: fmt.Sprintf("at most %d uploads per answer", MaxAnswerUploads)})
	}
	seen := map[string]bool{}
	for i, u := range uploads {
		ptr := fmt.Sprintf("/uploads/%d", i)
		switch {
		case !IsUploadID(u):
			errs = append(errs, FieldError{Pointer: ptr, Code: CodeInvalidFormat, Detail: "is not an upload id"})
		case seen[u]:
			errs = append(errs, FieldError{Pointer: ptr, Code: CodeDuplicate, Detail: "is attached twice"})
		}
		seen[u] = true
	}
	return errs
}

// mayApprove refuses an approval while the checklist is incomplete.
func mayApprove(c CaseHold, d DecisionRequest) error {
	if d.Decision != OutcomeApprove || len(c.MissingDocuments) == 0 {
		return nil
	}
	return &RuleError{Kind: InvalidTransition, Message: IncompleteChecklistMessage + ": missing " +
		strings.Join(c.MissingDocuments, ", ") + "; request them for information before approving"}
}
