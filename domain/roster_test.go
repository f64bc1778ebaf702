package domain

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestNeedsMembershipCheck(t *testing.T) {
	claim := &Chamber{ChamberID: "kcci", MembershipNumber: "M-1"}
	host := &Host{Company: "Lahore Textiles", City: "Lahore"}
	tests := []struct {
		name       string
		product    Product
		chamber    *Chamber
		host       *Host
		endorsedBy string
		want       bool
	}{
		{"no chamber claimed", ProductBusiness5YMulti, nil, nil, "", false},
		{"five-year, submitted by its chamber", ProductBusiness5YMulti, claim, host, "kcci", true},
		{"five-year, with a host", ProductBusiness5YMulti, claim, host, "", true},
		{"two-year, chamber is the only evidence", ProductBusiness2Y, claim, nil, "", true},
		{"two-year, another chamber submitted it", ProductBusiness2Y, claim, nil, "lcci", true},
		{"two-year, submitted by its chamber", ProductBusiness2Y, claim, nil, "kcci", false},
		{"two-year, with a host", ProductBusiness2Y, claim, host, "", false},
	}
	for _, tt := range tests {
		form := Application{Product: tt.product, Chamber: tt.chamber, Visit: Visit{Host: tt.host}}
		if got := NeedsMembershipCheck(form, tt.endorsedBy); got != tt.want {
			t.Errorf("%s: NeedsMembershipCheck = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCheckMembership(t *testing.T) {
	today := time.Date(2026, 3, 2, 3, 0, 0, 0, time.FixedZone("PKT", 5*3600)) // still 2026-03-01 in UTC
	form := Application{Applicant: Applicant{DateOfBirth: "1980-05-17"},
		Chamber: &Chamber{ChamberID: "kcci", MembershipNumber: "M-1"}}
	good := RosterEntry{Found: true, Status: MemberActive, ValidUntil: "2026-12-31", DateOfBirth: "1980-05-17",
		PassportMatches: true}
	tests := []struct {
		name   string
		change func(*RosterEntry)
		want   []string // pointer:code of every error
	}{
		{"active member, all matches", func(*RosterEntry) {}, nil},
		{"valid until today", func(e *RosterEntry) { e.ValidUntil = "2026-03-01" }, nil},
		{"not on the roster", func(e *RosterEntry) { *e = RosterEntry{} },
			[]string{"/chamber/membership_number:not_a_member"}},
		{"lapsed", func(e *RosterEntry) { e.Status = MemberLapsed },
			[]string{"/chamber/membership_number:membership_lapsed"}},
		{"expired yesterday", func(e *RosterEntry) { e.ValidUntil = "2026-02-28" },
			[]string{"/chamber/membership_number:membership_lapsed"}},
		{"unreadable validity", func(e *RosterEntry) { e.ValidUntil = "soon" },
			[]string{"/chamber/membership_number:membership_lapsed"}},
		{"other birth date", func(e *RosterEntry) { e.DateOfBirth = "1980-05-18" },
			[]string{"/applicant/date_of_birth:roster_mismatch"}},
		{"other passport", func(e *RosterEntry) { e.PassportMatches = false },
			[]string{"/passport/number:roster_mismatch"}},
		{"lapsed and nothing matches", func(e *RosterEntry) {
			e.Status, e.DateOfBirth, e.PassportMatches = MemberLapsed, "", false
		}, []string{"/chamber/membership_number:membership_lapsed", "/applicant/date_of_birth:roster_mismatch",
			"/passport/number:roster_mismatch"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entry := good
			tt.change(&entry)
			var got []string
			for _, e := range CheckMembership(form, entry, today) {
				got = append(got, e.Pointer+":"+e.Code)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("CheckMembership = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSeesRosterDetail(t *testing.T) {
	for role, want := range map[Role]bool{RoleOfficer: true, RoleSupervisor: true, RoleChamber: true,
		RoleAdmin: false, RoleApplicant: false, "": false} {
		if got := SeesRosterDetail(role); got != want {
			t.Errorf("SeesRosterDetail(%q) = %v, want %v", role, got, want)
		}
	}
}

func TestApplicantReasons(t *testing.T) {
	generic := FieldError{Pointer: "/chamber/membership_number", Code: CodeMembershipNotVerified,
		Detail: "the chamber membership could not be verified"}
	dob := FieldError{Pointer: "/applicant/date_of_birth", Code: CodeRosterMismatch, Detail: "x"}
	passport := FieldError{Pointer: "/passport/number", Code: CodeRosterMismatch, Detail: "x"}
	lapsed := FieldError{Pointer: "/chamber/membership_number", Code: CodeMembershipLapsed, Detail: "x"}
	missing := FieldError{Pointer: "/chamber/membership_number", Code: CodeNotAMember, Detail: "x"}
	expiry := FieldError{Pointer: "/passport/expiry_date", Code: CodePassportValidity, Detail: "y"}
	for _, tc := range []struct {
		name string
		in   []FieldError
		want []FieldError
	}{
		{"none", nil, nil},
		{"not a member", []FieldError{missing}, []FieldError{generic}},
		{"lapsed", []FieldError{lapsed}, []FieldError{generic}},
		{"birth date", []FieldError{dob}, []FieldError{generic}},
		{"several roster failures read as one", []FieldError{lapsed, dob, passport}, []FieldError{generic}},
		{"other reasons pass", []FieldError{expiry, dob}, []FieldError{expiry, generic}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ApplicantReasons(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ApplicantReasons(%v) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}
