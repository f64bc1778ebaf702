package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
	"github.com/visad/visad/workflows"
)

// SubmitResponse answers an accepted application.
type SubmitResponse struct {
	ID          string `json:"id"`
	Reference   string `json:"reference"`
	Status      string `json:"status"`
	AccessToken string `json:"access_token"`
	StatusURL   string `json:"status_url"`
}

func (s *Server) submitApplication(c *gin.Context) {
	key := c.GetHeader("Idempotency-Key")
	if len(key) > 255 {
		validationProblem(c, "Invalid request", domain.FieldErrors{{Pointer: "/headers/Idempotency-Key", Code: "too_long", Detail: "must be at most 255 characters"}})
		return
	}
	var form domain.Application
	if !decodeJSON(c, &form) {
		return
	}
	res, err := s.deps.Cases.Submit(c.Request.Context(), form, key)
	var fieldErrs domain.FieldErrors
	var dup *db.DuplicateOpenError
	switch {
	case errors.As(err, &fieldErrs):
		validationProblem(c, "Invalid application", fieldErrs)
		return
	case errors.As(err, &dup):
		writeProblem(c, Problem{Type: typeDuplicate, Status: http.StatusConflict, Title: "Duplicate application",
			Detail:            "an open application for this passport and product already exists: " + dup.Reference,
			ExistingReference: dup.Reference})
		return
	case errors.Is(err, db.ErrIdempotencyMismatch):
		writeProblem(c, Problem{Type: typeIdempotency, Status: http.StatusUnprocessableEntity,
			Detail: "this Idempotency-Key was already used with a different request"})
		return
	case err != nil:
		s.serverError(c, "submit", err)
		return
	}
	app := res.Application
	if res.Created {
		s.deps.Metrics.Submitted(app.Product)
	}
	url := "/v1/applications/" + app.ID
	c.Header("Location", url)
	c.JSON(http.StatusAccepted, SubmitResponse{
		ID: app.ID, Reference: app.Reference, Status: app.Status, AccessToken: res.AccessToken, StatusURL: url,
	})
}

// ApplicationView is a case as the applicant sees it; staff also get the
// form, the screening result and who decided.
type ApplicationView struct {
	ID          string              `json:"id"`
	Reference   string              `json:"reference"`
	Product     string              `json:"product"`
	Status      string              `json:"status"`
	SubmittedAt time.Time           `json:"submitted_at"`
	UpdatedAt   time.Time           `json:"updated_at"`
	Decision    *DecisionView       `json:"decision,omitempty"`
	Visa        *VisaView           `json:"visa,omitempty"`
	Ineligible  []ProblemField      `json:"ineligible_reasons,omitempty"`
	Timeline    []TimelineView      `json:"timeline"`
	Screening   *ScreeningView      `json:"screening,omitempty"`
	Application *domain.Application `json:"application,omitempty"`
}

// DecisionView is the decision on a case.
type DecisionView struct {
	Outcome    string    `json:"outcome"`
	ReasonCode string    `json:"reason_code,omitempty"`
	DecidedAt  time.Time `json:"decided_at"`
	DecidedBy  string    `json:"decided_by,omitempty"`
}

// VisaView is an issued visa.
type VisaView struct {
	VisaNumber  string `json:"visa_number"`
	ValidFrom   string `json:"valid_from"`
	ValidUntil  string `json:"valid_until"`
	Entries     string `json:"entries"`
	MaxStayDays int    `json:"max_stay_days"`
}

// TimelineView is one event of a case.
type TimelineView struct {
	At     time.Time `json:"at"`
	Status string    `json:"status"`
	Event  string    `json:"event"`
	Actor  string    `json:"actor"`
	Detail string    `json:"detail,omitempty"`
}

// ScreeningView is the watchlist screening outcome (staff only).
type ScreeningView struct {
	Hit bool `json:"hit"`
}

func (s *Server) getApplication(c *gin.Context) {
	id := c.Param("id")
	if !validID(id) {
		writeProblem(c, Problem{Type: typeNotFound, Status: http.StatusNotFound, Detail: "no such application"})
		return
	}
	view, err := s.deps.Cases.Get(c.Request.Context(), id)
	if errors.Is(err, casework.ErrNotFound) {
		writeProblem(c, Problem{Type: typeNotFound, Status: http.StatusNotFound, Detail: "no such application"})
		return
	}
	if err != nil {
		s.serverError(c, "get application", err)
		return
	}
	p := principal(c)
	if p.Role == RoleChamber && view.Application.EndorsedBy.String != p.ChamberID {
		// Chambers see the applications they submitted, and nothing else exists for them.
		writeProblem(c, Problem{Type: typeNotFound, Status: http.StatusNotFound, Detail: "no such application"})
		return
	}
	staff := p.Role == RoleOfficer || p.Role == RoleSupervisor
	out, err := s.applicationView(view, staff)
	if err != nil {
		s.serverError(c, "get application", err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

func (s *Server) applicationView(v casework.View, staff bool) (ApplicationView, error) {
	app := v.Application
	out := ApplicationView{
		ID: app.ID, Reference: app.Reference, Product: app.Product, Status: app.Status,
		SubmittedAt: app.SubmittedAt(), UpdatedAt: app.UpdatedAt(), Timeline: []TimelineView{},
	}
	// The workflow's live state wins over the read model while the case is open.
	if v.Live != nil && v.Live.Status != "" {
		out.Status = v.Live.Status
		if !v.Live.UpdatedAt.IsZero() {
			out.UpdatedAt = v.Live.UpdatedAt
		}
		for _, e := range v.Live.Ineligible {
			out.Ineligible = append(out.Ineligible, ProblemField{Pointer: e.Pointer, Detail: e.Detail, Code: e.Code})
		}
	}
	if out.Ineligible == nil && app.Ineligible != "" {
		var reasons []domain.FieldError
		if json.Unmarshal([]byte(app.Ineligible), &reasons) == nil {
			for _, e := range reasons {
				out.Ineligible = append(out.Ineligible, ProblemField{Pointer: e.Pointer, Detail: e.Detail, Code: e.Code})
			}
		}
	}
	if app.Decision.Valid {
		d := &DecisionView{Outcome: app.Decision.String, ReasonCode: app.ReasonCode.String}
		if app.DecidedAtMS.Valid {
			d.DecidedAt = time.UnixMilli(app.DecidedAtMS.Int64).UTC()
		}
		if staff {
			d.DecidedBy = app.DecidedBy.String
		}
		out.Decision = d
	}
	if v.Visa != nil {
		out.Visa = &VisaView{VisaNumber: v.Visa.VisaNumber, ValidFrom: v.Visa.ValidFrom, ValidUntil: v.Visa.ValidUntil,
			Entries: v.Visa.Entries, MaxStayDays: v.Visa.MaxStayDays}
	}
	for _, e := range v.Timeline {
		tv := TimelineView{At: e.At(), Status: e.Status, Event: e.Event, Actor: e.Actor, Detail: e.Detail}
		if !staff && strings.Contains(e.Event, "screen") {
			tv.Detail = "" // screening details are for officers
		}
		if !staff && e.Actor != "applicant" && e.Actor != "system" {
			tv.Actor = "officer"
		}
		out.Timeline = append(out.Timeline, tv)
	}
	if staff {
		out.Screening = &ScreeningView{Hit: app.ScreeningHit || (v.Live != nil && v.Live.ScreeningHit)}
		form, err := s.deps.Cases.Form(app)
		if err != nil {
			return out, err
		}
		out.Application = &form
	}
	return out, nil
}

func (s *Server) withdrawApplication(c *gin.Context) {
	id := c.Param("id")
	st, err := s.deps.Cases.Withdraw(c.Request.Context(), id, workflows.WithdrawRequest{
		Actor: workflows.Actor{ID: "applicant", Role: "applicant"},
	}, c.GetHeader("Idempotency-Key"))
	if !s.caseActionError(c, err) {
		return
	}
	c.JSON(http.StatusOK, caseStateView(st))
}

// DecisionBody is an officer's decision.
type DecisionBody struct {
	Decision   string `json:"decision"`
	ReasonCode string `json:"reason_code,omitempty"`
	Note       string `json:"note,omitempty"`
}

func (s *Server) decide(c *gin.Context) {
	id := c.Param("id")
	if !validID(id) {
		writeProblem(c, Problem{Type: typeNotFound, Status: http.StatusNotFound, Detail: "no such case"})
		return
	}
	var body DecisionBody
	if !decodeJSON(c, &body) {
		return
	}
	var errs domain.FieldErrors
	switch body.Decision {
	case "approve":
	case "refuse":
		if body.ReasonCode == "" {
			errs = append(errs, domain.FieldError{Pointer: "/reason_code", Code: "required", Detail: "a refusal needs a reason code: " + strings.Join(domain.RefusalReasons, ", ")})
		} else if !domain.IsRefusalReason(body.ReasonCode) {
			errs = append(errs, domain.FieldError{Pointer: "/reason_code", Code: "one_of", Detail: "must be one of " + strings.Join(domain.RefusalReasons, ", ")})
		}
	case "":
		errs = append(errs, domain.FieldError{Pointer: "/decision", Code: "required", Detail: "is required (approve or refuse)"})
	default:
		errs = append(errs, domain.FieldError{Pointer: "/decision", Code: "one_of", Detail: "must be approve or refuse"})
	}
	if len(body.Note) > 2000 {
		errs = append(errs, domain.FieldError{Pointer: "/note", Code: "too_long", Detail: "must be at most 2000 characters"})
	}
	if len(errs) > 0 {
		validationProblem(c, "Invalid decision", errs)
		return
	}
	p := principal(c)
	st, err := s.deps.Cases.Decide(c.Request.Context(), id, workflows.DecisionRequest{
		Decision: body.Decision, ReasonCode: body.ReasonCode, Note: body.Note,
		Actor: workflows.Actor{ID: p.UserID, Role: p.Role},
	}, c.GetHeader("Idempotency-Key"))
	if !s.caseActionError(c, err) {
		return
	}
	s.deps.Metrics.Decided(body.Decision)
	c.JSON(http.StatusOK, caseStateView(st))
}

// caseActionError answers the problem for a failed case action; true means no error.
func (s *Server) caseActionError(c *gin.Context, err error) bool {
	var transition *casework.TransitionError
	var request *casework.RequestError
	switch {
	case err == nil:
		return true
	case errors.Is(err, casework.ErrNotFound):
		writeProblem(c, Problem{Type: typeNotFound, Status: http.StatusNotFound, Detail: "no such case"})
	case errors.As(err, &transition):
		writeProblem(c, Problem{Type: typeConflict, Status: http.StatusConflict, Title: "Invalid transition", Detail: transition.Message})
	case errors.As(err, &request):
		writeProblem(c, Problem{Type: typeValidation, Status: http.StatusUnprocessableEntity, Detail: request.Message})
	default:
		s.serverError(c, "case action", err)
	}
	return false
}

// CaseStateView is a case's state after an action.
type CaseStateView struct {
	ID           string        `json:"id"`
	Product      string        `json:"product"`
	Status       string        `json:"status"`
	ScreeningHit bool          `json:"screening_hit"`
	Decision     *DecisionView `json:"decision,omitempty"`
	Visa         *VisaView     `json:"visa,omitempty"`
	UpdatedAt    time.Time     `json:"updated_at"`
}

func caseStateView(st workflows.CaseState) CaseStateView {
	out := CaseStateView{ID: st.ApplicationID, Product: st.Product, Status: st.Status, ScreeningHit: st.ScreeningHit, UpdatedAt: st.UpdatedAt}
	if st.Decision != nil {
		out.Decision = &DecisionView{Outcome: st.Decision.Outcome, ReasonCode: st.Decision.ReasonCode,
			DecidedAt: st.Decision.DecidedAt, DecidedBy: st.Decision.DecidedBy}
	}
	if st.Visa != nil {
		out.Visa = &VisaView{VisaNumber: st.Visa.VisaNumber, ValidFrom: st.Visa.ValidFrom, ValidUntil: st.Visa.ValidUntil,
			Entries: st.Visa.Entries, MaxStayDays: st.Visa.MaxStayDays}
	}
	return out
}

// CaseListView is a page of the queue.
type CaseListView struct {
	Items      []CaseItem `json:"items"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

// CaseItem is one line of the queue.
type CaseItem struct {
	ID           string    `json:"id"`
	Reference    string    `json:"reference"`
	Product      string    `json:"product"`
	Status       string    `json:"status"`
	ScreeningHit bool      `json:"screening_hit"`
	SubmittedAt  time.Time `json:"submitted_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	SLADueAt     time.Time `json:"sla_due_at"`
}

var knownStatuses = []string{"received", "validating", "screening", "awaiting_review", "issued", "refused", "withdrawn", "ineligible"}

func (s *Server) listCases(c *gin.Context) {
	var errs domain.FieldErrors
	filter := db.CaseFilter{Status: c.Query("status"), Product: c.Query("product"), Limit: 50}
	if filter.Status != "" && !contains(knownStatuses, filter.Status) {
		errs = append(errs, queryError("status", "must be one of "+strings.Join(knownStatuses, ", ")))
	}
	if filter.Product != "" {
		if _, ok := domain.LookupProduct(domain.Product(filter.Product)); !ok {
			errs = append(errs, queryError("product", "must be business_2y or business_5y_multi"))
		}
	}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 200 {
			errs = append(errs, queryError("limit", "must be an integer from 1 to 200"))
		} else {
			filter.Limit = n
		}
	}
	if cur := c.Query("cursor"); cur != "" {
		after, ok := decodeCursor(cur)
		if !ok {
			errs = append(errs, queryError("cursor", "is not a cursor this API issued"))
		} else {
			filter.After = &after
		}
	}
	if len(errs) > 0 {
		validationProblem(c, "Invalid query", errs)
		return
	}
	rows, next, err := s.deps.Store.ListCases(c.Request.Context(), filter)
	if err != nil {
		s.serverError(c, "list cases", err)
		return
	}
	out := CaseListView{Items: make([]CaseItem, 0, len(rows))}
	for _, r := range rows {
		out.Items = append(out.Items, CaseItem{
			ID: r.ID, Reference: r.Reference, Product: r.Product, Status: r.Status, ScreeningHit: r.ScreeningHit,
			SubmittedAt: time.UnixMilli(r.SubmittedAtMS).UTC(), UpdatedAt: time.UnixMilli(r.UpdatedAtMS).UTC(),
			SLADueAt: time.UnixMilli(r.SLADueAtMS).UTC(),
		})
	}
	if next != nil {
		out.NextCursor = encodeCursor(*next)
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

func queryError(param, detail string) domain.FieldError {
	return domain.FieldError{Pointer: "/query/" + param, Code: "invalid_parameter", Detail: param + " " + detail}
}

type cursorJSON struct {
	D int64  `json:"d"`
	I string `json:"i"`
}

func encodeCursor(c db.CaseCursor) string {
	b, _ := json.Marshal(cursorJSON{D: c.SLADueAtMS, I: c.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (db.CaseCursor, bool) {
	if len(s) > 200 {
		return db.CaseCursor{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return db.CaseCursor{}, false
	}
	var cj cursorJSON
	if json.Unmarshal(b, &cj) != nil || !validID(cj.I) {
		return db.CaseCursor{}, false
	}
	return db.CaseCursor{SLADueAtMS: cj.D, ID: cj.I}, true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
