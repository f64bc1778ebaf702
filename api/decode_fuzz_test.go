package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/visad/visad/domain"
)

// FuzzDecodeJSON: whatever the body, the strict JSON binding either decodes
// it or answers a well-formed RFC 9457 problem with a 4xx status; it never
// panics and never answers 5xx.
func FuzzDecodeJSON(f *testing.F) {
	valid, _ := json.Marshal(
		domain.Application{Product: "business_2y", Passport: domain.Passport{MRZ: []string{"a", "b"}}},
	)
	for _, seed := range []string{
		string(valid), `{}`, `[]`, `{"product": 42}`, `{"applicant": {"surname": ["x"]}}`, `{"Product": "x"}`,
		`{"a": 1}`, `{"passport": {"mrz": [1, 2]}}`, `{} {}`, `{"product": "`, "\x00", `null`, `"text"`,
		`{"visit": {"host": {"company": {}}}}`, `{"chamber": null}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(rec)
		c.Request = httptest.NewRequest(http.MethodPost, "/v1/applications", bytes.NewReader(body))
		c.Request.Header.Set("Content-Type", "application/json")
		var app domain.Application
		if decodeJSON(c, &app) {
			if rec.Body.Len() != 0 {
				t.Fatal("decoded, but a response was written")
			}
			return
		}
		if rec.Code < 400 || rec.Code >= 500 {
			t.Fatalf("status %d for a refused body", rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); ct != ProblemContentType {
			t.Fatalf("content type %q", ct)
		}
		var p Problem
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != rec.Code || p.Type == "" {
			t.Fatalf("malformed problem %q: %v", rec.Body.String(), err)
		}
		for _, e := range p.Errors {
			if e.Pointer != "" && e.Pointer[0] != '/' {
				t.Fatalf("pointer %q", e.Pointer)
			}
		}
	})
}
