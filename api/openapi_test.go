package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/visad/visad/domain"
)

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPISpec())
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI 3 document: %v", err)
	}
	return doc
}

func TestOpenAPISpecIsValid(t *testing.T) {
	doc := loadSpec(t)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	// Every operation declares the errors it can return as problem documents.
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for code, resp := range op.Responses.Map() {
				if code[0] != '4' && code[0] != '5' || path == "/readyz" && code == "503" {
					continue
				}
				if resp.Value.Content.Get(ProblemContentType) == nil {
					t.Errorf("%s %s: %s is not an %s response", method, path, code, ProblemContentType)
				}
			}
			if op.Responses.Status(500) == nil {
				t.Errorf("%s %s: no 500 response", method, path)
			}
		}
	}
}

// ginToOpenAPI turns /v1/applications/:id into /v1/applications/{id}.
var ginParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

func ginToOpenAPI(p string) string { return ginParam.ReplaceAllString(p, "{$1}") }

// TestEveryRouteIsInTheSpec walks the Gin engine: a route missing from the
// spec, or an operation in the spec that no route serves, fails.
func TestEveryRouteIsInTheSpec(t *testing.T) {
	doc := loadSpec(t)
	routes := Routes(New(Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	if len(routes) == 0 {
		t.Fatal("no routes found")
	}
	served := map[string]bool{}
	for _, r := range routes {
		path := ginToOpenAPI(r.Path)
		served[r.Method+" "+path] = true
		item := doc.Paths.Find(path)
		if item == nil || item.GetOperation(r.Method) == nil {
			t.Errorf("route %s %s is not in api/openapi.yaml", r.Method, path)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !served[method+" "+path] {
				t.Errorf("api/openapi.yaml declares %s %s, which no route serves", method, path)
			}
		}
	}
}

func enumOf(t *testing.T, doc *openapi3.T, name string) []string {
	t.Helper()
	s := doc.Components.Schemas[name]
	if s == nil {
		t.Fatalf("no schema %s", name)
	}
	return enumValues(s.Value)
}

func enumValues(s *openapi3.Schema) []string {
	var out []string
	for _, v := range s.Enum {
		out = append(out, v.(string))
	}
	sort.Strings(out)
	return out
}

func sorted(in []string) []string {
	out := slices.Clone(in)
	sort.Strings(out)
	return out
}

// The spec's closed lists are the code's.
func TestSpecEnumsMatchTheCode(t *testing.T) {
	doc := loadSpec(t)
	var products []string
	for _, p := range domain.Products() {
		products = append(products, string(p.Code))
	}
	check := func(what string, got, want []string) {
		t.Helper()
		if !slices.Equal(got, sorted(want)) {
			t.Errorf("%s: spec has %v, code has %v", what, got, sorted(want))
		}
	}
	check("Product", enumOf(t, doc, "Product"), products)
	check("Status", enumOf(t, doc, "Status"), words(domain.AllStatuses))
	check("RefusalReason", enumOf(t, doc, "RefusalReason"), words(domain.RefusalReasons))
	check(
		"visit.purpose",
		enumValues(doc.Components.Schemas["Visit"].Value.Properties["purpose"].Value),
		domain.VisitPurposes,
	)

	var columns []string
	for name := range doc.Components.Schemas["BatchRow"].Value.Properties {
		columns = append(columns, name)
	}
	check("BatchRow columns", sorted(columns), domain.BatchColumns)

	// Every problem type the package can write is in the Problem schema's enum.
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	urn := regexp.MustCompile(`"(urn:visad:problem:[a-z0-9-]+)"`)
	var types []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range urn.FindAllStringSubmatch(string(src), -1) {
			if !slices.Contains(types, m[1]) {
				types = append(types, m[1])
			}
		}
	}
	check("Problem.type", enumValues(doc.Components.Schemas["Problem"].Value.Properties["type"].Value), types)
}

// TestSchemasMatchGoTypes compares every schema with the Go type the handlers
// encode or decode: the same JSON member names (nested types included), the
// same JSON kinds, and — for responses — required exactly when the field has
// no omitempty. Request schemas may require less than the Go type always has.
func TestSchemasMatchGoTypes(t *testing.T) {
	doc := loadSpec(t)
	cases := []struct {
		schema   string
		typ      any
		response bool
	}{
		{"Application", domain.Application{}, false},
		{"Decision", DecisionBody{}, false},
		{"SubmitResponse", SubmitResponse{}, true},
		{"ApplicationView", ApplicationView{}, true},
		{"CaseState", CaseStateView{}, true},
		{"CaseList", CaseListView{}, true},
		{"Problem", Problem{}, true},
		{"Information", InformationBody{}, false},
		{"StatusLookup", StatusLookupBody{}, false},
		{"StatusLookupResult", StatusLookupView{}, true},
		{"ChamberCreate", createChamberBody{}, false},
		{"ChamberCreated", ChamberCreated{}, true},
		{"RosterMember", domain.Member{}, false},
		{"MemberList", MemberList{}, true},
		{"BatchAccepted", BatchAccepted{}, true},
		{"BatchStatus", BatchStatus{}, true},
		{"BatchReport", BatchReport{}, true},
		{"DocumentList", DocumentListView{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.schema, func(t *testing.T) {
			ref := doc.Components.Schemas[tc.schema]
			if ref == nil {
				t.Fatalf("no schema %s", tc.schema)
			}
			compareSchema(t, tc.schema, reflect.TypeOf(tc.typ), ref.Value, tc.response)
		})
	}
}

var timeType = reflect.TypeOf(time.Time{})

// isRequestType reports whether t is a request body type (whose schema is shared).
func isRequestType(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t == reflect.TypeOf(domain.Application{})
}

func compareSchema(t *testing.T, where string, typ reflect.Type, s *openapi3.Schema, response bool) {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if len(s.AllOf) == 1 && s.AllOf[0].Value != nil {
		s = s.AllOf[0].Value
	}
	kind := func(want string) {
		t.Helper()
		if s.Type == nil || !s.Type.Is(want) {
			t.Errorf("%s: Go %s, spec type %v (want %s)", where, typ, s.Type, want)
		}
	}
	switch {
	case typ == timeType:
		kind("string")
		if s.Format != "date-time" {
			t.Errorf("%s: a time.Time is format date-time, spec says %q", where, s.Format)
		}
	case typ.Kind() == reflect.String:
		kind("string")
	case typ.Kind() == reflect.Bool:
		kind("boolean")
	case typ.Kind() >= reflect.Int && typ.Kind() <= reflect.Uint64:
		kind("integer")
	case typ.Kind() == reflect.Float32 || typ.Kind() == reflect.Float64:
		kind("number")
	case typ.Kind() == reflect.Slice:
		kind("array")
		if s.Items == nil || s.Items.Value == nil {
			t.Errorf("%s: array without items", where)
			return
		}
		compareSchema(t, where+"[]", typ.Elem(), s.Items.Value, response)
	case typ.Kind() == reflect.Struct:
		kind("object")
		if s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has {
			t.Errorf("%s: objects are closed (additionalProperties: false)", where)
		}
		var names, always []string
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			names = append(names, name)
			if !strings.Contains(opts, "omitempty") {
				always = append(always, name)
			}
			prop := s.Properties[name]
			if prop == nil || prop.Value == nil {
				t.Errorf("%s: Go field %s (%q) is not in the spec", where, f.Name, name)
				continue
			}
			// A request type shown in a response keeps the request rules.
			compareSchema(t, where+"."+name, f.Type, prop.Value, response && !isRequestType(f.Type))
		}
		for p := range s.Properties {
			if !slices.Contains(names, p) {
				t.Errorf("%s: spec property %q has no Go field", where, p)
			}
		}
		required := sorted(s.Required)
		for _, r := range required {
			if !slices.Contains(always, r) {
				t.Errorf("%s: spec requires %q, which Go omits when empty (or lacks)", where, r)
			}
		}
		if response && !slices.Equal(required, sorted(always)) {
			t.Errorf("%s: required %v, but Go always writes %v", where, required, sorted(always))
		}
	default:
		t.Errorf("%s: unhandled Go type %s", where, typ)
	}
}

func TestOpenAPIServed(t *testing.T) {
	h := New(Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.yaml", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/yaml" {
		t.Fatalf("GET /openapi.yaml: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if rec.Body.String() != string(OpenAPISpec()) {
		t.Fatal("served document differs from api/openapi.yaml")
	}
}

func words[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, w := range list {
		out[i] = string(w)
	}
	return out
}
