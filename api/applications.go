package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
	// Case handling: the SLA clock while the case is open, the open request
	// for information, and (staff only) who holds the case and the first of two decisions.
	SLA                *SLAView                `json:"sla,omitempty"`
	InformationRequest *InformationRequestView `json:"information_request,omitempty"`
	Assignee           string                  `json:"assignee,omitempty"`
	FirstDecision      *DecisionView           `json:"first_decision,omitempty"`
}

// SLAView is a case's decision clock.
type SLAView struct {
	DueAt            time.Time `json:"due_at"`
	RemainingSeconds int64     `json:"remaining_seconds"`
	Paused           bool      `json:"paused"`
	Escalated        bool      `json:"escalated"`
	Breached         bool      `json:"breached"`
}

// InformationRequestView is what the officer asked the applicant for.
type InformationRequestView struct {
	Message string    `json:"message"`
	DueAt   time.Time `json:"due_at"`
}

// slaView reads the clock from the workflow's live state, or from the read model.
func slaView(app db.Application, live *workflows.CaseState, now time.Time) *SLAView {
	if isClosedStatus(app.Status) && (live == nil || isClosedStatus(live.Status)) {
		return nil
	}
	v := &SLAView{DueAt: app.SLADueAt(), Paused: app.SLAPaused, Escalated: app.Escalated, Breached: app.Breached}
	remaining := app.SLADueAt().Sub(now)
	if app.SLAPaused {
		remaining = time.Duration(app.SLARemainingMS) * time.Millisecond
	}
	if live != nil && live.SLA != nil {
		v.DueAt, v.Paused, v.Escalated, v.Breached = live.SLA.DueAt, live.SLA.Paused, live.SLA.Escalated, live.SLA.Breached
		remaining = live.SLA.DueAt.Sub(now)
		if live.SLA.Paused {
			remaining = live.SLA.RemainingAtPause
			v.DueAt = now.Add(remaining) // due if the applicant answered now
		}
	}
	v.RemainingSeconds = int64(remaining.Seconds())
	return v
}

func isClosedStatus(status string) bool { return contains(db.ClosedStatuses, status) }

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
	// The e-visa (evisa.go): the signed seal (base64), the MRZ it carries, and a revocation.
	Seal       string          `json:"seal,omitempty"`
	MRZ        []string        `json:"mrz,omitempty"`
	Revoked    bool            `json:"revoked"`
	Revocation *RevocationView `json:"revocation,omitempty"`
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
		addEVisa(out.Visa, v.EVisa)
	}
	for _, e := range v.Timeline {
		tv := TimelineView{At: e.At(), Status: e.Status, Event: e.Event, Actor: e.Actor, Detail: e.Detail}
		if !staff && strings.Contains(e.Event, "screen") {
			tv.Detail = "" // screening details are for officers
		}
		if !staff && (strings.HasPrefix(e.Actor, "officer:") || strings.HasPrefix(e.Actor, "supervisor:")) {
			tv.Actor = "officer" // applicants see the role, not which official
		}
		out.Timeline = append(out.Timeline, tv)
	}
	out.SLA = slaView(app, v.Live, time.Now())
	if v.Live != nil && v.Live.InformationRequest != nil {
		out.InformationRequest = &InformationRequestView{Message: v.Live.InformationRequest.Message, DueAt: v.Live.InformationRequest.DueAt}
	}
	if staff {
		out.Assignee = app.Assignee.String
		if v.Live != nil {
			out.Assignee = v.Live.Assignee
			if fd := v.Live.FirstDecision; fd != nil {
				out.FirstDecision = &DecisionView{Outcome: fd.Outcome, ReasonCode: fd.ReasonCode, DecidedAt: fd.DecidedAt, DecidedBy: fd.DecidedBy}
			}
		}
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
	c.JSON(http.StatusOK, applicantStateView(st))
}

// DecisionBody is an officer's decision.
type DecisionBody struct {
	Decision   string `json:"decision"`
	ReasonCode string `json:"reason_code,omitempty"`
	Note       string `json:"note,omitempty"`
	// A request for information: the message to the applicant and the days to answer (default 14).
	Message   string `json:"message,omitempty"`
	DueInDays *int   `json:"due_in_days,omitempty"`
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
	case "request_information":
		if strings.TrimSpace(body.Message) == "" {
			errs = append(errs, domain.FieldError{Pointer: "/message", Code: "required", Detail: "a request for information needs a message to the applicant"})
		} else if utf8.RuneCountInString(body.Message) > workflows.MaxMessageLength {
			errs = append(errs, domain.FieldError{Pointer: "/message", Code: "too_long", Detail: "must be at most 2000 characters"})
		}
		if body.DueInDays != nil && (*body.DueInDays < 1 || *body.DueInDays > workflows.MaxInformationDays) {
			errs = append(errs, domain.FieldError{Pointer: "/due_in_days", Code: "out_of_range", Detail: "must be from 1 to 60"})
		}
	case "":
		errs = append(errs, domain.FieldError{Pointer: "/decision", Code: "required", Detail: "is required (approve, refuse or request_information)"})
	default:
		errs = append(errs, domain.FieldError{Pointer: "/decision", Code: "one_of", Detail: "must be approve, refuse or request_information"})
	}
	if utf8.RuneCountInString(body.Note) > 2000 {
		errs = append(errs, domain.FieldError{Pointer: "/note", Code: "too_long", Detail: "must be at most 2000 characters"})
	}
	if len(errs) > 0 {
		validationProblem(c, "Invalid decision", errs)
		return
	}
	p := principal(c)
	req := workflows.DecisionRequest{
		Decision: body.Decision, ReasonCode: body.ReasonCode, Note: body.Note, Message: body.Message,
		Actor: workflows.Actor{ID: p.UserID, Role: p.Role},
	}
	if body.DueInDays != nil {
		req.DueInDays = *body.DueInDays
	}
	st, err := s.deps.Cases.Decide(c.Request.Context(), id, req, c.GetHeader("Idempotency-Key"))
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
	var notAllowed *casework.NotAllowedError
	switch {
	case err == nil:
		return true
	case errors.Is(err, casework.ErrNotFound):
		writeProblem(c, Problem{Type: typeNotFound, Status: http.StatusNotFound, Detail: "no such case"})
	case errors.As(err, &transition):
		writeProblem(c, Problem{Type: typeConflict, Status: http.StatusConflict, Title: "Invalid transition", Detail: transition.Message})
	case errors.As(err, &request):
		writeProblem(c, Problem{Type: typeValidation, Status: http.StatusUnprocessableEntity, Detail: request.Message})
	case errors.As(err, &notAllowed):
		writeProblem(c, Problem{Type: typeForbidden, Status: http.StatusForbidden, Detail: notAllowed.Message})
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
	Assignee     string        `json:"assignee,omitempty"`
	// FirstDecision is the first of the two decisions a five-year visa needs.
	FirstDecision      *DecisionView           `json:"first_decision,omitempty"`
	InformationRequest *InformationRequestView `json:"information_request,omitempty"`
}

// applicantStateView is the state after an applicant's own action: staff
// details (screening, who holds or decided the case) stay with the staff.
func applicantStateView(st workflows.CaseState) CaseStateView {
	v := caseStateView(st)
	v.ScreeningHit, v.Assignee, v.FirstDecision = false, "", nil
	if v.Decision != nil {
		v.Decision.DecidedBy = ""
	}
	return v
}

func caseStateView(st workflows.CaseState) CaseStateView {
	out := CaseStateView{ID: st.ApplicationID, Product: st.Product, Status: st.Status, ScreeningHit: st.ScreeningHit, UpdatedAt: st.UpdatedAt,
		Assignee: st.Assignee}
	if fd := st.FirstDecision; fd != nil {
		out.FirstDecision = &DecisionView{Outcome: fd.Outcome, ReasonCode: fd.ReasonCode, DecidedAt: fd.DecidedAt, DecidedBy: fd.DecidedBy}
	}
	if ir := st.InformationRequest; ir != nil {
		out.InformationRequest = &InformationRequestView{Message: ir.Message, DueAt: ir.DueAt}
	}
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
	SLA          SLAView   `json:"sla"`
	Assignee     string    `json:"assignee,omitempty"`
}

var knownStatuses = []string{"received", "validating", "screening", "awaiting_review", "information_requested",
	"awaiting_second_approval", "issued", "refused", "withdrawn", "ineligible", "lapsed"}

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
	switch c.Query("escalated") {
	case "", "false":
	case "true":
		filter.EscalatedOnly = true
	default:
		errs = append(errs, queryError("escalated", "must be true or false"))
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
	now := time.Now()
	for _, r := range rows {
		out.Items = append(out.Items, CaseItem{
			ID: r.ID, Reference: r.Reference, Product: r.Product, Status: r.Status, ScreeningHit: r.ScreeningHit,
			SubmittedAt: time.UnixMilli(r.SubmittedAtMS).UTC(), UpdatedAt: time.UnixMilli(r.UpdatedAtMS).UTC(),
			SLADueAt: time.UnixMilli(r.SLADueAtMS).UTC(), Assignee: r.Assignee.String,
			SLA: queueSLA(r, now),
		})
	}
	if next != nil {
		out.NextCursor = encodeCursor(*next)
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

func queueSLA(r db.CaseSummary, now time.Time) SLAView {
	due := time.UnixMilli(r.SLADueAtMS).UTC()
	remaining := due.Sub(now)
	if r.SLAPaused {
		remaining = time.Duration(r.SLARemainMS) * time.Millisecond
	}
	return SLAView{DueAt: due, RemainingSeconds: int64(remaining.Seconds()), Paused: r.SLAPaused, Escalated: r.Escalated, Breached: r.Breached}
}

func queryError(param, detail string) domain.FieldError {
	return domain.FieldError{Pointer: "/query/" + param, Code: "invalid_parameter", Detail: param + " " + detail}
}

type cursorJSON struct {
	R int    `json:"r"`
	D int64  `json:"d"`
	I string `json:"i"`
}

func encodeCursor(c db.CaseCursor) string {
	b, _ := json.Marshal(cursorJSON{R: c.QueueRank, D: c.SLADueAtMS, I: c.ID})
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
	return db.CaseCursor{QueueRank: cj.R, SLADueAtMS: cj.D, ID: cj.I}, true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (s *Server) claimCase(c *gin.Context)   { s.assign(c, true) }
func (s *Server) releaseCase(c *gin.Context) { s.assign(c, false) }

func (s *Server) assign(c *gin.Context, claim bool) {
	id := c.Param("id")
	if !validID(id) {
		writeProblem(c, Problem{Type: typeNotFound, Status: http.StatusNotFound, Detail: "no such case"})
		return
	}
	p := principal(c)
	actor := workflows.Actor{ID: p.UserID, Role: p.Role}
	var st workflows.CaseState
	var err error
	if claim {
		st, err = s.deps.Cases.Claim(c.Request.Context(), id, actor)
	} else {
		st, err = s.deps.Cases.Release(c.Request.Context(), id, actor)
	}
	if !s.caseActionError(c, err) {
		return
	}
	c.JSON(http.StatusOK, caseStateView(st))
}

// InformationBody is the applicant's answer to a request for information.
type InformationBody struct {
	Message string `json:"message"`
}

func (s *Server) provideInformation(c *gin.Context) {
	var body InformationBody
	if !decodeJSON(c, &body) {
		return
	}
	if strings.TrimSpace(body.Message) == "" || utf8.RuneCountInString(body.Message) > 4*workflows.MaxMessageLength {
		validationProblem(c, "Invalid answer", domain.FieldErrors{{Pointer: "/message", Code: "required",
			Detail: "is required (at most 8000 characters)"}})
		return
	}
	st, err := s.deps.Cases.ProvideInformation(c.Request.Context(), c.Param("id"), workflows.InformationReply{
		Message: body.Message, Actor: workflows.Actor{ID: "applicant", Role: "applicant"},
	}, c.GetHeader("Idempotency-Key"))
	if !s.caseActionError(c, err) {
		return
	}
	c.JSON(http.StatusOK, applicantStateView(st))
}
