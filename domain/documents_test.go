package domain

import (
	"slices"
	"testing"
)

func TestMissingDocuments(t *testing.T) {
	p, photo, inv, rec := DocumentPassportDataPage, DocumentPhotograph, DocumentInvitationLetter,
		DocumentChamberRecommendation
	for _, tc := range []struct {
		name    string
		product Product
		present []DocumentKind
		want    []string // requirements, in checklist order
	}{
		{"2y nothing", ProductBusiness2Y, nil,
			[]string{"passport_data_page", "photograph", "invitation_letter_or_chamber_recommendation_letter"}},
		{"2y with invitation", ProductBusiness2Y, []DocumentKind{p, photo, inv}, nil},
		{"2y with recommendation", ProductBusiness2Y, []DocumentKind{rec, photo, p}, nil},
		{"2y optional only", ProductBusiness2Y, []DocumentKind{DocumentCompanyRegistration, DocumentPreviousVisa},
			[]string{"passport_data_page", "photograph", "invitation_letter_or_chamber_recommendation_letter"}},
		{"2y no photo", ProductBusiness2Y, []DocumentKind{p, inv}, []string{"photograph"}},
		{"5y invitation is not enough", ProductBusiness5YMulti, []DocumentKind{p, photo, inv},
			[]string{"chamber_recommendation_letter"}},
		{"5y complete", ProductBusiness5YMulti, []DocumentKind{p, photo, rec}, nil},
		{"5y nothing", ProductBusiness5YMulti, nil,
			[]string{"passport_data_page", "photograph", "chamber_recommendation_letter"}},
		{"unknown product", Product("nope"), nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, m := range MissingDocuments(tc.product, tc.present) {
				if m.Pointer != PointerDocuments || m.Code != CodeDocumentRequired || m.Detail == "" ||
					len(m.AnyOf) == 0 {
					t.Errorf("malformed problem %+v", m)
				}
				got = append(got, m.Requirement)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("missing %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDocumentChecklistNamesKnownKinds(t *testing.T) {
	for _, prod := range Products() {
		items := DocumentChecklist(prod.Code)
		if len(items) == 0 {
			t.Fatalf("%s: empty checklist", prod.Code)
		}
		for _, it := range items {
			for _, k := range it.AnyOf {
				if !k.IsKnown() {
					t.Errorf("%s: unknown kind %q", prod.Code, k)
				}
			}
		}
	}
}

func TestCheckUpload(t *testing.T) {
	for _, tc := range []struct {
		name    string
		kind    DocumentKind
		facts   UploadFacts
		pointer string
		code    string // "" = accepted
	}{
		{"photo ok", DocumentPhotograph, UploadFacts{MediaJPEG, 300_000, 600, 800}, "", ""},
		{"photo png ok", DocumentPhotograph, UploadFacts{MediaPNG, 350_000, 600, 600}, "", ""},
		{"photo 400 KB", DocumentPhotograph, UploadFacts{MediaJPEG, 400_000, 800, 800}, "/file", CodeFileTooLarge},
		{"photo small", DocumentPhotograph, UploadFacts{MediaJPEG, 100_000, 599, 800}, "/file", CodeImageTooSmall},
		{"photo pdf", DocumentPhotograph, UploadFacts{MediaPDF, 100_000, 0, 0}, "/file", CodeUnsupportedType},
		{"passport pdf", DocumentPassportDataPage, UploadFacts{MediaPDF, 4_000_000, 0, 0}, "", ""},
		{"passport small image ok", DocumentPassportDataPage, UploadFacts{MediaPNG, 1_000, 10, 10}, "", ""},
		{"letter 6 MB", DocumentInvitationLetter, UploadFacts{MediaPDF, 6_000_000, 0, 0}, "/file", CodeFileTooLarge},
		{"exe", DocumentInvitationLetter, UploadFacts{"", 1_000, 0, 0}, "/file", CodeUnsupportedType},
		{"empty", DocumentInvitationLetter, UploadFacts{"", 0, 0, 0}, "/file", CodeEmptyFile},
		{"unknown kind", DocumentKind("selfie"), UploadFacts{MediaJPEG, 1, 1, 1}, "/kind", CodeOneOf},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := CheckUpload(tc.kind, tc.facts)
			if tc.code == "" {
				if len(errs) > 0 {
					t.Fatalf("refused: %v", errs)
				}
				return
			}
			if !errs.Has(tc.pointer, tc.code) {
				t.Fatalf("got %+v, want %s at %s", errs, tc.code, tc.pointer)
			}
		})
	}
}

func TestCheckDocumentRefs(t *testing.T) {
	id := UploadID(make([]byte, 20))
	if !IsUploadID(id) || IsUploadID("upl_short") || IsUploadID(id+"!") || IsUploadID("x"+id) {
		t.Fatalf("upload id form: %q", id)
	}
	errs := CheckDocumentRefs([]DocumentRef{
		{DocumentPhotograph, id}, {DocumentPhotograph, id}, {"selfie", id}, {DocumentPassportDataPage, "../etc"},
	})
	for _, want := range []struct{ pointer, code string }{
		{"/documents/1/kind", CodeDuplicateKind}, {"/documents/2/kind", CodeOneOf},
		{"/documents/3/upload_id", CodeUnknownUpload},
	} {
		if !errs.Has(want.pointer, want.code) {
			t.Errorf("missing %s at %s in %v", want.code, want.pointer, errs)
		}
	}
	if len(errs) != 3 {
		t.Errorf("got %d errors, want 3: %v", len(errs), errs)
	}
}
