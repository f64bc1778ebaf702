package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
)

// SubmitResponse answers an accepted application.
type SubmitResponse struct {
	ID          string        `json:"id"`
	Reference   string        `json:"reference"`
	Status      domain.Status `json:"status"`
	AccessToken string        `json:"access_token"`
	StatusURL   string        `json:"status_url"`
}

func (s *Server) submitApplication(c *gin.Context) {
	key := c.GetHeader("Idempotency-Key")
	if len(key) > 255 {
		validationProblem(
			c,
			"Invalid request",
			domain.FieldErrors{
				{Pointer: "/headers/Idempotency-Key", Code: "too_long", Detail: "must be at most 255 characters"},
			},
		)
		return
	}
	var form domain.Application
	if !decodeJSON(c, &form) {
		return
	}
	res, err := s.deps.Cases.Submit(c.Request.Context(), form, key)
	if err != nil {
		s.fail(c, "submit", err, "Invalid application")
		return
	}
	if res.Created {
		s.deps.Metrics.Submitted(res.Product)
	}
	url := "/v1/applications/" + res.ID
	c.Header("Location", url)
	c.JSON(http.StatusAccepted, SubmitResponse{
		ID: res.ID, Reference: res.Reference, Status: res.Status, AccessToken: res.AccessToken, StatusURL: url,
	})
}

// ApplicationView is a case as the applicant sees it; staff also get the
// form, the screening result and who decided.
type ApplicationView struct {
	ID          string              `json:"id"`
	Reference   string              `json:"reference"`
	Product     domain.Product      `json:"product"`
	Status      domain.Status       `json:"status"`
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
	// SuspectedDuplicate (staff only) lists the other open applications for the same passport and product.
	SuspectedDuplicate []string `json:"suspected_duplicate,omitempty"`
	// SecondDecision is the second decision when it disagreed with the first (status disagreement).
	SecondDecision *DecisionView `json:"second_decision,omitempty"`
	// MissingDocuments (staff only) are the checklist's documents the open case still lacks.
	MissingDocuments []string `json:"missing_documents,omitempty"`
}

// SLAView is a case's decision clock.
type SLAView struct {
	DueAt            time.Time `json:"due_at"`
	RemainingSeconds int64     `json:"remaining_seconds"`
	Paused           bool      `json:"paused"`
	Escalated        bool      `json:"escalated"`
	Breached         bool      `json:"breached"`
}

// InformationRequestView is what the officer (or, for missing documents, the system) asked the applicant for.
type InformationRequestView struct {
	Message string    `json:"message"`
	DueAt   time.Time `json:"due_at"`
	// Documents are what to upload with the answer: requirement codes (a kind, or "a_or_b").
	Documents []string `json:"documents,omitempty"`
}

// slaView is the clock as of now.
func slaView(sla domain.SLA, now time.Time) SLAView {
	return SLAView{DueAt: sla.DueAt, RemainingSeconds: int64(sla.Remaining(now).Seconds()), Paused: sla.Paused,
		Escalated: sla.Escalated, Breached: sla.Breached}
}

// DecisionView is the decision on a case; applicants do not see who decided.
type DecisionView struct {
	Outcome    domain.Outcome    `json:"outcome"`
	ReasonCode domain.ReasonCode `json:"reason_code,omitempty"`
	DecidedAt  time.Time         `json:"decided_at"`
	DecidedBy  string            `json:"decided_by,omitempty"`
}

func decisionView(d *domain.Decision, staff bool) *DecisionView {
	if d == nil {
		return nil
	}
	v := &DecisionView{Outcome: d.Outcome, ReasonCode: d.ReasonCode, DecidedAt: d.DecidedAt}
	if staff {
		v.DecidedBy = d.DecidedBy
	}
	return v
}

// VisaView is an issued visa with its e-visa (evisa.go): the signed seal
// (base64), the MRZ it carries, and a revocation.
type VisaView struct {
	VisaNumber  string          `json:"visa_number"`
	ValidFrom   string          `json:"valid_from"`
	ValidUntil  string          `json:"valid_until"`
	Entries     string          `json:"entries"`
	MaxStayDays int             `json:"max_stay_days"`
	Seal        string          `json:"seal,omitempty"`
	MRZ         []string        `json:"mrz,omitempty"`
	Revoked     bool            `json:"revoked"`
	Revocation  *RevocationView `json:"revocation,omitempty"`
}

func visaView(v *domain.Visa, ev *casework.EVisa) *VisaView {
	if v == nil {
		return nil
	}
	out := &VisaView{VisaNumber: v.VisaNumber, ValidFrom: v.ValidFrom, ValidUntil: v.ValidUntil, Entries: v.Entries,
		MaxStayDays: v.MaxStayDays}
	addEVisa(out, ev)
	return out
}

// TimelineView is one event of a case.
type TimelineView struct {
	At     time.Time     `json:"at"`
	Status domain.Status `json:"status"`
	Event  domain.Event  `json:"event"`
	Actor  string        `json:"actor"`
	Detail string        `json:"detail,omitempty"`
}

// ScreeningView is the watchlist screening outcome (staff only).
type ScreeningView struct {
	Hit bool `json:"hit"`
	// Of the best match, while the case's live state is available: its
	// score (see docs/screening.md) and the watchlist entry's reference.
	Score float64 `json:"score,omitempty"`
	Entry string  `json:"entry,omitempty"`
}

func (s *Server) getApplication(c *gin.Context) {
	id := c.Param("id")
	if !validID(id) {
		writeProblem(c, Problem{Type: typeNotFound, Status: http.StatusNotFound, Detail: "no such application"})
		return
	}
	cs, err := s.deps.Cases.Get(c.Request.Context(), id)
	p := principal(c)
	if err == nil && p.Role == domain.RoleChamber && cs.EndorsedBy != p.ChamberID {
		// Chambers see the applications they submitted, and nothing else exists for them.
		writeProblem(c, Problem{Type: typeNotFound, Status: http.StatusNotFound, Detail: "no such application"})
		return
	}
	if err != nil {
		s.fail(c, "get application", err, "")
		return
	}
	out, err := s.applicationView(c.Request.Context(), cs, p)
	if err != nil {
		s.serverError(c, "get application", err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

// applicationView shows a case to staff, or to its applicant or chamber:
// they see neither the form, the screening, who holds the case, nor which
// official acted.
func (s *Server) applicationView(ctx context.Context, cs casework.Case, p Principal) (ApplicationView, error) {
	staff := p.Role.HandlesCases()
	rosterDetail := domain.SeesRosterDetail(p.Role)
	out := ApplicationView{
		ID: cs.ID, Reference: cs.Reference, Product: cs.Product, Status: cs.Status, SubmittedAt: cs.SubmittedAt,
		UpdatedAt: cs.UpdatedAt, Timeline: []TimelineView{}, Decision: decisionView(cs.Decision, staff),
		Visa: visaView(cs.Visa, cs.EVisa),
	}
	reasons := cs.Ineligible
	if !rosterDetail {
		reasons = domain.ApplicantReasons(reasons)
	}
	for _, e := range reasons {
		out.Ineligible = append(out.Ineligible, ProblemField{Pointer: e.Pointer, Detail: e.Detail, Code: e.Code})
	}
	for _, e := range cs.Timeline {
		tv := TimelineView{At: e.At, Status: e.Status, Event: e.Event, Actor: e.Actor, Detail: e.Detail}
		if !staff {
			tv.Actor = domain.PublicActor(e.Actor)
			if e.Event.StaffOnlyDetail() {
				tv.Detail = ""
			}
		}
		out.Timeline = append(out.Timeline, tv)
	}
	if cs.SLA != nil {
		sla := slaView(*cs.SLA, time.Now())
		out.SLA = &sla
	}
	out.InformationRequest = informationRequestView(cs.InformationRequest)
	if staff {
		out.Assignee = cs.Assignee
		out.FirstDecision = decisionView(cs.FirstDecision, true)
		out.SuspectedDuplicate = cs.SuspectedDuplicate
		out.SecondDecision = decisionView(cs.SecondDecision, true)
		out.MissingDocuments = cs.MissingDocuments
		out.Screening = &ScreeningView{Hit: cs.ScreeningHit, Score: cs.ScreeningScore, Entry: cs.ScreeningEntry}
		form, err := s.deps.Cases.Form(ctx, p.Actor(), cs)
		if err != nil {
			return out, err
		}
		out.Application = &form
	}
	return out, nil
}

func informationRequestView(ir *casework.InformationRequest) *InformationRequestView {
	if ir == nil {
		return nil
	}
	return &InformationRequestView{Message: ir.Message, DueAt: ir.DueAt, Documents: ir.Documents}
}

func (s *Server) withdrawApplication(c *gin.Context) {
	cs, err := s.deps.Cases.Withdraw(c.Request.Context(), c.Param("id"), c.GetHeader("Idempotency-Key"))
	if err != nil {
		s.fail(c, "case action", err, "")
		return
	}
	c.JSON(http.StatusOK, caseStateView(cs, false))
}

// DecisionBody is an officer's decision.
type DecisionBody struct {
	Decision   domain.Outcome    `json:"decision"`
	ReasonCode domain.ReasonCode `json:"reason_code,omitempty"`
	Note       string            `json:"note,omitempty"`
	// A request for information: the message to the applicant and the days to answer (default 14).
	Message   string `json:"message,omitempty"`
	DueInDays *int   `json:"due_in_days,omitempty"`
	// Documents a request for information asks the applicant to upload (kinds of document).
	Documents []domain.DocumentKind `json:"documents,omitempty"`
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
	p := principal(c)
	req := domain.DecisionRequest{Decision: body.Decision, ReasonCode: body.ReasonCode, Note: body.Note,
		Message: body.Message, DueInDays: body.DueInDays, Actor: p.Actor(), Documents: body.Documents}
	if errs := domain.CheckDecision(req); len(errs) > 0 {
		validationProblem(c, "Invalid decision", errs)
		return
	}
	cs, err := s.deps.Cases.Decide(c.Request.Context(), id, req, c.GetHeader("Idempotency-Key"))
	if err != nil {
		s.fail(c, "case action", err, "Invalid decision")
		return
	}
	s.deps.Metrics.Decided(body.Decision)
	c.JSON(http.StatusOK, caseStateView(cs, true))
}

// CaseStateView is a case's state after an action.
type CaseStateView struct {
	ID           string         `json:"id"`
	Product      domain.Product `json:"product"`
	Status       domain.Status  `json:"status"`
	ScreeningHit bool           `json:"screening_hit"`
	Decision     *DecisionView  `json:"decision,omitempty"`
	Visa         *VisaView      `json:"visa,omitempty"`
	UpdatedAt    time.Time      `json:"updated_at"`
	Assignee     string         `json:"assignee,omitempty"`
	// FirstDecision is the first of the two decisions a five-year visa needs.
	FirstDecision      *DecisionView           `json:"first_decision,omitempty"`
	SecondDecision     *DecisionView           `json:"second_decision,omitempty"`
	InformationRequest *InformationRequestView `json:"information_request,omitempty"`
}

// caseStateView is the state after an action; after an applicant's own,
// staff details (screening, who holds or decided the case) stay with the staff.
func caseStateView(cs casework.Case, staff bool) CaseStateView {
	out := CaseStateView{ID: cs.ID, Product: cs.Product, Status: cs.Status, UpdatedAt: cs.UpdatedAt,
		Visa:     visaView(cs.Visa, cs.EVisa),
		Decision: decisionView(cs.Decision, staff), InformationRequest: informationRequestView(cs.InformationRequest)}
	if staff {
		out.ScreeningHit, out.Assignee = cs.ScreeningHit, cs.Assignee
		out.FirstDecision = decisionView(cs.FirstDecision, true)
		out.SecondDecision = decisionView(cs.SecondDecision, true)
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
	ID           string         `json:"id"`
	Reference    string         `json:"reference"`
	Product      domain.Product `json:"product"`
	Status       domain.Status  `json:"status"`
	ScreeningHit bool           `json:"screening_hit"`
	SubmittedAt  time.Time      `json:"submitted_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
	SLADueAt     time.Time      `json:"sla_due_at"`
	SLA          SLAView        `json:"sla"`
	Assignee     string         `json:"assignee,omitempty"`
	// SuspectedDuplicate lists the other open applications for the same passport and product.
	SuspectedDuplicate []string `json:"suspected_duplicate,omitempty"`
}

// escalatedParam is the queue's filter on escalated cases; it names a query
// parameter, not the timeline event.
const escalatedParam = "escalated" //vocabulary:ignore: a query parameter

func (s *Server) listCases(c *gin.Context) {
	var errs domain.FieldErrors
	filter := casework.QueueFilter{Status: domain.Status(c.Query("status")), Product: domain.Product(c.Query("product")),
		Limit: 50}
	if filter.Status != "" && !filter.Status.IsKnown() {
		errs = append(errs, queryError("status", "must be one of "+joinStatuses(domain.AllStatuses)))
	}
	if filter.Product != "" {
		if _, ok := domain.LookupProduct(filter.Product); !ok {
			errs = append(errs, queryError("product", "must be business_2y or business_5y_multi"))
		}
	}
	switch c.Query(escalatedParam) {
	case "", "false":
	case "true":
		filter.EscalatedOnly = true
	default:
		errs = append(errs, queryError(escalatedParam, "must be true or false"))
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
		if !casework.ValidQueueCursor(cur) {
			errs = append(errs, queryError("cursor", "is not a cursor this API issued"))
		}
		filter.Cursor = cur
	}
	if len(errs) > 0 {
		validationProblem(c, "Invalid query", errs)
		return
	}
	page, err := s.deps.Cases.Queue(c.Request.Context(), filter)
	if err != nil {
		s.fail(c, "list cases", err, "Invalid query")
		return
	}
	out := CaseListView{Items: make([]CaseItem, 0, len(page.Items)), NextCursor: page.NextCursor}
	now := time.Now()
	for _, r := range page.Items {
		out.Items = append(out.Items, CaseItem{
			ID: r.ID, Reference: r.Reference, Product: r.Product, Status: r.Status, ScreeningHit: r.ScreeningHit,
			SubmittedAt: r.SubmittedAt, UpdatedAt: r.UpdatedAt, SLADueAt: r.SLA.DueAt, Assignee: r.Assignee,
			SLA: slaView(r.SLA, now), SuspectedDuplicate: r.SuspectedDuplicate,
		})
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

func joinStatuses(statuses []domain.Status) string {
	words := make([]string, len(statuses))
	for i, s := range statuses {
		words[i] = string(s)
	}
	return strings.Join(words, ", ")
}

func queryError(param, detail string) domain.FieldError {
	return domain.FieldError{Pointer: "/query/" + param, Code: "invalid_parameter", Detail: param + " " + detail}
}

func (s *Server) claimCase(c *gin.Context)   { s.assign(c, true) }
func (s *Server) releaseCase(c *gin.Context) { s.assign(c, false) }

func (s *Server) assign(c *gin.Context, claim bool) {
	id := c.Param("id")
	if !validID(id) {
		writeProblem(c, Problem{Type: typeNotFound, Status: http.StatusNotFound, Detail: "no such case"})
		return
	}
	actor := principal(c).Actor()
	var cs casework.Case
	var err error
	if claim {
		cs, err = s.deps.Cases.Claim(c.Request.Context(), id, actor)
	} else {
		cs, err = s.deps.Cases.Release(c.Request.Context(), id, actor)
	}
	if err != nil {
		s.fail(c, "case action", err, "")
		return
	}
	c.JSON(http.StatusOK, caseStateView(cs, true))
}

// InformationBody is the applicant's answer to a request for information:
// a message, uploads (ids from POST /v1/uploads), or both.
type InformationBody struct {
	Message string   `json:"message"`
	Uploads []string `json:"uploads,omitempty"`
}

func (s *Server) provideInformation(c *gin.Context) {
	var body InformationBody
	if !decodeJSON(c, &body) {
		return
	}
	if errs := domain.CheckDocumentAnswer(body.Message, body.Uploads); len(errs) > 0 {
		validationProblem(c, "Invalid answer", errs)
		return
	}
	cs, err := s.deps.Cases.ProvideInformation(c.Request.Context(), c.Param("id"), body.Message, body.Uploads,
		c.GetHeader("Idempotency-Key"))
	if err != nil {
		s.fail(c, "case action", err, "Invalid answer")
		return
	}
	c.JSON(http.StatusOK, caseStateView(cs, false))
}
