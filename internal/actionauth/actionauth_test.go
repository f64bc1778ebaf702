package actionauth

import (
	"bytes"
	"testing"

	"go.temporal.io/sdk/converter"

	"github.com/visad/visad/domain"
)

// TestDescribeMatchesOnBothSides: the API describes the value it sends, the
// worker the value it decoded from the payload; both must reach the same
// action, or no signed update would ever verify.
func TestDescribeMatchesOnBothSides(t *testing.T) {
	days := 7
	for _, arg := range []any{
		domain.DecisionRequest{Decision: domain.OutcomeApprove, Note: "ok <&> \u2028", DueInDays: &days,
			Actor: domain.Actor{ID: "usr_1", Role: domain.RoleOfficer}},
		// Invalid UTF-8 turns into U+FFFD on the way: the canonical form has it already.
		domain.DecisionRequest{Decision: domain.OutcomeRequestInformation, Message: "bad \xff byte",
			Actor: domain.Actor{ID: "usr_2", Role: domain.RoleSupervisor}},
	} {
		sent, err := Describe("application/app_1", "decide", "u-1", []any{arg})
		if err != nil {
			t.Fatal(err)
		}
		dc := converter.GetDefaultDataConverter()
		p, err := dc.ToPayload(arg)
		if err != nil {
			t.Fatal(err)
		}
		var decoded domain.DecisionRequest
		if err := dc.FromPayload(p, &decoded); err != nil {
			t.Fatal(err)
		}
		got, err := Describe("application/app_1", "decide", "u-1", []any{decoded})
		if err != nil {
			t.Fatal(err)
		}
		if got.Actor != sent.Actor || !bytes.Equal(got.ArgsDigest, sent.ArgsDigest) {
			t.Fatalf("client %+v, worker %+v", sent, got)
		}
		want := string(arg.(domain.DecisionRequest).Actor.Role) + ":" + arg.(domain.DecisionRequest).Actor.ID
		if sent.Actor != want {
			t.Fatalf("actor %q, want %q", sent.Actor, want)
		}
	}
}

// TestDescribeBindsArguments: other arguments, another actor: another digest.
func TestDescribeBindsArguments(t *testing.T) {
	base := domain.DecisionRequest{Decision: domain.OutcomeApprove,
		Actor: domain.Actor{ID: "usr_1", Role: domain.RoleOfficer}}
	a, _ := Describe("w", "decide", "u", []any{base})
	refuse := base
	refuse.Decision = domain.OutcomeRefuse
	b, _ := Describe("w", "decide", "u", []any{refuse})
	other := base
	other.Actor.Role = domain.RoleSupervisor
	c, _ := Describe("w", "decide", "u", []any{other})
	if bytes.Equal(a.ArgsDigest, b.ArgsDigest) || bytes.Equal(a.ArgsDigest, c.ArgsDigest) || a.Actor == c.Actor {
		t.Fatalf("digests do not bind the arguments: %x %x %x", a.ArgsDigest, b.ArgsDigest, c.ArgsDigest)
	}
}
