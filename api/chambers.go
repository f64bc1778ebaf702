package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
)

// MaxBatchBody bounds a batch or roster upload: 10,000 rows of a few hundred bytes each, with room.
const MaxBatchBody = 16 << 20

type createChamberBody struct {
	Name string `json:"name"`
}

// ChamberCreated answers an admin's chamber creation.
type ChamberCreated struct {
	ChamberID string `json:"chamber_id"`
	Name      string `json:"name"`
	Token     string `json:"token"`
}

func (s *Server) createChamber(c *gin.Context) {
	var body createChamberBody
	if !decodeJSON(c, &body) {
		return
	}
	id, token, err := s.deps.Cases.NewChamber(c.Request.Context(), principal(c).Actor().Name(), body.Name)
	if err != nil {
		s.fail(c, "create chamber", err, "Invalid chamber")
		return
	}
	c.JSON(http.StatusCreated, ChamberCreated{ChamberID: id, Name: strings.TrimSpace(body.Name), Token: token})
}

// ChamberToken is a chamber account's new token.
type ChamberToken struct {
	ChamberID string    `json:"chamber_id"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// rotateChamberToken replaces a chamber's token (admin); the old one stops working.
func (s *Server) rotateChamberToken(c *gin.Context) {
	id := c.Param("id")
	token, expiresAt, err := s.deps.Cases.RotateChamberToken(c.Request.Context(), principal(c).Actor().Name(), id)
	if err != nil {
		s.fail(c, "rotate chamber token", err, "Invalid chamber")
		return
	}
	c.JSON(http.StatusOK, ChamberToken{ChamberID: id, Token: token, ExpiresAt: expiresAt})
}

// ownChamber admits a chamber account only to its own chamber's resources;
// any other chamber id is answered as not existing.
func (s *Server) ownChamber(c *gin.Context) {
	if p := principal(c); p.ChamberID == "" || p.ChamberID != c.Param("id") {
		writeProblem(c, Problem{Type: typeNotFound, Status: http.StatusNotFound, Detail: "no such chamber"})
		return
	}
	c.Next()
}

// readUpload reads a CSV or JSON upload body within MaxBatchBody; it answers
// the problem and returns ok=false when the body is unacceptable.
func readUpload(c *gin.Context) (body []byte, isCSV bool, ok bool) {
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	switch {
	case err == nil && (mt == "text/csv" || mt == "application/csv"):
		isCSV = true
	case err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")):
	default:
		writeProblem(c, Problem{Type: typeUnsupported, Status: http.StatusUnsupportedMediaType,
			Detail: "send the rows as text/csv (with a header row) or as an application/json array"})
		return nil, false, false
	}
	body, err = io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxBatchBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeProblem(c, Problem{Type: typeTooLarge, Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("the upload exceeds %d bytes", MaxBatchBody)})
		return nil, false, false
	}
	if err != nil {
		writeProblem(
			c,
			Problem{Type: typeMalformed, Status: http.StatusBadRequest, Detail: "the request body could not be read"},
		)
		return nil, false, false
	}
	return body, isCSV, true
}

// formatProblem answers a batch or roster that cannot be read at all.
func formatProblem(c *gin.Context, err error) {
	var fe *domain.BatchFormatError
	if !errors.As(err, &fe) {
		writeProblem(c, Problem{Type: typeMalformed, Status: http.StatusBadRequest, Detail: "the upload cannot be read"})
		return
	}
	p := Problem{
		Type:   typeBatchFormat,
		Title:  "Unreadable upload",
		Status: http.StatusUnprocessableEntity,
		Detail: fe.Message,
	}
	switch fe.Code {
	case "too_many_rows":
		p.Type, p.Status, p.Title = typeTooLarge, http.StatusRequestEntityTooLarge, "Too many rows"
	case "not_text":
		p.Status = http.StatusUnsupportedMediaType
		p.Type = typeUnsupported
	}
	if fe.Row > 0 || fe.Column != "" {
		ptr := ""
		if fe.Row > 0 {
			ptr = "/rows/" + strconv.Itoa(fe.Row)
		}
		if fe.Column != "" {
			ptr += "/" + fe.Column
		}
		p.Errors = []ProblemField{{Pointer: ptr, Code: fe.Code, Detail: fe.Message}}
	}
	writeProblem(c, p)
}

func (s *Server) putMembers(c *gin.Context) {
	body, isCSV, ok := readUpload(c)
	if !ok {
		return
	}
	var members []domain.Member
	var err error
	if isCSV {
		members, err = domain.ParseRosterCSV(body)
	} else {
		members, err = domain.ParseRosterJSON(body)
	}
	if err != nil {
		formatProblem(c, err)
		return
	}
	inserted, updated, err := s.deps.Cases.UpsertRoster(c.Request.Context(), c.Param("id"), members)
	if err != nil {
		s.fail(c, "roster", err, "Invalid roster")
		return
	}
	c.JSON(http.StatusOK, gin.H{"rows": len(members), "inserted": inserted, "updated": updated})
}

// MemberList is a page of a roster.
type MemberList struct {
	Items      []casework.RosterMember `json:"items"`
	NextCursor string                  `json:"next_cursor,omitempty"`
}

func (s *Server) listMembers(c *gin.Context) {
	limit := 100
	var errs domain.FieldErrors
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			errs = append(errs, queryError("limit", "must be an integer from 1 to 500"))
		} else {
			limit = n
		}
	}
	after := ""
	if cur := c.Query("cursor"); cur != "" {
		b, err := base64.RawURLEncoding.DecodeString(cur)
		if err != nil || len(b) > 100 {
			errs = append(errs, queryError("cursor", "is not a cursor this API issued"))
		}
		after = string(b)
	}
	if len(errs) > 0 {
		validationProblem(c, "Invalid query", errs)
		return
	}
	members, next, err := s.deps.Cases.Members(c.Request.Context(), c.Param("id"), after, limit)
	if err != nil {
		s.serverError(c, "list members", err)
		return
	}
	out := MemberList{Items: members}
	if next != "" {
		out.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(next))
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

// BatchAccepted answers a batch submission.
type BatchAccepted struct {
	BatchID   string `json:"batch_id"`
	Reference string `json:"batch_reference"`
	Rows      int    `json:"rows"`
	Status    string `json:"status"`
	StatusURL string `json:"status_url"`
	ReportURL string `json:"report_url"`
	// DocumentErrors are the rows whose documents cannot be used, found as
	// the batch was posted; the report lists them as invalid.
	DocumentErrors []RowErrors `json:"document_errors,omitempty"`
}

// RowErrors are one row's field errors.
type RowErrors struct {
	Row    int                 `json:"row"`
	Errors []domain.FieldError `json:"errors"`
}

type jsonBatch struct {
	BatchReference string            `json:"batch_reference"`
	Rows           []json.RawMessage `json:"rows"`
}

func (s *Server) submitBatch(c *gin.Context) {
	body, isCSV, ok := readUpload(c)
	if !ok {
		return
	}
	reference := c.GetHeader("Idempotency-Key")
	if reference == "" {
		reference = c.Query("batch_reference")
	}
	var rows []domain.BatchRow
	var err error
	format, raw := domain.BatchFormatCSV, body
	if isCSV {
		rows, err = domain.ParseBatchCSV(body, domain.MaxBatchRows)
	} else {
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) > 0 && trimmed[0] == '{' {
			// The object form carries the reference as a field: {"batch_reference": "…", "rows": [...]}.
			var jb jsonBatch
			if json.Unmarshal(trimmed, &jb) != nil || jb.Rows == nil {
				formatProblem(c, &domain.BatchFormatError{Code: "bad_json",
					Message: `a JSON batch is an array of rows, or {"batch_reference": "…", "rows": [...]}`})
				return
			}
			if reference == "" {
				reference = jb.BatchReference
			}
			arr, _ := json.Marshal(jb.Rows)
			trimmed = arr
		}
		rows, err = domain.ParseBatchJSON(trimmed, domain.MaxBatchRows)
		format, raw = domain.BatchFormatJSON, trimmed
	}
	if err != nil {
		formatProblem(c, err)
		return
	}
	reference = strings.TrimSpace(reference)
	if reference == "" || len(reference) > 100 {
		validationProblem(c, "Invalid batch", domain.FieldErrors{{Pointer: "/batch_reference", Code: domain.CodeRequired,
			Detail: "a batch_reference (Idempotency-Key header, batch_reference query parameter or field) " +
				"of at most 100 characters is required"}})
		return
	}
	batch, _, err := s.deps.Cases.SubmitBatch(c.Request.Context(), c.Param("id"), reference, format, raw, rows)
	if err != nil {
		s.serverError(c, "submit batch", err)
		return
	}
	url := "/v1/batches/" + batch.ID
	c.Header("Location", url)
	out := BatchAccepted{BatchID: batch.ID, Reference: batch.Reference, Rows: batch.TotalRows,
		Status: batch.Status, StatusURL: url, ReportURL: url + "/report"}
	for _, r := range batch.DocumentProblems {
		out.DocumentErrors = append(out.DocumentErrors, RowErrors{Row: r.Row, Errors: r.Errors})
	}
	c.JSON(http.StatusAccepted, out)
}

// loadOwnBatch loads a batch of the caller's chamber, or answers 404.
func (s *Server) loadOwnBatch(c *gin.Context) (casework.Batch, bool) {
	b, err := s.deps.Cases.ChamberBatch(c.Request.Context(), principal(c).ChamberID, c.Param("id"))
	if err != nil {
		s.fail(c, "get batch", err, "")
		return casework.Batch{}, false
	}
	return b, true
}

// BatchStatus is a batch's live progress.
type BatchStatus struct {
	BatchID     string     `json:"batch_id"`
	Reference   string     `json:"batch_reference"`
	Status      string     `json:"status"`
	Total       int        `json:"total"`
	Processed   int        `json:"processed"`
	Invalid     int        `json:"invalid"`
	Duplicate   int        `json:"duplicate"`
	Created     int        `json:"created"`
	Existing    int        `json:"existing"`
	Started     int        `json:"started"`
	Pending     int        `json:"pending"`
	InReview    int        `json:"in_review"`
	Issued      int        `json:"issued"`
	Refused     int        `json:"refused"`
	Ineligible  int        `json:"ineligible"`
	Withdrawn   int        `json:"withdrawn"`
	CreatedAt   time.Time  `json:"created_at"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
	ReportURL   string     `json:"report_url"`
}

func (s *Server) getBatch(c *gin.Context) {
	b, ok := s.loadOwnBatch(c)
	if !ok {
		return
	}
	p, err := s.deps.Cases.Progress(c.Request.Context(), b)
	if err != nil {
		s.serverError(c, "batch progress", err)
		return
	}
	out := BatchStatus{
		BatchID: b.ID, Reference: b.Reference, Status: b.Status, Total: b.TotalRows, Processed: p.Processed,
		Invalid: p.Invalid, Duplicate: p.Duplicate, Created: p.Created, Existing: p.Existing, Started: p.Started,
		InReview: p.ByStatus[domain.StatusAwaitingReview], Issued: p.ByStatus[domain.StatusIssued],
		Refused: p.ByStatus[domain.StatusRefused], Ineligible: p.ByStatus[domain.StatusIneligible],
		Withdrawn: p.ByStatus[domain.StatusWithdrawn], Pending: p.Pending(),
		CreatedAt: b.CreatedAt, CompletedAt: b.CompletedAt, ReportURL: "/v1/batches/" + b.ID + "/report",
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

// ReportRow is one row's outcome.
type ReportRow struct {
	Row           int                 `json:"row"`
	Outcome       string              `json:"outcome"`
	ApplicationID string              `json:"application_id,omitempty"`
	Reference     string              `json:"reference,omitempty"`
	Status        domain.Status       `json:"status,omitempty"`
	Errors        []domain.FieldError `json:"errors,omitempty"`
}

// BatchReport is every processed row of a batch.
type BatchReport struct {
	BatchID string      `json:"batch_id"`
	Status  string      `json:"status"`
	Total   int         `json:"total"`
	Rows    []ReportRow `json:"rows"`
}

func (s *Server) getBatchReport(c *gin.Context) {
	b, ok := s.loadOwnBatch(c)
	if !ok {
		return
	}
	rows, err := s.deps.Cases.Report(c.Request.Context(), b)
	if err != nil {
		s.serverError(c, "batch report", err)
		return
	}
	report := BatchReport{BatchID: b.ID, Status: b.Status, Total: b.TotalRows, Rows: make([]ReportRow, 0, len(rows))}
	for _, r := range rows {
		report.Rows = append(report.Rows, ReportRow{Row: r.Row, Outcome: r.Outcome, ApplicationID: r.ApplicationID,
			Reference: r.Reference, Status: r.Status, Errors: r.Errors})
	}
	c.Header("Cache-Control", "no-store")
	if wantsCSV(c.GetHeader("Accept")) {
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Status(http.StatusOK)
		_ = writeBatchReportCSV(c.Writer, report.Rows) // the status is sent; a broken connection is all that can fail
		return
	}
	c.JSON(http.StatusOK, report)
}

// wantsCSV reads the Accept header: CSV when it is preferred over JSON.
func wantsCSV(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, _, _ := mime.ParseMediaType(strings.TrimSpace(part))
		switch mt {
		case "text/csv", "application/csv":
			return true
		case "application/json":
			return false
		}
	}
	return false
}
