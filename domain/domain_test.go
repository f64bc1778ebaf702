package domain

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func date(s string) time.Time {
	t, ok := ParseDate(s)
	if !ok {
		panic("bad test date " + s)
	}
	return t
}

// testToday is the fixed "today" of the rule tests.
var testToday = date("2026-03-10")

func testPolicy() Policy { return DefaultPolicy(testToday) }

// mrzFor builds the MRZ matching the typed fields of app (which must hold
// valid dates), so each test case can keep passport data consistent.
func mrzFor(app Application) []string {
	l1, l2 := BuildTD3(MRZ{
		DocumentCode:   "P",
		IssuingState:   app.Passport.IssuingCountry,
		Surname:        app.Applicant.Surname,
		GivenNames:     app.Applicant.GivenNames,
		DocumentNumber: app.Passport.Number,
		Nationality:    app.Applicant.Nationality,
		BirthDate:      date(app.Applicant.DateOfBirth).Format("060102"),
		Sex:            app.Applicant.Sex,
		ExpiryDate:     date(app.Passport.ExpiryDate).Format("060102"),
	})
	return []string{l1, l2}
}

// resync rebuilds the MRZ after a test changed fields it encodes.
func resync(a *Application) { a.Passport.MRZ = mrzFor(*a) }

// validApplication is a clean business_2y application from a Kazakh citizen.
func validApplication() Application {
	app := Application{
		Product: ProductBusiness2Y,
		Applicant: Applicant{
			Surname:      "ABENOV",
			GivenNames:   "Nurlan",
			Sex:          "M",
			DateOfBirth:  "1985-06-15",
			PlaceOfBirth: "Almaty",
			Nationality:  "KAZ",
			Email:        "n.abenov@example.kz",
			Phone:        "+7 (701) 123-45-67",
		},
		Passport: Passport{
			Number:         "N12345678",
			IssuingCountry: "KAZ",
			IssueDate:      "2020-01-20",
			ExpiryDate:     "2030-01-19",
		},
		Employment: Employment{Company: "Steppe Trading LLP", Position: "Director"},
		Visit: Visit{
			Purpose:         "business_meeting",
			IntendedArrival: "2026-04-01",
			Host: &Host{
				Company: "Indus Textiles Ltd",
				City:    "Lahore",
				Address: "12 Mall Road",
				Phone:   "+92 42 1234567",
			},
		},
	}
	resync(&app)
	return app
}

type pc struct{ Pointer, Code string }

func pointersAndCodes(fe FieldErrors) []pc {
	out := make([]pc, 0, len(fe))
	for _, e := range fe {
		out = append(out, pc{e.Pointer, e.Code})
	}
	return out
}

func TestValidateBaselineIsClean(t *testing.T) {
	app := validApplication()
	if errs := Validate(app, testPolicy()); errs != nil {
		t.Fatalf("baseline application: %+v", errs)
	}
	// The clock time of day must not matter, nor the caller's zone.
	almaty := time.FixedZone("ALMT", 5*3600)
	late := time.Date(2026, 3, 10, 23, 59, 0, 0, time.UTC).In(almaty)
	if errs := Validate(app, DefaultPolicy(late)); errs != nil {
		t.Fatalf("baseline application late in the day: %+v", errs)
	}
}

func TestValidateRules(t *testing.T) {
	longText := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name   string
		mut    func(a *Application)
		policy func(p *Policy)
		want   []pc // nil means valid
	}{
		// Structure.
		{"product missing", func(a *Application) { a.Product = "" }, nil, []pc{{"/product", "required"}}},
		{"product unknown", func(a *Application) { a.Product = "tourist_30d" }, nil, []pc{{"/product", "one_of"}}},
		{"surname missing", func(a *Application) { a.Applicant.Surname = "" }, nil, []pc{{"/applicant/surname", "required"}}},
		{
			"surname too long",
			func(a *Application) { a.Applicant.Surname = longText(101) },
			nil,
			[]pc{{"/applicant/surname", "too_long"}},
		},
		{
			"given names missing",
			func(a *Application) { a.Applicant.GivenNames = "" },
			nil,
			[]pc{{"/applicant/given_names", "required"}},
		},
		{"given names 100 runes ok", func(a *Application) { a.Applicant.GivenNames = strings.Repeat("Ä", 100) }, nil, nil},
		{"sex missing", func(a *Application) { a.Applicant.Sex = "" }, nil, []pc{{"/applicant/sex", "required"}}},
		{"sex invalid", func(a *Application) { a.Applicant.Sex = "Q" }, nil, []pc{{"/applicant/sex", "one_of"}}},
		{
			"date of birth missing",
			func(a *Application) { a.Applicant.DateOfBirth = "" },
			nil,
			[]pc{{"/applicant/date_of_birth", "required"}},
		},
		{
			"date of birth impossible",
			func(a *Application) { a.Applicant.DateOfBirth = "1985-02-30" },
			nil,
			[]pc{{"/applicant/date_of_birth", "invalid_date"}},
		},
		{
			"place of birth missing",
			func(a *Application) { a.Applicant.PlaceOfBirth = "" },
			nil,
			[]pc{{"/applicant/place_of_birth", "required"}},
		},
		{
			"nationality missing",
			func(a *Application) { a.Applicant.Nationality = "" },
			nil,
			[]pc{{"/applicant/nationality", "required"}},
		},
		{
			"nationality not a country",
			func(a *Application) { a.Applicant.Nationality = "XYZ" },
			nil,
			[]pc{{"/applicant/nationality", "invalid_country"}},
		},
		{
			"nationality alpha-2",
			func(a *Application) { a.Applicant.Nationality = "KZ" },
			nil,
			[]pc{{"/applicant/nationality", "invalid_country"}},
		},
		{"email missing", func(a *Application) { a.Applicant.Email = "" }, nil, []pc{{"/applicant/email", "required"}}},
		{
			"email invalid",
			func(a *Application) { a.Applicant.Email = "n.abenov.example.kz" },
			nil,
			[]pc{{"/applicant/email", "invalid_email"}},
		},
		{
			"email too long",
			func(a *Application) { a.Applicant.Email = longText(250) + "@x.kz" },
			nil,
			[]pc{{"/applicant/email", "too_long"}},
		},
		{"phone missing", func(a *Application) { a.Applicant.Phone = "" }, nil, []pc{{"/applicant/phone", "required"}}},
		{
			"phone letters",
			func(a *Application) { a.Applicant.Phone = "call me maybe" },
			nil,
			[]pc{{"/applicant/phone", "invalid_phone"}},
		},
		{
			"phone too few digits",
			func(a *Application) { a.Applicant.Phone = "+(12)" },
			nil,
			[]pc{{"/applicant/phone", "invalid_phone"}},
		},
		{
			"phone too long",
			func(a *Application) { a.Applicant.Phone = strings.Repeat("1", 33) },
			nil,
			[]pc{{"/applicant/phone", "too_long"}},
		},
		{
			"passport number missing",
			func(a *Application) { a.Passport.Number = "" },
			nil,
			[]pc{{"/passport/number", "required"}},
		},
		{
			"passport number too short",
			func(a *Application) { a.Passport.Number = "N1234" },
			nil,
			[]pc{{"/passport/number", "invalid_format"}},
		},
		{
			"passport number with dash",
			func(a *Application) { a.Passport.Number = "N-1234567" },
			nil,
			[]pc{{"/passport/number", "invalid_format"}},
		},
		{
			"issuing country missing",
			func(a *Application) { a.Passport.IssuingCountry = "" },
			nil,
			[]pc{{"/passport/issuing_country", "required"}},
		},
		{
			"issuing country invalid",
			func(a *Application) { a.Passport.IssuingCountry = "KAX" },
			nil,
			[]pc{{"/passport/issuing_country", "invalid_country"}},
		},
		{
			"issue date missing",
			func(a *Application) { a.Passport.IssueDate = "" },
			nil,
			[]pc{{"/passport/issue_date", "required"}},
		},
		{
			"issue date malformed",
			func(a *Application) { a.Passport.IssueDate = "20/01/2020" },
			nil,
			[]pc{{"/passport/issue_date", "invalid_date"}},
		},
		{
			"expiry date missing",
			func(a *Application) { a.Passport.ExpiryDate = "" },
			nil,
			[]pc{{"/passport/expiry_date", "required"}},
		},
		{
			"expiry date impossible: no passport_validity",
			func(a *Application) { a.Passport.ExpiryDate = "2030-02-29" },
			nil,
			[]pc{{"/passport/expiry_date", "invalid_date"}},
		},
		{
			"employer missing",
			func(a *Application) { a.Employment.Company = "" },
			nil,
			[]pc{{"/employment/company", "required"}},
		},
		{
			"employer too long",
			func(a *Application) { a.Employment.Company = longText(201) },
			nil,
			[]pc{{"/employment/company", "too_long"}},
		},
		{
			"position missing",
			func(a *Application) { a.Employment.Position = "" },
			nil,
			[]pc{{"/employment/position", "required"}},
		},
		{"purpose missing", func(a *Application) { a.Visit.Purpose = "" }, nil, []pc{{"/visit/purpose", "required"}}},
		{"purpose unknown", func(a *Application) { a.Visit.Purpose = "tourism" }, nil, []pc{{"/visit/purpose", "one_of"}}},
		{
			"arrival missing",
			func(a *Application) { a.Visit.IntendedArrival = "" },
			nil,
			[]pc{{"/visit/intended_arrival", "required"}},
		},
		{
			"arrival malformed: no dependent rules",
			func(a *Application) { a.Visit.IntendedArrival = "2026-4-1" },
			nil,
			[]pc{{"/visit/intended_arrival", "invalid_date"}},
		},

		// Nationality policy.
		{
			"nationality not eligible",
			func(a *Application) { a.Applicant.Nationality = "RUS"; resync(a) },
			nil,
			[]pc{{"/applicant/nationality", "not_eligible_nationality"}},
		},
		{"policy allows another nationality", func(a *Application) { a.Applicant.Nationality = "UZB"; resync(a) },
			func(p *Policy) { p.EligibleNationalities = []string{"KAZ", "uzb"} }, nil},
		{
			"policy excludes KAZ",
			nil,
			func(p *Policy) { p.EligibleNationalities = []string{"UZB"} },
			[]pc{{"/applicant/nationality", "not_eligible_nationality"}},
		},
		{"empty policy list defaults to KAZ", nil, func(p *Policy) { p.EligibleNationalities = nil }, nil},

		// Passport dates.
		{
			"issue date in the future",
			func(a *Application) { a.Passport.IssueDate = "2026-03-11" },
			nil,
			[]pc{{"/passport/issue_date", "issue_date_in_future"}},
		},
		{"issue date today ok", func(a *Application) { a.Passport.IssueDate = "2026-03-10" }, nil, nil},
		{"expiry before issue", func(a *Application) { a.Passport.ExpiryDate = "2019-01-01"; a.Passport.MRZ = nil }, nil,
			[]pc{{"/passport/expiry_date", "expiry_before_issue"}, {"/passport/expiry_date", "passport_validity"}}},
		{
			"passport validity one day short",
			func(a *Application) { a.Passport.ExpiryDate = "2026-09-30"; resync(a) },
			nil,
			[]pc{{"/passport/expiry_date", "passport_validity"}},
		},
		{
			"passport validity exactly six months",
			func(a *Application) { a.Passport.ExpiryDate = "2026-10-01"; resync(a) },
			nil,
			nil,
		},
		{"passport validity month-end clamp", func(a *Application) {
			a.Visit.IntendedArrival = "2026-08-31"
			a.Passport.ExpiryDate = "2027-02-28"
			resync(a)
		}, nil, nil},

		// Age.
		{
			"date of birth in the future",
			func(a *Application) { a.Applicant.DateOfBirth = "2026-03-11"; resync(a) },
			nil,
			[]pc{{"/applicant/date_of_birth", "date_in_future"}},
		},
		{
			"underage on arrival by one day",
			func(a *Application) { a.Applicant.DateOfBirth = "2008-04-02"; resync(a) },
			nil,
			[]pc{{"/applicant/date_of_birth", "underage"}},
		},
		{"18th birthday on arrival", func(a *Application) { a.Applicant.DateOfBirth = "2008-04-01"; resync(a) }, nil, nil},
		{"born 29 February turns 18 on 28 February", func(a *Application) {
			a.Applicant.DateOfBirth = "2008-02-29"
			a.Visit.IntendedArrival = "2026-02-28"
			resync(a)
		}, func(p *Policy) { p.Today = date("2026-02-20") }, nil},

		// Arrival window.
		{
			"arrival yesterday",
			func(a *Application) { a.Visit.IntendedArrival = "2026-03-09" },
			nil,
			[]pc{{"/visit/intended_arrival", "arrival_out_of_range"}},
		},
		{"arrival today", func(a *Application) { a.Visit.IntendedArrival = "2026-03-10" }, nil, nil},
		{"arrival in exactly one year", func(a *Application) { a.Visit.IntendedArrival = "2027-03-10" }, nil, nil},
		{
			"arrival one year and a day",
			func(a *Application) { a.Visit.IntendedArrival = "2027-03-11" },
			nil,
			[]pc{{"/visit/intended_arrival", "arrival_out_of_range"}},
		},

		// Evidence.
		{
			"2y without host or chamber",
			func(a *Application) { a.Visit.Host = nil },
			nil,
			[]pc{{"/visit/host", "evidence_required"}},
		},
		{"2y with chamber instead of host", func(a *Application) {
			a.Visit.Host = nil
			a.Chamber = &Chamber{ChamberID: "NCE-ATAMEKEN", MembershipNumber: "M-0042"}
		}, nil, nil},
		{
			"2y host without city",
			func(a *Application) { a.Visit.Host.City = "" },
			nil,
			[]pc{{"/visit/host/city", "required"}},
		},
		{
			"2y host without company",
			func(a *Application) { a.Visit.Host.Company = "" },
			nil,
			[]pc{{"/visit/host/company", "required"}},
		},
		{
			"host phone invalid",
			func(a *Application) { a.Visit.Host.Phone = "ext. twelve" },
			nil,
			[]pc{{"/visit/host/phone", "invalid_phone"}},
		},
		{
			"host address too long",
			func(a *Application) { a.Visit.Host.Address = longText(201) },
			nil,
			[]pc{{"/visit/host/address", "too_long"}},
		},
		{"2y incomplete chamber and no host", func(a *Application) {
			a.Visit.Host = nil
			a.Chamber = &Chamber{ChamberID: "NCE-ATAMEKEN"}
		}, nil, []pc{{"/chamber/membership_number", "evidence_required"}}},
		{
			"5y without chamber",
			func(a *Application) { a.Product = ProductBusiness5YMulti },
			nil,
			[]pc{{"/chamber", "evidence_required"}},
		},
		{"5y with chamber", func(a *Application) {
			a.Product = ProductBusiness5YMulti
			a.Chamber = &Chamber{ChamberID: "NCE-ATAMEKEN", MembershipNumber: "M-0042"}
		}, nil, nil},
		{"5y chamber without id", func(a *Application) {
			a.Product = ProductBusiness5YMulti
			a.Chamber = &Chamber{MembershipNumber: "M-0042"}
		}, nil, []pc{{"/chamber/chamber_id", "evidence_required"}}},
		{"5y chamber without membership number", func(a *Application) {
			a.Product = ProductBusiness5YMulti
			a.Chamber = &Chamber{ChamberID: "NCE-ATAMEKEN", MembershipNumber: "  "}
		}, nil, []pc{{"/chamber/membership_number", "evidence_required"}}},
		{"5y empty chamber object", func(a *Application) { a.Product = ProductBusiness5YMulti; a.Chamber = &Chamber{} }, nil,
			[]pc{{"/chamber/chamber_id", "evidence_required"}, {"/chamber/membership_number", "evidence_required"}}},

		// MRZ structure.
		{"no MRZ is fine", func(a *Application) { a.Passport.MRZ = nil }, nil, nil},
		{"empty MRZ list is absent", func(a *Application) { a.Passport.MRZ = []string{} }, nil, nil},
		{
			"MRZ one line",
			func(a *Application) { a.Passport.MRZ = a.Passport.MRZ[:1] },
			nil,
			[]pc{{"/passport/mrz", "mrz_format"}},
		},
		{
			"MRZ three lines",
			func(a *Application) { a.Passport.MRZ = append(a.Passport.MRZ, a.Passport.MRZ[1]) },
			nil,
			[]pc{{"/passport/mrz", "mrz_format"}},
		},
		{
			"MRZ second line short",
			func(a *Application) { a.Passport.MRZ[1] = a.Passport.MRZ[1][:40] },
			nil,
			[]pc{{"/passport/mrz/1", "mrz_format"}},
		},
		{
			"MRZ first line bad chars",
			func(a *Application) { a.Passport.MRZ[0] = strings.Replace(a.Passport.MRZ[0], "<", "-", 1) },
			nil,
			[]pc{{"/passport/mrz/0", "mrz_format"}},
		},
		{"MRZ check digit", func(a *Application) {
			a.Passport.MRZ[1] = setChar(a.Passport.MRZ[1], 27, bumpDigit(a.Passport.MRZ[1][27]))
		}, nil, []pc{{"/passport/mrz/1", "mrz_check_digit"}}},

		// MRZ agreement with the typed fields.
		{
			"MRZ passport number mismatch",
			func(a *Application) { a.Passport.Number = "N12345679" },
			nil,
			[]pc{{"/passport/number", "mrz_mismatch"}},
		},
		{
			"MRZ issuing country mismatch",
			func(a *Application) { a.Passport.IssuingCountry = "PAK" },
			nil,
			[]pc{{"/passport/issuing_country", "mrz_mismatch"}},
		},
		{"MRZ nationality mismatch", func(a *Application) { a.Applicant.Nationality = "UZB" },
			func(p *Policy) { p.EligibleNationalities = []string{"KAZ", "UZB"} },
			[]pc{{"/applicant/nationality", "mrz_mismatch"}}},
		{
			"MRZ birth date mismatch",
			func(a *Application) { a.Applicant.DateOfBirth = "1985-06-16" },
			nil,
			[]pc{{"/applicant/date_of_birth", "mrz_mismatch"}},
		},
		{"MRZ sex mismatch", func(a *Application) { a.Applicant.Sex = "F" }, nil, []pc{{"/applicant/sex", "mrz_mismatch"}}},
		{"MRZ unspecified sex matches X", func(a *Application) { a.Applicant.Sex = "X"; resync(a) }, nil, nil},
		{
			"MRZ expiry mismatch",
			func(a *Application) { a.Passport.ExpiryDate = "2030-01-20" },
			nil,
			[]pc{{"/passport/expiry_date", "mrz_mismatch"}},
		},
		{
			"MRZ surname mismatch",
			func(a *Application) { a.Applicant.Surname = "ABENOVA" },
			nil,
			[]pc{{"/applicant/surname", "mrz_mismatch"}},
		},
		{
			"MRZ surname of a different person",
			func(a *Application) { a.Applicant.Surname = "Ivanov" },
			nil,
			[]pc{{"/applicant/surname", "mrz_mismatch"}},
		},
		{
			"MRZ surname case and diacritics",
			func(a *Application) { a.Applicant.Surname = "Äbenov"; resync(a); a.Applicant.Surname = "äbenov" },
			nil,
			nil,
		},
		{"MRZ surname ICAO expansion", func(a *Application) {
			a.Applicant.Surname = "MUELLER"
			resync(a)
			a.Applicant.Surname = "Müller"
		}, nil, nil},
		{"MRZ surname hyphen and apostrophe", func(a *Application) {
			a.Applicant.Surname = "OBRIEN<SMITH"
			resync(a)
			a.Applicant.Surname = "O'Brien-Smith"
		}, nil, nil},
		{"MRZ truncated surname", func(a *Application) {
			a.Applicant.Surname = "Nurmukhambetova-Zhaksybekova-Abdikarimova"
			a.Applicant.GivenNames = "Ainur"
			resync(a) // the 39-character name field cannot hold it all
		}, nil, nil},
		{"MRZ prefix is not enough when the name field is not full", func(a *Application) {
			a.Applicant.Surname = "ABENOVSKY"
		}, nil, []pc{{"/applicant/surname", "mrz_mismatch"}}},
		{"MRZ checks skipped for invalid typed fields", func(a *Application) {
			a.Passport.Number = "N1"
			a.Applicant.DateOfBirth = "1985-06-32"
		}, nil, []pc{{"/applicant/date_of_birth", "invalid_date"}, {"/passport/number", "invalid_format"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := validApplication()
			if tt.mut != nil {
				tt.mut(&app)
			}
			p := testPolicy()
			if tt.policy != nil {
				tt.policy(&p)
			}
			errs := Validate(app, p)
			if got := pointersAndCodes(errs); !slices.Equal(got, tt.want) {
				t.Errorf("Validate() = %v, want %v\nerrors: %+v", got, tt.want, errs)
			}
			if tt.want == nil && errs != nil {
				t.Errorf("Validate() returned a non-nil empty list")
			}
			for _, e := range errs {
				if e.Detail == "" {
					t.Errorf("error %s/%s has no detail", e.Pointer, e.Code)
				}
			}
		})
	}
}

func TestValidateSortsErrors(t *testing.T) {
	app := validApplication()
	app.Visit.Purpose = "holiday"
	app.Applicant.Email = ""
	app.Product = "visa"
	app.Passport.ExpiryDate = "2026-05-01" // breaks validity and MRZ agreement
	errs := Validate(app, testPolicy())
	want := []pc{
		{"/applicant/email", "required"},
		{"/passport/expiry_date", "mrz_mismatch"},
		{"/passport/expiry_date", "passport_validity"},
		{"/product", "one_of"},
		{"/visit/purpose", "one_of"},
	}
	if got := pointersAndCodes(errs); !slices.Equal(got, want) {
		t.Errorf("Validate() = %v, want %v", got, want)
	}
	// Determinism: same input, same output.
	for range 5 {
		if again := Validate(app, testPolicy()); !equalErrors(again, errs) {
			t.Fatalf("Validate is not deterministic: %+v vs %+v", again, errs)
		}
	}
}

func TestNormalizeThenValidate(t *testing.T) {
	clean := validApplication()
	messy := validApplication()
	messy.Product = " Business_2Y "
	messy.Applicant.Surname = "  ABENOV "
	messy.Applicant.Sex = " m"
	messy.Applicant.Nationality = "kaz "
	messy.Applicant.Email = " N.Abenov@Example.KZ "
	messy.Passport.Number = " n 1234 5678 "
	messy.Passport.IssuingCountry = "kaz"
	messy.Passport.ExpiryDate = " 2030-01-19"
	messy.Passport.MRZ = []string{" " + strings.ToLower(clean.Passport.MRZ[0]), clean.Passport.MRZ[1] + "\n"}
	messy.Visit.Purpose = "Business_Meeting"
	messy.Visit.Host = &Host{
		Company: " Indus Textiles Ltd ",
		City:    " Lahore",
		Address: "12 Mall Road",
		Phone:   "+92 42 1234567 ",
	}

	original := messy.Passport.MRZ[0]
	norm := Normalize(messy)
	if messy.Passport.MRZ[0] != original || messy.Visit.Host.City != " Lahore" {
		t.Fatal("Normalize modified its input")
	}
	if errs := Validate(norm, testPolicy()); errs != nil {
		t.Fatalf("normalised application: %+v", errs)
	}
	for _, c := range []struct{ got, want string }{
		{string(norm.Product), "business_2y"},
		{norm.Applicant.Sex, "M"},
		{norm.Applicant.Email, "n.abenov@example.kz"},
		{norm.Passport.Number, "N12345678"},
		{norm.Passport.MRZ[0], clean.Passport.MRZ[0]},
		{norm.Visit.Host.City, "Lahore"},
	} {
		if c.got != c.want {
			t.Errorf("normalised %q, want %q", c.got, c.want)
		}
	}
	if Normalize(Application{Passport: Passport{MRZ: []string{}}}).Passport.MRZ != nil {
		t.Error("Normalize should turn an empty MRZ list into nil")
	}
}

func TestApplicationJSONPointersMatchTags(t *testing.T) {
	// The pointers must address the document as the client sent it.
	raw := `{"product":"business_2y","applicant":{"surname":"","given_names":"Nurlan","sex":"M",
		"date_of_birth":"1985-06-15","place_of_birth":"Almaty","nationality":"KAZ","email":"a@b.kz","phone":"+7 701 1234567"},
		"passport":{"number":"N12345678","issuing_country":"KAZ","issue_date":"2020-01-20","expiry_date":"2030-01-19",
		"mrz":["P<KAZ","x"]},
		"employment":{"company":"c","position":"p"},
		"visit":{"purpose":"investment","intended_arrival":"2026-04-01","host":{"company":"h","city":""}}}`
	var app Application
	if err := json.Unmarshal([]byte(raw), &app); err != nil {
		t.Fatal(err)
	}
	want := []pc{
		{"/applicant/surname", "required"},
		{"/passport/mrz/0", "mrz_format"},
		{"/passport/mrz/1", "mrz_format"},
		{"/passport/mrz/1", "mrz_format"},
		{"/visit/host/city", "required"},
	}
	if got := pointersAndCodes(Validate(app, testPolicy())); !slices.Equal(got, want) {
		t.Errorf("Validate() = %v, want %v", got, want)
	}
}

func TestFieldErrorsContainNoPII(t *testing.T) {
	const (
		markerNumber  = "QZX987654"
		markerSurname = "Zqxwvmarker"
		markerEmail   = "zqxw.marker@@example"
		markerPhone   = "zqxw-marker-phone"
	)
	app := validApplication()
	app.Passport.Number = markerNumber                                  // MRZ mismatch
	app.Applicant.Surname = markerSurname                               // MRZ mismatch
	app.Applicant.Email = markerEmail                                   // invalid e-mail
	app.Applicant.Phone = markerPhone                                   // invalid phone
	app.Applicant.GivenNames = markerSurname + strings.Repeat("x", 120) // too long
	errs := Validate(app, testPolicy())
	if len(errs) < 5 {
		t.Fatalf("expected at least 5 errors, got %+v", errs)
	}
	msg := errs.Error()
	if !strings.HasPrefix(msg, "5 invalid fields: ") {
		t.Errorf("Error() = %q", msg)
	}
	for _, marker := range []string{markerNumber, markerSurname, markerEmail, markerPhone, "zqxw", "ZQXW"} {
		if strings.Contains(strings.ToLower(msg), strings.ToLower(marker)) {
			t.Errorf("Error() leaks %q: %s", marker, msg)
		}
		for _, e := range errs {
			if strings.Contains(strings.ToLower(e.Detail), strings.ToLower(marker)) {
				t.Errorf("detail of %s leaks %q: %s", e.Pointer, marker, e.Detail)
			}
		}
	}
	// MRZ errors must not echo the zone either.
	_, mrzErrs := ParseTD3(specimenLine1, setChar(specimenLine2, 9, '0'))
	for _, e := range mrzErrs {
		if strings.Contains(e.Detail, "L898902C3") || strings.Contains(e.Detail, "ERIKSSON") {
			t.Errorf("MRZ detail leaks data: %s", e.Detail)
		}
	}
}

func TestFieldErrorsError(t *testing.T) {
	tests := []struct {
		errs FieldErrors
		want string
	}{
		{FieldErrors{{Pointer: "/a", Detail: "x", Code: "required"}}, "1 invalid field: /a"},
		{
			FieldErrors{
				{Pointer: "/a", Detail: "x", Code: "c"},
				{Pointer: "/b", Detail: "y", Code: "c"},
				{Pointer: "/c", Detail: "z", Code: "c"},
			},
			"3 invalid fields: /a, /b, /c",
		},
		{nil, "no invalid fields"},
	}
	for _, tt := range tests {
		if got := tt.errs.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	if FieldErrors(nil).Err() != nil {
		t.Error("Err() of nil FieldErrors should be nil")
	}
	if err := (FieldErrors{{Pointer: "/a", Detail: "x", Code: "c"}}).Err(); err == nil {
		t.Error("Err() of non-empty FieldErrors should not be nil")
	}
}

func TestPointerFromNamespace(t *testing.T) {
	tests := map[string]string{
		"Application.product":               "/product",
		"Application.passport.mrz[1]":       "/passport/mrz/1",
		"Application.visit.host.city":       "/visit/host/city",
		"Application.a~b.c/d":               "/a~0b/c~1d",
		"Application.m[0][2]":               "/m/0/2",
		"Application":                       "",
		"Application.applicant.given_names": "/applicant/given_names",
	}
	for ns, want := range tests {
		if got := pointerFromNamespace(ns); got != want {
			t.Errorf("pointerFromNamespace(%q) = %q, want %q", ns, got, want)
		}
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"2026-03-10", true},
		{"2024-02-29", true},
		{"2026-02-29", false},
		{"2026-02-30", false},
		{"2026-13-01", false},
		{"2026-3-10", false},
		{"26-03-10", false},
		{" 2026-03-10", false},
		{"2026-03-10T00:00:00Z", false},
		{"2026/03/10", false},
		{"", false},
	}
	for _, tt := range tests {
		got, ok := ParseDate(tt.in)
		if ok != tt.ok {
			t.Errorf("ParseDate(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			continue
		}
		if ok && (got.Location() != time.UTC || got.Hour() != 0 || got.Format(time.DateOnly) != tt.in) {
			t.Errorf("ParseDate(%q) = %v, want UTC midnight of that date", tt.in, got)
		}
	}
}

func TestComputeVisaTerms(t *testing.T) {
	spec2, _ := LookupProduct(ProductBusiness2Y)
	spec5, _ := LookupProduct(ProductBusiness5YMulti)
	tests := []struct {
		name           string
		spec           ProductSpec
		issued, expiry time.Time
		from, until    string
	}{
		{"two years", spec2, date("2026-03-10"), date("2035-01-01"), "2026-03-10", "2028-03-10"},
		{"five years", spec5, date("2026-03-10"), date("2035-01-01"), "2026-03-10", "2031-03-10"},
		{"capped at passport expiry", spec5, date("2026-03-10"), date("2029-06-30"), "2026-03-10", "2029-06-30"},
		{"expiry equal to natural end", spec2, date("2026-03-10"), date("2028-03-10"), "2026-03-10", "2028-03-10"},
		{"leap day clamps to 28 February", spec2, date("2028-02-29"), date("2040-01-01"), "2028-02-29", "2030-02-28"},
		{"leap day to leap year", spec5, date("2027-02-28"), date("2040-01-01"), "2027-02-28", "2032-02-28"},
		{"clock time and zone reduced to the UTC date", spec2,
			time.Date(2026, 3, 10, 22, 30, 0, 0, time.UTC).In(time.FixedZone("PKT", 5*3600)),
			time.Date(2035, 1, 1, 15, 0, 0, 0, time.UTC), "2026-03-10", "2028-03-10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ComputeVisaTerms(tt.spec, tt.issued, tt.expiry)
			want := VisaTerms{ValidFrom: date(tt.from), ValidUntil: date(tt.until), Entries: "multiple", MaxStayDays: 90}
			if !got.ValidFrom.Equal(want.ValidFrom) || !got.ValidUntil.Equal(want.ValidUntil) ||
				got.ValidFrom.Location() != time.UTC || got.ValidUntil.Location() != time.UTC ||
				got.Entries != want.Entries || got.MaxStayDays != want.MaxStayDays {
				t.Errorf("ComputeVisaTerms() = %+v, want %+v", got, want)
			}
		})
	}
}

func TestProducts(t *testing.T) {
	ps := Products()
	if len(ps) != 2 || ps[0].Code != ProductBusiness2Y || ps[1].Code != ProductBusiness5YMulti {
		t.Fatalf("Products() = %+v", ps)
	}
	ps[0].Title = "mutated"
	if Products()[0].Title != "Two-year business visa" {
		t.Error("Products() must return a copy")
	}
	tests := []struct {
		code    Product
		years   int
		sla     time.Duration
		entries string
		maxStay int
	}{
		{ProductBusiness2Y, 2, 24 * time.Hour, "multiple", 90},
		{ProductBusiness5YMulti, 5, 72 * time.Hour, "multiple", 90},
	}
	for _, tt := range tests {
		spec, ok := LookupProduct(tt.code)
		if !ok || spec.ValidityYears != tt.years || spec.DecisionSLA != tt.sla || spec.Entries != tt.entries ||
			spec.MaxStayDays != tt.maxStay {
			t.Errorf("LookupProduct(%q) = %+v, %v", tt.code, spec, ok)
		}
	}
	if _, ok := LookupProduct("business_10y"); ok {
		t.Error("LookupProduct accepted an unknown code")
	}
}

func TestCatalogues(t *testing.T) {
	for _, r := range []ReasonCode{"insufficient_evidence", "passport_validity", "security_screening", "not_eligible",
		"incomplete_application", "other"} {
		if !IsRefusalReason(r) {
			t.Errorf("IsRefusalReason(%q) = false", r)
		}
	}
	for _, r := range []ReasonCode{"", "Other", "fraud"} {
		if IsRefusalReason(r) {
			t.Errorf("IsRefusalReason(%q) = true", r)
		}
	}
	if len(VisitPurposes) != 5 || !isVisitPurpose("trade_fair") || isVisitPurpose("tourism") {
		t.Errorf("VisitPurposes = %v", VisitPurposes)
	}
}

func TestCountryCodes(t *testing.T) {
	codes := strings.Fields(iso3166Alpha3)
	if len(codes) != 249 {
		t.Errorf("ISO 3166-1 table has %d codes, want 249", len(codes))
	}
	if len(countryCodes) != 250 {
		t.Errorf("country set has %d entries, want 249 distinct codes + UTO", len(countryCodes))
	}
	for _, c := range codes {
		if len(c) != 3 || strings.ToUpper(c) != c {
			t.Errorf("malformed code %q", c)
		}
	}
	for _, c := range []string{"KAZ", "PAK", "UTO", "DEU", "GBR", "SSD", "BES", "ALA"} {
		if !IsCountryCode(c) {
			t.Errorf("IsCountryCode(%q) = false", c)
		}
	}
	for _, c := range []string{"", "kaz", "KZ", "XXX", "D", "ANT", "SCG"} {
		if IsCountryCode(c) {
			t.Errorf("IsCountryCode(%q) = true", c)
		}
	}
}

// bumpDigit returns a different digit, to corrupt a check digit.
func bumpDigit(d byte) byte { return '0' + (d-'0'+1)%10 }
