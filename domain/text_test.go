package domain

import (
	"slices"
	"testing"
)

// TestValidateRefusesHostileText: names and free-text fields refuse control
// and format characters and must contain letters (issue #12, defect 3).
func TestValidateRefusesHostileText(t *testing.T) {
	const (
		invalidChars = "invalid_characters"
		noLetters    = "no_letters"
	)
	tests := []struct {
		name string
		mut  func(a *Application)
		want pc
	}{
		{
			"surname only ZWSP",
			func(a *Application) { a.Applicant.Surname = "\u200B" },
			pc{"/applicant/surname", invalidChars},
		},
		{
			"surname with NUL",
			func(a *Application) { a.Applicant.Surname = "Abe\x00nov" },
			pc{"/applicant/surname", invalidChars},
		},
		{
			"surname with BEL",
			func(a *Application) { a.Applicant.Surname = "Abenov\a" },
			pc{"/applicant/surname", invalidChars},
		},
		{
			"surname with ANSI escape",
			func(a *Application) { a.Applicant.Surname = "\x1b[31mAbenov" },
			pc{"/applicant/surname", invalidChars},
		},
		{
			"surname with line break",
			func(a *Application) { a.Applicant.Surname = "Abe\nnov" },
			pc{"/applicant/surname", invalidChars},
		},
		{
			"surname with bidi override",
			func(a *Application) { a.Applicant.Surname = "\u202EAbenov" },
			pc{"/applicant/surname", invalidChars},
		},
		{
			"surname with soft hyphen",
			func(a *Application) { a.Applicant.Surname = "Abe\u00ADnov" },
			pc{"/applicant/surname", invalidChars},
		},
		{
			"surname a formula",
			func(a *Application) { a.Applicant.Surname = "+SUM(1+1)" },
			pc{"/applicant/surname", invalidChars},
		},
		{
			"given names a hyperlink formula",
			func(a *Application) { a.Applicant.GivenNames = `@HYPERLINK("x")` },
			pc{"/applicant/given_names", invalidChars},
		},
		{
			"surname only punctuation",
			func(a *Application) { a.Applicant.Surname = "-'." },
			pc{"/applicant/surname", noLetters},
		},
		{
			"place of birth digits only",
			func(a *Application) { a.Applicant.PlaceOfBirth = "12345" },
			pc{"/applicant/place_of_birth", noLetters},
		},
		{
			"place of birth with tab",
			func(a *Application) { a.Applicant.PlaceOfBirth = "Al\tmaty" },
			pc{"/applicant/place_of_birth", invalidChars},
		},
		{
			"company with ZWJ",
			func(a *Application) { a.Employment.Company = "Steppe\u200D LLP" },
			pc{"/employment/company", invalidChars},
		},
		{
			"position only symbols",
			func(a *Application) { a.Employment.Position = "=1+1" },
			pc{"/employment/position", noLetters},
		},
		{
			"host company with escape",
			func(a *Application) { a.Visit.Host.Company = "Indus\x1b Ltd" },
			pc{"/visit/host/company", invalidChars},
		},
		{
			"host city with word joiner",
			func(a *Application) { a.Visit.Host.City = "La\u2060hore" },
			pc{"/visit/host/city", invalidChars},
		},
		{
			"host address with CR",
			func(a *Application) { a.Visit.Host.Address = "12 Mall\rRoad" },
			pc{"/visit/host/address", invalidChars},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := validApplication()
			tt.mut(&app)
			got := pointersAndCodes(Validate(app, testPolicy()))
			if !slices.Contains(got, tt.want) {
				t.Errorf("got %v, want %v among them", got, tt.want)
			}
		})
	}
	// Real names keep passing: apostrophes, hyphens, periods, Cyrillic, Kazakh, marks.
	for _, name := range []string{"O'Brien", "Smith-Jones", "St. John", "Абенов", "Әбілқайыр", "Nguyễn", "D’Arcy"} {
		app := validApplication()
		app.Applicant.GivenNames = name
		if errs := Validate(app, testPolicy()); errs != nil {
			t.Errorf("given names %q: %v", name, pointersAndCodes(errs))
		}
	}
}

// TestTextRulesOutsideTheForm: chamber and account names and roster names
// follow the same rules as the form.
func TestTextRulesOutsideTheForm(t *testing.T) {
	for _, tt := range []struct {
		value, code string
	}{
		{"Almaty Chamber of Commerce", ""},
		{"Палата «Атамекен» №1", ""},
		{"\u200B", CodeInvalidCharacters},
		{"Chamber\x1b[2J", CodeInvalidCharacters},
		{"Chamber\u2028Two", CodeInvalidCharacters},
		{"Bad\uFFFDname", CodeInvalidCharacters},
		{"+-=@ 123", CodeNoLetters},
	} {
		got := CheckFreeText("/name", tt.value)
		if tt.code == "" && got != nil || tt.code != "" && !got.Has("/name", tt.code) {
			t.Errorf("CheckFreeText(%+q) = %v, want code %q", tt.value, got, tt.code)
		}
	}
	m := NormalizeMember(Member{MembershipNumber: "M-1", Surname: "Abe\u00ADnov", GivenNames: "=cmd|' /C calc'!A0",
		DateOfBirth: "1985-06-15", Nationality: "KAZ", PassportNumber: "N1234567", Status: "active",
		ValidUntil: "2027-01-01"})
	errs := ValidateMember(m)
	if !errs.Has("/surname", CodeInvalidCharacters) || !errs.Has("/given_names", CodeInvalidCharacters) {
		t.Errorf("roster member: %v", pointersAndCodes(errs))
	}
}

func TestSpreadsheetSafe(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+SUM(1+1)": "'+SUM(1+1)", "-2": "'-2", "@A1": "'@A1", "\tx": "'\tx", "\rx": "'\rx",
		"": "", "Abenov": "Abenov", "a=b": "a=b", "'=x": "'=x",
	} {
		if got := SpreadsheetSafe(in); got != want {
			t.Errorf("SpreadsheetSafe(%+q) = %+q, want %+q", in, got, want)
		}
	}
}
