package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
)

// Every GET route answers HEAD like GET, without a body (issue 12, defect 8):
// HEAD /healthz used to be a 405.
func TestHeadOnEveryGetRoute(t *testing.T) {
	doc := loadSpec(t)
	srv := httptest.NewServer(New(Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer srv.Close()
	param := regexp.MustCompile(`\{[^}]+\}`)
	send := func(method, path string) (int, []byte) {
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	checked := 0
	for path, item := range doc.Paths.Map() {
		if item.Get == nil {
			continue
		}
		p := param.ReplaceAllString(path, "x")
		get, _ := send(http.MethodGet, p)
		head, body := send(http.MethodHead, p)
		if head != get || len(body) != 0 {
			t.Errorf("HEAD %s: %d with %d bytes of body; GET answers %d", p, head, len(body), get)
		}
		checked++
	}
	if checked < 5 {
		t.Fatalf("only %d GET routes in the spec", checked)
	}
	// A route without GET still refuses HEAD.
	if status, _ := send(http.MethodHead, "/v1/status-lookup"); status != http.StatusMethodNotAllowed {
		t.Errorf("HEAD /v1/status-lookup (POST only): %d, want 405", status)
	}
}
