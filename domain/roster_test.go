package domain

import (
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
