package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestDecodeJSONRefusesNonUTF8: a Latin-1 body, or a declared charset other
// than UTF-8, is refused with a problem instead of being stored with
// replacement characters (issue #12).
func TestDecodeJSONRefusesNonUTF8(t *testing.T) {
	type body struct {
		Name string `json:"name"`
	}
	for _, tt := range []struct {
		name        string
		contentType string
		body        []byte
		want        int
	}{
		{"Latin-1 bytes", "application/json", []byte("{\"name\": \"M\xfcller\"}"), http.StatusBadRequest},
		{"Latin-1 bytes in a key", "application/json", []byte("{\"n\xe4me\": \"x\"}"), http.StatusBadRequest},
		{"declared Latin-1", "application/json; charset=iso-8859-1", []byte(`{"name": "Muller"}`),
			http.StatusUnsupportedMediaType},
		{"declared UTF-16", "application/json; charset=utf-16", []byte(`{"name": "Muller"}`),
			http.StatusUnsupportedMediaType},
		{"declared utf-8 is fine", "application/json; charset=UTF-8", []byte(`{"name": "Müller"}`), 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(rec)
			c.Request = httptest.NewRequest(http.MethodPost, "/v1/chambers", bytes.NewReader(tt.body))
			c.Request.Header.Set("Content-Type", tt.contentType)
			var dst body
			ok := decodeJSON(c, &dst)
			if tt.want == 0 {
				if !ok || dst.Name != "Müller" {
					t.Fatalf("refused a valid UTF-8 body: %d %s", rec.Code, rec.Body.String())
				}
				return
			}
			if ok {
				t.Fatalf("accepted, decoded name %+q", dst.Name)
			}
			var p Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if rec.Code != tt.want || p.Status != tt.want || p.Detail == "" {
				t.Fatalf("got %d %+v, want %d with a detail", rec.Code, p, tt.want)
			}
		})
	}
}
