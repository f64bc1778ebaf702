package domain

import (
	"slices"
	"testing"
)

// TestValidateRefusesImplausibleValues: dates outside plausible ranges and
// non-ASCII passport numbers are refused (issue #12, defect 7).
func TestValidateRefusesImplausibleValues(t *testing.T) {
	tests := []struct {
		name string
		mut  func(a *Application)
		want pc
	}{
		{
			"born in year 1",
			func(a *Application) { a.Applicant.DateOfBirth = "0001-01-01" },
			pc{"/applicant/date_of_birth", "date_out_of_range"},
		},
		{
			"born 1899",
			func(a *Application) { a.Applicant.DateOfBirth = "1899-12-31" },
			pc{"/applicant/date_of_birth", "date_out_of_range"},
		},
		{
			"passport issued in year 1",
			func(a *Application) { a.Passport.IssueDate = "0001-01-01" },
			pc{"/passport/issue_date", "date_out_of_range"},
		},
		{
			"passport issued 16 years ago",
			func(a *Application) { a.Passport.IssueDate = "2010-03-09" },
			pc{"/passport/issue_date", "date_out_of_range"},
		},
		{
			"passport expires 9999",
			func(a *Application) { a.Passport.ExpiryDate = "9999-12-31" },
			pc{"/passport/expiry_date", "date_out_of_range"},
		},
		{
			"passport issued before birth",
			func(a *Application) { a.Passport.IssueDate = "1985-06-14" },
			pc{"/passport/issue_date", "date_out_of_range"},
		},
		{
			"dotless i in passport number",
			func(a *Application) { a.Passport.Number = "ıb123456" },
			pc{"/passport/number", "invalid_format"},
		},
		{
			"Cyrillic letter in passport number",
			func(a *Application) { a.Passport.Number = "N1234567\u0410" },
			pc{"/passport/number", "invalid_format"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := Normalize(validApplication())
			tt.mut(&app)
			app = Normalize(app)
			got := pointersAndCodes(Validate(app, testPolicy()))
			if !slices.Contains(got, tt.want) {
				t.Errorf("got %v, want %v among them", got, tt.want)
			}
		})
	}
	// The bounds themselves are accepted.
	app := validApplication()
	app.Applicant.DateOfBirth = "1900-01-01"
	app.Passport.IssueDate, app.Passport.ExpiryDate = "2011-03-10", "2026-03-10"
	got := pointersAndCodes(Validate(app, testPolicy()))
	for _, e := range got {
		if e.Code == "date_out_of_range" {
			t.Errorf("a value on the bound was refused: %v", got)
		}
	}
	if n := Normalize(Application{Passport: Passport{Number: " ab 123456 "}}).Passport.Number; n != "AB123456" {
		t.Errorf("ASCII passport number normalised to %q", n)
	}
}
