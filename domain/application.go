package domain

import (
	"strings"
	"time"
	"unicode"
)

// Application is the visa application form as submitted (JSON snake_case).
// Dates are kept as "YYYY-MM-DD" strings so that a malformed date surfaces as
// a field error from Validate rather than as a JSON decode error.
//
// The validate tags describe the structural rules; see validate.go for the
// custom tags and for the cross-field rules.
type Application struct {
	Product    Product    `json:"product" validate:"required,product"`
	Applicant  Applicant  `json:"applicant"`
	Passport   Passport   `json:"passport"`
	Employment Employment `json:"employment"`
	Visit      Visit      `json:"visit"`
	Chamber    *Chamber   `json:"chamber,omitempty"`
	// Documents name uploads (POST /v1/uploads) as the application's supporting documents.
	Documents []DocumentRef `json:"documents,omitempty"`
}

// Applicant is the person applying for the visa.
type Applicant struct {
	Surname      string `json:"surname" validate:"required,max=100,name"`
	GivenNames   string `json:"given_names" validate:"required,max=100,name"`
	Sex          string `json:"sex" validate:"required,oneof=M F X"`
	DateOfBirth  string `json:"date_of_birth" validate:"required,isodate"`
	PlaceOfBirth string `json:"place_of_birth" validate:"required,max=100,text"`
	Nationality  string `json:"nationality" validate:"required,country"` // ISO 3166-1 alpha-3
	Email        string `json:"email" validate:"required,max=254,email"`
	Phone        string `json:"phone" validate:"required,max=32,phone"`
}

// Passport is the travel document the visa will be attached to.
type Passport struct {
	Number         string   `json:"number" validate:"required,docnumber"`
	IssuingCountry string   `json:"issuing_country" validate:"required,country"` // alpha-3
	IssueDate      string   `json:"issue_date" validate:"required,isodate"`
	ExpiryDate     string   `json:"expiry_date" validate:"required,isodate"`
	MRZ            []string `json:"mrz,omitempty" validate:"omitempty,mrzlines,dive,mrzline"` // optional: 2 lines of 44
}

// Employment describes the applicant's employer.
type Employment struct {
	Company  string `json:"company" validate:"required,max=200,text"`
	Position string `json:"position" validate:"required,max=200,text"`
}

// Visit describes the intended trip.
type Visit struct {
	Purpose         string `json:"purpose" validate:"required,purpose"`
	IntendedArrival string `json:"intended_arrival" validate:"required,isodate"`
	Host            *Host  `json:"host,omitempty"`
}

// Host is the inviting Pakistani company.
type Host struct {
	Company string `json:"company" validate:"required,max=200,text"`
	City    string `json:"city" validate:"required,max=200,text"`
	Address string `json:"address" validate:"omitempty,max=200,text"`
	Phone   string `json:"phone" validate:"omitempty,max=32,phone"`
}

// Chamber is a Chamber of Commerce recommendation. Its fields are checked by
// the evidence rule (code evidence_required), not by struct tags.
type Chamber struct {
	ChamberID        string `json:"chamber_id" validate:"max=100"`
	MembershipNumber string `json:"membership_number" validate:"max=100"`
}

// Policy carries the configurable and time-dependent inputs of Validate.
type Policy struct {
	// Today is the current date; only its UTC calendar date is used. The
	// caller reads the clock so this package stays deterministic.
	Today time.Time
	// EligibleNationalities lists the alpha-3 codes allowed to apply; empty
	// means the default {"KAZ"}.
	EligibleNationalities []string
	// EndorsingChamber is the chamber that submitted the application for its
	// member; its recommendation is the evidence a business_2y visa needs.
	EndorsingChamber string
}

// defaultEligibleNationalities applies when Policy.EligibleNationalities is empty.
var defaultEligibleNationalities = []string{"KAZ"}

// DefaultPolicy returns the production policy for the given day.
func DefaultPolicy(today time.Time) Policy {
	return Policy{
		Today:                 today,
		EligibleNationalities: append([]string(nil), defaultEligibleNationalities...),
	}
}

// isEligibleNationality applies the policy's allow-list (or the default).
func (p Policy) isEligibleNationality(code string) bool {
	list := p.EligibleNationalities
	if len(list) == 0 {
		list = defaultEligibleNationalities
	}
	for _, c := range list {
		if strings.ToUpper(strings.TrimSpace(c)) == code {
			return true
		}
	}
	return false
}

// Normalize returns a canonical copy of app: text is trimmed, codes
// (nationality, issuing country, sex) and MRZ lines are upper-cased, the
// passport number is upper-cased with whitespace removed, product and purpose
// are lower-cased, and the e-mail is lower-cased. The input is not modified
// (pointers and the MRZ slice are copied). Both the API and the workflow
// activity call Normalize before Validate, so they validate identical data.
func Normalize(app Application) Application {
	out := app
	out.Product = Product(lowerTrim(string(app.Product)))

	a := &out.Applicant
	a.Surname = strings.TrimSpace(a.Surname)
	a.GivenNames = strings.TrimSpace(a.GivenNames)
	a.Sex = upperTrim(a.Sex)
	a.DateOfBirth = strings.TrimSpace(a.DateOfBirth)
	a.PlaceOfBirth = strings.TrimSpace(a.PlaceOfBirth)
	a.Nationality = upperTrim(a.Nationality)
	a.Email = lowerTrim(a.Email)
	a.Phone = strings.TrimSpace(a.Phone)

	p := &out.Passport
	p.Number = NormalizePassportNumber(p.Number)
	p.IssuingCountry = upperTrim(p.IssuingCountry)
	p.IssueDate = strings.TrimSpace(p.IssueDate)
	p.ExpiryDate = strings.TrimSpace(p.ExpiryDate)
	if len(app.Passport.MRZ) == 0 {
		p.MRZ = nil // an empty list means "no MRZ supplied"
	} else {
		p.MRZ = make([]string, len(app.Passport.MRZ))
		for i, line := range app.Passport.MRZ {
			p.MRZ[i] = upperTrim(line)
		}
	}

	if len(app.Documents) == 0 {
		out.Documents = nil
	} else {
		out.Documents = make([]DocumentRef, len(app.Documents))
		for i, d := range app.Documents {
			out.Documents[i] = DocumentRef{Kind: DocumentKind(lowerTrim(string(d.Kind))),
				UploadID: strings.TrimSpace(d.UploadID)}
		}
	}

	out.Employment.Company = strings.TrimSpace(out.Employment.Company)
	out.Employment.Position = strings.TrimSpace(out.Employment.Position)

	v := &out.Visit
	v.Purpose = lowerTrim(v.Purpose)
	v.IntendedArrival = strings.TrimSpace(v.IntendedArrival)
	if app.Visit.Host != nil {
		h := *app.Visit.Host
		h.Company = strings.TrimSpace(h.Company)
		h.City = strings.TrimSpace(h.City)
		h.Address = strings.TrimSpace(h.Address)
		h.Phone = strings.TrimSpace(h.Phone)
		v.Host = &h
	}

	if app.Chamber != nil {
		c := *app.Chamber
		c.ChamberID = strings.TrimSpace(c.ChamberID)
		c.MembershipNumber = strings.TrimSpace(c.MembershipNumber)
		out.Chamber = &c
	}
	return out
}

func upperTrim(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }
func lowerTrim(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func removeSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}
