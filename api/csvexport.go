package api

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/visad/visad/domain"
)

// writeBatchReportCSV writes a batch report as CSV for spreadsheet users;
// every cell is neutralised against formula injection.
func writeBatchReportCSV(out io.Writer, rows []ReportRow) error {
	w := csv.NewWriter(out)
	_ = w.Write([]string{"row", "outcome", "application_id", "reference", "status", "errors"})
	for _, r := range rows {
		var errs []string
		for _, e := range r.Errors {
			errs = append(errs, strings.TrimPrefix(e.Pointer, "/")+": "+e.Code)
		}
		cells := []string{
			strconv.Itoa(r.Row),
			r.Outcome,
			r.ApplicationID,
			r.Reference,
			string(r.Status),
			strings.Join(errs, "; "),
		}
		for i := range cells {
			cells[i] = domain.SpreadsheetSafe(cells[i])
		}
		_ = w.Write(cells)
	}
	w.Flush()
	return w.Error()
}
