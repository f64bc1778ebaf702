package domain

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// RosterColumns are the columns of a chamber's member roster.
var RosterColumns = []string{
	"membership_number",
	"surname",
	"given_names",
	"date_of_birth",
	"nationality",
	"passport_number",
	"status",
	"valid_until",
}

// Member is one member as a chamber declares it.
type Member struct {
	MembershipNumber string `json:"membership_number"`
	Surname          string `json:"surname"`
	GivenNames       string `json:"given_names"`
	DateOfBirth      string `json:"date_of_birth"`
	Nationality      string `json:"nationality"`
	PassportNumber   string `json:"passport_number"`
	Status           string `json:"status"` // MemberActive | MemberLapsed
	ValidUntil       string `json:"valid_until"`
}

// A member's standing with the chamber.
const (
	MemberActive = "active"
	MemberLapsed = "lapsed"
)

// MaxRosterRows bounds one roster upload.
const MaxRosterRows = 50_000

var membershipNumberPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9./-]{0,49}$`)

// ParseRosterCSV reads a roster CSV (header row naming every roster column).
func ParseRosterCSV(data []byte) ([]Member, error) {
	rows, err := parseCSVTable("roster", data, RosterColumns, RosterColumns, MaxRosterRows)
	if err != nil {
		return nil, err
	}
	members := make([]Member, len(rows))
	for i, r := range rows {
		v := r.Values
		members[i] = Member{MembershipNumber: v["membership_number"], Surname: v["surname"], GivenNames: v["given_names"],
			DateOfBirth: v["date_of_birth"], Nationality: v["nationality"], PassportNumber: v["passport_number"],
			Status: v["status"], ValidUntil: v["valid_until"]}
	}
	return members, nil
}

// ParseRosterJSON reads a roster as a JSON array of members.
func ParseRosterJSON(data []byte) ([]Member, error) {
	if err := checkText("roster", data); err != nil {
		return nil, err
	}
	var members []Member
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&members); err != nil {
		return nil, &BatchFormatError{
			Code:    "bad_json",
			Message: "a JSON roster must be an array of member objects with the roster fields (all strings)",
		}
	}
	if len(members) == 0 {
		return nil, &BatchFormatError{Code: "empty", Message: "the roster has no members"}
	}
	if len(members) > MaxRosterRows {
		return nil, &BatchFormatError{
			Code:    "too_many_rows",
			Message: fmt.Sprintf("a roster upload may carry at most %d members", MaxRosterRows),
		}
	}
	return members, nil
}

// NormalizeMember trims and upper-cases codes.
func NormalizeMember(m Member) Member {
	m.MembershipNumber = strings.TrimSpace(m.MembershipNumber)
	m.Surname, m.GivenNames = strings.TrimSpace(m.Surname), strings.TrimSpace(m.GivenNames)
	m.DateOfBirth, m.ValidUntil = strings.TrimSpace(m.DateOfBirth), strings.TrimSpace(m.ValidUntil)
	m.Nationality = upperTrim(m.Nationality)
	m.PassportNumber = NormalizePassportNumber(m.PassportNumber)
	m.Status = strings.ToLower(strings.TrimSpace(m.Status))
	return m
}

// ValidateMember checks one roster row; pointers name the member's fields.
func ValidateMember(m Member) FieldErrors {
	var errs FieldErrors
	add := func(field, code, detail string) {
		errs = append(errs, FieldError{Pointer: "/" + field, Code: code, Detail: detail})
	}
	if !membershipNumberPattern.MatchString(m.MembershipNumber) {
		add("membership_number", CodeRequired, "is required: letters, digits, '.', '/' or '-', at most 50")
	}
	if m.Surname == "" || len(m.Surname) > 100 {
		add("surname", CodeRequired, "is required (at most 100 characters)")
	}
	if len(m.GivenNames) > 100 {
		add("given_names", CodeTooLong, "must be at most 100 characters")
	}
	errs = append(errs, CheckPersonName("/surname", m.Surname)...)
	if m.GivenNames != "" {
		errs = append(errs, CheckPersonName("/given_names", m.GivenNames)...)
	}
	if _, ok := ParseDate(m.DateOfBirth); !ok {
		add("date_of_birth", CodeInvalidDate, "must be a date YYYY-MM-DD")
	}
	if !IsCountryCode(m.Nationality) {
		add("nationality", CodeInvalidCountry, "must be an ISO 3166-1 alpha-3 country code")
	}
	if !passportNumberPattern.MatchString(m.PassportNumber) {
		add("passport_number", CodeInvalidFormat, "must be 6 to 20 letters and digits")
	}
	if m.Status != MemberActive && m.Status != MemberLapsed {
		add("status", CodeOneOf, "must be active or lapsed")
	}
	if _, ok := ParseDate(m.ValidUntil); !ok {
		add("valid_until", CodeInvalidDate, "must be a date YYYY-MM-DD")
	}
	return errs
}

var passportNumberPattern = regexp.MustCompile(`^[A-Z0-9]{6,20}$`)

// NeedsMembershipCheck reports whether the chamber membership a form claims
// must be verified on the roster: always for the five-year visa, and for a
// two-year visa whose only evidence is a chamber recommendation the chamber
// (endorsedBy, empty if none) did not itself submit.
func NeedsMembershipCheck(form Application, endorsedBy string) bool {
	c := form.Chamber
	if c == nil {
		return false
	}
	return form.Product == ProductBusiness5YMulti || (form.Visit.Host == nil && endorsedBy != c.ChamberID)
}

// RosterEntry is what a chamber's roster says about the member a form
// claims to be. The caller reads it (the roster keeps only a hash of the
// passport, so the caller also compares the passports); CheckMembership judges it.
type RosterEntry struct {
	Found           bool   // the roster has the form's membership number
	Status          string // MemberActive | MemberLapsed
	ValidUntil      string // YYYY-MM-DD
	DateOfBirth     string // YYYY-MM-DD
	PassportMatches bool   // the roster's passport is the form's
}

// CheckMembership checks the chamber membership a form claims against its
// roster entry: the member exists, is active and within its validity on
// today (UTC calendar date), and has the form's birth date and passport.
// Validation reports these errors; straight-through processing needs none.
func CheckMembership(form Application, entry RosterEntry, today time.Time) FieldErrors {
	if !entry.Found {
		return FieldErrors{{Pointer: "/chamber/membership_number", Code: CodeNotAMember,
			Detail: "the chamber's roster has no member with this membership number"}}
	}
	var errs FieldErrors
	validUntil, _ := ParseDate(entry.ValidUntil) // unreadable: the zero date, long lapsed
	if entry.Status != MemberActive || validUntil.Before(today.UTC().Truncate(24*time.Hour)) {
		errs = append(errs, FieldError{Pointer: "/chamber/membership_number", Code: CodeMembershipLapsed,
			Detail: "the chamber membership is not active"})
	}
	if entry.DateOfBirth != form.Applicant.DateOfBirth {
		errs = append(errs, FieldError{Pointer: "/applicant/date_of_birth", Code: CodeRosterMismatch,
			Detail: "does not match the chamber's roster"})
	}
	if !entry.PassportMatches {
		errs = append(errs, FieldError{Pointer: "/passport/number", Code: CodeRosterMismatch,
			Detail: "does not match the chamber's roster"})
	}
	return errs
}

// SeesRosterDetail says who reads why a roster check failed: officers and
// supervisors, and the chamber that keeps the roster. An applicant's token
// (no role) reads ApplicantReasons.
func SeesRosterDetail(viewer Role) bool { return viewer.HandlesCases() || viewer == RoleChamber }

// membershipNotVerified is the one reason an applicant reads for any roster failure.
var membershipNotVerified = FieldError{Pointer: "/chamber/membership_number", Code: CodeMembershipNotVerified,
	Detail: "the chamber membership could not be verified"}

// ApplicantReasons is what the applicant (or anyone holding the case's access
// token) reads of the reasons a case is ineligible: every roster failure
// becomes the one reason membership_not_verified, so the answer tells no one
// whether a membership number exists, has lapsed or belongs to someone with
// another birth date or passport. Officers read the detail.
func ApplicantReasons(errs []FieldError) []FieldError {
	var out []FieldError
	generic := false
	for _, e := range errs {
		switch e.Code {
		case CodeNotAMember, CodeMembershipLapsed, CodeRosterMismatch:
			if !generic {
				out = append(out, membershipNotVerified)
				generic = true
			}
		default:
			out = append(out, e)
		}
	}
	return out
}
