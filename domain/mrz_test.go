package domain

import (
	"strings"
	"testing"
)

// The ICAO Doc 9303 Part 4 TD3 specimen (Anna Maria Eriksson, Utopia).
const (
	specimenLine1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
	specimenLine2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
)

func TestCheckDigit(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"L898902C3", 6},
		{"740812", 2},
		{"120415", 9},
		{"ZE184226B<<<<<", 1},
		{"<<<<<<<<<<<<<<", 0},
		{"", 0},
		{"L898902C36" + "7408122" + "1204159ZE184226B<<<<<1", 0}, // specimen composite
	}
	for _, tt := range tests {
		if got := CheckDigit(tt.in); got != tt.want {
			t.Errorf("CheckDigit(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestParseTD3Specimen(t *testing.T) {
	m, errs := ParseTD3(specimenLine1, specimenLine2)
	if errs != nil {
		t.Fatalf("ParseTD3(specimen) errors: %+v", errs)
	}
	want := MRZ{
		DocumentCode:   "P",
		IssuingState:   "UTO",
		Surname:        "ERIKSSON",
		GivenNames:     "ANNA MARIA",
		DocumentNumber: "L898902C3",
		Nationality:    "UTO",
		BirthDate:      "740812",
		Sex:            "F",
		ExpiryDate:     "120415",
		OptionalData:   "ZE184226B",
	}
	if m != want {
		t.Errorf("ParseTD3(specimen) =\n %+v\nwant\n %+v", m, want)
	}
}

// setChar returns s with the byte at i replaced.
func setChar(s string, i int, c byte) string {
	b := []byte(s)
	b[i] = c
	return string(b)
}

func TestParseTD3Errors(t *testing.T) {
	tests := []struct {
		name         string
		line1, line2 string
		want         FieldErrors
	}{
		{
			name:  "document number check digit",
			line1: specimenLine1, line2: setChar(specimenLine2, 9, '7'),
			want: FieldErrors{
				{Pointer: pointerMRZLine2, Detail: "the check digit of the document number is wrong", Code: CodeMRZCheckDigit},
			},
		},
		{
			name:  "document number altered",
			line1: specimenLine1, line2: setChar(specimenLine2, 0, 'M'),
			want: FieldErrors{
				{Pointer: pointerMRZLine2, Detail: "the check digit of the document number is wrong", Code: CodeMRZCheckDigit},
			},
		},
		{
			name:  "birth date check digit",
			line1: specimenLine1, line2: setChar(specimenLine2, 19, '3'),
			want: FieldErrors{
				{Pointer: pointerMRZLine2, Detail: "the check digit of the date of birth is wrong", Code: CodeMRZCheckDigit},
			},
		},
		{
			name:  "expiry date check digit",
			line1: specimenLine1, line2: setChar(specimenLine2, 27, '0'),
			want: FieldErrors{
				{Pointer: pointerMRZLine2, Detail: "the check digit of the expiry date is wrong", Code: CodeMRZCheckDigit},
			},
		},
		{
			name:  "optional data check digit",
			line1: specimenLine1, line2: setChar(specimenLine2, 42, '2'),
			want: FieldErrors{
				{
					Pointer: pointerMRZLine2,
					Detail:  "the check digit of the personal number (optional data) is wrong",
					Code:    CodeMRZCheckDigit,
				},
			},
		},
		{
			name:  "optional data present but filler check digit",
			line1: specimenLine1, line2: setChar(specimenLine2, 42, '<'),
			want: FieldErrors{
				{
					Pointer: pointerMRZLine2,
					Detail:  "the check digit of the personal number (optional data) is wrong",
					Code:    CodeMRZCheckDigit,
				},
			},
		},
		{
			name:  "composite check digit",
			line1: specimenLine1, line2: setChar(specimenLine2, 43, '1'),
			want: FieldErrors{{Pointer: pointerMRZLine2, Detail: "the composite check digit is wrong", Code: CodeMRZCheckDigit}},
		},
		{
			name:  "non-digit check digit",
			line1: specimenLine1, line2: setChar(specimenLine2, 19, 'A'),
			want: FieldErrors{
				{Pointer: pointerMRZLine2, Detail: "the check digit of the date of birth is wrong", Code: CodeMRZCheckDigit},
			},
		},
		{
			name:  "two field check digits",
			line1: specimenLine1, line2: setChar(setChar(specimenLine2, 9, '0'), 27, '0'),
			want: FieldErrors{
				{Pointer: pointerMRZLine2, Detail: "the check digit of the document number is wrong", Code: CodeMRZCheckDigit},
				{Pointer: pointerMRZLine2, Detail: "the check digit of the expiry date is wrong", Code: CodeMRZCheckDigit},
			},
		},
		{
			name:  "line 1 too short",
			line1: specimenLine1[:43], line2: specimenLine2,
			want: FieldErrors{{Pointer: pointerMRZLine1, Detail: "must be exactly 44 characters long", Code: CodeMRZFormat}},
		},
		{
			name:  "line 2 too long",
			line1: specimenLine1, line2: specimenLine2 + "<",
			want: FieldErrors{{Pointer: pointerMRZLine2, Detail: "must be exactly 44 characters long", Code: CodeMRZFormat}},
		},
		{
			name:  "lower case character",
			line1: setChar(specimenLine1, 5, 'e'), line2: specimenLine2,
			want: FieldErrors{
				{Pointer: pointerMRZLine1, Detail: "may only contain the characters A-Z, 0-9 and <", Code: CodeMRZFormat},
			},
		},
		{
			name:  "space in line 2",
			line1: specimenLine1, line2: setChar(specimenLine2, 40, ' '),
			want: FieldErrors{
				{Pointer: pointerMRZLine2, Detail: "may only contain the characters A-Z, 0-9 and <", Code: CodeMRZFormat},
			},
		},
		{
			name:  "not a passport",
			line1: setChar(specimenLine1, 0, 'V'), line2: specimenLine2,
			want: FieldErrors{
				{
					Pointer: pointerMRZLine1,
					Detail:  "is not a passport machine readable zone: the document code must start with P",
					Code:    CodeMRZFormat,
				},
			},
		},
		{
			name:  "invalid sex",
			line1: specimenLine1, line2: setChar(specimenLine2, 20, 'Q'),
			want: FieldErrors{{Pointer: pointerMRZLine2, Detail: "has an invalid sex indicator", Code: CodeMRZFormat}},
		},
		{
			name:  "no surname",
			line1: "P<UTO" + strings.Repeat("<", 39), line2: specimenLine2,
			want: FieldErrors{{Pointer: pointerMRZLine1, Detail: "does not contain a surname", Code: CodeMRZFormat}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := ParseTD3(tt.line1, tt.line2)
			if !equalErrors(got, tt.want) {
				t.Errorf("ParseTD3 errors =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

func TestParseTD3Variants(t *testing.T) {
	t.Run("empty optional data with '<' or '0' check digit", func(t *testing.T) {
		for _, check := range []byte{'<', '0'} {
			l1, l2 := BuildTD3(MRZ{DocumentCode: "P", IssuingState: "KAZ", Surname: "ABENOV", GivenNames: "NURLAN",
				DocumentNumber: "N12345678", Nationality: "KAZ", BirthDate: "850615", Sex: "M", ExpiryDate: "300119"})
			l2 = setChar(l2, 42, check)
			l2 = setChar(l2, 43, byte('0'+CheckDigit(l2[0:10]+l2[13:20]+l2[21:43])))
			if _, errs := ParseTD3(l1, l2); errs != nil {
				t.Errorf("check digit %q: unexpected errors %+v", check, errs)
			}
		}
	})
	t.Run("unspecified sex and type letter", func(t *testing.T) {
		l2 := setChar(specimenLine2, 20, '<')
		m, errs := ParseTD3("PO"+specimenLine1[2:], l2)
		if errs != nil {
			t.Fatalf("unexpected errors %+v", errs)
		}
		if m.Sex != "X" || m.DocumentCode != "PO" {
			t.Errorf("Sex, DocumentCode = %q, %q; want X, PO", m.Sex, m.DocumentCode)
		}
	})
}

func TestBuildTD3(t *testing.T) {
	t.Run("reproduces the specimen", func(t *testing.T) {
		l1, l2 := BuildTD3(MRZ{
			DocumentCode: "P", IssuingState: "UTO", Surname: "Eriksson", GivenNames: "Anna Maria",
			DocumentNumber: "L898902C3", Nationality: "UTO", BirthDate: "740812", Sex: "F",
			ExpiryDate: "120415", OptionalData: "ZE184226B",
		})
		if l1 != specimenLine1 || l2 != specimenLine2 {
			t.Errorf("BuildTD3 =\n %s\n %s\nwant\n %s\n %s", l1, l2, specimenLine1, specimenLine2)
		}
	})
	t.Run("round trips and truncates long names", func(t *testing.T) {
		in := MRZ{
			DocumentCode: "P", IssuingState: "KAZ", Surname: "Nurmukhambetova-Zhaksybekova",
			GivenNames: "Ainur Aigerim Saule", DocumentNumber: "N1234567", Nationality: "KAZ",
			BirthDate: "850615", Sex: "X", ExpiryDate: "300119",
		}
		l1, l2 := BuildTD3(in)
		if len(l1) != 44 || len(l2) != 44 {
			t.Fatalf("line lengths = %d, %d", len(l1), len(l2))
		}
		m, errs := ParseTD3(l1, l2)
		if errs != nil {
			t.Fatalf("ParseTD3(BuildTD3) errors: %+v", errs)
		}
		if m.Surname != "NURMUKHAMBETOVA ZHAKSYBEKOVA" || m.DocumentNumber != "N1234567" || m.Sex != "X" {
			t.Errorf("round trip = %+v", m)
		}
		if l1[43] == '<' {
			t.Errorf("expected a full (truncated) name field, got %s", l1)
		}
	})
}

// equalErrors compares error lists exactly (order included).
func equalErrors(a, b FieldErrors) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
