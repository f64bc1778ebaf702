package casework

import (
	"context"
	"sort"
	"strings"

	"github.com/visad/visad/activities"
	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
)

// batchDocuments checks, as a batch is posted, the uploads its rows name in
// their documents column (docs/documents.md, "Chambers"): the cell's own
// form, an upload named twice, and against the store whether each upload
// exists and is the chamber's own or anonymous, is unexpired, is of the
// kind the entry says and belongs to no other application. The rows at
// fault are recorded invalid with the batch, so the chamber learns at once;
// the uploads of the others are kept until the batch's rows are recorded,
// which checks them again and attaches them.
func (s *Service) batchDocuments(ctx context.Context, chamberID, reference string,
	rows []domain.BatchRow) (db.BatchDocuments, error) {
	now := s.now()
	out := db.BatchDocuments{KeepUntil: now.Add(s.uploadTTL()), RowErrors: map[int]domain.FieldErrors{}}
	repeats := domain.BatchUploadRepeats(rows)
	type named struct {
		row  domain.BatchRow
		refs []domain.DocumentRef
	}
	var pending []named
	var ids []string
	for _, row := range rows {
		cell := row.Values[domain.BatchColumnDocuments]
		if strings.TrimSpace(cell) == "" {
			continue
		}
		refs, errs := domain.ParseDocumentsCell(cell)
		errs = append(errs, repeats[row.Number]...)
		if len(errs) > 0 {
			out.RowErrors[row.Number] = errs
		}
		refs = domain.CheckableRefs(refs, errs)
		for _, r := range refs {
			if r.UploadID != "" {
				ids = append(ids, r.UploadID)
			}
		}
		pending = append(pending, named{row: row, refs: refs})
	}
	if len(ids) == 0 {
		return out, nil
	}
	docs, err := s.Store.DocumentsByID(ctx, ids)
	if err != nil {
		return db.BatchDocuments{}, err
	}
	byID := make(map[string]db.Document, len(docs))
	for _, d := range docs {
		byID[d.ID] = d
	}
	for _, p := range pending {
		var keep []string
		applicationID := "" // the row's own, derived as the batch's processing will; found only when needed
		for i, r := range p.refs {
			if r.UploadID == "" {
				continue
			}
			st := domain.UploadState{}
			if d, found := byID[r.UploadID]; found {
				st = d.UploadState(chamberID, now)
			}
			if st.AttachedTo != "" && applicationID == "" {
				form := domain.Normalize(domain.ApplicationFromRow(p.row, chamberID))
				applicationID = activities.BatchApplicationID(s.Keys, chamberID, reference, form)
			}
			if e := domain.CheckBatchUpload(i, r, st, applicationID); e != nil {
				out.RowErrors[p.row.Number] = append(out.RowErrors[p.row.Number], *e)
			} else if st.AttachedTo == "" {
				keep = append(keep, r.UploadID)
			}
		}
		if len(out.RowErrors[p.row.Number]) == 0 {
			out.Keep = append(out.Keep, keep...)
		}
	}
	return out, nil
}

// rowProblems lists a batch's rows found at fault when it was posted, in row order.
func rowProblems(errs map[int]domain.FieldErrors) []ReportRow {
	out := make([]ReportRow, 0, len(errs))
	for n, e := range errs {
		out = append(out, ReportRow{Row: n, Outcome: db.RowInvalid, Errors: e})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Row < out[j].Row })
	return out
}
