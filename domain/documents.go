package domain

import (
	"encoding/base32"
	"fmt"
	"slices"
	"strings"
)

// DocumentKind is what a supporting document is. The words are vocabulary:
// other packages use the constants (TestNoVocabularyLiteralsOutsideDomain).
type DocumentKind string

// Document kinds.
const (
	DocumentPassportDataPage      DocumentKind = "passport_data_page"
	DocumentPhotograph            DocumentKind = "photograph"
	DocumentInvitationLetter      DocumentKind = "invitation_letter"
	DocumentChamberRecommendation DocumentKind = "chamber_recommendation_letter"
	DocumentCompanyRegistration   DocumentKind = "company_registration"
	DocumentPreviousVisa          DocumentKind = "previous_visa"
)

// DocumentKinds lists every kind, in the order a checklist shows them.
var DocumentKinds = []DocumentKind{
	DocumentPassportDataPage, DocumentPhotograph, DocumentInvitationLetter, DocumentChamberRecommendation,
	DocumentCompanyRegistration, DocumentPreviousVisa,
}

// IsKnown reports whether k is one of DocumentKinds.
func (k DocumentKind) IsKnown() bool { return slices.Contains(DocumentKinds, k) }

// Title is the kind's name in a sentence ("the passport data page").
func (k DocumentKind) Title() string {
	switch k {
	case DocumentPassportDataPage:
		return "passport data page"
	case DocumentPhotograph:
		return "photograph"
	case DocumentInvitationLetter:
		return "host's invitation letter"
	case DocumentChamberRecommendation:
		return "chamber of commerce recommendation letter"
	case DocumentCompanyRegistration:
		return "company registration"
	case DocumentPreviousVisa:
		return "previous visa"
	}
	return string(k)
}

// MediaType is a document's content type, decided by its bytes.
type MediaType string

// The accepted media types.
const (
	MediaJPEG MediaType = "image/jpeg"
	MediaPNG  MediaType = "image/png"
	MediaPDF  MediaType = "application/pdf"
)

// IsImage reports whether m is a raster image (re-encoded on upload).
func (m MediaType) IsImage() bool { return m == MediaJPEG || m == MediaPNG }

// DocumentRule is what a document of one kind must be.
type DocumentRule struct {
	Kind     DocumentKind `json:"kind"`
	Types    []MediaType  `json:"types"`
	MaxBytes int64        `json:"max_bytes"`
	// MinWidth and MinHeight bound an image's pixels (zero: any).
	MinWidth  int `json:"min_width,omitempty"`
	MinHeight int `json:"min_height,omitempty"`
}

// Size limits of uploads (the photograph's follow the national e-visa rules).
const (
	MaxPhotographBytes  = 350 * 1000
	MinPhotographPixels = 600
	MaxDocumentBytes    = 5 * 1000 * 1000
)

// MaxUploadBytes is the largest upload of any kind.
const MaxUploadBytes = MaxDocumentBytes

// RuleFor returns the rule of a kind; unknown kinds report false.
func RuleFor(k DocumentKind) (DocumentRule, bool) {
	if !k.IsKnown() {
		return DocumentRule{}, false
	}
	if k == DocumentPhotograph {
		return DocumentRule{Kind: k, Types: []MediaType{MediaJPEG, MediaPNG}, MaxBytes: MaxPhotographBytes,
			MinWidth: MinPhotographPixels, MinHeight: MinPhotographPixels}, true
	}
	return DocumentRule{Kind: k, Types: []MediaType{MediaJPEG, MediaPNG, MediaPDF}, MaxBytes: MaxDocumentBytes}, true
}

// Pointers and codes of upload problems: the multipart fields are "kind" and "file".
const (
	PointerUploadKind = "/kind"
	PointerUploadFile = "/file"

	CodeUnsupportedType = "unsupported_type"
	CodeFileTooLarge    = "file_too_large"
	CodeImageTooSmall   = "image_too_small"
	CodeUnreadableFile  = "unreadable_file"
	// CodeInvalidPDF: the file starts like a PDF but does not parse or validate as one.
	CodeInvalidPDF = "invalid_pdf"
	// CodeEncryptedPDF: the PDF is encrypted or password protected; it is refused.
	CodeEncryptedPDF = "encrypted_pdf"
	CodeEmptyFile    = "empty_file"
	// CodeDocumentRequired: a checklist item has no document (MissingDocuments).
	CodeDocumentRequired = "document_required"
	// CodeUnknownUpload: a document names an upload that does not exist, expired or is used.
	CodeUnknownUpload = "unknown_upload"
	CodeDuplicateKind = "duplicate_kind"
)

// UploadFacts is what the server learnt of an uploaded file from its bytes.
type UploadFacts struct {
	Type   MediaType // "" when the bytes are none of the accepted types
	Size   int64
	Width  int // pixels, images only
	Height int
}

// CheckUpload applies the kind's rule to an upload. Errors point at the
// multipart field ("/kind" or "/file") and never repeat what was sent.
func CheckUpload(kind DocumentKind, f UploadFacts) FieldErrors {
	rule, ok := RuleFor(kind)
	if !ok {
		return FieldErrors{{Pointer: PointerUploadKind, Code: CodeOneOf,
			Detail: "must be one of: " + joinKinds(DocumentKinds, ", ")}}
	}
	var errs FieldErrors
	switch {
	case f.Size == 0:
		errs = append(errs, FieldError{Pointer: PointerUploadFile, Code: CodeEmptyFile, Detail: "the file is empty"})
	case f.Size > rule.MaxBytes:
		errs = append(errs, FieldError{Pointer: PointerUploadFile, Code: CodeFileTooLarge,
			Detail: fmt.Sprintf("a %s may be at most %s", kind.Title(), humanBytes(rule.MaxBytes))})
	}
	if f.Size > 0 && !slices.Contains(rule.Types, f.Type) {
		errs = append(errs, FieldError{Pointer: PointerUploadFile, Code: CodeUnsupportedType,
			Detail: fmt.Sprintf("a %s must be %s (judged by the file's content, not its name)",
				kind.Title(), typeNames(rule.Types))})
	}
	// Pixels are checked once known (after the header is decoded): zero means not yet.
	known := f.Width > 0 || f.Height > 0
	if f.Type.IsImage() && known && len(errs) == 0 && (f.Width < rule.MinWidth || f.Height < rule.MinHeight) {
		errs = append(errs, FieldError{Pointer: PointerUploadFile, Code: CodeImageTooSmall,
			Detail: fmt.Sprintf("a %s must be at least %d×%d pixels", kind.Title(), rule.MinWidth, rule.MinHeight)})
	}
	return errs
}

func typeNames(types []MediaType) string {
	names := make([]string, len(types))
	for i, t := range types {
		switch t {
		case MediaJPEG:
			names[i] = "JPEG"
		case MediaPNG:
			names[i] = "PNG"
		case MediaPDF:
			names[i] = "PDF"
		default:
			names[i] = string(t)
		}
	}
	if len(names) == 1 {
		return "a " + names[0]
	}
	return "a " + strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func humanBytes(n int64) string {
	if n >= 1000*1000 {
		return fmt.Sprintf("%d MB", n/(1000*1000))
	}
	return fmt.Sprintf("%d KB", n/1000)
}

// ChecklistItem is one line of a product's document checklist: any one of
// its kinds satisfies it.
type ChecklistItem struct {
	// Requirement is the item's stable name (a kind, or "a_or_b" for a choice).
	Requirement string         `json:"requirement"`
	AnyOf       []DocumentKind `json:"any_of"`
	Required    bool           `json:"required"`
}

func item(required bool, kinds ...DocumentKind) ChecklistItem {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return ChecklistItem{Requirement: strings.Join(names, "_or_"), AnyOf: kinds, Required: required}
}

// DocumentChecklist is what an application for the product must carry
// (Required) and may carry. Unknown products have an empty checklist.
func DocumentChecklist(p Product) []ChecklistItem {
	optional := []ChecklistItem{item(false, DocumentCompanyRegistration), item(false, DocumentPreviousVisa)}
	switch p {
	case ProductBusiness2Y:
		return append([]ChecklistItem{
			item(true, DocumentPassportDataPage), item(true, DocumentPhotograph),
			item(true, DocumentInvitationLetter, DocumentChamberRecommendation),
		}, optional...)
	case ProductBusiness5YMulti:
		return append([]ChecklistItem{
			item(true, DocumentPassportDataPage), item(true, DocumentPhotograph),
			item(true, DocumentChamberRecommendation),
		}, optional...)
	}
	return nil
}

// MissingDocument is a required checklist item without a document: a field
// error at "/documents" (code document_required) naming the item.
type MissingDocument struct {
	FieldError
	Requirement string         `json:"requirement"`
	AnyOf       []DocumentKind `json:"any_of"`
}

// MissingDocuments lists the required items of the product's checklist that
// none of the present kinds satisfies, in checklist order.
func MissingDocuments(p Product, present []DocumentKind) []MissingDocument {
	var out []MissingDocument
	for _, it := range DocumentChecklist(p) {
		if !it.Required || slices.ContainsFunc(it.AnyOf, func(k DocumentKind) bool { return slices.Contains(present, k) }) {
			continue
		}
		out = append(out, MissingDocument{
			FieldError: FieldError{Pointer: PointerDocuments, Code: CodeDocumentRequired,
				Detail: "the application needs the " + joinKinds(it.AnyOf, " or the ")},
			Requirement: it.Requirement, AnyOf: it.AnyOf,
		})
	}
	return out
}

// PointerDocuments locates an application's documents list.
const PointerDocuments = "/documents"

// FieldErrorsOf returns the missing documents as plain field errors.
func FieldErrorsOf(missing []MissingDocument) FieldErrors {
	out := make(FieldErrors, len(missing))
	for i, m := range missing {
		out[i] = m.FieldError
	}
	return out
}

func joinKinds(kinds []DocumentKind, sep string) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.Title()
	}
	return strings.Join(names, sep)
}

// DocumentRef is one entry of an application's documents: an upload, by the
// id POST /v1/uploads returned, as a document of the given kind.
type DocumentRef struct {
	Kind     DocumentKind `json:"kind"`
	UploadID string       `json:"upload_id"`
}

// CheckDocumentRefs checks the shape of an application's documents list:
// known kinds, an upload id each, each kind at most once. Whether the
// uploads exist is the service's to check.
func CheckDocumentRefs(refs []DocumentRef) FieldErrors {
	var errs FieldErrors
	seen := map[DocumentKind]bool{}
	for i, r := range refs {
		at := fmt.Sprintf("%s/%d", PointerDocuments, i)
		switch {
		case !r.Kind.IsKnown():
			errs = append(errs, FieldError{Pointer: at + "/kind", Code: CodeOneOf,
				Detail: "must be one of: " + joinKinds(DocumentKinds, ", ")})
		case seen[r.Kind]:
			errs = append(errs, FieldError{Pointer: at + "/kind", Code: CodeDuplicateKind,
				Detail: "each kind of document may be given once"})
		}
		seen[r.Kind] = true
		if !IsUploadID(r.UploadID) {
			errs = append(errs, FieldError{Pointer: at + "/upload_id", Code: CodeUnknownUpload,
				Detail: "no such upload"})
		}
	}
	return errs
}

// Kinds lists the kinds of refs.
func Kinds(refs []DocumentRef) []DocumentKind {
	out := make([]DocumentKind, len(refs))
	for i, r := range refs {
		out[i] = r.Kind
	}
	return out
}

var base32Std = base32.StdEncoding.WithPadding(base32.NoPadding)

// uploadIDPrefix starts every upload id.
const uploadIDPrefix = "upl_"

// UploadID renders random bytes (at least 16) as an upload id.
func UploadID(random []byte) string {
	return uploadIDPrefix + strings.ToLower(base32Std.EncodeToString(random))
}

// IsUploadID reports whether s has the form of an upload id.
func IsUploadID(s string) bool {
	rest, ok := strings.CutPrefix(s, uploadIDPrefix)
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
