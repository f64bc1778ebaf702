package api

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
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

func quietServer(limits RateLimit) http.Handler {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return New(Deps{Log: log, Metrics: NewMetrics(log), Limits: limits})
}

// send makes one request from addr (host:port) with a malformed JSON body.
func send(h http.Handler, method, path, addr, authorization string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader("{"))
	req.RemoteAddr = addr
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// Every route but the probes charges the caller's address whatever headers
// come: an anonymous route by address, an authenticated one by address before
// any lookup of the token (an unknown token never reaches the database twice
// in a row). The handlers here have no service layer behind them, so a
// request that got past the limit answers 500; the point is the second one.
func TestEveryRouteChargesTheAddressWhateverHeadersCome(t *testing.T) {
	h := quietServer(RateLimit{Rate: 1.0 / 60, Burst: 1})
	for i, r := range Routes(h) {
		if r.Path == "/healthz" || r.Path == "/readyz" {
			continue
		}
		path := strings.NewReplacer(":id", "app_0123456789abcdef0123456789", ":number", "PK2Y-26-ZZZZZZZZ-Z").
			Replace(r.Path)
		addr := fmt.Sprintf("198.51.%d.%d:4000", i/200, i%200+1)
		if w := send(h, r.Method, path, addr, "Bearer junk-1"); w.Code == http.StatusTooManyRequests {
			t.Errorf("%s %s: first request limited", r.Method, r.Path)
			continue
		}
		w := send(h, r.Method, path, addr, "Bearer junk-2")
		if w.Code != http.StatusTooManyRequests {
			t.Errorf("%s %s: second request with a fresh junk token: %d, want 429", r.Method, r.Path, w.Code)
			continue
		}
		checkRateLimitHeaders(t, r.Method+" "+r.Path, w.Header())
	}
}

// checkRateLimitHeaders: a 429 says when to come back (Retry-After) and the
// policy and state in the IETF draft's RateLimit-Policy and RateLimit fields.
func checkRateLimitHeaders(t *testing.T, name string, h http.Header) {
	t.Helper()
	if sec, err := strconv.Atoi(h.Get("Retry-After")); err != nil || sec < 1 {
		t.Errorf("%s: Retry-After %q", name, h.Get("Retry-After"))
	}
	policy := regexp.MustCompile(`^"[a-z]+";q=\d+;w=\d+$`)
	if !policy.MatchString(h.Get("RateLimit-Policy")) {
		t.Errorf("%s: RateLimit-Policy %q", name, h.Get("RateLimit-Policy"))
	}
	state := regexp.MustCompile(`^"[a-z]+";r=0;t=[1-9]\d*$`)
	if !state.MatchString(h.Get("RateLimit")) {
		t.Errorf("%s: RateLimit %q", name, h.Get("RateLimit"))
	}
}

// IPv6 clients are keyed by /64: one host gets a whole /64, so keying by
// address would give it 2^64 buckets.
func TestIPv6ClientsShareTheirSlash64(t *testing.T) {
	h := quietServer(RateLimit{Rate: 1.0 / 60, Burst: 1})
	if w := send(h, "POST", "/v1/applications", "[2001:db8:1:2::1]:4000", ""); w.Code == 429 {
		t.Fatalf("first request: %d", w.Code)
	}
	if w := send(h, "POST", "/v1/applications", "[2001:db8:1:2:ffff:1:2:3]:4000", ""); w.Code != 429 {
		t.Errorf("same /64: %d, want 429", w.Code)
	}
	if w := send(h, "POST", "/v1/applications", "[2001:db8:1:3::1]:4000", ""); w.Code == 429 {
		t.Errorf("another /64: %d, want not limited", w.Code)
	}
	// IPv4 keeps its full address.
	if w := send(h, "POST", "/v1/applications", "192.0.2.1:4000", ""); w.Code == 429 {
		t.Fatalf("first IPv4 request: %d", w.Code)
	}
	if w := send(h, "POST", "/v1/applications", "192.0.2.2:4000", ""); w.Code == 429 {
		t.Errorf("neighbouring IPv4 address: %d, want not limited", w.Code)
	}
}

// The bucket table is bounded: a flood of addresses cannot grow it without end.
func TestLimiterTableIsBounded(t *testing.T) {
	l := newLimiter(1, 1)
	now := time.Now()
	for i := range 150_000 {
		l.allow(fmt.Sprintf("ip:10.%d.%d.%d", i>>16, i>>8&0xff, i&0xff), now)
	}
	if n := l.size(); n > 100_000 {
		t.Fatalf("%d buckets after 150,000 addresses, want at most 100,000", n)
	}
}
