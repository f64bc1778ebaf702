package activities

import (
	"context"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
)

// STPPolicyVersion names the straight-through processing rules below; it is
// recorded on the timeline of every case the system decides.
const STPPolicyVersion = "stp-2026-11"

// SLAEventInput is a change of the SLA clock.
type SLAEventInput struct {
	ApplicationID string
	Seq           int64
	Event         string
	Detail        string
	At            time.Time
	DueAt         time.Time
	Paused        bool
	RemainingMS   int64
	Escalated     bool
	Breached      bool
}

// RecordSLAEvent writes an escalation, breach, pause or resume to the read model.
func (a *Activities) RecordSLAEvent(ctx context.Context, in SLAEventInput) error {
	if err := a.Store.RecordSLAEvent(ctx, db.SLAEvent(in)); err != nil {
		return err
	}
	if a.OnSLAEvent != nil {
		a.OnSLAEvent(in.Event)
	}
	return nil
}

// AssignmentInput claims (Assignee set) or releases a case.
type AssignmentInput struct {
	ApplicationID string
	Seq           int64
	Assignee      string
	Actor         string
	At            time.Time
}

// RecordAssignment writes who holds a case.
func (a *Activities) RecordAssignment(ctx context.Context, in AssignmentInput) error {
	return a.Store.RecordAssignment(ctx, db.Assignment(in))
}

// STPInput asks whether a screened case may be decided by policy.
type STPInput struct {
	ApplicationID string
	ScreeningHit  bool
	DecidedAt     time.Time
}

// STPResult is the policy's answer, with the reason when it declines.
type STPResult struct {
	Eligible      bool
	Reason        string
	PolicyVersion string
}

// CheckSTP applies straight-through processing: a two-year case with a
// verified chamber endorsement, a clean screening and no refusal for the same
// passport in the past twelve months is approved by the system.
func (a *Activities) CheckSTP(ctx context.Context, in STPInput) (STPResult, error) {
	res := STPResult{PolicyVersion: STPPolicyVersion}
	if !a.STPEnabled {
		res.Reason = "straight-through processing is switched off"
		return res, nil
	}
	app, form, err := a.load(ctx, in.ApplicationID)
	if err != nil {
		return res, err
	}
	switch {
	case domain.Product(app.Product) != domain.ProductBusiness2Y:
		res.Reason = "only two-year visas are processed straight through"
		return res, nil
	case in.ScreeningHit:
		res.Reason = "screening flagged the applicant"
		return res, nil
	}
	verified := app.EndorsedBy.Valid && app.EndorsedBy.String != ""
	if !verified && form.Chamber != nil {
		mismatches, err := a.verifyMembership(ctx, form, in.DecidedAt)
		if err != nil {
			return res, err
		}
		verified = len(mismatches) == 0
	}
	if !verified {
		res.Reason = "no verified chamber endorsement"
		return res, nil
	}
	refused, err := a.Store.RecentRefusal(ctx, app.PassportHash, in.DecidedAt.AddDate(-1, 0, 0))
	if err != nil {
		return res, err
	}
	if refused {
		res.Reason = "the passport was refused a visa in the past twelve months"
		return res, nil
	}
	res.Eligible = true
	return res, nil
}
