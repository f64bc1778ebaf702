package activities

import (
	"context"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
)

// SLAEventInput is a change of the SLA clock.
type SLAEventInput struct {
	ApplicationID string
	Seq           int64
	Event         domain.Event
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
	// Screened: the screening searched a configured watchlist (ScreenResult.Screened).
	Screened bool `json:",omitempty"`
}

// STPResult is the policy's answer, with the reason when it declines.
type STPResult struct {
	Eligible      bool
	Reason        string
	PolicyVersion string
}

// CheckSTP gathers the facts straight-through processing looks at, and
// lets the policy (domain.DecideSTP) decide.
func (a *Activities) CheckSTP(ctx context.Context, in STPInput) (STPResult, error) {
	res := STPResult{PolicyVersion: domain.STPPolicyVersion}
	facts := domain.STPFacts{Enabled: a.STPEnabled, ScreeningHit: in.ScreeningHit, Screened: in.Screened}
	if facts.Enabled {
		var err error
		if facts, err = a.stpFacts(ctx, in, facts); err != nil {
			return res, err
		}
	}
	res.Eligible, res.Reason = domain.DecideSTP(facts)
	return res, nil
}

// stpFacts reads the case: its product, whether the applicant is an active
// member on the roster of the chamber that vouches for them (the one that
// submitted the case, or whose recommendation it carries), and whether the
// passport was refused recently.
func (a *Activities) stpFacts(ctx context.Context, in STPInput, facts domain.STPFacts) (domain.STPFacts, error) {
	app, form, err := a.load(ctx, in.ApplicationID)
	if err != nil {
		return facts, err
	}
	facts.Product = domain.Product(app.Product)
	missing, err := a.missingDocuments(ctx, app)
	if err != nil {
		return facts, err
	}
	facts.DocumentsComplete = len(missing) == 0
	if facts.Product != domain.ProductBusiness2Y {
		return facts, nil // the policy stops here; spare the queries
	}
	if claim, ok := domain.VouchingChamber(form, app.EndorsedBy.String); ok {
		entry, err := a.rosterEntry(ctx, claim, form.Passport.Number)
		if err != nil {
			return facts, err
		}
		facts.Member = len(domain.CheckMembership(form, entry, in.DecidedAt)) == 0
	}
	if facts.RecentRefusal, err = a.Store.RecentRefusal(ctx, app.PassportHash,
		domain.STPRefusalsSince(in.DecidedAt)); err != nil {
		return facts, err
	}
	_, facts.SuspectedDuplicate, err = a.Store.OtherOpenApplication(ctx, app.PassportHash, app.Product, app.ID)
	return facts, err
}
