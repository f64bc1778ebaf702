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
	refuse := func(a Actor) DecisionRequest {
		return DecisionRequest{Decision: OutcomeRefuse, ReasonCode: ReasonOther, Actor: a}
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
		{"second, disagreeing officer", CaseHold{Status: StatusAwaitingSecondApproval, FirstDecider: officer.ID,
			FirstOutcome: OutcomeRefuse}, approve(other), NotAllowed},
		{"disagreement, third supervisor", CaseHold{Status: StatusDisagreement, FirstDecider: officer.ID,
			SecondDecider: "usr_s2"}, approve(super), 0},
		{"disagreement, refusal by a third supervisor", CaseHold{Status: StatusDisagreement,
			FirstDecider: officer.ID, SecondDecider: "usr_s2"}, refuse(super), 0},
		{"disagreement, first decider", CaseHold{Status: StatusDisagreement, FirstDecider: super.ID,
			SecondDecider: "usr_s2"}, approve(super), InvalidTransition},
		{"disagreement, second decider", CaseHold{Status: StatusDisagreement, FirstDecider: officer.ID,
			SecondDecider: super.ID}, approve(super), InvalidTransition},
		{"disagreement, officer", CaseHold{Status: StatusDisagreement, FirstDecider: "usr_s2",
			SecondDecider: "usr_s3"}, approve(officer), NotAllowed},
		{"disagreement, rfi", CaseHold{Status: StatusDisagreement, FirstDecider: officer.ID, SecondDecider: "usr_s2"},
			rfi(super), InvalidTransition},
		{"screening hit, officer approves", CaseHold{Status: StatusAwaitingReview, ScreeningHit: true},
			approve(officer), NotAllowed},
		{"screening hit, holder approves", CaseHold{Status: StatusAwaitingReview, ScreeningHit: true,
			Assignee: officer.ID}, approve(officer), NotAllowed},
		{"screening hit, officer refuses", CaseHold{Status: StatusAwaitingReview, ScreeningHit: true},
			refuse(officer), 0},
		{"screening hit, officer asks", CaseHold{Status: StatusAwaitingReview, ScreeningHit: true}, rfi(officer), 0},
		{"screening hit, supervisor approves", CaseHold{Status: StatusAwaitingReview, ScreeningHit: true},
			approve(super), 0},
		{"screening hit, five-year first approval by an officer", CaseHold{Status: StatusAwaitingReview,
			ScreeningHit: true, Product: ProductBusiness5YMulti}, approve(officer), NotAllowed},
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

func TestNextDecisionStep(t *testing.T) {
	approve := DecisionRequest{Decision: OutcomeApprove}
	refuse := DecisionRequest{Decision: OutcomeRefuse, ReasonCode: ReasonOther}
	rfi := DecisionRequest{Decision: OutcomeRequestInformation, Message: "x"}
	review5 := CaseHold{Status: StatusAwaitingReview, Product: ProductBusiness5YMulti}
	second := func(first Outcome) CaseHold {
		return CaseHold{Status: StatusAwaitingSecondApproval, Product: ProductBusiness5YMulti, FirstOutcome: first}
	}
	disagreement := CaseHold{Status: StatusDisagreement, Product: ProductBusiness5YMulti}
	tests := []struct {
		name string
		c    CaseHold
		d    DecisionRequest
		want DecisionStep
	}{
		{"two-year approval", CaseHold{Status: StatusAwaitingReview, Product: ProductBusiness2Y}, approve, StepClose},
		{"two-year refusal", CaseHold{Status: StatusAwaitingReview, Product: ProductBusiness2Y}, refuse, StepClose},
		{"request for information", review5, rfi, StepRequestInformation},
		{"five-year first approval", review5, approve, StepAwaitSecond},
		{"five-year first refusal", review5, refuse, StepAwaitSecond},
		{"second approval agrees", second(OutcomeApprove), approve, StepClose},
		{"second refusal agrees", second(OutcomeRefuse), refuse, StepClose},
		{"approval after a refusal", second(OutcomeRefuse), approve, StepDisagreement},
		{"refusal after an approval", second(OutcomeApprove), refuse, StepDisagreement},
		{"resolution approves", disagreement, approve, StepClose},
		{"resolution refuses", disagreement, refuse, StepClose},
	}
	for _, tt := range tests {
		if got := NextDecisionStep(tt.c, tt.d); got != tt.want {
			t.Errorf("%s: NextDecisionStep = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestActorID(t *testing.T) {
	for name, want := range map[string]string{"officer:usr_1": "usr_1", "supervisor:usr_2": "usr_2",
		"system": "system", "applicant": "applicant", "": ""} {
		if got := ActorID(name); got != want {
			t.Errorf("ActorID(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestCheckPassportAtIssue(t *testing.T) {
	expiry := date("2027-06-30")
	tests := []struct {
		name     string
		issuedOn time.Time
		arrival  string
		want     bool // passes
	}{
		{"six months and more after issue", date("2026-12-30"), "2026-12-01", true},
		{"exactly six months after issue", date("2026-12-30"), "", true},
		{"a day short of six months", date("2027-01-01"), "", false},
		{"arrival later than issue counts", date("2026-10-01"), "2027-01-15", false},
		{"arrival earlier than issue: the issue day counts", date("2027-01-01"), "2026-06-01", false},
		{"expired before issue", date("2027-08-01"), "2026-06-01", false},
		{"issued on the expiry day", date("2027-06-30"), "", false},
		{"clock time does not matter", time.Date(2026, 12, 30, 23, 59, 0, 0, time.UTC), "", true},
	}
	for _, tt := range tests {
		err := CheckPassportAtIssue(tt.issuedOn, tt.arrival, expiry)
		if (err == nil) != tt.want {
			t.Errorf("%s: CheckPassportAtIssue = %v, want pass=%v", tt.name, err, tt.want)
			continue
		}
		if err != nil && (err.Code != CodePassportValidity || err.Pointer != "/passport/expiry_date") {
			t.Errorf("%s: error %+v", tt.name, err)
		}
		if err == nil {
			// A passport that passes gives a visa that ends after it starts.
			spec, _ := LookupProduct(ProductBusiness5YMulti)
			if terms := ComputeVisaTerms(spec, tt.issuedOn, expiry); !terms.ValidUntil.After(terms.ValidFrom) {
				t.Errorf("%s: terms %+v", tt.name, terms)
			}
		}
	}
	if err := CheckPassportAtIssue(date("2027-08-01"), "", expiry); err == nil ||
		!strings.Contains(err.Detail, "expired on 2027-06-30") {
		t.Errorf("expired passport: %v", err)
	}
}

func TestVouchingChamber(t *testing.T) {
	rec := &Chamber{ChamberID: "chb_a", MembershipNumber: "M-1"}
	tests := []struct {
		name       string
		chamber    *Chamber
		endorsedBy string
		want       Chamber
		ok         bool
	}{
		{"recommendation on a single application", rec, "", *rec, true},
		{"batch row: the submitting chamber's roster", rec, "chb_b", Chamber{ChamberID: "chb_b",
			MembershipNumber: "M-1"}, true},
		{"batch row without a membership number", &Chamber{ChamberID: "chb_b"}, "chb_b", Chamber{}, false},
		{"no recommendation", nil, "", Chamber{}, false},
		{"batch row without a chamber", nil, "chb_b", Chamber{}, false},
		{"blank membership number", &Chamber{ChamberID: "chb_a", MembershipNumber: " "}, "", Chamber{}, false},
	}
	for _, tt := range tests {
		got, ok := VouchingChamber(Application{Chamber: tt.chamber}, tt.endorsedBy)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: VouchingChamber = %+v %v, want %+v %v", tt.name, got, ok, tt.want, tt.ok)
		}
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
	clean := STPFacts{Enabled: true, Product: ProductBusiness2Y, Screened: true, Member: true, DocumentsComplete: true}
	tests := []struct {
		name   string
		change func(*STPFacts)
		want   bool
		reason string
	}{
		{"clean two-year case of an active member", func(*STPFacts) {}, true, ""},
		{"switched off", func(f *STPFacts) { f.Enabled = false }, false, "switched off"},
		{"five-year visa", func(f *STPFacts) { f.Product = ProductBusiness5YMulti }, false, "only two-year"},
		{"screening hit", func(f *STPFacts) { f.ScreeningHit = true }, false, "screening"},
		{"not an active member on the roster", func(f *STPFacts) { f.Member = false }, false, "roster"},
		{"no watchlist configured", func(f *STPFacts) { f.Screened = false }, false, "watchlist"},
		{"no watchlist and no membership", func(f *STPFacts) { f.Screened, f.Member = false, false }, false,
			"watchlist"},
		{"refused recently", func(f *STPFacts) { f.RecentRefusal = true }, false, "twelve months"},
		{"suspected duplicate", func(f *STPFacts) { f.SuspectedDuplicate = true }, false, "same passport"},
		{"documents incomplete", func(f *STPFacts) { f.DocumentsComplete = false }, false, "documents are incomplete"},
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
	if len(AllStatuses) != 12 {
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
