package domain

import (
	"strings"
	"testing"
)

// FuzzParseBatchCSV: the batch parser never panics, and what it accepts is
// well-formed: rows numbered from 1, every row carrying exactly the header's
// columns, never more than the limit. What it refuses is a BatchFormatError.
func FuzzParseBatchCSV(f *testing.F) {
	header := strings.Join(BatchColumns, ",")
	row := strings.Repeat("x,", len(BatchColumns)-1) + "x"
	for _, seed := range []string{
		header + "\n" + row + "\n",
		"\ufeff" + header + "\r\n" + row + "\r\n",
		header + "\n\"quoted, with comma\"" + strings.Repeat(",x", len(BatchColumns)-1) + "\n",
		header + "\n\"unterminated" + "\n",
		header + "\n" + row + ",extra\n",
		"surname,surname\n",
		"",
		"\x00\x01binary",
		strings.Join(RequiredBatchColumns, ",") + "\n" + strings.Repeat("y,", len(RequiredBatchColumns)-1) + "y\n",
		strings.Join(RequiredBatchColumns, ",") + ",documents\n" + strings.Repeat("y,", len(RequiredBatchColumns)) +
			"\"photograph:upl_aaaaaaaaaaaaaaaaaaaaaaaaaa; chamber_recommendation_letter:upl_b;x;;:\"\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := ParseBatchCSV(data, 50)
		if err != nil {
			if _, ok := err.(*BatchFormatError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if rows != nil {
				t.Fatal("rows returned with an error")
			}
			return
		}
		if len(rows) == 0 || len(rows) > 50 {
			t.Fatalf("%d rows accepted", len(rows))
		}
		width := len(rows[0].Values)
		for i, r := range rows {
			if r.Number != i+1 || len(r.Values) != width {
				t.Fatalf("row %d: number %d, %d values (first row %d)", i, r.Number, len(r.Values), width)
			}
			for _, c := range RequiredBatchColumns {
				if _, ok := r.Values[c]; !ok {
					t.Fatalf("accepted row lacks required column %s", c)
				}
			}
			// ApplicationFromRow, Validate and the documents cell's checks must cope with anything
			// the parser accepts, and every problem of the documents cell is in its column.
			_ = Validate(Normalize(ApplicationFromRow(r, "chb_x")), Policy{})
			_, errs := ValidateBatchRow(r, "chb_x", Policy{})
			refs, cellErrs := ParseDocumentsCell(r.Values[BatchColumnDocuments])
			for _, e := range cellErrs {
				if e.Column != BatchColumnDocuments || !strings.HasPrefix(e.Pointer, PointerDocuments) {
					t.Fatalf("documents cell error out of its column: %+v", e)
				}
			}
			if len(cellErrs) > 0 && len(errs) == 0 {
				t.Fatal("a row with documents cell errors validated")
			}
			if len(CheckableRefs(refs, cellErrs)) != len(refs) {
				t.Fatal("CheckableRefs moved entries")
			}
		}
	})
}
