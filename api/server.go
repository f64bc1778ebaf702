// Package api is visad's HTTP interface (Gin): JSON in and out, RFC 9457
// problems for every error, bearer-token authentication.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"

	"github.com/visad/visad/db"
	"github.com/visad/visad/internal/casework"
	"github.com/visad/visad/internal/keys"
)

// Roles of staff accounts.
const (
	RoleOfficer    = "officer"
	RoleSupervisor = "supervisor"
	RoleAdmin      = "admin"
	RoleChamber    = "chamber"
)

// Deps is what the API needs.
type Deps struct {
	Cases    *casework.Service
	EVisas   *casework.EVisas // the e-visa routes (evisa.go)
	Store    *db.Store
	Keys     *keys.Keyring
	Temporal client.Client
	Log      *slog.Logger
	Metrics  *Metrics // default: a fresh registry
	Limits   RateLimit
	// TrustedProxies may set X-Forwarded-For; by default none, so clients cannot spoof their address.
	TrustedProxies []string
}

// Server is the HTTP API.
type Server struct {
	deps   Deps
	log    *slog.Logger
	limits *limiter // per client: address when anonymous, account once authenticated
}

const (
	ctxRequestID = "request_id"
	ctxPrincipal = "principal"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// New builds the HTTP handler.
func New(deps Deps) http.Handler {
	if deps.Metrics == nil {
		deps.Metrics = NewMetrics(deps.Log)
	}
	s := &Server{deps: deps, log: deps.Log, limits: newLimiter(deps.Limits.Rate, deps.Limits.Burst)}
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	if err := r.SetTrustedProxies(deps.TrustedProxies); err != nil {
		// internal/config checks VISA_TRUSTED_PROXIES at start; a list it let through is a wiring bug.
		panic(fmt.Sprintf("api: trusted proxies: %v", err))
	}
	r.Use(s.requestID, s.observe, s.recover, s.accessLog)
	r.NoRoute(func(c *gin.Context) {
		writeProblem(c, Problem{Type: typeNotFound, Status: http.StatusNotFound, Detail: "no such resource"})
	})
	r.NoMethod(func(c *gin.Context) {
		writeProblem(c, Problem{Type: typeNotAllowed, Status: http.StatusMethodNotAllowed, Detail: "this method is not allowed here"})
	})

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", gin.WrapH(deps.Metrics.Handler()))
	r.GET("/openapi.yaml", s.openAPI)

	// Probes and scrapers are not rate limited; the API is, per client.
	v1 := r.Group("/v1", rateLimited(s.limits))
	v1.POST("/applications", s.submitApplication)
	lookupPerMinute := deps.Limits.LookupPerMinute
	if lookupPerMinute == 0 {
		lookupPerMinute = 10
	}
	v1.POST("/status-lookup", ipLimited(newLimiter(float64(lookupPerMinute)/60, lookupPerMinute)), s.statusLookup)
	v1.GET("/applications/:id", s.authenticate(allowApplicant, RoleOfficer, RoleSupervisor, RoleChamber), s.getApplication)
	v1.POST("/applications/:id/withdraw", s.authenticate(allowApplicant), s.withdrawApplication)
	v1.POST("/applications/:id/information", s.authenticate(allowApplicant), s.provideInformation)
	v1.GET("/cases", s.authenticate(noApplicant, RoleOfficer, RoleSupervisor), s.listCases)
	v1.POST("/cases/:id/decision", s.authenticate(noApplicant, RoleOfficer, RoleSupervisor), s.decide)
	v1.POST("/cases/:id/claim", s.authenticate(noApplicant, RoleOfficer, RoleSupervisor), s.claimCase)
	v1.POST("/cases/:id/release", s.authenticate(noApplicant, RoleOfficer, RoleSupervisor), s.releaseCase)

	v1.POST("/chambers", s.authenticate(noApplicant, RoleAdmin), s.createChamber)
	v1.PUT("/chambers/:id/members", s.authenticate(noApplicant, RoleChamber), s.ownChamber, s.putMembers)
	v1.GET("/chambers/:id/members", s.authenticate(noApplicant, RoleChamber), s.ownChamber, s.listMembers)
	v1.POST("/chambers/:id/batches", s.authenticate(noApplicant, RoleChamber), s.ownChamber, s.submitBatch)
	v1.GET("/batches/:id", s.authenticate(noApplicant, RoleChamber), s.getBatch)
	v1.GET("/batches/:id/report", s.authenticate(noApplicant, RoleChamber), s.getBatchReport)
	s.routeEVisa(r, v1)
	return r
}

// NewHTTPServer wraps the handler with timeouts fit for the public internet.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
	}
}

func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if id == "" || len(id) > 64 || strings.ContainsFunc(id, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Set(ctxRequestID, id)
	c.Header("X-Request-ID", id)
	c.Next()
}

// recover turns a panic into a 500 problem; the log names the route, not the request data.
func (s *Server) recover(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic in handler", "route", c.FullPath(), "request_id", c.GetString(ctxRequestID), "panic", fmt.Sprint(r))
			writeProblem(c, Problem{Type: typeInternal, Status: http.StatusInternalServerError, Detail: "an internal error occurred"})
		}
	}()
	c.Next()
}

// accessLog logs the route pattern (ids of opaque cases only, never bodies or tokens).
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	s.log.Info("http request", "method", c.Request.Method, "route", route, "status", c.Writer.Status(),
		"duration_ms", time.Since(start).Milliseconds(), "request_id", c.GetString(ctxRequestID))
}

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	checks := gin.H{"database": "ok", "temporal": "ok"}
	ready := true
	if err := s.deps.Store.Ping(ctx); err != nil {
		checks["database"] = "unreachable"
		ready = false
	}
	if _, err := s.deps.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		checks["temporal"] = "unreachable"
		ready = false
	}
	if !ready {
		c.Header("Retry-After", "5")
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "checks": checks})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "checks": checks})
}

// Principal is who is calling.
type Principal struct {
	// Applicant tokens are capabilities for one application.
	ApplicationID string
	// Staff and chamber accounts.
	UserID    string
	Role      string
	ChamberID string // chamber accounts only
}

// IsApplicant reports whether the caller holds an application's access token.
func (p Principal) IsApplicant() bool { return p.ApplicationID != "" }

// Actor names the caller on a case timeline.
func (p Principal) Actor() (id, role string) {
	if p.IsApplicant() {
		return "applicant", "applicant"
	}
	return p.UserID, p.Role
}

const (
	allowApplicant = true
	noApplicant    = false
)

// authenticate admits applicants (when allowed; their token must belong to
// the :id in the path, else 404 so no existence leaks) and staff of the given roles.
func (s *Server) authenticate(applicants bool, roles ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		scheme, token, ok := strings.Cut(c.GetHeader("Authorization"), " ")
		token = strings.TrimSpace(token)
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || len(token) > 256 {
			if s.limits.take(c, ipKey(c)) {
				writeProblem(c, Problem{Type: typeUnauthorized, Status: http.StatusUnauthorized, Detail: "a bearer token is required"})
			}
			return
		}
		if strings.HasPrefix(token, "vat_") {
			if !applicants {
				writeProblem(c, Problem{Type: typeForbidden, Status: http.StatusForbidden, Detail: "applicants cannot use this endpoint"})
				return
			}
			id := c.Param("id")
			if !validID(id) {
				writeProblem(c, Problem{Type: typeNotFound, Status: http.StatusNotFound, Detail: "no such application"})
				return
			}
			if !s.deps.Keys.VerifyAccessToken(id, token) {
				// A well-formed token for some other application: answer as if this one did not exist.
				if s.limits.take(c, ipKey(c)) {
					writeProblem(c, Problem{Type: typeNotFound, Status: http.StatusNotFound, Detail: "no such application"})
				}
				return
			}
			if !s.limits.take(c, "app:"+id) {
				return
			}
			c.Set(ctxPrincipal, Principal{ApplicationID: id})
			c.Next()
			return
		}
		user, err := s.deps.Store.UserByTokenHash(c.Request.Context(), keys.HashToken(token))
		if errors.Is(err, db.ErrNotFound) || (err == nil && !user.Active(time.Now())) {
			if s.limits.take(c, ipKey(c)) {
				writeProblem(c, Problem{Type: typeUnauthorized, Status: http.StatusUnauthorized, Detail: "the bearer token is not valid"})
			}
			return
		}
		if err != nil {
			s.serverError(c, "authenticate", err)
			return
		}
		if !s.limits.take(c, "user:"+user.ID) {
			return
		}
		for _, r := range roles {
			if user.Role == r {
				c.Set(ctxPrincipal, Principal{UserID: user.ID, Role: user.Role, ChamberID: user.ChamberID.String})
				c.Next()
				return
			}
		}
		writeProblem(c, Problem{Type: typeForbidden, Status: http.StatusForbidden, Detail: "your role may not use this endpoint"})
	}
}

func principal(c *gin.Context) Principal {
	p, _ := c.Get(ctxPrincipal)
	pr, _ := p.(Principal)
	return pr
}

// serverError logs an unexpected error by route and answers a 500 or 503 problem.
func (s *Server) serverError(c *gin.Context, op string, err error) {
	if errors.Is(err, casework.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		c.Header("Retry-After", "5")
		writeProblem(c, Problem{Type: typeUnavailable, Status: http.StatusServiceUnavailable,
			Detail: "case processing is temporarily unavailable; retry with the same Idempotency-Key"})
		return
	}
	s.log.Error("request failed", "op", op, "route", c.FullPath(), "request_id", c.GetString(ctxRequestID), "error", err)
	writeProblem(c, Problem{Type: typeInternal, Status: http.StatusInternalServerError, Detail: "an internal error occurred"})
}

// validID accepts only the shape of ids we issue, so junk never reaches a query.
func validID(id string) bool {
	if len(id) != 29 || !strings.HasPrefix(id, "app_") {
		return false
	}
	for _, r := range id[4:] {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z') {
			return false
		}
	}
	return true
}
