package api

import (
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hashicorp/golang-lru/v2/simplelru"
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

// maxClients bounds the bucket table: past it the least recently seen client
// is forgotten (it starts again with a full bucket), so a flood of addresses
// costs a fixed amount of memory.
const maxClients = 100_000

// limiter keeps one token bucket per client key, the most recently seen maxClients of them.
type limiter struct {
	mu      sync.Mutex
	limit   rate.Limit
	burst   int
	name    string // the policy's name in the RateLimit fields
	policy  string // the RateLimit-Policy field
	clients *simplelru.LRU[string, *rate.Limiter]
}

func newLimiter(perSecond float64, burst int) *limiter {
	if perSecond <= 0 {
		return nil
	}
	if burst < 1 {
		burst = 1
	}
	clients, err := simplelru.NewLRU[string, *rate.Limiter](maxClients, nil)
	if err != nil {
		panic(err) // only for a size below 1
	}
	l := &limiter{limit: rate.Limit(perSecond), burst: burst, clients: clients}
	return l.named("default")
}

// named names the limiter's policy in the RateLimit and RateLimit-Policy fields.
func (l *limiter) named(name string) *limiter {
	if l == nil {
		return nil
	}
	// The draft's quota over a window: a full bucket, refilled in w seconds.
	window := max(1, int(math.Ceil(float64(l.burst)/float64(l.limit))))
	l.name, l.policy = name, fmt.Sprintf("%q;q=%d;w=%d", name, l.burst, window)
	return l
}

// charge is one request's token, kept so that it can be given back.
type charge struct {
	bucket *rate.Limiter
	res    *rate.Reservation
	at     time.Time
}

// refund gives the token back (the caller turned out to be charged elsewhere).
func (c *charge) refund() {
	if c != nil {
		c.res.CancelAt(c.at)
	}
}

// reserve takes a token of key's bucket, or says how long until one is free.
func (l *limiter) reserve(key string, now time.Time) (*charge, time.Duration) {
	l.mu.Lock()
	b, ok := l.clients.Get(key)
	if !ok {
		b = rate.NewLimiter(l.limit, l.burst)
		l.clients.Add(key, b)
	}
	l.mu.Unlock()
	r := b.ReserveN(now, 1)
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now)
		return nil, delay
	}
	return &charge{bucket: b, res: r, at: now}, 0
}

// allow takes a token for key, or says how long until one is free.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	ch, wait := l.reserve(key, now)
	return ch != nil, wait
}

// ipKey names a caller by address: the full IPv4 address, or the /64 of an
// IPv6 one (a single host commonly holds a whole /64). Keys never come from
// what the caller sends, so a junk Authorization header buys no fresh bucket.
func ipKey(c *gin.Context) string {
	addr, err := netip.ParseAddr(c.ClientIP())
	if err != nil {
		return "ip:" + c.ClientIP()
	}
	addr = addr.Unmap()
	if addr.Is6() {
		return "ip6:" + netip.PrefixFrom(addr, 64).Masked().String()
	}
	return "ip:" + addr.String()
}

// public charges the caller's address on a route that does not authenticate,
// whatever headers the request carries.
func (s *Server) public(c *gin.Context) {
	if s.limits.take(c, ipKey(c)) {
		c.Next()
	}
}

// take spends a token of key's bucket, or answers 429 and returns false.
func (l *limiter) take(c *gin.Context, key string) bool {
	return l.charge(c, key) != nil || l == nil
}

// charge spends a token of key's bucket and says so in the RateLimit fields,
// or answers 429 and returns nil. A nil limiter (limits off) charges nothing.
func (l *limiter) charge(c *gin.Context, key string) *charge {
	if l == nil {
		return nil
	}
	now := time.Now()
	ch, wait := l.reserve(key, now)
	c.Header("RateLimit-Policy", l.policy)
	if ch == nil {
		retry := max(1, int(math.Ceil(wait.Seconds())))
		c.Header("Retry-After", strconv.Itoa(retry))
		c.Header("RateLimit", fmt.Sprintf("%q;r=0;t=%d", l.name, retry))
		writeProblem(c, Problem{Type: typeRateLimited, Status: http.StatusTooManyRequests,
			Title: "Too many requests", Detail: "slow down and retry after the time in Retry-After"})
		return nil
	}
	// What is left, and when the bucket is full again.
	left := ch.bucket.TokensAt(now)
	full := max(0, int(math.Ceil((float64(l.burst)-left)/float64(l.limit))))
	c.Header("RateLimit", fmt.Sprintf("%q;r=%d;t=%d", l.name, max(0, int(left)), full))
	return ch
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
