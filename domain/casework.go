package domain

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds of officers' decisions and applicants' answers.
const (
	// DefaultInformationDays is the time to answer a request for information when the officer names none.
	DefaultInformationDays = 14
	// MaxInformationDays is the longest time to answer an officer may give.
	MaxInformationDays = 60
	// MaxMessageLength bounds an officer's message and note (in characters).
	MaxMessageLength = 2000
	// MaxAnswerLength bounds the applicant's answer to a request for information.
	MaxAnswerLength = 4 * MaxMessageLength
)

// Actor is who acts on a case: a staff account's id and role, or the applicant, or the system.
type Actor struct {
	ID   string `json:"id"`
	Role Role   `json:"role"`
}

// Name is the actor as the timeline shows it.
func (a Actor) Name() string { return ActorName(a.Role, a.ID) }

// SystemActor is the system deciding by itself.
var SystemActor = Actor{ID: string(RoleSystem), Role: RoleSystem}

// ApplicantActor is the applicant, who holds the case's access token.
var ApplicantActor = Actor{ID: string(RoleApplicant), Role: RoleApplicant}

// DecisionRequest is an officer's decision on a case (the workflow's
// "decide" update). A request for information carries the message to the
// applicant and, optionally, the days to answer.
type DecisionRequest struct {
	Decision   Outcome    `json:"decision"`
	ReasonCode ReasonCode `json:"reason_code,omitempty"`
	Note       string     `json:"note,omitempty"`
	Message    string     `json:"message,omitempty"`
	DueInDays  *int       `json:"due_in_days,omitempty"`
	Actor      Actor      `json:"actor"`
	// Documents are the kinds of document a request for information asks the applicant to upload.
	Documents []DocumentKind `json:"documents,omitempty"`
}

// InformationDays is the time the applicant has to answer.
func (d DecisionRequest) InformationDays() int {
	if d.DueInDays == nil {
		return DefaultInformationDays
	}
	return *d.DueInDays
}

// Decision is a decision taken on a case.
type Decision struct {
	Outcome    Outcome    `json:"outcome"`
	ReasonCode ReasonCode `json:"reason_code,omitempty"`
	DecidedBy  string     `json:"decided_by"`
	DecidedAt  time.Time  `json:"decided_at"`
}

// CheckDecision checks a decision's own fields, whatever the case: the
// HTTP API answers its errors as a 422, and the workflow's decide validator
// rejects an update that breaks them.
func CheckDecision(d DecisionRequest) FieldErrors {
	var errs FieldErrors
	reasons := joinReasons()
	switch d.Decision {
	case OutcomeApprove:
	case OutcomeRefuse:
		if d.ReasonCode == "" {
			errs = append(errs, FieldError{Pointer: "/reason_code", Code: CodeRequired,
				Detail: "a refusal needs a reason code: " + reasons})
		} else if !IsRefusalReason(d.ReasonCode) {
			errs = append(errs, FieldError{Pointer: "/reason_code", Code: CodeOneOf, Detail: "must be one of " + reasons})
		}
	case OutcomeRequestInformation:
		if strings.TrimSpace(d.Message) == "" {
			errs = append(errs, FieldError{Pointer: "/message", Code: CodeRequired,
				Detail: "a request for information needs a message to the applicant"})
		} else if utf8.RuneCountInString(d.Message) > MaxMessageLength {
			errs = append(errs, FieldError{Pointer: "/message", Code: CodeTooLong,
				Detail: fmt.Sprintf("must be at most %d characters", MaxMessageLength)})
		}
		if d.DueInDays != nil && (*d.DueInDays < 1 || *d.DueInDays > MaxInformationDays) {
			errs = append(errs, FieldError{Pointer: "/due_in_days", Code: CodeOutOfRange,
				Detail: fmt.Sprintf("must be from 1 to %d (absent: %d)", MaxInformationDays, DefaultInformationDays)})
		}
	case "":
		errs = append(errs, FieldError{Pointer: "/decision", Code: CodeRequired,
			Detail: "is required (approve, refuse or request_information)"})
	default:
		errs = append(errs, FieldError{Pointer: "/decision", Code: CodeOneOf,
			Detail: "must be approve, refuse or request_information"})
	}
	errs = append(errs, checkRequestedDocuments(d)...)
	if utf8.RuneCountInString(d.Note) > MaxMessageLength {
		errs = append(errs, FieldError{Pointer: "/note", Code: CodeTooLong,
			Detail: fmt.Sprintf("must be at most %d characters", MaxMessageLength)})
	}
	return errs
}

func joinReasons() string {
	codes := make([]string, len(RefusalReasons))
	for i, r := range RefusalReasons {
		codes[i] = string(r)
	}
	return strings.Join(codes, ", ")
}

// CheckAnswer checks the applicant's answer to a request for information.
func CheckAnswer(message string) FieldErrors {
	if strings.TrimSpace(message) == "" {
		return FieldErrors{{Pointer: "/message", Code: CodeRequired,
			Detail: fmt.Sprintf("is required (at most %d characters)", MaxAnswerLength)}}
	}
	if utf8.RuneCountInString(message) > MaxAnswerLength {
		return FieldErrors{{Pointer: "/message", Code: CodeTooLong,
			Detail: fmt.Sprintf("must be at most %d characters", MaxAnswerLength)}}
	}
	return nil
}

// RuleKind says why a case refuses an action.
type RuleKind int

const (
	// NotAllowed: this person may not take this action on this case.
	NotAllowed RuleKind = iota + 1
	// InvalidTransition: the case cannot take this action in its state.
	InvalidTransition
)

// RuleError is an action a case's rules refuse.
type RuleError struct {
	Kind    RuleKind
	Message string
	Status  Status // the case's status, when that is why it refused
}

func (e *RuleError) Error() string { return e.Message }

func notAllowed(message string) *RuleError { return &RuleError{Kind: NotAllowed, Message: message} }

func invalidTransition(action string, status Status) *RuleError {
	if status == StatusReceived {
		// Said as it is: the case is not closed, it has not started (a chamber batch's
		// cases are held until the whole batch is admitted).
		return &RuleError{Kind: InvalidTransition, Status: status, Message: fmt.Sprintf(
			"cannot %s the case yet: it has not begun processing (status %q); a case from a chamber's batch "+
				"begins once the whole batch is admitted, within minutes", action, status)}
	}
	return &RuleError{Kind: InvalidTransition, Status: status,
		Message: fmt.Sprintf("cannot %s a case in status %q", action, status)}
}

// TransitionRefused is the rule error of an action a case cannot take in its status.
func TransitionRefused(action string, status Status) *RuleError {
	return invalidTransition(action, status)
}

// CaseHold is what decides who may act on a case: its status, who holds it
// (claimed it), who took the decisions so far, and the facts that raise the
// bar for an approval.
type CaseHold struct {
	Status       Status
	Assignee     string // account id; empty when nobody holds the case
	FirstDecider string // account id of the first decision on a four-eyes case
	// SecondDecider is the account id of the second decision when it disagreed with the first.
	SecondDecider string
	// FirstOutcome is the first decision of a four-eyes case, while it waits for the second.
	FirstOutcome Outcome
	Product      Product
	// ScreeningHit: the applicant matched the watchlist, so approving is a supervisor's.
	ScreeningHit bool
	// MissingDocuments are the checklist's documents the case lacks: no approval until they arrive.
	MissingDocuments []string
}

// FourEyesMessage is the refusal of a second decision by the first decider.
const FourEyesMessage = "four eyes: the second decision must be made by a different person than the first"

// DisagreementMessage is the refusal of a resolution by one of the two who disagree.
const DisagreementMessage = "a disagreement is resolved by a third person, not by either of the two who disagree"

// ScreeningHitMessage is the refusal of an officer's approval of a case that matched the watchlist.
const ScreeningHitMessage = "the applicant matched the watchlist: only a supervisor may approve"

// MayDecide applies the four-eyes rules: a claimed case is decided by the
// officer holding it or a supervisor; the second decision on a five-year
// visa is a supervisor's, never the first decider's; two decisions that
// disagree are resolved by a third person, a supervisor; and a case whose
// applicant matched the watchlist is approved only by a supervisor.
func MayDecide(c CaseHold, d DecisionRequest) error {
	switch c.Status {
	case StatusAwaitingReview:
		if c.Assignee != "" && c.Assignee != d.Actor.ID && d.Actor.Role != RoleSupervisor {
			return notAllowed("the case is claimed by another officer; only they or a supervisor may decide it")
		}
	case StatusAwaitingSecondApproval:
		if d.Decision == OutcomeRequestInformation {
			return invalidTransition("request information on", c.Status)
		}
		if d.Actor.ID == c.FirstDecider {
			return &RuleError{Kind: InvalidTransition, Message: FourEyesMessage}
		}
		if d.Actor.Role != RoleSupervisor {
			return notAllowed("the second decision on a five-year visa is a supervisor's")
		}
	case StatusDisagreement:
		if d.Decision == OutcomeRequestInformation {
			return invalidTransition("request information on", c.Status)
		}
		if d.Actor.ID == c.FirstDecider || d.Actor.ID == c.SecondDecider {
			return &RuleError{Kind: InvalidTransition, Message: DisagreementMessage}
		}
		if d.Actor.Role != RoleSupervisor {
			return notAllowed("a disagreement between two decisions is resolved by a supervisor")
		}
	default:
		return invalidTransition("decide", c.Status)
	}
	if c.ScreeningHit && d.Decision == OutcomeApprove && d.Actor.Role != RoleSupervisor {
		return notAllowed(ScreeningHitMessage)
	}
	return mayApprove(c, d)
}

// DecisionStep is what an allowed decision does to the case.
type DecisionStep int

// Decision steps.
const (
	// StepClose: the decision is the case's; it issues the visa or refuses it.
	StepClose DecisionStep = iota + 1
	// StepRequestInformation: the applicant is asked for more.
	StepRequestInformation
	// StepAwaitSecond: the first decision on a five-year visa waits for a second person's.
	StepAwaitSecond
	// StepDisagreement: the second decision contradicts the first; a supervisor resolves.
	StepDisagreement
)

// NextDecisionStep says what a decision MayDecide allowed does. A five-year
// visa is issued only on two approvals by two people: the second decision
// closes the case only when it agrees with the first; otherwise the case
// waits for a third person, whose decision closes it (so an approval that
// issues always has a second approval beside it).
func NextDecisionStep(c CaseHold, d DecisionRequest) DecisionStep {
	switch {
	case d.Decision == OutcomeRequestInformation:
		return StepRequestInformation
	case c.Status == StatusAwaitingReview && c.Product == ProductBusiness5YMulti:
		return StepAwaitSecond
	case c.Status == StatusAwaitingSecondApproval && d.Decision != c.FirstOutcome:
		return StepDisagreement
	}
	return StepClose
}

// ActorID is the account id in an actor's timeline name ("officer:usr_1" is
// usr_1); the system and the applicant are their own ids.
func ActorID(name string) string {
	if _, id, found := strings.Cut(name, ":"); found {
		return id
	}
	return name
}

// MayClaim says whether the actor may take the case: an open case in review
// that nobody else holds, or (a supervisor) holds.
func MayClaim(c CaseHold, actor Actor) error {
	switch c.Status {
	case StatusAwaitingReview, StatusAwaitingSecondApproval, StatusDisagreement, StatusInformationRequested:
	default:
		return invalidTransition("claim", c.Status)
	}
	if c.Assignee == actor.ID {
		return &RuleError{Kind: InvalidTransition, Message: "you already hold this case"}
	}
	if c.Assignee != "" && actor.Role != RoleSupervisor {
		return &RuleError{Kind: InvalidTransition, Message: "the case is claimed by another officer"}
	}
	return nil
}

// MayRelease says whether the actor may give a claimed case back: the
// officer holding it or a supervisor.
func MayRelease(c CaseHold, actor Actor) error {
	if c.Assignee == "" || c.Status.IsClosed() {
		return &RuleError{Kind: InvalidTransition, Message: "the case is not claimed"}
	}
	if c.Assignee != actor.ID && actor.Role != RoleSupervisor {
		return notAllowed("only the officer holding the case or a supervisor may release it")
	}
	return nil
}

// MayWithdraw says whether the applicant may still withdraw: until the case is decided.
func MayWithdraw(status Status) error {
	switch status {
	case StatusReceived, StatusValidating, StatusScreening, StatusAwaitingReview,
		StatusInformationRequested, StatusAwaitingSecondApproval, StatusDisagreement:
		return nil
	}
	return invalidTransition("withdraw", status)
}

// STPPolicyVersion names the straight-through processing rules of DecideSTP;
// it is recorded on the timeline of every case the system decides.
const STPPolicyVersion = "stp-2026-11-28"

// STPFacts are what straight-through processing looks at.
type STPFacts struct {
	Enabled      bool
	Product      Product
	ScreeningHit bool
	// Screened: the applicant was screened against a configured, non-empty watchlist (an
	// empty list clears everyone, so it proves nothing).
	Screened bool
	// Member: the applicant is an active member, as the form states them, on the roster of the
	// chamber that submitted the case or whose recommendation it carries (VouchingChamber).
	Member bool
	// RecentRefusal: the passport was refused a visa in the twelve months before the decision.
	RecentRefusal bool
	// SuspectedDuplicate: another open application names the same passport and product.
	SuspectedDuplicate bool
	// DocumentsComplete: the case holds every document its product's checklist requires
	// (or the checklist is not enforced, VISA_DOCUMENTS_REQUIRED=false).
	DocumentsComplete bool
}

// STPRefusalsSince is the start of the window in which a refusal keeps a
// passport out of straight-through processing: twelve months before the decision.
func STPRefusalsSince(decidedAt time.Time) time.Time { return decidedAt.AddDate(-1, 0, 0) }

// DecideSTP applies straight-through processing: a two-year case whose
// applicant was screened clear against a configured watchlist, is an active
// member on the roster of the chamber vouching for them, and was not refused
// for the same passport in the past twelve months is approved by the system.
// The reason says why a case is not.
func DecideSTP(f STPFacts) (eligible bool, reason string) {
	switch {
	case !f.Enabled:
		return false, "straight-through processing is switched off"
	case f.Product != ProductBusiness2Y:
		return false, "only two-year visas are processed straight through"
	case f.ScreeningHit:
		return false, "screening flagged the applicant"
	case !f.Screened:
		return false, "no watchlist was configured to screen the applicant against"
	case !f.Member:
		return false, "the applicant is not an active member on the vouching chamber's roster"
	case f.RecentRefusal:
		return false, "the passport was refused a visa in the past twelve months"
	case f.SuspectedDuplicate:
		// One of them may be an impostor's: an officer looks at both.
		return false, "another open application names the same passport"
	case !f.DocumentsComplete:
		return false, "the case's documents are incomplete"
	}
	return true, ""
}

// VouchingChamber is the chamber membership straight-through processing
// checks on the roster: for a case a chamber submitted (endorsedBy), the
// membership number the row gives on that chamber's roster, whatever else
// the form says; otherwise the recommendation the form carries. ok is false
// when there is no membership to check, and then no chamber vouches.
func VouchingChamber(form Application, endorsedBy string) (claim Chamber, ok bool) {
	c := form.Chamber
	if c == nil || strings.TrimSpace(c.MembershipNumber) == "" {
		return Chamber{}, false
	}
	if endorsedBy != "" {
		return Chamber{ChamberID: endorsedBy, MembershipNumber: c.MembershipNumber}, true
	}
	return *c, c.ChamberID != ""
}

// fallbackSLA is the decision deadline of a product the catalogue does not know.
const fallbackSLA = 24 * time.Hour

// DecisionSLA is the decision deadline of a product: the configured one
// (overrides, by product code) or else the catalogue's.
func DecisionSLA(product Product, overrides map[string]time.Duration) time.Duration {
	if d := overrides[string(product)]; d > 0 {
		return d
	}
	if spec, ok := LookupProduct(product); ok && spec.DecisionSLA > 0 {
		return spec.DecisionSLA
	}
	return fallbackSLA
}

// EscalateAtFraction is the share of a case's decision deadline after which it is escalated.
const EscalateAtFraction = 0.75

// EscalationAfter is how long a case's clock runs before the case is escalated.
func EscalationAfter(sla time.Duration) time.Duration {
	return time.Duration(float64(sla) * EscalateAtFraction)
}

// SLA is a case's decision clock: when a decision is due, and whether the
// clock is paused (the applicant holds the case), has passed 75 % (escalated)
// or has run out (breached).
type SLA struct {
	DueAt     time.Time `json:"due_at"`
	Paused    bool      `json:"paused"`
	Escalated bool      `json:"escalated"`
	Breached  bool      `json:"breached"`
	// RemainingAtPause is what was left when the clock stopped (while paused).
	RemainingAtPause time.Duration `json:"remaining_at_pause,omitempty"`
}

// Remaining is the time left at now; it does not run down while the clock is paused.
func (s SLA) Remaining(now time.Time) time.Duration {
	if s.Paused {
		return s.RemainingAtPause
	}
	return s.DueAt.Sub(now)
}
