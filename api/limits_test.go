package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// An Authorization header on a route that does not authenticate (submitting
// an application) draws from the address's bucket like no header at all: a
// junk header per request must not buy a way round the limit.
func TestJunkAuthorizationDoesNotSkipTheSubmitLimit(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := New(Deps{Log: log, Metrics: NewMetrics(log), Limits: RateLimit{Rate: 1.0 / 60, Burst: 1}})
	submit := func(authorization string) int {
		// A malformed body: the handler answers without reaching the service layer.
		req := httptest.NewRequest(http.MethodPost, "/v1/applications", strings.NewReader("{"))
		req.Header.Set("Content-Type", "application/json")
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	if code := submit(""); code == http.StatusTooManyRequests {
		t.Fatalf("first request: %d", code)
	}
	for _, authorization := range []string{"", "junk-1", "Bearer junk-2"} {
		if code := submit(authorization); code != http.StatusTooManyRequests {
			t.Errorf("Authorization %q: %d, want 429", authorization, code)
		}
	}
}
