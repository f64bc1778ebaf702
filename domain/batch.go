package domain

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// MaxBatchRows is the most rows one batch may carry.
const MaxBatchRows = 10_000

// BatchColumns are the columns of a bulk submission: the application's fields
// flattened. The chamber comes from the URL, not from the rows.
var BatchColumns = []string{
	"product", "surname", "given_names", "sex", "date_of_birth", "place_of_birth", "nationality",
	"email", "phone", "passport_number", "passport_issuing_country", "passport_issue_date",
	"passport_expiry_date", "passport_mrz_line1", "passport_mrz_line2", "company", "position",
	"purpose", "intended_arrival", "host_company", "host_city", "host_address", "host_phone",
	"membership_number", BatchColumnDocuments,
}

// RequiredBatchColumns must appear in the header; the others may be omitted.
var RequiredBatchColumns = []string{
	"product", "surname", "given_names", "sex", "date_of_birth", "place_of_birth", "nationality",
	"email", "phone", "passport_number", "passport_issuing_country", "passport_issue_date",
	"passport_expiry_date", "company", "position", "purpose", "intended_arrival",
}

// BatchRow is one data row: its 1-based number (the header is not counted) and its values by column.
type BatchRow struct {
	Number int               `json:"n"`
	Values map[string]string `json:"v"`
}

// BatchFormatError says why a batch cannot be read at all. Row and Column are
// 0 when the problem is not tied to one.
type BatchFormatError struct {
	Code    string // bad_header, missing_columns, ragged_row, bad_quoting, not_text, empty, too_many_rows, bad_json
	Row     int
	Column  string
	Message string
}

func (e *BatchFormatError) Error() string { return e.Message }

var knownColumns = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range BatchColumns {
		m[c] = true
	}
	return m
}()

// ParseBatchCSV reads a CSV batch: a header row naming columns, then up to
// maxRows data rows. A UTF-8 byte-order mark, CRLF line ends and quoted fields
// are handled; blank lines are skipped.
func ParseBatchCSV(data []byte, maxRows int) ([]BatchRow, error) {
	return parseCSVTable("batch", data, BatchColumns, RequiredBatchColumns, maxRows)
}

// parseCSVTable reads a header row of known columns (the required ones must
// be present), then up to maxRows rows as wide as the header. noun names the
// upload in messages: "batch" or "roster".
func parseCSVTable(noun string, data []byte, known, required []string, maxRows int) ([]BatchRow, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if err := checkText(noun, data); err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = 0 // every row as wide as the header
	r.ReuseRecord = false
	header, err := r.Read()
	if err == io.EOF {
		return nil, &BatchFormatError{Code: "empty",
			Message: "the " + noun + " is empty; the first row must name the columns"}
	}
	if err != nil {
		return nil, csvError(err, 0)
	}
	columns, err := readHeader(header, known, required)
	if err != nil {
		return nil, err
	}
	var rows []BatchRow
	for n := 1; ; n++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(err, n)
		}
		if len(rows) >= maxRows {
			return nil, &BatchFormatError{
				Code:    "too_many_rows",
				Message: fmt.Sprintf("a %s may carry at most %d rows", noun, maxRows),
			}
		}
		values := make(map[string]string, len(columns))
		for i, col := range columns {
			values[col] = strings.TrimSpace(rec[i])
		}
		rows = append(rows, BatchRow{Number: n, Values: values})
	}
	if len(rows) == 0 {
		return nil, &BatchFormatError{Code: "empty", Message: "the " + noun + " has a header but no rows"}
	}
	return rows, nil
}

// ParseBatchJSON reads a JSON batch: an array of objects whose members are the
// batch columns, each a string.
func ParseBatchJSON(data []byte, maxRows int) ([]BatchRow, error) {
	if err := checkText("batch", data); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('[') {
		return nil, &BatchFormatError{Code: "bad_json", Message: "a JSON batch must be an array of row objects"}
	}
	var rows []BatchRow
	for n := 1; dec.More(); n++ {
		if len(rows) >= maxRows {
			return nil, &BatchFormatError{
				Code:    "too_many_rows",
				Message: fmt.Sprintf("a batch may carry at most %d rows", maxRows),
			}
		}
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			return nil, &BatchFormatError{Code: "bad_json", Row: n, Message: fmt.Sprintf("row %d is not a JSON object", n)}
		}
		values := make(map[string]string, len(obj))
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !knownColumns[k] {
				return nil, &BatchFormatError{
					Code:    "bad_header",
					Row:     n,
					Column:  k,
					Message: fmt.Sprintf("row %d has an unknown field; known fields: %s", n, strings.Join(BatchColumns, ", ")),
				}
			}
			switch v := obj[k].(type) {
			case string:
				values[k] = strings.TrimSpace(v)
			case nil:
			default:
				return nil, &BatchFormatError{Code: "bad_json", Row: n, Column: k,
					Message: fmt.Sprintf("row %d: every field must be a string", n)}
			}
		}
		rows = append(rows, BatchRow{Number: n, Values: values})
	}
	if _, err := dec.Token(); err != nil {
		return nil, &BatchFormatError{Code: "bad_json", Message: "the JSON array is not closed"}
	}
	if dec.More() {
		return nil, &BatchFormatError{Code: "bad_json", Message: "unexpected data after the JSON array"}
	}
	if len(rows) == 0 {
		return nil, &BatchFormatError{Code: "empty", Message: "the batch has no rows"}
	}
	return rows, nil
}

func checkText(noun string, data []byte) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return &BatchFormatError{Code: "empty", Message: "the " + noun + " is empty"}
	}
	if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
		return &BatchFormatError{Code: "not_text", Message: "the " + noun + " is not UTF-8 text"}
	}
	return nil
}

func readHeader(header, known, required []string) ([]string, error) {
	isKnown := map[string]bool{}
	for _, c := range known {
		isKnown[c] = true
	}
	seen := map[string]bool{}
	columns := make([]string, len(header))
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if !isKnown[name] {
			return nil, &BatchFormatError{Code: "bad_header", Column: name,
				Message: fmt.Sprintf(
					"column %d of the header is not a known column; known columns: %s",
					i+1,
					strings.Join(known, ", "),
				)}
		}
		if seen[name] {
			return nil, &BatchFormatError{
				Code:    "bad_header",
				Column:  name,
				Message: fmt.Sprintf("column %q appears twice in the header", name),
			}
		}
		seen[name] = true
		columns[i] = name
	}
	var missing []string
	for _, c := range required {
		if !seen[c] {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, &BatchFormatError{Code: "missing_columns", Column: missing[0],
			Message: "the header lacks required columns: " + strings.Join(missing, ", ")}
	}
	return columns, nil
}

// csvError turns the csv package's error into a format error naming the row
// (row is its record number, 0 for the header) and its line, never the
// content. Rows are counted as records: a quoted field may span lines.
func csvError(err error, row int) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		code := "bad_quoting"
		what := "has malformed quoting"
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			code, what = "ragged_row", "has a different number of fields than the header"
		}
		where := "the header"
		if row > 0 {
			where = fmt.Sprintf("row %d", row)
		}
		return &BatchFormatError{Code: code, Row: row,
			Message: fmt.Sprintf("%s (starting on line %d) %s", where, pe.StartLine, what)}
	}
	return &BatchFormatError{Code: "bad_quoting", Message: "the CSV cannot be read"}
}

// ApplicationFromRow builds the application a batch row describes.
func ApplicationFromRow(row BatchRow, chamberID string) Application {
	v := row.Values
	app := Application{
		Product: Product(v["product"]),
		Applicant: Applicant{
			Surname: v["surname"], GivenNames: v["given_names"], Sex: v["sex"], DateOfBirth: v["date_of_birth"],
			PlaceOfBirth: v["place_of_birth"], Nationality: v["nationality"], Email: v["email"], Phone: v["phone"],
		},
		Passport: Passport{
			Number: v["passport_number"], IssuingCountry: v["passport_issuing_country"],
			IssueDate: v["passport_issue_date"], ExpiryDate: v["passport_expiry_date"],
		},
		Employment: Employment{Company: v["company"], Position: v["position"]},
		Visit:      Visit{Purpose: v["purpose"], IntendedArrival: v["intended_arrival"]},
	}
	if v["passport_mrz_line1"] != "" || v["passport_mrz_line2"] != "" {
		app.Passport.MRZ = []string{v["passport_mrz_line1"], v["passport_mrz_line2"]}
	}
	if v["host_company"] != "" || v["host_city"] != "" || v["host_address"] != "" || v["host_phone"] != "" {
		app.Visit.Host = &Host{
			Company: v["host_company"],
			City:    v["host_city"],
			Address: v["host_address"],
			Phone:   v["host_phone"],
		}
	}
	if v["membership_number"] != "" || app.Product == ProductBusiness5YMulti {
		app.Chamber = &Chamber{ChamberID: chamberID, MembershipNumber: v["membership_number"]}
	}
	app.Documents, _ = ParseDocumentsCell(v[BatchColumnDocuments])
	return app
}

// ValidateBatchRow builds the application a row describes and checks it
// exactly like POST /v1/applications (errors located by column,
// BatchRowErrors), the documents cell with ParseDocumentsCell. Whether the
// uploads it names exist and may be used is the store's to tell
// (CheckBatchUpload).
func ValidateBatchRow(row BatchRow, chamberID string, p Policy) (Application, FieldErrors) {
	app := Normalize(ApplicationFromRow(row, chamberID))
	docs := app.Documents
	app.Documents = nil // the cell's own check reports them, by entry
	errs := BatchRowErrors(Validate(app, p))
	app.Documents = docs
	_, cellErrs := ParseDocumentsCell(row.Values[BatchColumnDocuments])
	return app, append(errs, cellErrs...)
}

var pointerColumns = map[string]string{
	"/product": "product", "/applicant/surname": "surname", "/applicant/given_names": "given_names",
	"/applicant/sex": "sex", "/applicant/date_of_birth": "date_of_birth", "/applicant/place_of_birth": "place_of_birth",
	"/applicant/nationality": "nationality", "/applicant/email": "email", "/applicant/phone": "phone",
	"/passport/number": "passport_number", "/passport/issuing_country": "passport_issuing_country",
	"/passport/issue_date": "passport_issue_date", "/passport/expiry_date": "passport_expiry_date",
	"/passport/mrz":   "passport_mrz_line1",
	"/passport/mrz/0": "passport_mrz_line1", "/passport/mrz/1": "passport_mrz_line2",
	"/employment/company": "company", "/employment/position": "position", "/visit/purpose": "purpose",
	"/visit/intended_arrival": "intended_arrival", "/visit/host": "host_company", "/visit/host/company": "host_company",
	"/visit/host/city": "host_city", "/visit/host/address": "host_address", "/visit/host/phone": "host_phone",
	"/chamber": "membership_number", "/chamber/membership_number": "membership_number",
	"/chamber/chamber_id": "membership_number",
}

// BatchColumnFor names the batch column behind an application field pointer.
func BatchColumnFor(pointer string) string {
	return pointerColumns[pointer]
}

// Batch upload formats, as kept (sealed) with a batch.
const (
	BatchFormatCSV  = "csv"
	BatchFormatJSON = "json"
)

// EncodeBatchUpload keeps a batch as it was uploaded, with its format: the
// stored bytes are then no larger than the upload, and the rows are parsed
// again from them by the same parser that accepted them.
func EncodeBatchUpload(format string, raw []byte) []byte {
	out := make([]byte, 0, len(format)+1+len(raw))
	out = append(out, format...)
	out = append(out, '\n')
	return append(out, raw...)
}

// DecodeBatchUpload parses what EncodeBatchUpload kept.
func DecodeBatchUpload(stored []byte) ([]BatchRow, error) {
	format, raw, ok := bytes.Cut(stored, []byte("\n"))
	if !ok {
		return nil, &BatchFormatError{Code: "bad_json", Message: "the stored batch has no format"}
	}
	switch string(format) {
	case BatchFormatCSV:
		return ParseBatchCSV(raw, MaxBatchRows)
	case BatchFormatJSON:
		return ParseBatchJSON(raw, MaxBatchRows)
	}
	return nil, &BatchFormatError{Code: "bad_json", Message: "the stored batch has an unknown format"}
}

// BatchRowErrors locates a batch row's field errors by column: the pointer is
// into the row object (the column name), so CSV and JSON submitters read it
// the same way.
func BatchRowErrors(errs FieldErrors) FieldErrors {
	out := make(FieldErrors, 0, len(errs))
	for _, e := range errs {
		if col := BatchColumnFor(e.Pointer); col != "" {
			e.Pointer, e.Column = "/"+col, col
		} else if e.Pointer == PointerDocuments || strings.HasPrefix(e.Pointer, PointerDocuments+"/") {
			e.Column = BatchColumnDocuments // entries keep their pointer: /documents/<i>/…
		}
		out = append(out, e)
	}
	return out
}

// CodeDuplicateInBatch marks a batch row that repeats an earlier row's passport.
const CodeDuplicateInBatch = "duplicate_in_batch"

// BatchDuplicates finds the rows that repeat the passport (issuing country and
// number, normalised as for an application) of an earlier row of the same
// batch, whatever their other fields: one passport is one person, and merging
// two rows would silently drop one of them. The first row keeps the passport;
// each later one gets an error, by row number, naming the first.
func BatchDuplicates(rows []BatchRow) map[int]FieldError {
	out := map[int]FieldError{}
	first := make(map[[2]string]int, len(rows))
	for _, row := range rows {
		p := Normalize(ApplicationFromRow(row, "")).Passport
		if p.Number == "" {
			continue
		}
		key := [2]string{p.IssuingCountry, p.Number}
		if n, seen := first[key]; seen {
			out[row.Number] = FieldError{Pointer: "/passport_number", Column: "passport_number",
				Code: CodeDuplicateInBatch, Detail: fmt.Sprintf("repeats the passport of row %d of this batch", n)}
			continue
		}
		first[key] = row.Number
	}
	return out
}
