package domain

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// Fuzz targets for the two entry points that see untrusted input: the MRZ
// parser and the whole-form validator. `make fuzz` runs them by name.

// The ICAO Doc 9303 Part 4 TD3 specimen.
const (
	fuzzSpecimenLine1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
	fuzzSpecimenLine2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
)

// fuzzMRZCodes are the codes ParseTD3 may report.
var fuzzMRZCodes = []string{CodeMRZFormat, CodeMRZCheckDigit}

func FuzzParseTD3(f *testing.F) {
	f.Add(fuzzSpecimenLine1, fuzzSpecimenLine2)
	for _, m := range []MRZ{
		{DocumentCode: "P", IssuingState: "KAZ", Surname: "Abenov", GivenNames: "Nurlan", DocumentNumber: "N12345678",
			Nationality: "KAZ", BirthDate: "850615", Sex: "M", ExpiryDate: "310228"},
		{DocumentCode: "PO", IssuingState: "D", Surname: "Müller-Lüdenscheidt", GivenNames: "Hans Jürgen",
			DocumentNumber: "C01X00T47", Nationality: "D", BirthDate: "640812", Sex: "X", ExpiryDate: "270101",
			OptionalData: "1234567890ABCD"},
		{DocumentCode: "P", IssuingState: "UTO", Surname: "Ooooooooooooooooooooooooooooooooooooooooooong",
			DocumentNumber: "A1", Nationality: "UTO", BirthDate: "000229", Sex: "F", ExpiryDate: "991231"},
	} {
		l1, l2 := BuildTD3(m)
		f.Add(l1, l2)
	}
	for _, seed := range [][2]string{
		{"", ""},
		{"P<", "L8"},
		{fuzzSpecimenLine1 + "<", fuzzSpecimenLine2 + "0"}, // one too long
		{fuzzSpecimenLine1[:43], fuzzSpecimenLine2[:43]},   // one too short
		{strings.ToLower(fuzzSpecimenLine1), fuzzSpecimenLine2},
		{fuzzSpecimenLine2, fuzzSpecimenLine1},                              // swapped
		{"P<UTOÉRIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<", fuzzSpecimenLine2},  // 44 bytes, not 44 runes
		{"I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", fuzzSpecimenLine2}, // not a passport
		{"P<UTO<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<<<<<<<<", fuzzSpecimenLine2},  // no surname
		{fuzzSpecimenLine1, "L898902C37UTO7408122F1204159ZE184226B<<<<<10"}, // wrong document check digit
		{fuzzSpecimenLine1, "L898902C36UTO7408122F1204159ZE184226B<<<<<19"}, // wrong composite
		{fuzzSpecimenLine1, "L898902C36UTO7408122Q1204159ZE184226B<<<<<10"}, // bad sex
		{strings.Repeat("<", 44), strings.Repeat("<", 44)},                  // all filler
		{strings.Repeat("\x00", 44), strings.Repeat("\xff", 44)},            // binary
		// stray whitespace
		{"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n", "L898902C36UTO7408122F1204159ZE184226B<<<<<10 "},
	} {
		f.Add(seed[0], seed[1])
	}

	// Valid check digits around unusual but legal field contents: inner and
	// leading fillers, letters in dates, an unspecified sex.
	for _, l2 := range []string{
		fuzzLine2("AB<<CD<<<", "UTO", "<<0812", '<', "120415", "<<<<<<<<<<<<<<", '<'),
		fuzzLine2("<L898902C", "D<<", "7408<<", 'X', "ABCDEF", "ZE<<184226B<<<", '0'),
		fuzzLine2("123456789", "<<<", "000000", 'M', "999999", "<<<<<<<<<<<<<<", '0'),
	} {
		f.Add(fuzzSpecimenLine1, l2)
		f.Add(pad("PAUT<<SURNAME<<<<GIVEN<<NAMES", td3LineLen), l2) // state "UT", surname after a filler
	}

	f.Fuzz(func(t *testing.T, line1, line2 string) {
		m, errs := ParseTD3(line1, line2)
		checkMRZErrors(t, "ParseTD3", errs)
		if len(errs) > 0 {
			return
		}
		if m.Surname == "" || m.DocumentCode == "" || m.DocumentCode[0] != 'P' {
			t.Fatalf("accepted MRZ without surname or passport code: %+v", m)
		}
		if m.Sex != "M" && m.Sex != "F" && m.Sex != "X" {
			t.Fatalf("accepted MRZ with sex %q", m.Sex)
		}

		// Valid input round-trips through BuildTD3.
		b1, b2 := BuildTD3(m)
		m2, errs2 := ParseTD3(b1, b2)
		if len(errs2) > 0 {
			t.Fatalf("BuildTD3(%+v) = %q, %q does not parse: %+v", m, b1, b2, errs2)
		}
		// BuildTD3 writes canonical fields (no leading filler, no runs of
		// filler); such fields come back exactly, others at least with the
		// same characters.
		fields := []struct {
			name      string
			got, want string
		}{
			{"DocumentCode", m2.DocumentCode, m.DocumentCode},
			{"IssuingState", m2.IssuingState, m.IssuingState},
			{"Surname", m2.Surname, m.Surname},
			{"GivenNames", m2.GivenNames, m.GivenNames},
			{"DocumentNumber", m2.DocumentNumber, m.DocumentNumber},
			{"Nationality", m2.Nationality, m.Nationality},
			{"BirthDate", m2.BirthDate, m.BirthDate},
			{"Sex", m2.Sex, m.Sex},
			{"ExpiryDate", m2.ExpiryDate, m.ExpiryDate},
			{"OptionalData", m2.OptionalData, m.OptionalData},
		}
		for _, fld := range fields {
			if fld.got == fld.want {
				continue
			}
			if isCanonicalMRZField(fld.want) || withoutFiller(fld.got) != withoutFiller(fld.want) {
				t.Fatalf("round trip changed %s: %q -> %q\nparsed  %+v\nrebuilt %q %q\nreparsed %+v",
					fld.name, fld.want, fld.got, m, b1, b2, m2)
			}
		}
	})
}

// fuzzLine2 assembles a TD3 line 2 with correct check digits; optionalCheck
// is used as given when it is '<', else computed.
func fuzzLine2(doc, nationality, birth string, sex byte, expiry, optional string, optionalCheck byte) string {
	digit := func(s string) string { return digitString(CheckDigit(s)) }
	docPart := doc + digit(doc)
	birthPart := birth + digit(birth)
	expiryPart := expiry + digit(expiry)
	optionalPart := optional + string(optionalCheck)
	if optionalCheck != mrzFiller {
		optionalPart = optional + digit(optional)
	}
	return docPart + nationality + birthPart + string(sex) + expiryPart + optionalPart +
		digit(docPart+birthPart+expiryPart+optionalPart)
}

// checkMRZErrors verifies the shape of the errors of ParseTD3.
func checkMRZErrors(t *testing.T, what string, errs FieldErrors) {
	t.Helper()
	if errs != nil && len(errs) == 0 {
		t.Fatalf("%s returned an empty, non-nil error list", what)
	}
	for _, e := range errs {
		if !strings.HasPrefix(e.Pointer, "/passport/mrz") {
			t.Fatalf("%s: error pointer %q outside /passport/mrz: %+v", what, e.Pointer, e)
		}
		if e.Code == "" || e.Detail == "" {
			t.Fatalf("%s: error without code or detail: %+v", what, e)
		}
		if !slices.Contains(fuzzMRZCodes, e.Code) {
			t.Fatalf("%s: unexpected code %q", what, e.Code)
		}
	}
}

// isCanonicalMRZField reports whether s is how BuildTD3 would write it back:
// letters and digits separated by single fillers or spaces, none leading or trailing.
func isCanonicalMRZField(s string) bool {
	if s == "" {
		return true
	}
	prevSep := true
	for i := 0; i < len(s); i++ {
		sep := s[i] == '<' || s[i] == ' '
		if sep && prevSep {
			return false
		}
		prevSep = sep
	}
	return !prevSep
}

func withoutFiller(s string) string {
	return strings.NewReplacer("<", "", " ", "").Replace(s)
}

// fuzzToday is the fixed day of FuzzValidate.
var fuzzToday = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func fuzzPolicy() Policy { return Policy{Today: fuzzToday} } // default eligibility (KAZ)

// fuzzValidApplication is a clean application as of fuzzToday.
func fuzzValidApplication() Application {
	app := Application{
		Product: ProductBusiness2Y,
		Applicant: Applicant{
			Surname: "Abenov", GivenNames: "Nurlan", Sex: "M", DateOfBirth: "1985-06-15",
			PlaceOfBirth: "Almaty", Nationality: "KAZ", Email: "n.abenov77@example.kz", Phone: "+7 (701) 123-45-67",
		},
		Passport:   Passport{Number: "N12345678", IssuingCountry: "KAZ", IssueDate: "2021-03-01", ExpiryDate: "2031-02-28"},
		Employment: Employment{Company: "Steppe Trading LLP", Position: "Director"},
		Visit: Visit{
			Purpose: "business_meeting", IntendedArrival: "2026-07-15",
			Host: &Host{Company: "Indus Textiles Ltd", City: "Lahore", Address: "12 Mall Road", Phone: "+92 42 1234567"},
		},
	}
	l1, l2 := BuildTD3(MRZ{
		DocumentCode: "P", IssuingState: "KAZ", Surname: app.Applicant.Surname, GivenNames: app.Applicant.GivenNames,
		DocumentNumber: app.Passport.Number, Nationality: "KAZ", BirthDate: "850615", Sex: "M", ExpiryDate: "310228",
	})
	app.Passport.MRZ = []string{l1, l2}
	return app
}

func FuzzValidate(f *testing.F) {
	valid := fuzzValidApplication()
	if errs := Validate(Normalize(valid), fuzzPolicy()); errs != nil {
		f.Fatalf("seed application is not valid: %+v", errs)
	}
	addApp := func(app Application) {
		b, err := json.Marshal(app)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	addApp(valid)

	five := fuzzValidApplication()
	five.Product = ProductBusiness5YMulti
	five.Visit.Host = nil
	five.Chamber = &Chamber{ChamberID: "KZ-CCI", MembershipNumber: "M-0042"}
	addApp(five)

	messy := fuzzValidApplication() // valid once normalised
	messy.Product = " Business_2Y "
	messy.Applicant.Nationality = "kaz "
	messy.Applicant.Email = " N.Abenov77@Example.KZ"
	messy.Passport.Number = "n 1234 5678"
	messy.Passport.MRZ = []string{strings.ToLower(valid.Passport.MRZ[0]), " " + valid.Passport.MRZ[1]}
	addApp(messy)

	broken := fuzzValidApplication()
	broken.Applicant.DateOfBirth = "2010-02-30"
	broken.Passport.ExpiryDate = "2026-08-01"
	broken.Passport.IssueDate = "2027-01-01"
	broken.Visit.IntendedArrival = "2025-12-31"
	broken.Visit.Host = nil
	broken.Passport.MRZ = valid.Passport.MRZ[:1]
	addApp(broken)

	mismatch := fuzzValidApplication()
	mismatch.Passport.Number = "X98765432"
	mismatch.Applicant.Sex = "F"
	mismatch.Applicant.Surname = "Åberg"
	addApp(mismatch)

	for _, raw := range []string{
		`{}`,
		`null`,
		`{"product":"business_5y_multi","chamber":{}}`,
		`{"passport":{"mrz":["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",` +
			`"L898902C36UTO7408122F1204159ZE184226B<<<<<10"]}}`,
		`{"passport":{"mrz":[]},"visit":{"host":{}}}`,
		`{"applicant":{"email":"a@b","phone":"+ ( ) -","sex":"x","nationality":"D"},"passport":{"number":"ab\u00a0cd"}}`,
		`{"applicant":{"date_of_birth":"0000-01-01"},"visit":{"intended_arrival":"9999-12-31"}}`,
		// Distinctive invalid values, which no message may repeat.
		`{"applicant":{"email":"anna.1974@@example.kz"},"passport":{"number":"ab12-34567!"}}`,
		`{"applicant":{"email":"x2@example.kz","nationality":"UTO"},"passport":{"number":"L898902C3",` +
			`"mrz":["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<","L898902C36UTO7408122F1204159ZE184226B<<<<<10"]}}`,
	} {
		f.Add([]byte(raw))
	}

	policy := fuzzPolicy()
	f.Fuzz(func(t *testing.T, data []byte) {
		var app Application
		if err := json.Unmarshal(data, &app); err != nil {
			t.Skip()
		}
		norm := Normalize(app)
		errs := Validate(norm, policy)

		// Deterministic, and Normalize is idempotent and leaves its input alone.
		var again Application
		if err := json.Unmarshal(data, &again); err != nil {
			t.Fatalf("second unmarshal failed: %v", err)
		}
		if !reflect.DeepEqual(app, again) {
			t.Fatalf("Normalize modified its input:\n%+v\n%+v", app, again)
		}
		if errs2 := Validate(Normalize(again), policy); !reflect.DeepEqual(errs, errs2) {
			t.Fatalf("Validate is not deterministic:\n%+v\n%+v", errs, errs2)
		}
		if twice := Normalize(norm); !reflect.DeepEqual(twice, norm) {
			t.Fatalf("Normalize is not idempotent:\n%+v\n%+v", norm, twice)
		}

		if errs != nil && len(errs) == 0 {
			t.Fatalf("Validate returned an empty, non-nil list")
		}
		if !slices.IsSortedFunc(errs, func(a, b FieldError) int {
			return strings.Compare(a.Pointer+"\x00"+a.Code, b.Pointer+"\x00"+b.Code)
		}) {
			t.Fatalf("errors not sorted by pointer, code: %+v", errs)
		}
		for _, e := range errs {
			if e.Pointer != "" && !strings.HasPrefix(e.Pointer, "/") {
				t.Fatalf("pointer %q is not a JSON pointer: %+v", e.Pointer, e)
			}
			if e.Detail == "" || e.Code == "" {
				t.Fatalf("error without detail or code: %+v", e)
			}
		}

		// PII discipline: no detail (and no Error() text) repeats the passport
		// number or e-mail. Only distinctive values are checked, so that a
		// number such as "REQUIRED" cannot match the wording of a message.
		msg := errs.Error()
		for _, pii := range []string{app.Passport.Number, norm.Passport.Number, app.Applicant.Email, norm.Applicant.Email} {
			if !isDistinctivePII(pii) {
				continue
			}
			if strings.Contains(msg, pii) {
				t.Fatalf("Error() %q contains the value %q", msg, pii)
			}
			for _, e := range errs {
				if strings.Contains(e.Detail, pii) || strings.Contains(e.Pointer, pii) {
					t.Fatalf("error %+v contains the value %q", e, pii)
				}
			}
		}
	})
}

// isDistinctivePII reports whether s is long and unusual enough that finding
// it in a message means the value leaked: at least 6 characters, with a
// digit or an @, and not just digits and separators that a rule's wording
// (dates, "3166-1") could contain.
func isDistinctivePII(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) < 6 || !strings.ContainsAny(s, "0123456789@") {
		return false
	}
	return strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r == '-' || r == ' ' || r == '(' || r == ')' || r == '+')
	})
}
