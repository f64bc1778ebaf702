package domain

import (
	"fmt"
	"strconv"
	"strings"
)

// A batch row names its supporting documents in one optional column,
// "documents": uploads the chamber made before posting the batch, each as
// "kind:upload_id", separated by semicolons:
//
//	chamber_recommendation_letter:upl_…;photograph:upl_…
//
// Blanks around entries are ignored and an empty cell names no documents.
// Entries are numbered from 0 (blank entries not counted); a problem with
// entry i points at "/documents/<i>" (the entry), "/documents/<i>/kind" or
// "/documents/<i>/upload_id", in the column "documents".

// BatchColumnDocuments is the batch column naming a row's uploads.
const BatchColumnDocuments = "documents"

// Codes of a batch row's document problems that only the store can tell
// (besides CodeUnknownUpload).
const (
	// CodeUploadExpired: the upload was not named by an application in time and is gone or going.
	CodeUploadExpired = "upload_expired"
	// CodeKindMismatch: the upload was made as another kind of document than the entry says.
	CodeKindMismatch = "kind_mismatch"
	// CodeUploadInUse: the upload belongs to another application, or another row or entry names it too.
	CodeUploadInUse = "upload_in_use"
)

// MaxBatchDocuments bounds the entries of one row's documents cell.
const MaxBatchDocuments = 10

// ParseDocumentsCell reads a row's documents cell. refs has one element per
// entry, in order (an entry that is not "kind:upload_id" as an empty ref), so
// that refs[i] is entry i. errs are the problems the cell shows by itself:
// an entry that is not kind:upload_id (invalid_format), a kind that is not
// one (one_of), a kind given twice (duplicate_kind), an upload id of the
// wrong shape (unknown_upload), more than MaxBatchDocuments entries
// (too_long). Every error is located in the column "documents".
func ParseDocumentsCell(cell string) (refs []DocumentRef, errs FieldErrors) {
	if strings.TrimSpace(cell) == "" {
		return nil, nil
	}
	for entry := range strings.SplitSeq(cell, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		i := len(refs)
		kind, id, ok := strings.Cut(entry, ":")
		if !ok {
			refs = append(refs, DocumentRef{})
			errs = append(errs, FieldError{Pointer: entryPointer(i), Code: CodeInvalidFormat,
				Detail: "write each document as kind:upload_id, separated by semicolons"})
			continue
		}
		refs = append(refs, DocumentRef{Kind: DocumentKind(lowerTrim(kind)), UploadID: strings.TrimSpace(id)})
	}
	if len(refs) > MaxBatchDocuments {
		return refs, FieldErrors{{Pointer: PointerDocuments, Code: CodeTooLong,
			Detail: fmt.Sprintf("a row may name at most %d documents", MaxBatchDocuments)}}.inColumn()
	}
	seen := map[DocumentKind]bool{}
	for i, r := range refs {
		if r == (DocumentRef{}) {
			continue // already reported
		}
		at := entryPointer(i)
		switch {
		case !r.Kind.IsKnown():
			errs = append(errs, FieldError{Pointer: at + "/kind", Code: CodeOneOf,
				Detail: "must be one of: " + kindCodes()})
		case seen[r.Kind]:
			errs = append(errs, FieldError{Pointer: at + "/kind", Code: CodeDuplicateKind,
				Detail: "each kind of document may be named once in a row"})
		}
		seen[r.Kind] = true
		if !IsUploadID(r.UploadID) {
			errs = append(errs, FieldError{Pointer: at + "/upload_id", Code: CodeUnknownUpload,
				Detail: "is not an upload id (upl_…) that POST /v1/uploads returned"})
		}
	}
	return refs, errs.inColumn()
}

// entryPointer points at entry i of a documents cell.
func entryPointer(i int) string { return PointerDocuments + "/" + strconv.Itoa(i) }

// inColumn locates errors in the documents column.
func (errs FieldErrors) inColumn() FieldErrors {
	for i := range errs {
		errs[i].Column = BatchColumnDocuments
	}
	return errs
}

func kindCodes() string {
	names := make([]string, len(DocumentKinds))
	for i, k := range DocumentKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// CheckableRefs keeps the entries of refs that have no error in errs (and
// are not empty), blanking the others, so that the store is asked only
// about well-formed entries and each problem is reported once. Entry i
// stays at index i.
func CheckableRefs(refs []DocumentRef, errs FieldErrors) []DocumentRef {
	if len(refs) == 0 {
		return nil
	}
	out := make([]DocumentRef, len(refs))
	if len(errs) == 0 {
		copy(out, refs)
		return out
	}
	for i, r := range refs {
		at := entryPointer(i)
		bad := r == (DocumentRef{})
		for _, e := range errs {
			if e.Pointer == PointerDocuments || e.Pointer == at || strings.HasPrefix(e.Pointer, at+"/") {
				bad = true
			}
		}
		if !bad {
			out[i] = r
		}
	}
	return out
}

// BatchUploadRepeats finds the entries that name an upload already named
// earlier: by an earlier row of the batch, or earlier in the same row. An
// upload serves one application, so the first naming keeps it and every
// later one is an error (code upload_in_use), by row number. Entries the
// cell itself gets wrong are left to ParseDocumentsCell.
func BatchUploadRepeats(rows []BatchRow) map[int]FieldErrors {
	out := map[int]FieldErrors{}
	first := map[string]int{} // upload id -> row number
	for _, row := range rows {
		refs, errs := ParseDocumentsCell(row.Values[BatchColumnDocuments])
		for i, r := range CheckableRefs(refs, errs) {
			if r.UploadID == "" {
				continue
			}
			n, seen := first[r.UploadID]
			if !seen {
				first[r.UploadID] = row.Number
				continue
			}
			detail := fmt.Sprintf("names the same upload as row %d of this batch: an upload serves one application", n)
			if n == row.Number {
				detail = "names the same upload twice"
			}
			out[row.Number] = append(out[row.Number], FieldError{
				Pointer: entryPointer(i) + "/upload_id", Column: BatchColumnDocuments,
				Code: CodeUploadInUse, Detail: detail})
		}
	}
	return out
}

// UploadState is what the store knows of an upload a batch row names.
type UploadState struct {
	// Found: the upload exists and the chamber may name it (it made the upload
	// with its token, or the upload was made without one).
	Found bool
	Kind  DocumentKind
	// AttachedTo is the application the upload belongs to ("" if none yet).
	AttachedTo string
	// Gone: an unattached upload past its expiry, or deleted.
	Gone bool
}

// CheckBatchUpload judges entry i of a row against what the store knows of
// its upload. applicationID is the row's application (ids of batch rows are
// derived from the row, so a row posted again, or replayed, finds its own
// uploads attached to its own application, which is fine). nil: usable.
func CheckBatchUpload(i int, ref DocumentRef, st UploadState, applicationID string) *FieldError {
	at := entryPointer(i)
	e := &FieldError{Pointer: at + "/upload_id", Column: BatchColumnDocuments}
	switch {
	case !st.Found:
		e.Code, e.Detail = CodeUnknownUpload, "no such upload: upload the file with POST /v1/uploads and your "+
			"chamber's token first"
	case st.AttachedTo != "" && st.AttachedTo != applicationID:
		e.Code, e.Detail = CodeUploadInUse, "the upload already belongs to another application"
	case st.AttachedTo == "" && st.Gone:
		e.Code, e.Detail = CodeUploadExpired, "the upload expired before an application named it: upload the "+
			"file again"
	case st.Kind != ref.Kind:
		e.Pointer, e.Code = at+"/kind", CodeKindMismatch
		e.Detail = "the upload was made as a " + st.Kind.Title() + ", not as this kind of document"
	default:
		return nil
	}
	return e
}
