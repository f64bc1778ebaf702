package domain

import (
	"strings"
	"testing"
	"time"
)

func TestVisaMRZNumber(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"PK2Y-26-7K3M9Q2X-4", "7K3M9Q2X4", true},
		{"PK5Y-31-0000000Z-Z", "0000000ZZ", true},
		{"PK2Y-26-7K3M9Q2X4", "", false},   // too short
		{"PK2Y-26-7K3M9Q2X-45", "", false}, // too long
		{"PK2Y+26-7K3M9Q2X-4", "", false},  // not the visa number's layout
		{"PK2Y-26-7k3m9q2x-4", "", false},  // lower case is not MRZ
		{"PK2Y-26-7K3M<Q2X-4", "", false},  // filler inside the number
		{"N-1", "", false},
	}
	for _, tc := range tests {
		got, ok := VisaMRZNumber(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("VisaMRZNumber(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSealPassportNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"N12345678", "N12345678"},
		{"n123 456", "N123456"},
		{"AB1234567890XYZ", "AB1234567"}, // the first 9, as the passport's TD3 MRZ writes it
	}
	for _, tc := range tests {
		if got := SealPassportNumber(tc.in); got != tc.want {
			t.Errorf("SealPassportNumber(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSealEntries(t *testing.T) {
	for in, want := range map[string]int{"single": 1, "double": 2, "multiple": 0} {
		if got, err := SealEntries(in); err != nil || got != want {
			t.Errorf("SealEntries(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := SealEntries("many"); err == nil {
		t.Error("SealEntries(many): want an error")
	}
}

func TestBuildEVisaMRZ(t *testing.T) {
	mrz, err := BuildEVisaMRZ(EVisaFields{
		VisaNumber: "PK5Y-26-7K3M9Q2X-4", Surname: "Abenov", GivenNames: "Nurlan", Nationality: "KAZ",
		DateOfBirth: "1985-03-14", Sex: "M", ValidUntil: "2031-05-01",
	})
	if err != nil {
		t.Fatal(err)
	}
	want1 := "V<PAKABENOV<<NURLAN" + strings.Repeat("<", 44-19)
	// number, its check digit, nationality, birth date + check, sex, valid until + check (weights 7-3-1 by
	// hand: 436 mod 10, 99 mod 10, 60 mod 10), no optional data
	want2 := "7K3M9Q2X4" + "6" + "KAZ" + "850314" + "9" + "M" + "310501" + "0" + strings.Repeat("<", 16)
	if mrz[0] != want1 || mrz[1] != want2 {
		t.Fatalf("MRZ\n%s\n%s\nwant\n%s\n%s", mrz[0], mrz[1], want1, want2)
	}
	if _, err := BuildEVisaMRZ(EVisaFields{VisaNumber: "N-1", Surname: "A", DateOfBirth: "1985-03-14",
		ValidUntil: "2031-05-01", Nationality: "KAZ"}); err == nil {
		t.Error("a visa number of another shape: want an error")
	}
}

func TestIsRevocationReason(t *testing.T) {
	if !IsRevocationReason("fraud_or_misrepresentation") || IsRevocationReason("other") || IsRevocationReason("") {
		t.Error("IsRevocationReason does not follow RevocationReasons")
	}
}

func TestSealSignatureDate(t *testing.T) {
	issued := time.Date(2026, 3, 10, 15, 4, 0, 0, time.UTC)
	tests := []struct {
		notBefore time.Time
		want      string
	}{
		{time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC), "2026-03-10"},
		{time.Date(2026, 3, 10, 23, 0, 0, 0, time.UTC), "2026-03-10"}, // same day: the day of issue
		{time.Date(2026, 3, 12, 8, 0, 0, 0, time.UTC), "2026-03-12"},  // signer newer than the issue
	}
	for _, tc := range tests {
		if got := SealSignatureDate(issued, tc.notBefore).Format(time.DateOnly); got != tc.want {
			t.Errorf("SealSignatureDate(%v, %v) = %s, want %s", issued, tc.notBefore, got, tc.want)
		}
	}
}
