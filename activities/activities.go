// Package activities holds the side effects of an application's workflow:
// the authoritative validation, watchlist screening, read-model writes and
// visa issuance. Every one is idempotent under retry: keys come from the
// workflow (application id, status sequence), writes are INSERT … ON CONFLICT.
//
// Inputs and results carry ids, codes and dates only — never passport
// numbers, names or e-mail addresses — so workflow histories stay free of PII.
package activities

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/keys"
	"github.com/visad/visad/internal/sealpki"
)

// Activities carries the dependencies of every activity.
type Activities struct {
	Store                 *db.Store
	Keys                  *keys.Keyring
	Watchlist             *Watchlist
	EligibleNationalities []string
	// Starter starts application workflows for batches; StartConcurrency bounds it.
	Starter          WorkflowStarter
	StartConcurrency int
	// SLA is the decision deadline per product code (empty: the product's default).
	SLA map[string]time.Duration
	// STPEnabled switches straight-through processing on.
	STPEnabled bool
	// OnSLAEvent is told of every escalation and breach (metrics).
	OnSLAEvent func(event domain.Event)
	// Seals signs issued visas' visible digital seals (see evisa.go).
	Seals *sealpki.PKI
	// DocumentsRequired enforces each product's document checklist (documents.go).
	DocumentsRequired bool

	rows rowCache
}

func (a *Activities) rowCache() *rowCache { return &a.rows }

// Error types the workflow reacts to without retrying.
const (
	ErrTypeApplicationMissing = "ApplicationMissing"
	ErrTypeUnknownProduct     = "UnknownProduct"
	// ErrTypePassportInvalid: on the issue day the passport fails domain.CheckPassportAtIssue.
	ErrTypePassportInvalid = "PassportInvalid"
)

// StatusInput is one status change of a case.
type StatusInput struct {
	ApplicationID string
	Seq           int64
	Status        domain.Status
	Event         domain.Event
	Actor         string
	Detail        string
	At            time.Time
	ScreeningHit  *bool
	Decision      *domain.Decision
	Ineligible    []domain.FieldError
	// FirstDecidedBy is the first person of a four-eyes decision.
	FirstDecidedBy string
	// Note is the decider's note, kept sealed for the record (not on the timeline).
	Note string
}

// RecordStatus writes a status change to the read model and the timeline.
func (a *Activities) RecordStatus(ctx context.Context, in StatusInput) error {
	return a.Store.RecordStatus(ctx, statusChange(in))
}

func statusChange(in StatusInput) db.StatusChange {
	c := db.StatusChange{
		ApplicationID: in.ApplicationID, Seq: in.Seq, Status: in.Status, Event: in.Event, Actor: in.Actor,
		Detail: in.Detail, At: in.At, ScreeningHit: in.ScreeningHit, Decision: in.Decision,
		FirstDecidedBy: in.FirstDecidedBy, Note: in.Note,
	}
	if len(in.Ineligible) > 0 {
		raw, _ := json.Marshal(in.Ineligible)
		c.IneligibleReasons = string(raw)
	}
	return c
}

// ValidateInput names the application to validate and the day it was submitted.
type ValidateInput struct {
	ApplicationID string
	SubmittedAt   time.Time
}

// ValidateResult lists every broken rule; empty means valid. A valid form
// may still lack documents its checklist requires: the case then asks for
// them before anything else.
type ValidateResult struct {
	Errors           []domain.FieldError
	MissingDocuments []string `json:",omitempty"` // requirement codes (domain.MissingRequirements)
}

// ValidateApplication re-checks every domain rule against the stored form,
// as of the submission day, and the chamber membership it claims.
func (a *Activities) ValidateApplication(ctx context.Context, in ValidateInput) (ValidateResult, error) {
	app, form, err := a.load(ctx, in.ApplicationID)
	if err != nil {
		return ValidateResult{}, err
	}
	policy := domain.Policy{
		Today:                 in.SubmittedAt,
		EligibleNationalities: a.EligibleNationalities,
		EndorsingChamber:      app.EndorsedBy.String,
	}
	errs := domain.Validate(form, policy)
	if len(errs) == 0 {
		rosterErrs, err := a.checkRoster(ctx, app, form, in.SubmittedAt)
		if err != nil {
			return ValidateResult{}, err
		}
		errs = append(errs, rosterErrs...)
	}
	missing, err := a.missingDocuments(ctx, app)
	if err != nil {
		return ValidateResult{}, err
	}
	// Another open application for the passport is no reason to refuse this
	// one (it may be an impostor's): officers see both flagged instead.
	return ValidateResult{Errors: errs, MissingDocuments: missing}, nil
}

// checkRoster verifies the chamber membership the application relies on,
// when domain.NeedsMembershipCheck says it must be verified.
func (a *Activities) checkRoster(
	ctx context.Context,
	app db.Application,
	form domain.Application,
	today time.Time,
) (domain.FieldErrors, error) {
	if !domain.NeedsMembershipCheck(form, app.EndorsedBy.String) {
		return nil, nil
	}
	entry, err := a.rosterEntry(ctx, *form.Chamber, form.Passport.Number)
	if err != nil {
		return nil, err
	}
	return domain.CheckMembership(form, entry, today), nil
}

// rosterEntry reads what the chamber's roster says about the claimed member,
// for domain.CheckMembership to judge; it compares the passport by its hash,
// the only form of it the roster keeps.
func (a *Activities) rosterEntry(
	ctx context.Context,
	claim domain.Chamber,
	passportNumber string,
) (domain.RosterEntry, error) {
	member, err := a.Store.GetMember(ctx, claim.ChamberID, claim.MembershipNumber)
	if errors.Is(err, db.ErrNotFound) {
		return domain.RosterEntry{}, nil
	}
	if err != nil {
		return domain.RosterEntry{}, err
	}
	return domain.RosterEntry{
		Found:           true,
		Status:          member.Status,
		ValidUntil:      member.ValidUntil,
		DateOfBirth:     member.DateOfBirth,
		PassportMatches: member.PassportHash == a.Keys.MemberPassportHash(passportNumber),
	}, nil
}

// ScreenInput names the application to screen.
type ScreenInput struct {
	ApplicationID string
}

// ScreenResult says whether the applicant matched the watchlist. It carries
// no names: the officer sees the best match's score and entry reference on
// the case, and the entry itself in the list.
type ScreenResult struct {
	Hit     bool
	Matches int
	// Of the best match: its score, the list entry's reference (an id or
	// "line N") and how the score came about.
	Score    float64 `json:",omitempty"`
	EntryRef string  `json:",omitempty"`
	Reason   string  `json:",omitempty"`
	// Screened: a configured watchlist with entries was searched (an empty list clears everyone).
	Screened bool `json:",omitempty"`
}

// ScreenApplication screens the applicant's names and birth date against the
// watchlist (domain.ScreeningList: normalised, fuzzy, with a threshold).
func (a *Activities) ScreenApplication(ctx context.Context, in ScreenInput) (ScreenResult, error) {
	_, form, err := a.load(ctx, in.ApplicationID)
	if err != nil {
		return ScreenResult{}, err
	}
	if a.Watchlist == nil {
		return ScreenResult{}, nil
	}
	hits, err := a.Watchlist.Match(form.Applicant.Surname, form.Applicant.GivenNames, form.Applicant.DateOfBirth)
	if err != nil {
		return ScreenResult{}, err
	}
	screened := a.Watchlist.Len() > 0
	if len(hits) == 0 {
		return ScreenResult{Screened: screened}, nil
	}
	best := hits[0]
	return ScreenResult{Hit: true, Matches: len(hits), Score: best.Score, EntryRef: best.Ref, Reason: best.Reason,
		Screened: screened}, nil
}

// IssueInput asks for the visa of an approved application.
type IssueInput struct {
	Status   StatusInput // the "issued" status change, recorded with the visa
	IssuedOn time.Time   // workflow time of the approval, so retries issue the same dates
}

// IssueVisa issues the visa: validity from the product, capped at passport
// expiry; a unique, human-readable number derived from the application id so a
// retry re-issues the same visa rather than a second one.
func (a *Activities) IssueVisa(ctx context.Context, in IssueInput) (domain.Visa, error) {
	app, form, err := a.load(ctx, in.Status.ApplicationID)
	if err != nil {
		return domain.Visa{}, err
	}
	spec, ok := domain.LookupProduct(domain.Product(app.Product))
	if !ok {
		return domain.Visa{}, temporal.NewNonRetryableApplicationError("unknown product", ErrTypeUnknownProduct, nil)
	}
	expiry, ok := domain.ParseDate(form.Passport.ExpiryDate)
	if !ok {
		return domain.Visa{}, temporal.NewNonRetryableApplicationError("stored passport expiry is not a date",
			ErrTypeApplicationMissing, nil)
	}
	// The case may have waited since validation: the passport must still pass on the issue day.
	if fe := domain.CheckPassportAtIssue(in.IssuedOn, form.Visit.IntendedArrival, expiry); fe != nil {
		return domain.Visa{}, temporal.NewNonRetryableApplicationError(
			string(fe.Code)+": "+fe.Detail, ErrTypePassportInvalid, nil)
	}
	terms := domain.ComputeVisaTerms(spec, in.IssuedOn, expiry)
	visa, err := a.Store.IssueVisa(ctx, db.VisaIssue{
		Change:      statusChange(in.Status),
		Product:     app.Product,
		ValidFrom:   terms.ValidFrom.Format(time.DateOnly),
		ValidUntil:  terms.ValidUntil.Format(time.DateOnly),
		Entries:     terms.Entries,
		MaxStayDays: terms.MaxStayDays,
		NumberCandidate: func(i int) string {
			return domain.VisaNumber(spec.Code, in.IssuedOn, app.ID, i)
		},
	})
	if err != nil {
		return domain.Visa{}, err
	}
	if err := a.sealVisa(ctx, app, form, visa, in.IssuedOn); err != nil {
		return domain.Visa{}, err
	}
	return visa, nil
}

// load reads and unseals an application's form.
func (a *Activities) load(ctx context.Context, id string) (db.Application, domain.Application, error) {
	app, err := a.Store.GetApplication(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		return db.Application{}, domain.Application{}, temporal.NewNonRetryableApplicationError(
			"application not found",
			ErrTypeApplicationMissing,
			nil,
		)
	}
	if err != nil {
		return db.Application{}, domain.Application{}, err
	}
	form, err := a.Keys.OpenForm(app.ID, app.FormSealed)
	if err != nil {
		return db.Application{}, domain.Application{}, temporal.NewNonRetryableApplicationError(
			"application form cannot be read",
			ErrTypeApplicationMissing,
			err,
		)
	}
	return app, form, nil
}
