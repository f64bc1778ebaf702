package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
)

// The case page: the decrypted form, screening, the chamber's endorsement,
// the timeline and the decision clock, and the actions the case takes now.

type caseDetail struct {
	ID, Reference, Product, Status string
	StatusCode                     domain.Status
	Closed                         bool
	Assignee                       string
	Mine                           bool
	Clock                          *clockView
	Submitted                      string
	Form                           domain.Application
	Hit                            bool
	Score                          string
	Entry                          string
	EndorsedBy                     string
	Timeline                       []consoleEvent
	Request                        *requestView
	First, Second, Decision        *decisionView
	Visa                           *domain.Visa
	Duplicates                     []string
	// Documents are the case's supporting documents; Missing what its checklist still lacks, in words.
	Documents []documentView
	Missing   []string
	// DocumentChoices are the kinds a request for information may ask for.
	DocumentChoices []choice
	// The actions on offer: each is still checked by the case's rules when taken.
	MayClaim, MayRelease bool
	Decide               bool // approve, refuse, request information
	SecondApproval       bool // a supervisor's second decision on a five-year visa
	Resolve              bool // a supervisor settles two decisions that disagree
	FirstDeciderIsMe     bool
	Reasons              []choice
	Values               map[string]string
	Fields               map[string]string // field id: inline error
	Refresh              string
}

type consoleEvent struct {
	At, Event, Actor, Detail, Status string
}

type requestView struct {
	Message, Due string
	Documents    []string // what the request asks to upload, in words
}

type decisionView struct {
	Outcome, Reason, By, At string
}

func (c *CaseConsole) decisionView(pg *officerPage, d *domain.Decision) *decisionView {
	if d == nil {
		return nil
	}
	v := &decisionView{Outcome: words(d.Outcome), By: d.DecidedBy, At: pg.DateTime(d.DecidedAt)}
	if d.ReasonCode != "" {
		v.Reason = pg.T("reason." + string(d.ReasonCode))
	}
	return v
}

// loadCase reads the case for the page; false when it answered already.
func (c *CaseConsole) loadCase(w http.ResponseWriter, r *http.Request, me staffMember) (casework.Case, bool) {
	id := r.PathValue("id")
	if !domain.IsApplicationID(id) {
		c.notFound(w, r, me)
		return casework.Case{}, false
	}
	cs, err := c.cases.Get(r.Context(), id)
	if errors.Is(err, casework.ErrNotFound) {
		c.notFound(w, r, me)
		return casework.Case{}, false
	}
	if err != nil {
		c.serverError(w, r, me, "load case", err)
		return casework.Case{}, false
	}
	return cs, true
}

// caseNotices are the confirmations after an action (?done=…): fixed words, never the request's.
var caseNotices = map[string]string{
	"claim":    "You claimed this case. It is yours until you release it or decide it.",
	"release":  "You released this case. It is back in the queue for anyone to claim.",
	"decision": "Your decision is recorded.",
}

func (c *CaseConsole) showCase(w http.ResponseWriter, r *http.Request, me staffMember) {
	cs, ok := c.loadCase(w, r, me)
	if !ok {
		return
	}
	pg := c.newPage(w, r, me, "Case "+cs.Reference)
	pg.Notice = caseNotices[r.URL.Query().Get("done")]
	c.renderCase(w, r, me, pg, cs, http.StatusOK, nil)
}

func (c *CaseConsole) renderCase(w http.ResponseWriter, r *http.Request, me staffMember, pg *officerPage,
	cs casework.Case, status int, values map[string]string) {
	pg.Nav = "queue"
	form, err := c.cases.Form(r.Context(), me.Actor(), cs)
	if err != nil {
		c.serverError(w, r, me, "open form", err)
		return
	}
	v := caseDetail{ID: cs.ID, Reference: cs.Reference, Product: productTitle(cs.Product), Status: words(cs.Status),
		StatusCode: cs.Status, Closed: cs.Status.IsClosed(), Assignee: cs.Assignee, Mine: cs.Assignee == me.ID,
		Submitted: pg.DateTime(cs.SubmittedAt), Form: form, Hit: cs.ScreeningHit, Entry: cs.ScreeningEntry,
		EndorsedBy: cs.EndorsedBy, Visa: cs.Visa, Duplicates: cs.SuspectedDuplicate, Values: values,
		Fields: map[string]string{}, Refresh: "/staff/cases/" + cs.ID,
		First: c.decisionView(pg, cs.FirstDecision), Second: c.decisionView(pg, cs.SecondDecision),
		Decision: c.decisionView(pg, cs.Decision)}
	if v.Values == nil {
		v.Values = map[string]string{"due_in_days": strconv.Itoa(domain.DefaultInformationDays)}
	}
	if cs.ScreeningScore > 0 {
		v.Score = strconv.FormatFloat(cs.ScreeningScore, 'f', 2, 64)
	}
	if cs.SLA != nil && !v.Closed {
		clock := clockOf(pg.translator, *cs.SLA, pg.now)
		v.Clock = &clock
	}
	if ir := cs.InformationRequest; ir != nil && cs.Status == domain.StatusInformationRequested {
		v.Request = &requestView{Message: ir.Message, Due: pg.DateTime(ir.DueAt)}
		for _, req := range ir.Documents {
			v.Request.Documents = append(v.Request.Documents, requirementWords(req))
		}
	}
	docs, err := c.cases.StaffDocuments(r.Context(), me.Actor(), cs.ID) // audited, as the API's list
	if err != nil {
		c.serverError(w, r, me, "list documents", err)
		return
	}
	v.Documents = documentViews(pg, cs.ID, docs)
	if !v.Closed {
		for _, req := range cs.MissingDocuments {
			v.Missing = append(v.Missing, requirementWords(req))
		}
	}
	v.DocumentChoices = documentChoices(strings.Split(v.Values[fieldDocuments], ","))
	for _, e := range cs.Timeline {
		v.Timeline = append(v.Timeline, consoleEvent{At: pg.DateTime(e.At), Event: words(e.Event), Actor: e.Actor,
			Detail: e.Detail, Status: words(e.Status)})
	}
	hold := domain.CaseHold{Status: cs.Status, Assignee: cs.Assignee}
	v.MayClaim = domain.MayClaim(hold, me.Actor()) == nil
	v.MayRelease = domain.MayRelease(hold, me.Actor()) == nil
	switch cs.Status {
	case domain.StatusAwaitingReview:
		v.Decide = cs.Assignee == "" || v.Mine || me.IsSupervisor()
	case domain.StatusAwaitingSecondApproval:
		v.SecondApproval = me.IsSupervisor()
		v.FirstDeciderIsMe = cs.FirstDecision != nil && domain.ActorID(cs.FirstDecision.DecidedBy) == me.ID
	case domain.StatusDisagreement:
		v.Resolve = me.IsSupervisor()
	}
	for _, code := range domain.RefusalReasons {
		v.Reasons = append(v.Reasons, choice{Value: string(code), Label: pg.T("reason." + string(code)),
			Selected: v.Values["reason_code"] == string(code)})
	}
	for _, e := range pg.Errors {
		if id, found := strings.CutPrefix(e.Href, "#"); found {
			v.Fields[id] = e.Message
		}
	}
	pg.Poll = "/staff/cases/" + cs.ID + "/version"
	if pg.Version, err = c.cases.CaseVersion(r.Context(), cs.ID); err != nil {
		c.serverError(w, r, me, "case version", err)
		return
	}
	pg.Data = v
	c.render(w, status, "case", pg)
}

func (c *CaseConsole) caseVersion(w http.ResponseWriter, r *http.Request, me staffMember) {
	id := r.PathValue("id")
	if !domain.IsApplicationID(id) {
		http.NotFound(w, r)
		return
	}
	v, err := c.cases.CaseVersion(r.Context(), id)
	if errors.Is(err, casework.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		c.log.Warn("console case version", "error", err)
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	writeVersion(w, v)
}

func (c *CaseConsole) claim(w http.ResponseWriter, r *http.Request, me staffMember) {
	c.act(w, r, me, "claim", func(id string) error {
		_, err := c.cases.Claim(r.Context(), id, me.Actor())
		return err
	})
}

func (c *CaseConsole) release(w http.ResponseWriter, r *http.Request, me staffMember) {
	c.act(w, r, me, "release", func(id string) error {
		_, err := c.cases.Release(r.Context(), id, me.Actor())
		return err
	})
}

// Decision form fields.
const (
	fieldDecision = "decision"
	fieldReason   = "reason_code"
	fieldNote     = "note"
	fieldMessage  = "message"
	fieldDays     = "due_in_days"
	// fieldDocuments are the kinds a request for information asks for (ticked boxes; kept comma-joined).
	fieldDocuments = "documents"
)

func (c *CaseConsole) decide(w http.ResponseWriter, r *http.Request, me staffMember) {
	if !domain.IsApplicationID(r.PathValue("id")) {
		c.notFound(w, r, me)
		return
	}
	if !c.checkToken(w, r) {
		return
	}
	values := map[string]string{}
	for _, k := range []string{fieldDecision, fieldReason, fieldNote, fieldMessage, fieldDays} {
		values[k] = r.PostFormValue(k)
	}
	d := domain.DecisionRequest{Decision: domain.Outcome(values[fieldDecision]),
		ReasonCode: domain.ReasonCode(values[fieldReason]), Note: values[fieldNote], Actor: me.Actor()}
	var errs []fieldError
	if d.Decision == domain.OutcomeRequestInformation {
		d.Message = values[fieldMessage]
		for _, k := range r.PostForm[fieldDocuments] {
			d.Documents = append(d.Documents, domain.DocumentKind(k))
		}
		values[fieldDocuments] = strings.Join(r.PostForm[fieldDocuments], ",")
		days, err := strconv.Atoi(strings.TrimSpace(values[fieldDays]))
		if err != nil {
			errs = append(errs, fieldError{Href: "#due-in-days", Message: daysMessage})
		} else {
			d.DueInDays = &days
		}
	}
	for _, fe := range domain.CheckDecision(d) {
		errs = append(errs, decisionFieldError(fe))
	}
	prefix := r.PostFormValue("form") // which refusal form: the first decision's, the second's or the resolution's
	if prefix == "second-" || prefix == "resolve-" {
		for i := range errs {
			if errs[i].Href == "#reason-code" {
				errs[i].Href = "#" + prefix + "reason-code"
			}
		}
	}
	if len(errs) > 0 {
		c.actionFailed(w, r, me, http.StatusUnprocessableEntity, errs, values)
		return
	}
	// The page token is the update's idempotency key: a double submit is one decision.
	if _, err := c.cases.Decide(r.Context(), r.PathValue("id"), d, r.PostFormValue("page_token")); err != nil {
		c.actionError(w, r, me, err, values)
		return
	}
	http.Redirect(w, r, "/staff/cases/"+r.PathValue("id")+"?done=decision#main-content", http.StatusSeeOther)
}

var daysMessage = fmt.Sprintf("Enter the days the applicant has to answer, a whole number from 1 to %d",
	domain.MaxInformationDays)

// decisionFieldError words a decision's field error for the form (its detail when there is no better).
func decisionFieldError(fe domain.FieldError) fieldError {
	switch fe.Pointer {
	case "/reason_code":
		return fieldError{Href: "#reason-code", Message: "Choose the reason for the refusal"}
	case "/message":
		if fe.Code == domain.CodeTooLong {
			return fieldError{Href: "#message", Message: fmt.Sprintf(
				"The request for information must be %d characters or fewer", domain.MaxMessageLength)}
		}
		return fieldError{Href: "#message", Message: "Enter what the applicant needs to send"}
	case "/due_in_days":
		return fieldError{Href: "#due-in-days", Message: daysMessage}
	case "/note":
		return fieldError{Href: "#actions", Message: fmt.Sprintf("The note must be %d characters or fewer",
			domain.MaxMessageLength)}
	}
	if fe.Pointer == domain.PointerDocuments || strings.HasPrefix(fe.Pointer, domain.PointerDocuments+"/") {
		return fieldError{Href: "#documents-asked", Message: "Choose the documents to ask for from the list"}
	}
	return fieldError{Href: "#actions", Message: "Choose a decision: " + fe.Detail}
}

// act runs a claim or release and comes back to the case with its notice.
func (c *CaseConsole) act(w http.ResponseWriter, r *http.Request, me staffMember, done string, do func(string) error) {
	id := r.PathValue("id")
	if !domain.IsApplicationID(id) {
		c.notFound(w, r, me)
		return
	}
	if !c.checkToken(w, r) {
		return
	}
	if err := do(id); err != nil {
		c.actionError(w, r, me, err, nil)
		return
	}
	http.Redirect(w, r, "/staff/cases/"+id+"?done="+done+"#main-content", http.StatusSeeOther)
}

// actionError shows the case again with what the case's rules refused, in
// the error summary: another officer holds it, the same person tries the
// second approval, the case moved on meanwhile.
func (c *CaseConsole) actionError(w http.ResponseWriter, r *http.Request, me staffMember, err error,
	values map[string]string) {
	var se *casework.Error
	if !errors.As(err, &se) || se.Kind == casework.Unavailable {
		c.serverError(w, r, me, "case action", err)
		return
	}
	status := http.StatusConflict
	switch se.Kind {
	case casework.NotFound:
		c.notFound(w, r, me)
		return
	case casework.Forbidden:
		status = http.StatusForbidden
	case casework.Invalid:
		status = http.StatusUnprocessableEntity
	}
	var errs []fieldError
	for _, fe := range se.Fields {
		errs = append(errs, decisionFieldError(fe))
	}
	if len(errs) == 0 {
		errs = []fieldError{{Href: "#actions", Message: sentence(se.Message)}}
	}
	c.actionFailed(w, r, me, status, errs, values)
}

// sentence starts a service message with a capital and ends it with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "The case cannot take this action now."
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

func (c *CaseConsole) actionFailed(w http.ResponseWriter, r *http.Request, me staffMember, status int,
	errs []fieldError, values map[string]string) {
	cs, ok := c.loadCase(w, r, me)
	if !ok {
		return
	}
	pg := c.newPage(w, r, me, "Case "+cs.Reference)
	pg.Errors = errs
	c.renderCase(w, r, me, pg, cs, status, values)
}
