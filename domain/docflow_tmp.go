package domain

import (
	"encoding/base32"
	"slices"
	"strings"
)

// Placeholder: a subset of docstore's domain/documents.go, removed at the merge.

type DocumentKind string

const (
	DocumentPassportDataPage      DocumentKind = "passport_data_page"
	DocumentPhotograph            DocumentKind = "photograph"
	DocumentInvitationLetter      DocumentKind = "invitation_letter"
	DocumentChamberRecommendation DocumentKind = "chamber_recommendation_letter"
)

var DocumentKinds = []DocumentKind{
	DocumentPassportDataPage, DocumentPhotograph, DocumentInvitationLetter, DocumentChamberRecommendation,
}

func (k DocumentKind) IsKnown() bool { return slices.Contains(DocumentKinds, k) }

type ChecklistItem struct {
	Requirement string
	AnyOf       []DocumentKind
	Required    bool
}

type MissingDocument struct {
	FieldError
	Requirement string
	AnyOf       []DocumentKind
}

func MissingDocuments(p Product, present []DocumentKind) []MissingDocument {
	var out []MissingDocument
	for _, it := range [][]DocumentKind{{DocumentPassportDataPage}, {DocumentPhotograph},
		{DocumentInvitationLetter, DocumentChamberRecommendation}} {
		if slices.ContainsFunc(it, func(k DocumentKind) bool { return slices.Contains(present, k) }) {
			continue
		}
		names := make([]string, len(it))
		for i, k := range it {
			names[i] = string(k)
		}
		out = append(out, MissingDocument{Requirement: strings.Join(names, "_or_"), AnyOf: it})
	}
	return out
}

var base32Std = base32.StdEncoding.WithPadding(base32.NoPadding)

func UploadID(random []byte) string {
	return "upl_" + strings.ToLower(base32Std.EncodeToString(random))
}

func IsUploadID(s string) bool {
	rest, ok := strings.CutPrefix(s, "upl_")
	if !ok || len(rest) < 26 || len(rest) > 64 {
		return false
	}
	for _, c := range rest {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}
