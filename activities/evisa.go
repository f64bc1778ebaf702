package activities

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/vds"
)

// ErrTypeSealImpossible: the visa's MRZ or seal cannot be built from the
// stored form (a retry would fail the same way).
const ErrTypeSealImpossible = "SealImpossible"

// sealVisa creates the visible digital seal of an issued visa and stores it
// with the visa, once. The seal's dates come from the workflow (issuedOn),
// and a software key signs deterministically, so a retry signs the same
// bytes; the store keeps the first seal in any case (an HSM signs randomly,
// and a signer may have rotated between attempts). Neither the seal nor the
// MRZ leaves this activity: they hold the holder's name and passport number.
func (a *Activities) sealVisa(ctx context.Context, app db.Application, form domain.Application, visa domain.Visa,
	issuedOn time.Time) error {
	if a.Seals == nil {
		return nil // a worker built without a PKI (unit tests) issues visas without seals
	}
	switch _, err := a.Store.VisaSeal(ctx, app.ID); {
	case err == nil:
		return nil // sealed by an earlier attempt
	case !errors.Is(err, db.ErrNotFound):
		return err
	}
	raw, err := a.signVisa(form, visa, issuedOn)
	if err != nil {
		return temporal.NewNonRetryableApplicationError("the visa seal cannot be built", ErrTypeSealImpossible, err)
	}
	sealed, err := a.Keys.SealVisaSeal(app.ID, raw)
	if err != nil {
		return err
	}
	_, err = a.Store.StoreVisaSeal(ctx, app.ID, sealed, issuedOn)
	return err
}

// signVisa builds the visa's MRV-A MRZ and signs its seal.
func (a *Activities) signVisa(form domain.Application, visa domain.Visa, issuedOn time.Time) ([]byte, error) {
	mrz, err := domain.BuildEVisaMRZ(domain.EVisaFields{
		VisaNumber: visa.VisaNumber, Surname: form.Applicant.Surname, GivenNames: form.Applicant.GivenNames,
		Nationality: form.Applicant.Nationality, DateOfBirth: form.Applicant.DateOfBirth, Sex: form.Applicant.Sex,
		ValidUntil: visa.ValidUntil,
	})
	if err != nil {
		return nil, err
	}
	entries, err := domain.SealEntries(visa.Entries)
	if err != nil {
		return nil, err
	}
	issueDate := time.Date(issuedOn.Year(), issuedOn.Month(), issuedOn.Day(), 0, 0, 0, 0, time.UTC)
	signatureDate := domain.SealSignatureDate(issuedOn, a.Seals.Active().NotBefore)
	return a.Seals.SignVisa(issueDate, signatureDate, vds.Visa{
		MRZType: vds.MRVA, MRZ: mrz, Entries: &entries,
		DurationOfStay: &vds.DurationOfStay{Days: visa.MaxStayDays},
		PassportNumber: domain.SealPassportNumber(form.Passport.Number),
	})
}
