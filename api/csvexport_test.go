package api

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/visad/visad/domain"
)

// TestBatchReportCSVNeutralisesFormulas: a cell a spreadsheet would read as
// a formula is prefixed with ' (OWASP CSV injection). Row errors carry
// pointers built from the uploader's own column and member names.
func TestBatchReportCSVNeutralisesFormulas(t *testing.T) {
	hostile := []string{"=HYPERLINK(\"http://x\")", "+SUM(1+1)", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"}
	var rows []ReportRow
	for i, h := range hostile {
		rows = append(rows, ReportRow{Row: i + 1, Outcome: "invalid", Status: domain.Status(h),
			Errors: []domain.FieldError{{Pointer: "/" + h, Code: "unknown_field"}}})
	}
	var buf bytes.Buffer
	if err := writeBatchReportCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range records[1:] {
		for col, cell := range rec {
			if cell != "" && bytes.ContainsRune([]byte("=+-@\t\r"), rune(cell[0])) {
				t.Errorf("column %d starts with a formula trigger: %+q", col, cell)
			}
		}
	}
	if got := records[1][4]; got != "'=HYPERLINK(\"http://x\")" {
		t.Errorf("neutralised cell = %+q, want the value behind a '", got)
	}
	if got := records[1][0]; got != "1" {
		t.Errorf("plain cell changed: %+q", got)
	}
}
