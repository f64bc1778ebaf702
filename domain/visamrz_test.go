package domain

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func day(s string) time.Time {
	t, ok := ParseDate(s)
	if !ok {
		panic(s)
	}
	return t
}

// The ICAO Doc 9303 Part 7 specimen visa (Anna Maria Eriksson, Utopia).
func specimenVisa() VisaMRZFields {
	return VisaMRZFields{
		TypeCode: "I", IssuingState: "UTO", Surname: "Eriksson", GivenNames: "Anna Maria",
		VisaNumber: "L8988901C", Nationality: "XXX", BirthDate: day("1940-09-07"), Sex: "F",
		ValidUntil: day("1996-12-10"), OptionalData: "6ZE184226B",
	}
}

func TestBuildVisaMRZSpecimen(t *testing.T) {
	a, err := BuildVisaMRZ(specimenVisa(), MRVALineLen)
	if err != nil {
		t.Fatal(err)
	}
	wantA := [2]string{
		"VIUTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
		"L8988901C4XXX4009078F96121096ZE184226B<<<<<<",
	}
	if a != wantA {
		t.Errorf("MRV-A =\n%s\n%s\nwant\n%s\n%s", a[0], a[1], wantA[0], wantA[1])
	}
	f := specimenVisa()
	f.OptionalData = ""
	b, err := BuildVisaMRZ(f, MRVBLineLen)
	if err != nil {
		t.Fatal(err)
	}
	wantB := [2]string{"VIUTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "L8988901C4XXX4009078F9612109<<<<<<<<"}
	if b != wantB {
		t.Errorf("MRV-B = %q, want %q", b, wantB)
	}
}

func TestBuildVisaMRZNames(t *testing.T) {
	tests := []struct {
		surname, given string
		lineLen        int
		want           string // line 1 from position 6, trailing fillers left out
	}{
		{"Müller-Lüdenscheidt", "Hans Jürgen", MRVALineLen, "MUELLER<LUEDENSCHEIDT<<HANS<JUERGEN"},
		{"O'Brien", "Seán", MRVALineLen, "OBRIEN<<SEAN"},
		{"Абенов", "Нурлан Жанатович", MRVALineLen, "ABENOV<<NURLAN<ZHANATOVICH"},
		{"Щукина", "Юлия", MRVALineLen, "SHCHUKINA<<IULIIA"},
		{"Mononym", "", MRVBLineLen, "MONONYM"},
		// Too long: the given names are cut first, down to one character …
		{"Featherstonehaugh", "Alexandra Elizabeth Victoria", MRVBLineLen, "FEATHERSTONEHAUGH<<ALEXANDRA<EL"},
		// … then the surname, keeping "<<" and the initial.
		{"Wolfeschlegelsteinhausenbergerdorff", "Hubert", MRVBLineLen, "WOLFESCHLEGELSTEINHAUSENBERG<<H"},
	}
	for _, tt := range tests {
		f := specimenVisa()
		f.Surname, f.GivenNames, f.OptionalData = tt.surname, tt.given, ""
		mrz, err := BuildVisaMRZ(f, tt.lineLen)
		if err != nil {
			t.Errorf("%s %s: %v", tt.surname, tt.given, err)
			continue
		}
		if got, want := mrz[0][5:], pad(tt.want, tt.lineLen-5); got != want {
			t.Errorf("%s, %s: name field %q, want %q", tt.surname, tt.given, got, want)
		}
		if len(mrz[0]) != tt.lineLen || len(mrz[1]) != tt.lineLen || !isMRZCharset(mrz[0]+mrz[1]) {
			t.Errorf("%s: lines %q are not MRZ lines of %d", tt.surname, mrz, tt.lineLen)
		}
	}
}

func TestTruncateNameDropsTrailingFiller(t *testing.T) {
	// "ALEXANDRA<" would end in a filler; the filler is dropped and padded back.
	if got := truncateName("FEATHERSTONEHAUGH", "ALEXANDRA<ELIZABETH", 29); got != "FEATHERSTONEHAUGH<<ALEXANDRA" {
		t.Errorf("truncateName = %q", got)
	}
}

func TestBuildVisaMRZErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(*VisaMRZFields)
		n      int
	}{
		{"visa number too long", func(f *VisaMRZFields) { f.VisaNumber = "PK2Y-26-7K3M9Q2X-4" }, MRVALineLen},
		{"no visa number", func(f *VisaMRZFields) { f.VisaNumber = "--" }, MRVALineLen},
		{"Greek name", func(f *VisaMRZFields) { f.Surname = "Παπαδόπουλος" }, MRVALineLen},
		{"no surname", func(f *VisaMRZFields) { f.Surname = " " }, MRVALineLen},
		{"bad sex", func(f *VisaMRZFields) { f.Sex = "Q" }, MRVALineLen},
		{"optional data too long for MRV-B", func(f *VisaMRZFields) {}, MRVBLineLen},
		{"bad nationality", func(f *VisaMRZFields) { f.Nationality = "kaz1" }, MRVALineLen},
		{"no birth date", func(f *VisaMRZFields) { f.BirthDate = time.Time{} }, MRVALineLen},
		{"TD3 line length", func(f *VisaMRZFields) {}, 30},
	}
	for _, tt := range tests {
		f := specimenVisa()
		tt.change(&f)
		if _, err := BuildVisaMRZ(f, tt.n); !errors.Is(err, ErrVisaMRZ) {
			t.Errorf("%s: error = %v, want ErrVisaMRZ", tt.name, err)
		}
	}
}

func TestBuildVisaMRZCheckDigits(t *testing.T) {
	f := specimenVisa()
	f.VisaNumber, f.BirthDate, f.ValidUntil, f.Sex = "7K3M9Q2X4", day("1985-03-12"), day("2029-06-30"), "M"
	mrz, err := BuildVisaMRZ(f, MRVALineLen)
	if err != nil {
		t.Fatal(err)
	}
	l2 := mrz[1]
	for _, c := range []struct{ data, digit string }{{l2[0:9], l2[9:10]}, {l2[13:19], l2[19:20]}, {l2[21:27], l2[27:28]}} {
		if want := digitString(CheckDigit(c.data)); c.digit != want {
			t.Errorf("check digit of %q is %s, want %s", c.data, c.digit, want)
		}
	}
	if !strings.HasPrefix(l2, "7K3M9Q2X4") || l2[20] != 'M' || l2[13:19] != "850312" || l2[21:27] != "290630" {
		t.Errorf("line 2 = %q", l2)
	}
}
