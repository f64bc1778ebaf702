package e2e_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/testenv"
)

// The contract states the limits the server enforces: a sample of them, read
// from api/openapi.yaml, is checked against the real server. A value one over
// the spec's limit is refused with a problem whose pointer names the field,
// and a value at the limit is not refused for its length.
func TestSpecLimitsAreTheServers(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	spec, _, err := testenv.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	schemas := spec.Components.Schemas
	maxLength := func(schema, property string) int {
		t.Helper()
		p := schemas[schema].Value.Properties[property]
		if p == nil || p.Value.MaxLength == nil {
			t.Fatalf("%s.%s has no maxLength in the spec", schema, property)
		}
		return int(*p.Value.MaxLength)
	}
	letters := func(n int) string { return strings.Repeat("a", n) }
	for _, tc := range []struct {
		schema, property, pointer string
		set                       func(f *domain.Application, v string)
	}{
		{"Applicant", "surname", "/applicant/surname", func(f *domain.Application, v string) { f.Applicant.Surname = v }},
		{"Applicant", "place_of_birth", "/applicant/place_of_birth",
			func(f *domain.Application, v string) { f.Applicant.PlaceOfBirth = v }},
		{"Employment", "company", "/employment/company", func(f *domain.Application, v string) { f.Employment.Company = v }},
		{"Employment", "position", "/employment/position",
			func(f *domain.Application, v string) { f.Employment.Position = v }},
		{"Passport", "number", "/passport/number", func(f *domain.Application, v string) {
			f.Passport.Number = strings.ToUpper(strings.Repeat("A1", len(v))[:len(v)])
		}},
	} {
		n := maxLength(tc.schema, tc.property)
		over := testenv.ValidApplication(domain.ProductBusiness2Y)
		tc.set(&over, letters(n+1))
		p := decodeProblem(t, env.DoRaw("POST", "/v1/applications", "", over), http.StatusUnprocessableEntity)
		if !hasPointer(p, tc.pointer) {
			t.Errorf("%s.%s one over the spec's maxLength %d: errors %+v, want pointer %s",
				tc.schema, tc.property, n, p.Errors, tc.pointer)
		}
		at := testenv.ValidApplication(domain.ProductBusiness2Y)
		tc.set(&at, letters(n))
		if r := env.DoRaw("POST", "/v1/applications", "", at); r.Status != http.StatusAccepted {
			var pat problem
			r.JSON(t, &pat)
			for _, e := range pat.Errors {
				if e.Pointer == tc.pointer && (e.Code == domain.CodeTooLong || strings.Contains(e.Detail, "at most")) {
					t.Errorf("%s.%s at the spec's maxLength %d is refused as too long: %+v", tc.schema, tc.property, n, e)
				}
			}
		}
	}

	// An array over maxItems: a passport with more MRZ lines than the spec allows.
	mrz := schemas["Passport"].Value.Properties["mrz"].Value
	if mrz.MaxItems == nil {
		t.Fatal("Passport.mrz has no maxItems in the spec")
	}
	form := testenv.WithMRZ(testenv.ValidApplication(domain.ProductBusiness2Y))
	for len(form.Passport.MRZ) <= int(*mrz.MaxItems) {
		form.Passport.MRZ = append(form.Passport.MRZ, form.Passport.MRZ[0])
	}
	p := decodeProblem(t, env.DoRaw("POST", "/v1/applications", "", form), http.StatusUnprocessableEntity)
	if !hasPointerPrefix(p, "/passport/mrz") {
		t.Errorf("%d MRZ lines: errors %+v, want a pointer into /passport/mrz", len(form.Passport.MRZ), p.Errors)
	}

	// An integer over its maximum: the queue's page size.
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer")
	var limitMax int
	for _, prm := range spec.Paths.Find("/v1/cases").Get.Parameters {
		if prm.Value.Name == "limit" && prm.Value.Schema.Value.Max != nil {
			limitMax = int(*prm.Value.Schema.Value.Max)
		}
	}
	if limitMax == 0 {
		t.Fatal("GET /v1/cases limit has no maximum in the spec")
	}
	over := env.DoRaw("GET", "/v1/cases?limit="+itoa(limitMax+1), officer, nil)
	if p := decodeProblem(t, over, http.StatusUnprocessableEntity); !hasPointer(p, "/query/limit") {
		t.Errorf("limit %d: errors %+v, want /query/limit", limitMax+1, p.Errors)
	}
	if r := env.Do("GET", "/v1/cases?limit="+itoa(limitMax), officer, nil); r.Status != http.StatusOK {
		t.Errorf("limit %d: %d %s", limitMax, r.Status, r.Body)
	}
}

func hasPointer(p problem, pointer string) bool {
	for _, e := range p.Errors {
		if e.Pointer == pointer {
			return true
		}
	}
	return false
}

func hasPointerPrefix(p problem, prefix string) bool {
	for _, e := range p.Errors {
		if strings.HasPrefix(e.Pointer, prefix) {
			return true
		}
	}
	return false
}

func itoa(n int) string { return strconv.Itoa(n) }
