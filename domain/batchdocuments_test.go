package domain

import (
	"reflect"
	"strings"
	"testing"
)

const (
	uplA = "upl_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	uplB = "upl_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	uplC = "upl_cccccccccccccccccccccccccccccccc"
)

func TestParseDocumentsCell(t *testing.T) {
	letter := DocumentRef{Kind: DocumentChamberRecommendation, UploadID: uplA}
	photo := DocumentRef{Kind: DocumentPhotograph, UploadID: uplB}
	e := func(pointer, code string) FieldError {
		return FieldError{Pointer: pointer, Code: code, Column: BatchColumnDocuments}
	}
	for _, tc := range []struct {
		name string
		cell string
		refs []DocumentRef
		errs []FieldError // details not compared
	}{
		{"empty", "", nil, nil},
		{"blank", "  ", nil, nil},
		{"one", "chamber_recommendation_letter:" + uplA, []DocumentRef{letter}, nil},
		{"two, blanks and case", " Chamber_Recommendation_Letter : " + uplA + " ; photograph:" + uplB + " ;",
			[]DocumentRef{letter, photo}, nil},
		{"blank entries are not counted", ";;photograph:" + uplB + ";;chamber_recommendation_letter:" + uplA,
			[]DocumentRef{photo, letter}, nil},
		{"no colon", "photograph " + uplB + ";chamber_recommendation_letter:" + uplA,
			[]DocumentRef{{}, letter}, []FieldError{e("/documents/0", CodeInvalidFormat)}},
		{"unknown kind", "selfie:" + uplB, []DocumentRef{{Kind: "selfie", UploadID: uplB}},
			[]FieldError{e("/documents/0/kind", CodeOneOf)}},
		{"kind twice", "photograph:" + uplB + ";photograph:" + uplC,
			[]DocumentRef{photo, {Kind: DocumentPhotograph, UploadID: uplC}},
			[]FieldError{e("/documents/1/kind", CodeDuplicateKind)}},
		{"not an upload id", "photograph:passport.jpg", []DocumentRef{{Kind: DocumentPhotograph,
			UploadID: "passport.jpg"}}, []FieldError{e("/documents/0/upload_id", CodeUnknownUpload)}},
		{"empty id", "photograph:", []DocumentRef{{Kind: DocumentPhotograph}},
			[]FieldError{e("/documents/0/upload_id", CodeUnknownUpload)}},
		{"too many", strings.Repeat("photograph:"+uplB+";", MaxBatchDocuments+1), nil,
			[]FieldError{e("/documents", CodeTooLong)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refs, errs := ParseDocumentsCell(tc.cell)
			if tc.refs != nil && !reflect.DeepEqual(refs, tc.refs) {
				t.Errorf("refs\n got %+v\nwant %+v", refs, tc.refs)
			}
			for i := range errs {
				if errs[i].Detail == "" {
					t.Errorf("error %d has no detail", i)
				}
				if strings.Contains(errs[i].Detail, "passport.jpg") || strings.Contains(errs[i].Detail, uplB) {
					t.Errorf("the detail repeats what was sent: %q", errs[i].Detail)
				}
				errs[i].Detail = ""
			}
			if len(errs) != len(tc.errs) || len(errs) > 0 && !reflect.DeepEqual([]FieldError(errs), tc.errs) {
				t.Errorf("errors\n got %+v\nwant %+v", errs, tc.errs)
			}
			if checkable := CheckableRefs(refs, errs); len(tc.errs) == 0 && !reflect.DeepEqual(checkable, refs) {
				t.Errorf("CheckableRefs dropped good entries: %+v", checkable)
			}
		})
	}
}

func TestCheckableRefsBlanksEntriesWithErrors(t *testing.T) {
	refs, errs := ParseDocumentsCell("photo " + uplA + ";photograph:" + uplB + ";selfie:" + uplC +
		";passport_data_page:" + uplC)
	got := CheckableRefs(refs, errs)
	want := []DocumentRef{{}, {Kind: DocumentPhotograph, UploadID: uplB}, {},
		{Kind: DocumentPassportDataPage, UploadID: uplC}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestBatchUploadRepeats(t *testing.T) {
	row := func(n int, cell string) BatchRow {
		return BatchRow{Number: n, Values: map[string]string{BatchColumnDocuments: cell}}
	}
	rows := []BatchRow{
		row(1, "chamber_recommendation_letter:"+uplA),
		row(2, "chamber_recommendation_letter:"+uplB),
		row(3, "photograph:"+uplC+";chamber_recommendation_letter:"+uplA), // row 1's letter
		row(4, ""),
		row(5, "photograph:"+uplB+";passport_data_page:"+uplB), // row 2's upload, and twice in itself
		row(6, "selfie:"+uplC),                                 // the cell's own error: not a repeat
	}
	got := BatchUploadRepeats(rows)
	codes := map[int][]string{}
	for n, errs := range got {
		for _, e := range errs {
			if e.Code != CodeUploadInUse || e.Column != BatchColumnDocuments {
				t.Errorf("row %d: %+v", n, e)
			}
			codes[n] = append(codes[n], e.Pointer+" "+e.Detail)
		}
	}
	want := map[int][]string{
		3: {"/documents/1/upload_id names the same upload as row 1 of this batch: an upload serves one application"},
		5: {"/documents/0/upload_id names the same upload as row 2 of this batch: an upload serves one application",
			"/documents/1/upload_id names the same upload as row 2 of this batch: an upload serves one application"},
	}
	if !reflect.DeepEqual(codes, want) {
		t.Errorf("got %v\nwant %v", codes, want)
	}
}

func TestCheckBatchUpload(t *testing.T) {
	ref := DocumentRef{Kind: DocumentChamberRecommendation, UploadID: uplA}
	const app = "app_own"
	for _, tc := range []struct {
		name    string
		st      UploadState
		pointer string
		code    string
	}{
		{"usable", UploadState{Found: true, Kind: DocumentChamberRecommendation}, "", ""},
		{"already ours (a replay)", UploadState{Found: true, Kind: DocumentChamberRecommendation,
			AttachedTo: app, Gone: true}, "", ""},
		{"unknown or another chamber's", UploadState{}, "/documents/2/upload_id", CodeUnknownUpload},
		{"another application's", UploadState{Found: true, Kind: DocumentChamberRecommendation,
			AttachedTo: "app_other"}, "/documents/2/upload_id", CodeUploadInUse},
		{"expired", UploadState{Found: true, Kind: DocumentChamberRecommendation, Gone: true},
			"/documents/2/upload_id", CodeUploadExpired},
		{"another kind", UploadState{Found: true, Kind: DocumentPhotograph}, "/documents/2/kind", CodeKindMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := CheckBatchUpload(2, ref, tc.st, app)
			if tc.code == "" {
				if e != nil {
					t.Fatalf("want no error, got %+v", e)
				}
				return
			}
			if e == nil || e.Pointer != tc.pointer || e.Code != tc.code || e.Column != BatchColumnDocuments ||
				e.Detail == "" {
				t.Fatalf("got %+v, want %s %s", e, tc.pointer, tc.code)
			}
		})
	}
}

func TestValidateBatchRowReportsTheDocumentsCellOnce(t *testing.T) {
	header := strings.Join(BatchColumns, ",")
	values := map[string]string{}
	for _, c := range BatchColumns {
		values[c] = ""
	}
	values[BatchColumnDocuments] = "selfie:" + uplA + ";photograph:x"
	var cells []string
	for _, c := range BatchColumns {
		cells = append(cells, values[c])
	}
	rows, err := ParseBatchCSV([]byte(header+"\n"+strings.Join(cells, ",")+"\n"), 1)
	if err != nil {
		t.Fatal(err)
	}
	_, errs := ValidateBatchRow(rows[0], "chb_x", Policy{})
	var docs []string
	for _, e := range errs {
		if e.Column == "" {
			t.Errorf("an error without its column: %+v", e)
		}
		if e.Column == BatchColumnDocuments {
			docs = append(docs, e.Pointer+" "+e.Code)
		}
	}
	want := []string{"/documents/0/kind one_of", "/documents/1/upload_id unknown_upload"}
	if !reflect.DeepEqual(docs, want) {
		t.Errorf("documents errors %v, want %v", docs, want)
	}
}
