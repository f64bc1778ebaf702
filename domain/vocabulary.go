package domain

import (
	"encoding/base32"
	"slices"
	"strings"
)

// The vocabulary of a case. Every type is a string so that JSON bodies,
// database columns and Temporal histories carry exactly the words they
// carried before the types existed; other packages use these constants and
// never spell the words themselves (TestNoVocabularyLiteralsOutsideDomain).

// Status is where a case stands.
type Status string

// Case statuses, in the order a case passes through them.
const (
	StatusReceived               Status = "received"
	StatusValidating             Status = "validating"
	StatusScreening              Status = "screening"
	StatusAwaitingReview         Status = "awaiting_review"
	StatusInformationRequested   Status = "information_requested"
	StatusAwaitingSecondApproval Status = "awaiting_second_approval"
	// StatusDisagreement: the two decisions on a five-year visa disagree; a third person, a supervisor, resolves.
	StatusDisagreement Status = "disagreement"
	StatusIssued       Status = "issued"
	StatusRefused      Status = "refused"
	StatusWithdrawn    Status = "withdrawn"
	StatusIneligible   Status = "ineligible"
	StatusLapsed       Status = "lapsed"
)

// AllStatuses lists every status in the order above.
var AllStatuses = []Status{
	StatusReceived, StatusValidating, StatusScreening, StatusAwaitingReview, StatusInformationRequested,
	StatusAwaitingSecondApproval, StatusDisagreement, StatusIssued, StatusRefused, StatusWithdrawn, StatusIneligible,
	StatusLapsed,
}

// ClosedStatuses end a case; they free the passport for a new application.
var ClosedStatuses = []Status{StatusIssued, StatusRefused, StatusWithdrawn, StatusIneligible, StatusLapsed}

// IsClosed reports whether the case is over.
func (s Status) IsClosed() bool { return slices.Contains(ClosedStatuses, s) }

// IsKnown reports whether s is one of AllStatuses.
func (s Status) IsKnown() bool { return slices.Contains(AllStatuses, s) }

// IsPending reports whether the system is still checking the case, before any officer sees it.
func (s Status) IsPending() bool {
	return s == StatusReceived || s == StatusValidating || s == StatusScreening
}

// NotifiesApplicant reports whether reaching s e-mails the applicant.
func (s Status) NotifiesApplicant() bool {
	switch s {
	case StatusReceived, StatusInformationRequested, StatusIssued, StatusRefused, StatusLapsed, StatusWithdrawn:
		return true
	}
	return false
}

// Role is who acts: a staff or chamber account's role, the applicant, or the system itself.
type Role string

// Roles.
const (
	RoleOfficer    Role = "officer"
	RoleSupervisor Role = "supervisor"
	RoleAdmin      Role = "admin"
	RoleChamber    Role = "chamber"
	RoleApplicant  Role = "applicant"
	RoleSystem     Role = "system"
)

// StaffRoles are the roles of staff accounts created with `visad users create`.
var StaffRoles = []Role{RoleOfficer, RoleSupervisor, RoleAdmin}

// IsStaff reports whether r is a staff account's role.
func (r Role) IsStaff() bool { return slices.Contains(StaffRoles, r) }

// HandlesCases reports whether r works the officers' queue.
func (r Role) HandlesCases() bool { return r == RoleOfficer || r == RoleSupervisor }

// SeesPayloads reports whether r may read decrypted workflow payloads: these
// roles hold the case data anyway, and the Temporal Web UI shows whole histories.
func (r Role) SeesPayloads() bool { return r == RoleSupervisor || r == RoleAdmin }

// Outcome is what an officer decides.
type Outcome string

// Outcomes.
const (
	OutcomeApprove            Outcome = "approve"
	OutcomeRefuse             Outcome = "refuse"
	OutcomeRequestInformation Outcome = "request_information"
)

// Outcomes lists every outcome.
var Outcomes = []Outcome{OutcomeApprove, OutcomeRefuse, OutcomeRequestInformation}

// ReasonCode is the machine code of a refusal.
type ReasonCode string

// Refusal reasons.
const (
	ReasonInsufficientEvidence  ReasonCode = "insufficient_evidence"
	ReasonPassportValidity      ReasonCode = "passport_validity"
	ReasonSecurityScreening     ReasonCode = "security_screening"
	ReasonNotEligible           ReasonCode = "not_eligible"
	ReasonIncompleteApplication ReasonCode = "incomplete_application"
	ReasonOther                 ReasonCode = "other"
)

// Event names one entry of a case's timeline (and of its notifications).
type Event string

// Timeline events.
const (
	EventSubmitted            Event = "submitted"
	EventValidationStarted    Event = "validation_started"
	EventValidationFailed     Event = "validation_failed"
	EventScreeningStarted     Event = "screening_started"
	EventScreened             Event = "screened"
	EventIssued               Event = "issued"
	EventRefused              Event = "refused"
	EventWithdrawn            Event = "withdrawn"
	EventLapsed               Event = "lapsed"
	EventFirstDecision        Event = "first_decision"
	EventDisagreement         Event = "disagreement"
	EventInformationRequested Event = "information_requested"
	EventInformationProvided  Event = "information_provided"
	EventClaimed              Event = "claimed"
	EventReleased             Event = "released"
	EventEscalated            Event = "escalated"
	EventSLABreached          Event = "sla_breached"
	EventClockPaused          Event = "clock_paused"
	EventClockResumed         Event = "clock_resumed"
)

// StaffOnlyDetail reports whether the event's detail is for officers only:
// the screening's findings are, which fields failed validation, and a disagreement's (it names who decided what).
func (e Event) StaffOnlyDetail() bool {
	// validation_failed names the failing fields and codes; the applicant reads
	// them through ApplicantReasons instead, which hides the roster's detail.
	return e == EventScreeningStarted || e == EventScreened || e == EventValidationFailed || e == EventDisagreement
}

// ActorName is how an actor appears on a timeline: "system", "applicant",
// or "<role>:<account id>" for staff.
func ActorName(role Role, id string) string {
	if role == RoleSystem || role == RoleApplicant {
		return string(role)
	}
	return string(role) + ":" + id
}

// PublicActor is an actor as the applicant sees it: the role of an official,
// not which official.
func PublicActor(actor string) string {
	role, _, found := strings.Cut(actor, ":")
	if found && Role(role).HandlesCases() {
		return string(RoleOfficer)
	}
	return actor
}

// Crockford is base32 in Crockford's alphabet (no I, L, O, U to misread),
// unpadded: the alphabet of application ids, references and visa numbers.
var Crockford = base32.NewEncoding(CrockfordAlphabet).WithPadding(base32.NoPadding)

// CrockfordAlphabet is Crockford's base32 alphabet.
const CrockfordAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
