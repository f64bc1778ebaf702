package domain

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/go-playground/validator/v10"
)

// validate is shared by all calls: *validator.Validate caches struct metadata
// and is safe for concurrent use once configured.
var validate = newValidator()

// customValidations are the tags used in the struct tags of the form.
var customValidations = map[string]func(string) bool{
	"product":   func(s string) bool { _, ok := LookupProduct(Product(s)); return ok },
	"purpose":   isVisitPurpose,
	"country":   IsCountryCode,
	"isodate":   func(s string) bool { _, ok := ParseDate(s); return ok },
	"phone":     isPhoneNumber,
	"docnumber": documentNumberPattern.MatchString,
	"mrzline":   isMRZLine,
	"name":      IsPersonName,
	"text":      IsFreeText,
}

var (
	// documentNumberPattern applies to the normalised passport number.
	documentNumberPattern = regexp.MustCompile(`^[A-Z0-9]{6,20}$`)
	phonePattern          = regexp.MustCompile(`^\+?[0-9 ()-]+$`)
)

// minPhoneDigits rejects strings such as "+ ( )" that match the alphabet but
// cannot be dialled.
const minPhoneDigits = 5

func isPhoneNumber(s string) bool {
	if !phonePattern.MatchString(s) {
		return false
	}
	digits := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			digits++
		}
	}
	return digits >= minPhoneDigits
}

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	// Use JSON names so the namespace of an error maps onto a JSON pointer.
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	for tag, fn := range customValidations {
		err := v.RegisterValidation(tag, func(fl validator.FieldLevel) bool {
			return fl.Field().Kind() == reflect.String && fn(fl.Field().String())
		})
		if err != nil {
			panic("domain: registering validation " + tag + ": " + err.Error())
		}
	}
	// An MRZ is optional; an empty list is treated as absent.
	err := v.RegisterValidation("mrzlines", func(fl validator.FieldLevel) bool {
		n := fl.Field().Len()
		return n == 0 || n == 2
	})
	if err != nil {
		panic("domain: registering validation mrzlines: " + err.Error())
	}
	return v
}

// pointerFromNamespace converts a validator namespace such as
// "Application.passport.mrz[1]" into the JSON pointer "/passport/mrz/1".
func pointerFromNamespace(ns string) string {
	_, rest, found := strings.Cut(ns, ".") // drop the root type name
	if !found {
		return ""
	}
	var tokens []string
	for _, part := range strings.Split(rest, ".") {
		name, index, hasIndex := strings.Cut(part, "[")
		tokens = append(tokens, name)
		for hasIndex {
			var idx string
			idx, index, _ = strings.Cut(index, "]")
			tokens = append(tokens, idx)
			_, index, hasIndex = strings.Cut(index, "[")
		}
	}
	return jsonPointer(tokens...)
}

// translateValidationError maps a validator error onto our codes. Details are
// built from the rule only (tag parameters, catalogues), never from the value.
func translateValidationError(fe validator.FieldError) FieldErrors {
	ptr := pointerFromNamespace(fe.Namespace())
	one := func(code, detail string) FieldErrors { return FieldErrors{{Pointer: ptr, Detail: detail, Code: code}} }
	switch fe.Tag() {
	case "required":
		return one(CodeRequired, "is required")
	case "max":
		return one(CodeTooLong, "must be at most "+fe.Param()+" characters long")
	case "oneof":
		return one(CodeOneOf, "must be one of: "+strings.ReplaceAll(fe.Param(), " ", ", "))
	case "product":
		codes := make([]string, 0, len(products))
		for _, p := range products {
			codes = append(codes, string(p.Code))
		}
		return one(CodeOneOf, "must be one of: "+strings.Join(codes, ", "))
	case "purpose":
		return one(CodeOneOf, "must be one of: "+strings.Join(VisitPurposes, ", "))
	case "email":
		return one(CodeInvalidEmail, "must be a valid e-mail address")
	case "phone":
		return one(
			CodeInvalidPhone,
			"must be a phone number made of digits, spaces, dashes, parentheses and an optional leading +",
		)
	case "docnumber":
		return one(CodeInvalidFormat, "must be 6 to 20 letters (A-Z) or digits")
	case "country":
		return one(CodeInvalidCountry, "must be an ISO 3166-1 alpha-3 country code")
	case "isodate":
		return one(CodeInvalidDate, "must be a valid date in the format YYYY-MM-DD")
	case "name", "text":
		// The value is inspected only to choose the code.
		value, _ := fe.Value().(string)
		return textFieldErrors(ptr, value, fe.Tag() == "name")
	case "mrzlines":
		return one(CodeMRZFormat, "must contain exactly 2 lines")
	case "mrzline":
		// The value is inspected only to choose the message.
		line, _ := fe.Value().(string)
		if errs := mrzLineFormatErrors(ptr, line); len(errs) > 0 {
			return errs
		}
		return one(CodeMRZFormat, "is not a valid machine readable zone line")
	default:
		return one(CodeInvalidFormat, "is invalid")
	}
}

// JSON pointers used by the cross-field rules.
var (
	ptrProduct          = jsonPointer("product")
	ptrSurname          = jsonPointer("applicant", "surname")
	ptrSex              = jsonPointer("applicant", "sex")
	ptrDateOfBirth      = jsonPointer("applicant", "date_of_birth")
	ptrNationality      = jsonPointer("applicant", "nationality")
	ptrPassportNumber   = jsonPointer("passport", "number")
	ptrIssuingCountry   = jsonPointer("passport", "issuing_country")
	ptrIssueDate        = jsonPointer("passport", "issue_date")
	ptrExpiryDate       = jsonPointer("passport", "expiry_date")
	ptrIntendedArrival  = jsonPointer("visit", "intended_arrival")
	ptrHost             = jsonPointer("visit", "host")
	ptrChamber          = jsonPointer("chamber")
	ptrChamberID        = jsonPointer("chamber", "chamber_id")
	ptrMembershipNumber = jsonPointer("chamber", "membership_number")
)

const (
	detailMRZMismatch = "does not match the passport's machine readable zone"
	detailEvidence2Y  = "a Pakistani host invitation (visit.host) or a chamber recommendation (chamber) is required"
	detailEvidence5Y  = "a chamber recommendation (chamber) is required for the five-year multiple-entry visa"

	minimumAgeYears      = 18 // on the intended arrival date
	passportMarginMonths = 6  // passport validity required beyond arrival
	arrivalWindowYears   = 1  // how far ahead one may apply
)

// Validate checks the whole application, structure and every business rule,
// and returns nil when it is valid. Errors are sorted by pointer, then code.
// app should already have been through Normalize.
//
// A rule that depends on another field is skipped when that field is already
// structurally invalid (missing, malformed), so each problem is reported
// once, at its source.
func Validate(app Application, p Policy) FieldErrors {
	r := rules{app: app, policy: p, today: dateOf(p.Today)}
	r.structural()
	r.nationality()
	r.dates()
	r.plausibleDates()
	r.evidence()
	r.mrz()
	r.errs = append(r.errs, CheckDocumentRefs(app.Documents)...)
	if len(r.errs) == 0 {
		return nil
	}
	sortFieldErrors(r.errs)
	return r.errs
}

// rules accumulates the errors of one Validate call.
type rules struct {
	app    Application
	policy Policy
	today  time.Time
	errs   FieldErrors
	// invalid holds the pointers that failed structural validation; the
	// cross-field rules treat them as unusable prerequisites.
	invalid map[string]bool
}

func (r *rules) add(ptr, code, detail string) {
	r.errs = append(r.errs, FieldError{Pointer: ptr, Detail: detail, Code: code})
}

// usable reports whether the field at ptr passed structural validation.
func (r *rules) usable(ptr string) bool { return !r.invalid[ptr] }

// date returns the parsed date at ptr if it is structurally valid.
func (r *rules) date(ptr, value string) (time.Time, bool) {
	if !r.usable(ptr) {
		return time.Time{}, false
	}
	return ParseDate(value)
}

func (r *rules) structural() {
	r.invalid = map[string]bool{}
	err := validate.Struct(r.app)
	if err == nil {
		return
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		// Only possible if a non-struct were passed, which the types forbid.
		r.add("", CodeInvalidFormat, "the application could not be validated")
		return
	}
	for _, fe := range verrs {
		for _, e := range translateValidationError(fe) {
			r.errs = append(r.errs, e)
			r.invalid[e.Pointer] = true
		}
	}
}

func (r *rules) nationality() {
	if r.usable(ptrNationality) && !r.policy.isEligibleNationality(r.app.Applicant.Nationality) {
		r.add(ptrNationality, CodeNotEligibleNationality, "applicants of this nationality are not eligible for this visa")
	}
}

func (r *rules) dates() {
	a, p, v := r.app.Applicant, r.app.Passport, r.app.Visit
	issue, issueOK := r.date(ptrIssueDate, p.IssueDate)
	expiry, expiryOK := r.date(ptrExpiryDate, p.ExpiryDate)
	arrival, arrivalOK := r.date(ptrIntendedArrival, v.IntendedArrival)
	birth, birthOK := r.date(ptrDateOfBirth, a.DateOfBirth)

	if issueOK && issue.After(r.today) {
		r.add(ptrIssueDate, CodeIssueDateInFuture, "must not be in the future")
	}
	if issueOK && expiryOK && !issue.Before(expiry) {
		r.add(ptrExpiryDate, CodeExpiryBeforeIssue, "must be after the passport's issue date")
	}

	if arrivalOK {
		latest := addDateClamped(r.today, arrivalWindowYears, 0)
		if arrival.Before(r.today) || arrival.After(latest) {
			r.add(ptrIntendedArrival, CodeArrivalOutOfRange, "must be between today and one year from today")
		}
	}
	if arrivalOK && expiryOK && expiry.Before(addDateClamped(arrival, 0, passportMarginMonths)) {
		r.add(
			ptrExpiryDate,
			CodePassportValidity,
			"the passport must remain valid for at least six months after the intended arrival date",
		)
	}

	switch {
	case !birthOK:
	case birth.After(r.today):
		r.add(ptrDateOfBirth, CodeDateInFuture, "must not be in the future")
	case arrivalOK && arrival.Before(addDateClamped(birth, minimumAgeYears, 0)):
		// Someone born on 29 February turns 18 on 28 February (clamped).
		r.add(ptrDateOfBirth, CodeUnderage, "the applicant must be at least 18 years old on the intended arrival date")
	}
}

// evidence enforces the supporting-document requirement of each product.
func (r *rules) evidence() {
	c := r.app.Chamber
	if c != nil {
		// A recommendation that is present but incomplete cannot be checked
		// with the chamber, whatever the product.
		if strings.TrimSpace(c.ChamberID) == "" {
			r.add(ptrChamberID, CodeEvidenceRequired, "the chamber recommendation must include the chamber identifier")
		}
		if strings.TrimSpace(c.MembershipNumber) == "" {
			r.add(ptrMembershipNumber, CodeEvidenceRequired, "the chamber recommendation must include the membership number")
		}
	}
	if !r.usable(ptrProduct) {
		return
	}
	switch r.app.Product {
	case ProductBusiness2Y:
		if r.app.Visit.Host == nil && c == nil && r.policy.EndorsingChamber == "" {
			r.add(ptrHost, CodeEvidenceRequired, detailEvidence2Y)
		}
	case ProductBusiness5YMulti:
		if c == nil {
			r.add(ptrChamber, CodeEvidenceRequired, detailEvidence5Y)
		}
	}
}

// mrz verifies the optional MRZ and that it agrees with the typed fields.
func (r *rules) mrz() {
	lines := r.app.Passport.MRZ
	if len(lines) != 2 || !r.usable(pointerMRZ) || !r.usable(pointerMRZLine1) || !r.usable(pointerMRZLine2) {
		return
	}
	m, errs := ParseTD3(lines[0], lines[1])
	if len(errs) > 0 {
		r.errs = append(r.errs, errs...)
		return
	}

	a, p := r.app.Applicant, r.app.Passport
	mismatch := func(ptr string, agrees bool) {
		if r.usable(ptr) && !agrees {
			r.add(ptr, CodeMRZMismatch, detailMRZMismatch)
		}
	}
	mismatch(ptrPassportNumber, m.DocumentNumber == p.Number)
	mismatch(ptrIssuingCountry, mrzStateToISO(m.IssuingState) == p.IssuingCountry)
	mismatch(ptrNationality, mrzStateToISO(m.Nationality) == a.Nationality)
	mismatch(ptrSex, m.Sex == a.Sex)
	if birth, ok := r.date(ptrDateOfBirth, a.DateOfBirth); ok {
		mismatch(ptrDateOfBirth, birth.Format(mrzDateLayout) == m.BirthDate)
	}
	if expiry, ok := r.date(ptrExpiryDate, p.ExpiryDate); ok {
		mismatch(ptrExpiryDate, expiry.Format(mrzDateLayout) == m.ExpiryDate)
	}
	// A name field without trailing filler may have been truncated.
	nameFieldFull := lines[0][td3LineLen-1] != mrzFiller
	mismatch(ptrSurname, surnameMatchesMRZ(a.Surname, m.Surname, nameFieldFull))
}

// mrzDateLayout is the YYMMDD form dates take in an MRZ.
const mrzDateLayout = "060102"

// mrzStateToISO maps the one ICAO state code that differs from ISO 3166-1
// alpha-3: Germany is written "D" in machine readable zones.
func mrzStateToISO(code string) string {
	if code == "D" {
		return "DEU"
	}
	return code
}
