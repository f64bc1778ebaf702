package domain

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func days(n int) *int { return &n }

func TestCheckDecision(t *testing.T) {
	long := strings.Repeat("é", MaxMessageLength+1)
	tests := []struct {
		name string
		d    DecisionRequest
		want []string // pointer:code of every error
	}{
		{"approve", DecisionRequest{Decision: OutcomeApprove}, nil},
		{"approve with a note", DecisionRequest{Decision: OutcomeApprove, Note: "ok"}, nil},
		{"refuse with reason", DecisionRequest{Decision: OutcomeRefuse, ReasonCode: ReasonOther}, nil},
		{"refuse without reason", DecisionRequest{Decision: OutcomeRefuse}, []string{"/reason_code:required"}},
		{"refuse, unknown reason", DecisionRequest{Decision: OutcomeRefuse, ReasonCode: "fraud"},
			[]string{"/reason_code:one_of"}},
		{"rfi default days", DecisionRequest{Decision: OutcomeRequestInformation, Message: "letter please"}, nil},
		{"rfi 1 day", DecisionRequest{Decision: OutcomeRequestInformation, Message: "x", DueInDays: days(1)}, nil},
		{"rfi 60 days", DecisionRequest{Decision: OutcomeRequestInformation, Message: "x", DueInDays: days(60)}, nil},
		{"rfi 0 days", DecisionRequest{Decision: OutcomeRequestInformation, Message: "x", DueInDays: days(0)},
			[]string{"/due_in_days:out_of_range"}},
		{"rfi 61 days", DecisionRequest{Decision: OutcomeRequestInformation, Message: "x", DueInDays: days(61)},
			[]string{"/due_in_days:out_of_range"}},
		{"rfi -1 days", DecisionRequest{Decision: OutcomeRequestInformation, Message: "x", DueInDays: days(-1)},
			[]string{"/due_in_days:out_of_range"}},
		{"rfi blank message", DecisionRequest{Decision: OutcomeRequestInformation, Message: "  "},
			[]string{"/message:required"}},
		{"rfi long message", DecisionRequest{Decision: OutcomeRequestInformation, Message: long},
			[]string{"/message:too_long"}},
		{"rfi message at the limit", DecisionRequest{Decision: OutcomeRequestInformation, Message: long[2:]}, nil},
		{"empty decision", DecisionRequest{}, []string{"/decision:required"}},
		{"unknown decision", DecisionRequest{Decision: "maybe"}, []string{"/decision:one_of"}},
		{"long note", DecisionRequest{Decision: OutcomeApprove, Note: long}, []string{"/note:too_long"}},
		{"two errors", DecisionRequest{Decision: OutcomeRefuse, Note: long},
			[]string{"/reason_code:required", "/note:too_long"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range CheckDecision(tt.d) {
				got = append(got, e.Pointer+":"+e.Code)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("CheckDecision = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestInformationDays(t *testing.T) {
	if got := (DecisionRequest{}).InformationDays(); got != DefaultInformationDays {
		t.Errorf("absent: %d", got)
	}
	if got := (DecisionRequest{DueInDays: days(5)}).InformationDays(); got != 5 {
		t.Errorf("5: %d", got)
	}
}

func TestCheckAnswer(t *testing.T) {
	for msg, ok := range map[string]bool{"here it is": true, "": false, " \n": false,
		strings.Repeat("a", MaxAnswerLength): true, strings.Repeat("a", MaxAnswerLength+1): false} {
		if got := CheckAnswer(msg) == nil; got != ok {
			t.Errorf("CheckAnswer(%d chars) ok = %v, want %v", len(msg), got, ok)
		}
	}
}

func ruleKind(err error) RuleKind {
	var re *RuleError
	if errors.As(err, &re) {
		return re.Kind
	}
	return 0
}

func TestMayDecide(t *testing.T) {
	officer := Actor{ID: "usr_o1", Role: RoleOfficer}
	other := Actor{ID: "usr_o2", Role: RoleOfficer}
	super := Actor{ID: "usr_s1", Role: RoleSupervisor}
	approve := func(a Actor) DecisionRequest { return DecisionRequest{Decision: OutcomeApprove, Actor: a} }
	rfi := func(a Actor) DecisionRequest {
		return DecisionRequest{Decision: OutcomeRequestInformation, Message: "x", Actor: a}
	}
	tests := []struct {
		name string
		c    CaseHold
		d    DecisionRequest
		want RuleKind
	}{
		{"unclaimed, any officer", CaseHold{Status: StatusAwaitingReview}, approve(other), 0},
		{"claimed, holder", CaseHold{Status: StatusAwaitingReview, Assignee: officer.ID}, approve(officer), 0},
		{"claimed, other officer", CaseHold{Status: StatusAwaitingReview, Assignee: officer.ID}, approve(other), NotAllowed},
		{"claimed, supervisor", CaseHold{Status: StatusAwaitingReview, Assignee: officer.ID}, approve(super), 0},
		{"second, supervisor", CaseHold{Status: StatusAwaitingSecondApproval, FirstDecider: officer.ID}, approve(super), 0},
		{"second, officer", CaseHold{Status: StatusAwaitingSecondApproval, FirstDecider: officer.ID}, approve(other),
			NotAllowed},
		{"second, same person", CaseHold{Status: StatusAwaitingSecondApproval, FirstDecider: super.ID}, approve(super),
			InvalidTransition},
		{"second, rfi", CaseHold{Status: StatusAwaitingSecondApproval, FirstDecider: officer.ID}, rfi(super),
			InvalidTransition},
		{"screening", CaseHold{Status: StatusScreening}, approve(officer), InvalidTransition},
		{"information requested", CaseHold{Status: StatusInformationRequested}, approve(officer), InvalidTransition},
		{"closed", CaseHold{Status: StatusIssued}, approve(super), InvalidTransition},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ruleKind(MayDecide(tt.c, tt.d)); got != tt.want {
				t.Errorf("MayDecide kind = %d, want %d", got, tt.want)
			}
		})
	}
	err := MayDecide(CaseHold{Status: StatusAwaitingSecondApproval, FirstDecider: super.ID}, approve(super))
	if err == nil || err.Error() != FourEyesMessage {
		t.Errorf("same person twice: %v", err)
	}
}

func TestNeedsSecondDecision(t *testing.T) {
	approve := DecisionRequest{Decision: OutcomeApprove}
	rfi := DecisionRequest{Decision: OutcomeRequestInformation}
	if !NeedsSecondDecision(ProductBusiness5YMulti, approve, false) {
		t.Error("first decision on a five-year visa needs a second")
	}
	if NeedsSecondDecision(ProductBusiness5YMulti, approve, true) {
		t.Error("the second decision needs no third")
	}
	if NeedsSecondDecision(ProductBusiness2Y, approve, false) {
		t.Error("a two-year visa needs one decision")
	}
	if NeedsSecondDecision(ProductBusiness5YMulti, rfi, false) {
		t.Error("a request for information is not a first decision")
	}
}

func TestMayClaimAndRelease(t *testing.T) {
	officer := Actor{ID: "usr_o1", Role: RoleOfficer}
	other := Actor{ID: "usr_o2", Role: RoleOfficer}
	super := Actor{ID: "usr_s1", Role: RoleSupervisor}
	claims := []struct {
		name  string
		c     CaseHold
		actor Actor
		want  RuleKind
	}{
		{"free", CaseHold{Status: StatusAwaitingReview}, officer, 0},
		{"second approval", CaseHold{Status: StatusAwaitingSecondApproval}, officer, 0},
		{"information requested", CaseHold{Status: StatusInformationRequested}, officer, 0},
		{"mine already", CaseHold{Status: StatusAwaitingReview, Assignee: officer.ID}, officer, InvalidTransition},
		{"someone else's", CaseHold{Status: StatusAwaitingReview, Assignee: officer.ID}, other, InvalidTransition},
		{"supervisor takes over", CaseHold{Status: StatusAwaitingReview, Assignee: officer.ID}, super, 0},
		{"validating", CaseHold{Status: StatusValidating}, officer, InvalidTransition},
		{"closed", CaseHold{Status: StatusRefused}, super, InvalidTransition},
	}
	for _, tt := range claims {
		if got := ruleKind(MayClaim(tt.c, tt.actor)); got != tt.want {
			t.Errorf("MayClaim %s: kind %d, want %d", tt.name, got, tt.want)
		}
	}
	releases := []struct {
		name  string
		c     CaseHold
		actor Actor
		want  RuleKind
	}{
		{"holder", CaseHold{Status: StatusAwaitingReview, Assignee: officer.ID}, officer, 0},
		{"supervisor", CaseHold{Status: StatusAwaitingReview, Assignee: officer.ID}, super, 0},
		{"other officer", CaseHold{Status: StatusAwaitingReview, Assignee: officer.ID}, other, NotAllowed},
		{"unclaimed", CaseHold{Status: StatusAwaitingReview}, officer, InvalidTransition},
		{"closed", CaseHold{Status: StatusIssued, Assignee: officer.ID}, officer, InvalidTransition},
	}
	for _, tt := range releases {
		if got := ruleKind(MayRelease(tt.c, tt.actor)); got != tt.want {
			t.Errorf("MayRelease %s: kind %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestMayWithdraw(t *testing.T) {
	for _, s := range AllStatuses {
		err := MayWithdraw(s)
		if (err == nil) == s.IsClosed() {
			t.Errorf("MayWithdraw(%s) = %v", s, err)
		}
	}
}

func TestDecideSTP(t *testing.T) {
	clean := STPFacts{Enabled: true, Product: ProductBusiness2Y, Endorsed: true}
	tests := []struct {
		name   string
		change func(*STPFacts)
		want   bool
		reason string
	}{
		{"clean endorsed two-year case", func(*STPFacts) {}, true, ""},
		{"switched off", func(f *STPFacts) { f.Enabled = false }, false, "switched off"},
		{"five-year visa", func(f *STPFacts) { f.Product = ProductBusiness5YMulti }, false, "only two-year"},
		{"screening hit", func(f *STPFacts) { f.ScreeningHit = true }, false, "screening"},
		{"not endorsed", func(f *STPFacts) { f.Endorsed = false }, false, "endorsement"},
		{"refused recently", func(f *STPFacts) { f.RecentRefusal = true }, false, "twelve months"},
		{"suspected duplicate", func(f *STPFacts) { f.SuspectedDuplicate = true }, false, "same passport"},
	}
	for _, tt := range tests {
		f := clean
		tt.change(&f)
		got, reason := DecideSTP(f)
		if got != tt.want || !strings.Contains(reason, tt.reason) {
			t.Errorf("%s: DecideSTP = %v %q, want %v %q", tt.name, got, reason, tt.want, tt.reason)
		}
	}
	decided := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	if got := STPRefusalsSince(decided); !got.Equal(time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("STPRefusalsSince = %v", got)
	}
}

func TestDecisionSLA(t *testing.T) {
	overrides := map[string]time.Duration{string(ProductBusiness2Y): 2 * time.Hour}
	tests := []struct {
		product   Product
		overrides map[string]time.Duration
		want      time.Duration
	}{
		{ProductBusiness2Y, nil, 24 * time.Hour},
		{ProductBusiness5YMulti, nil, 72 * time.Hour},
		{ProductBusiness2Y, overrides, 2 * time.Hour},
		{ProductBusiness5YMulti, overrides, 72 * time.Hour},
		{"unknown", nil, 24 * time.Hour},
	}
	for _, tt := range tests {
		if got := DecisionSLA(tt.product, tt.overrides); got != tt.want {
			t.Errorf("DecisionSLA(%s, %v) = %v, want %v", tt.product, tt.overrides, got, tt.want)
		}
	}
}

func TestStatuses(t *testing.T) {
	closed := map[Status]bool{StatusIssued: true, StatusRefused: true, StatusWithdrawn: true, StatusIneligible: true,
		StatusLapsed: true}
	if len(AllStatuses) != 11 {
		t.Errorf("%d statuses", len(AllStatuses))
	}
	for _, s := range AllStatuses {
		if s.IsClosed() != closed[s] {
			t.Errorf("%s.IsClosed() = %v", s, s.IsClosed())
		}
		if !s.IsKnown() {
			t.Errorf("%s unknown", s)
		}
	}
	if Status("open").IsKnown() || Status("open").IsClosed() {
		t.Error("an unknown status is known or closed")
	}
	notify := []Status{StatusReceived, StatusInformationRequested, StatusIssued, StatusRefused, StatusLapsed,
		StatusWithdrawn}
	for _, s := range AllStatuses {
		want := false
		for _, n := range notify {
			want = want || n == s
		}
		if s.NotifiesApplicant() != want {
			t.Errorf("%s.NotifiesApplicant() = %v", s, !want)
		}
	}
}

func TestActors(t *testing.T) {
	tests := []struct {
		actor        Actor
		name, public string
	}{
		{SystemActor, "system", "system"},
		{ApplicantActor, "applicant", "applicant"},
		{Actor{ID: "usr_1", Role: RoleOfficer}, "officer:usr_1", "officer"},
		{Actor{ID: "usr_2", Role: RoleSupervisor}, "supervisor:usr_2", "officer"},
		{Actor{ID: "chb_1", Role: RoleChamber}, "chamber:chb_1", "chamber:chb_1"},
	}
	for _, tt := range tests {
		if got := tt.actor.Name(); got != tt.name {
			t.Errorf("Name = %q, want %q", got, tt.name)
		}
		if got := PublicActor(tt.actor.Name()); got != tt.public {
			t.Errorf("PublicActor(%q) = %q, want %q", tt.actor.Name(), got, tt.public)
		}
	}
}

func TestVisaNumberIsStable(t *testing.T) {
	// Visa numbers are derived, so a retried issuance draws the same one: they must never change.
	on := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i, want := range []string{"PK2Y-26-2PPDPG0D-K", "PK2Y-26-12Q0J2XY-D", "PK2Y-26-7GQN01N2-Q"} {
		if got := VisaNumber(ProductBusiness2Y, on, "app_0123456789abcdefghjkmnpqr", i); got != want {
			t.Errorf("VisaNumber(%d) = %s, want %s", i, got, want)
		}
	}
	if got := VisaNumber(ProductBusiness5YMulti, on, "app_x", 0); got != "PK5Y-26-NBSWX240-F" {
		t.Errorf("five-year VisaNumber = %s", got)
	}
}
