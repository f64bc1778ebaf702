package testenv

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/visad/visad/domain"
)

var passportSeq atomic.Int64

func init() { passportSeq.Store(time.Now().UnixNano() % 1_000_000) }

// UniquePassport returns a passport number no other fixture in this process uses.
func UniquePassport() string {
	return fmt.Sprintf("N%08d", passportSeq.Add(1))
}

// ValidApplication returns a valid application of the product for a Kazakh
// business traveller, with dates relative to today, a matching MRZ, and the
// evidence the product needs.
func ValidApplication(product domain.Product) domain.Application {
	today := time.Now().UTC()
	arrival := today.AddDate(0, 0, 14)
	app := domain.Application{
		Product: product,
		Applicant: domain.Applicant{
			Surname: "Abenov", GivenNames: "Nurlan", Sex: "M", DateOfBirth: "1985-03-14",
			PlaceOfBirth: "Almaty", Nationality: "KAZ", Email: "nurlan.abenov@example.kz", Phone: "+7 701 555 0101",
		},
		Passport: domain.Passport{
			Number: UniquePassport(), IssuingCountry: "KAZ",
			IssueDate:  today.AddDate(-2, 0, 0).Format(time.DateOnly),
			ExpiryDate: today.AddDate(8, 0, 0).Format(time.DateOnly),
		},
		Employment: domain.Employment{Company: "Steppe Grain LLP", Position: "Export Director"},
		Visit: domain.Visit{
			Purpose: "business_forum", IntendedArrival: arrival.Format(time.DateOnly),
			Host: &domain.Host{
				Company: "Lahore Textiles Ltd",
				City:    "Lahore",
				Address: "12 Mall Road",
				Phone:   "+92 42 555 0101",
			},
		},
	}
	if product == domain.ProductBusiness5YMulti {
		app.Visit.Host = nil
		app.Chamber = &domain.Chamber{ChamberID: "chb_kazcham", MembershipNumber: "M-10442"}
	}
	return WithMRZ(app)
}

// WithMRZ sets a machine readable zone that agrees with the typed fields.
func WithMRZ(app domain.Application) domain.Application {
	dob, _ := domain.ParseDate(app.Applicant.DateOfBirth)
	exp, _ := domain.ParseDate(app.Passport.ExpiryDate)
	l1, l2 := domain.BuildTD3(domain.MRZ{
		DocumentCode: "P", IssuingState: app.Passport.IssuingCountry,
		Surname: app.Applicant.Surname, GivenNames: app.Applicant.GivenNames,
		DocumentNumber: app.Passport.Number, Nationality: app.Applicant.Nationality,
		BirthDate: dob.Format("060102"), Sex: app.Applicant.Sex, ExpiryDate: exp.Format("060102"),
	})
	app.Passport.MRZ = []string{l1, l2}
	return app
}

// EnrolMember puts the applicant of a five-year application on a chamber's
// roster (creating a chamber on first use) and points the form's chamber
// recommendation at that membership.
func (e *Env) EnrolMember(form *domain.Application) {
	e.T.Helper()
	if e.memberChamber == "" {
		e.memberChamber, _ = e.Chamber("Kazakh Chamber of International Commerce")
	}
	number := "M-" + form.Passport.Number
	form.Chamber = &domain.Chamber{ChamberID: e.memberChamber, MembershipNumber: number}
	if _, _, err := e.Services.Cases.UpsertRoster(context.Background(), e.memberChamber, []domain.Member{{
		MembershipNumber: number, Surname: form.Applicant.Surname, GivenNames: form.Applicant.GivenNames,
		DateOfBirth: form.Applicant.DateOfBirth, Nationality: form.Applicant.Nationality,
		PassportNumber: form.Passport.Number, Status: "active", ValidUntil: time.Now().AddDate(3, 0, 0).Format(time.DateOnly),
	}}); err != nil {
		e.T.Fatal(err)
	}
}
