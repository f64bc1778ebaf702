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
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
)

// Deps is what the API needs.
type Deps struct {
	Cases   *casework.Service
	EVisas  *casework.EVisas // the e-visa routes (evisa.go)
	Log     *slog.Logger
	Metrics *Metrics // default: a fresh registry
	Limits  RateLimit
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
		writeProblem(
			c,
			Problem{Type: typeNotAllowed, Status: http.StatusMethodNotAllowed, Detail: "this method is not allowed here"},
		)
	})

	// Probes are not rate limited; every other route charges the caller's
	// address (authenticate: before it looks the token up), then its account.
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/openapi.yaml", s.public, s.openAPI)

	v1 := r.Group("/v1")
	v1.POST("/applications", s.public, s.submitApplication)
	lookupPerMinute := deps.Limits.LookupPerMinute
	if lookupPerMinute == 0 {
		lookupPerMinute = 10
	}
	lookups := newLimiter(float64(lookupPerMinute)/60, lookupPerMinute).named("lookup")
	v1.POST("/status-lookup", s.public, func(c *gin.Context) {
		if lookups.take(c, ipKey(c)) {
			c.Next()
		}
	}, s.statusLookup)
	officer, supervisor, chamber := domain.RoleOfficer, domain.RoleSupervisor, domain.RoleChamber
	v1.GET("/applications/:id", s.authenticate(allowApplicant, officer, supervisor, chamber), s.getApplication)
	v1.POST("/applications/:id/withdraw", s.authenticate(allowApplicant), s.withdrawApplication)
	v1.POST("/applications/:id/information", s.authenticate(allowApplicant), s.provideInformation)
	v1.GET("/cases", s.authenticate(noApplicant, officer, supervisor), s.listCases)
	v1.GET("/applications/:id/documents", s.authenticate(noApplicant, officer, supervisor), s.listDocuments)
	v1.GET("/applications/:id/documents/:doc", s.authenticate(noApplicant, officer, supervisor), s.getDocument)
	v1.POST("/cases/:id/decision", s.authenticate(noApplicant, officer, supervisor), s.decide)
	v1.POST("/cases/:id/claim", s.authenticate(noApplicant, officer, supervisor), s.claimCase)
	v1.POST("/cases/:id/release", s.authenticate(noApplicant, officer, supervisor), s.releaseCase)

	v1.POST("/chambers", s.authenticate(noApplicant, domain.RoleAdmin), s.createChamber)
	v1.POST("/chambers/:id/token", s.authenticate(noApplicant, domain.RoleAdmin), s.rotateChamberToken)
	v1.PUT("/chambers/:id/members", s.authenticate(noApplicant, chamber), s.ownChamber, s.putMembers)
	v1.GET("/chambers/:id/members", s.authenticate(noApplicant, chamber), s.ownChamber, s.listMembers)
	v1.POST("/chambers/:id/batches", s.authenticate(noApplicant, chamber), s.ownChamber, s.submitBatch)
	v1.GET("/batches/:id", s.authenticate(noApplicant, chamber), s.getBatch)
	v1.GET("/batches/:id/report", s.authenticate(noApplicant, chamber), s.getBatchReport)
	s.routeEVisa(r, v1)
	// Supporting documents (documents.go): the checklist, and uploads anonymous or inside a case.
	v1.GET("/products", s.public, s.listProducts)
	v1.POST("/uploads", s.publicOrChamber, s.uploadDocument)
	v1.POST("/applications/:id/uploads", s.authenticate(allowApplicant), s.uploadDocument)
	return headAsGet{r}
}

// publicOrChamber admits anyone without credentials (charged by address, as
// public routes are) and, with a bearer token, only a chamber's account: its
// uploads are then its own (docs/documents.md, "Chambers"). Other
// credentials are refused, not ignored: 401 if unknown or expired, 403 for
// any other role or an applicant's token.
func (s *Server) publicOrChamber(c *gin.Context) {
	if c.GetHeader("Authorization") == "" {
		s.public(c)
		return
	}
	s.authenticate(noApplicant, domain.RoleChamber)(c)
}

// headAsGet answers HEAD on every GET route, as HTTP asks (RFC 9110 9.3.2):
// Gin routes HEAD apart from GET, so HEAD /healthz was a 405. The request
// goes through as a GET; net/http sends the headers and drops the body of a
// response to HEAD. A path without GET still answers 405.
type headAsGet struct{ *gin.Engine }

func (h headAsGet) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		r = r.Clone(r.Context())
		r.Method = http.MethodGet
	}
	h.Engine.ServeHTTP(w, r)
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
			s.log.Error(
				"panic in handler",
				"route",
				c.FullPath(),
				"request_id",
				c.GetString(ctxRequestID),
				"panic",
				fmt.Sprint(r),
			)
			writeProblem(
				c,
				Problem{Type: typeInternal, Status: http.StatusInternalServerError, Detail: "an internal error occurred"},
			)
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
	database, temporal := s.deps.Cases.Health(ctx)
	if database != nil {
		checks["database"] = "unreachable"
		ready = false
	}
	if temporal != nil {
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
	Role      domain.Role
	ChamberID string // chamber accounts only
}

// IsApplicant reports whether the caller holds an application's access token.
func (p Principal) IsApplicant() bool { return p.ApplicationID != "" }

// Actor is the caller acting on a case.
func (p Principal) Actor() domain.Actor {
	if p.IsApplicant() {
		return domain.ApplicantActor
	}
	return domain.Actor{ID: p.UserID, Role: p.Role}
}

const (
	allowApplicant = true
	noApplicant    = false
)

// authenticate admits applicants (when allowed; their token must belong to
// the :id in the path, else 404 so no existence leaks) and staff of the given roles.
func (s *Server) authenticate(applicants bool, roles ...domain.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		// The address pays before the token is looked up, so a stream of
		// unknown tokens costs no more lookups than the address's bucket
		// allows. A caller who turns out to hold an account gets the token back
		// and pays from the account's bucket instead (colleagues behind one
		// office address do not share a bucket).
		addr := s.limits.charge(c, ipKey(c))
		if addr == nil && s.limits != nil {
			return
		}
		scheme, token, ok := strings.Cut(c.GetHeader("Authorization"), " ")
		token = strings.TrimSpace(token)
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || len(token) > 256 {
			writeProblem(
				c,
				Problem{Type: typeUnauthorized, Status: http.StatusUnauthorized, Detail: "a bearer token is required"},
			)
			return
		}
		if strings.HasPrefix(token, "vat_") {
			if !applicants {
				writeProblem(
					c,
					Problem{Type: typeForbidden, Status: http.StatusForbidden, Detail: "applicants cannot use this endpoint"},
				)
				return
			}
			id := c.Param("id")
			if !validID(id) {
				writeProblem(c, Problem{Type: typeNotFound, Status: http.StatusNotFound, Detail: "no such application"})
				return
			}
			if err := s.deps.Cases.VerifyAccessToken(c.Request.Context(), id, token); err != nil {
				switch casework.KindOf(err) {
				case casework.NotFound:
					// A well-formed token for some other application: answer as if this one did not exist.
					writeProblem(c, Problem{Type: typeNotFound, Status: http.StatusNotFound, Detail: "no such application"})
				case casework.Unauthenticated: // expired: the case closed long enough ago
					serviceProblem(c, err, "")
				default:
					s.serverError(c, "verify access token", err)
				}
				return
			}
			addr.refund()
			if !s.limits.take(c, "app:"+id) {
				return
			}
			c.Set(ctxPrincipal, Principal{ApplicationID: id})
			c.Next()
			return
		}
		account, err := s.deps.Cases.Authenticate(c.Request.Context(), token)
		if casework.KindOf(err) == casework.Unauthenticated {
			serviceProblem(c, err, "")
			return
		}
		if err != nil {
			s.serverError(c, "authenticate", err)
			return
		}
		addr.refund()
		if !s.limits.take(c, "user:"+account.ID) {
			return
		}
		if slices.Contains(roles, account.Role) {
			c.Set(ctxPrincipal, Principal{UserID: account.ID, Role: account.Role, ChamberID: account.ChamberID})
			c.Next()
			return
		}
		writeProblem(
			c,
			Problem{Type: typeForbidden, Status: http.StatusForbidden, Detail: "your role may not use this endpoint"},
		)
	}
}

func principal(c *gin.Context) Principal {
	p, _ := c.Get(ctxPrincipal)
	pr, _ := p.(Principal)
	return pr
}

// fail answers a service-layer error with its problem (title names an
// invalid request), and any other error as a server error.
func (s *Server) fail(c *gin.Context, op string, err error, title string) {
	if !serviceProblem(c, err, title) {
		s.serverError(c, op, err)
	}
}

// serverError logs an unexpected error by route and answers a 500 or 503 problem.
func (s *Server) serverError(c *gin.Context, op string, err error) {
	if errors.Is(err, context.DeadlineExceeded) {
		err = casework.ErrUnavailable
	}
	if serviceProblem(c, err, "") {
		return
	}
	s.log.Error("request failed", "op", op, "route", c.FullPath(), "request_id", c.GetString(ctxRequestID), "error", err)
	writeProblem(
		c,
		Problem{Type: typeInternal, Status: http.StatusInternalServerError, Detail: "an internal error occurred"},
	)
}

// validID accepts only the shape of ids we issue, so junk never reaches a query.
func validID(id string) bool { return domain.IsApplicationID(id) }
