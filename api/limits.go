package api

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/visad/visad/domain"
)

// RateLimit bounds how fast one client may call the API. Zero Rate switches it off.
type RateLimit struct {
	Rate  float64 // requests per second per client
	Burst int
	// LookupPerMinute bounds the public status lookup per client, which
	// guesses at passport details would otherwise hammer.
	LookupPerMinute int
}

// limiter keeps one token bucket per client key and forgets idle ones.
type limiter struct {
	mu      sync.Mutex
	limit   rate.Limit
	burst   int
	clients map[string]*clientBucket
	lastGC  time.Time
}

type clientBucket struct {
	*rate.Limiter
	seen time.Time
}

func newLimiter(perSecond float64, burst int) *limiter {
	if perSecond <= 0 {
		return nil
	}
	if burst < 1 {
		burst = 1
	}
	return &limiter{limit: rate.Limit(perSecond), burst: burst, clients: map[string]*clientBucket{}}
}

// allow takes a token for key, or says how long until one is free.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastGC) > time.Minute {
		for k, b := range l.clients {
			if now.Sub(b.seen) > 10*time.Minute {
				delete(l.clients, k)
			}
		}
		l.lastGC = now
	}
	b, ok := l.clients[key]
	if !ok {
		b = &clientBucket{Limiter: rate.NewLimiter(l.limit, l.burst)}
		l.clients[key] = b
	}
	b.seen = now
	r := b.ReserveN(now, 1)
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now)
		return false, delay
	}
	return true, 0
}

// ipKey names an anonymous caller by address. Keys never come from what the
// caller sends (a junk Authorization header per request must not buy a fresh bucket).
func ipKey(c *gin.Context) string { return "ip:" + c.ClientIP() }

// rateLimited limits a request without an Authorization header by client
// address. One with a header is limited by authenticate instead: per account
// (so colleagues behind one office address do not share a bucket), or by
// address when the token is bad. A route that does not authenticate adds
// anonymous, or any junk header would skip the limit.
func rateLimited(l *limiter) gin.HandlerFunc {
	return func(c *gin.Context) {
		if l != nil && c.GetHeader("Authorization") == "" {
			if !l.take(c, ipKey(c)) {
				return
			}
		}
		c.Next()
	}
}

// take spends a token of key's bucket, or answers 429 and returns false.
func (l *limiter) take(c *gin.Context, key string) bool {
	if l == nil {
		return true
	}
	if ok, wait := l.allow(key, time.Now()); !ok {
		retry := int(math.Ceil(wait.Seconds()))
		c.Header("Retry-After", strconv.Itoa(max(retry, 1)))
		writeProblem(c, Problem{Type: typeRateLimited, Status: http.StatusTooManyRequests,
			Title: "Too many requests", Detail: "slow down and retry after the time in Retry-After"})
		return false
	}
	return true
}

// anonymous limits by address a request to a route that does not
// authenticate, when rateLimited left it to authenticate (it has a header).
func anonymous(l *limiter) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.GetHeader("Authorization") != "" && !l.take(c, ipKey(c)) {
			return
		}
		c.Next()
	}
}

// ipLimited limits by address only, whatever the request carries (the public status lookup).
func ipLimited(l *limiter) gin.HandlerFunc {
	return func(c *gin.Context) {
		if l.take(c, ipKey(c)) {
			c.Next()
		}
	}
}

// StatusLookupBody is the public status lookup: all three must match.
type StatusLookupBody struct {
	Reference      string `json:"reference"`
	PassportNumber string `json:"passport_number"`
	DateOfBirth    string `json:"date_of_birth"`
}

// StatusLookupView says the status of a case, and nothing more.
type StatusLookupView struct {
	Reference string        `json:"reference"`
	Status    domain.Status `json:"status"`
	UpdatedAt time.Time     `json:"updated_at"`
}

// statusLookup answers "where is my application?" from the reference, the
// passport number and the birth date, like other e-visa portals. Every
// mismatch looks the same, and the comparison takes the same time whether
// or not the reference exists.
func (s *Server) statusLookup(c *gin.Context) {
	var body StatusLookupBody
	if !decodeJSON(c, &body) {
		return
	}
	var errs domain.FieldErrors
	if strings.TrimSpace(body.Reference) == "" || len(body.Reference) > 40 {
		errs = append(errs, domain.FieldError{Pointer: "/reference", Code: "required", Detail: "is required"})
	}
	if strings.TrimSpace(body.PassportNumber) == "" || len(body.PassportNumber) > 40 {
		errs = append(errs, domain.FieldError{Pointer: "/passport_number", Code: "required", Detail: "is required"})
	}
	if _, ok := domain.ParseDate(body.DateOfBirth); !ok {
		errs = append(
			errs,
			domain.FieldError{Pointer: "/date_of_birth", Code: "invalid_date", Detail: "must be a date YYYY-MM-DD"},
		)
	}
	if len(errs) > 0 {
		validationProblem(c, "Invalid lookup", errs)
		return
	}
	st, err := s.deps.Cases.LookupStatus(c.Request.Context(), body.Reference, body.PassportNumber, body.DateOfBirth)
	if err != nil {
		s.fail(c, "status lookup", err, "Invalid lookup")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, StatusLookupView{Reference: st.Reference, Status: st.Status, UpdatedAt: st.UpdatedAt})
}
