// Package testenv starts a real visad stack for integration tests: the
// embedded Temporal server, a SQLite (or PostgreSQL) app database, a worker
// and the HTTP API on a loopback port. Nothing is mocked.
package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/app"
	"github.com/visad/visad/internal/config"
	"github.com/visad/visad/internal/dbtest"
	"github.com/visad/visad/internal/devserver"
	"github.com/visad/visad/internal/keys"
	"github.com/visad/visad/internal/sample"
)

var (
	sharedOnce   sync.Once
	sharedServer *devserver.Server
	sharedErr    error
)

// Temporal returns the package's shared in-memory Temporal server, started
// on first use. Tests isolate themselves by task queue.
func Temporal(t testing.TB) *devserver.Server {
	t.Helper()
	sharedOnce.Do(func() {
		sharedServer, sharedErr = devserver.Start(
			context.Background(),
			devserver.Config{Namespaces: []string{"default"}, LogLevel: "off"},
		)
	})
	if sharedErr != nil {
		t.Fatalf("start temporal: %v", sharedErr)
	}
	return sharedServer
}

// PayloadKeys is the VISA_PAYLOAD_KEYS of every test stack (a fixed test
// key, so a test can build a client that reads the histories).
const PayloadKeys = "test1:" + "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"

// Options adjust a stack.
type Options struct {
	Temporal    *devserver.Server // default: the package's shared in-memory server
	DatabaseURL string            // default: a fresh SQLite file
	Watchlist   string            // CSV content; written to a temp file
	Log         io.Writer
	SMTPURL     string // notifications go here (tests drive the dispatcher themselves)
	// RateLimit per client (requests per second); 0 leaves limiting off, as tests and
	// benchmarks send many requests from one address.
	RateLimit float64
	// LookupsPerMinute overrides the public status lookup's limit per client (default 10).
	LookupsPerMinute int
	NoSTP            bool // switch straight-through processing off
	// DocumentsRequired enforces the document checklist (VISA_DOCUMENTS_REQUIRED). It is on
	// by default in visad, but off in test stacks unless a test sets it: the engine's tests
	// use fixtures (ValidApplication, chamber batches, generated rosters) that carry no
	// uploads, and are about other rules; with it on, each of their cases would stop at a
	// request for documents. The tests of documents, of the portal and of the docs' walkthrough
	// run with it on.
	DocumentsRequired bool
	// StaffLockout overrides how long failed console sign-ins lock an account (VISA_STAFF_LOCKOUT).
	StaffLockout time.Duration
	// SLABusiness2Y overrides the two-year decision deadline (VISA_SLA_BUSINESS_2Y), so that
	// the SLA timers fire within a test.
	SLABusiness2Y time.Duration
}

// Env is a running stack.
type Env struct {
	T        testing.TB
	Services *app.Services
	Worker   app.Workers
	HTTP     *httptest.Server
	Metrics  *httptest.Server // the metrics listener (VISA_METRICS_ADDR), apart from the API
	Store    *db.Store
	LogBuf   *SafeBuffer

	memberChamber string
}

// Start brings up database, worker and API on the shared Temporal server.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	ts := opts.Temporal
	if ts == nil {
		ts = Temporal(t)
	}
	dir := t.TempDir()
	cfg := config.Defaults()
	cfg.DataDir = dir
	cfg.DatabaseURL = opts.DatabaseURL
	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL = StackDatabase(t, dir)
	}
	cfg.DocumentsDir = filepath.Join(dir, "documents")
	cfg.TemporalAddress = ts.HostPort()
	cfg.Namespace = "default"
	cfg.TaskQueue = fmt.Sprintf("test-%s-%d", sanitize(t.Name()), time.Now().UnixNano())
	// Separate app keys, each under its own id (internal/keys); the legacy
	// VISA_SECRET_KEY is exercised by the cmd/visad tests.
	cfg.SealingKeys, cfg.IndexKey = "test-s1:"+strings.Repeat("a1", 32), strings.Repeat("a2", 32)
	cfg.TokenKeys, cfg.AuditKeys = "test-t1:"+strings.Repeat("a3", 32), "test-a1:"+strings.Repeat("a4", 32)
	cfg.PayloadKeys = PayloadKeys // every integration test runs with Temporal payloads encrypted
	cfg.SMTPURL = opts.SMTPURL
	cfg.RateLimitRPS, cfg.RateLimitBurst = opts.RateLimit, max(1, int(opts.RateLimit))
	if opts.NoSTP {
		cfg.STPEnabled = false
	}
	cfg.DocumentsRequired = opts.DocumentsRequired
	if opts.SLABusiness2Y > 0 {
		cfg.SLABusiness2Y = opts.SLABusiness2Y
	}
	if opts.LookupsPerMinute > 0 {
		cfg.LookupsPerMinute = opts.LookupsPerMinute
	}
	if opts.StaffLockout > 0 {
		cfg.StaffLockout = opts.StaffLockout
	}
	watchlist := opts.Watchlist
	if watchlist == "" && cfg.STPEnabled {
		watchlist = string(sample.WatchlistCSV) // straight-through processing needs a watchlist
	}
	if watchlist != "" {
		cfg.Watchlist = filepath.Join(dir, "watchlist.csv")
		if err := os.WriteFile(cfg.Watchlist, []byte(watchlist), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	buf := &SafeBuffer{}
	var logOut io.Writer = buf
	if opts.Log != nil {
		logOut = io.MultiWriter(buf, opts.Log)
	}
	log := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: slog.LevelInfo}))

	svc, err := app.NewServices(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	w, err := svc.NewWorker()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	metrics := httptest.NewServer(svc.Metrics.Handler())
	t.Cleanup(func() {
		metrics.Close()
		srv.Close()
		w.Stop()
		svc.Close()
	})
	return &Env{T: t, Services: svc, Worker: w, HTTP: srv, Metrics: metrics, Store: svc.Store, LogBuf: buf}
}

// StackDBEnv chooses the application database of every stack that does not
// name one: "sqlite" (the default) or "postgres", a fresh schema per stack on
// the server of VISA_TEST_POSTGRES_URL. .ci/run runs the integration tests a
// second time with "postgres": SQLite runs one transaction at a time, so only
// PostgreSQL shows what concurrent requests do to each other.
const StackDBEnv = "VISA_TEST_STACK_DB"

// StackDatabase returns the database URL for a stack in dir, as StackDBEnv says.
func StackDatabase(t testing.TB, dir string) string {
	t.Helper()
	switch v := os.Getenv(StackDBEnv); v {
	case "", "sqlite":
		return filepath.Join(dir, "visad.db")
	case "postgres":
		if os.Getenv(dbtest.PostgresURLEnv) == "" {
			// Asked for PostgreSQL: running on SQLite instead would pass for the wrong reason.
			t.Fatalf("%s=postgres needs %s", StackDBEnv, dbtest.PostgresURLEnv)
		}
		u := dbtest.PostgresURL(t)
		// .ci/run counts this line to show the PostgreSQL runs happened.
		t.Logf("testenv: stack database on PostgreSQL (own schema)")
		return u
	default:
		t.Fatalf("%s=%q: want sqlite or postgres", StackDBEnv, v)
		return ""
	}
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, s)
}

// StaffToken creates an account with the role and returns its bearer token.
func (e *Env) StaffToken(role domain.Role, name string) (token, userID string) {
	e.T.Helper()
	token, err := keys.NewStaffToken()
	if err != nil {
		e.T.Fatal(err)
	}
	userID = fmt.Sprintf("usr_%s_%d", role, time.Now().UnixNano())
	if err := e.Store.CreateUser(context.Background(), db.User{
		ID: userID, Name: name, Role: string(role), TokenHash: keys.HashToken(token), CreatedAtMS: time.Now().UnixMilli(),
	}); err != nil {
		e.T.Fatal(err)
	}
	return token, userID
}

// Response is a captured HTTP response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %d response %q: %v", r.Status, r.Body, err)
	}
}

// Do sends a request. body may be nil, a []byte/string (sent raw) or a value
// (JSON-encoded). The request and its response are validated against the
// OpenAPI spec (api/openapi.yaml); a mismatch fails the test.
func (e *Env) Do(method, path, token string, body any, headers ...string) Response {
	e.T.Helper()
	return e.do(true, method, path, token, body, headers...)
}

// DoRaw is Do for a request the test makes invalid on purpose (malformed
// JSON, a value outside the schema, a wrong media type): only the response
// is validated against the spec.
func (e *Env) DoRaw(method, path, token string, body any, headers ...string) Response {
	e.T.Helper()
	return e.do(false, method, path, token, body, headers...)
}

func (e *Env) do(validateRequest bool, method, path, token string, body any, headers ...string) Response {
	e.T.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	case string:
		raw = []byte(b)
	default:
		var err error
		raw, err = json.Marshal(b)
		if err != nil {
			e.T.Fatal(err)
		}
	}
	var rdr io.Reader
	if body != nil {
		rdr = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.HTTP.URL+path, rdr)
	if err != nil {
		e.T.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer resp.Body.Close()
	respBody, _ := io.ReadAll(resp.Body)
	out := Response{Status: resp.StatusCode, Header: resp.Header, Body: respBody}
	e.checkOpenAPI(req, raw, out, validateRequest)
	return out
}

// WaitForStatus polls the application until it reaches status (or fails the test).
func (e *Env) WaitForStatus(id, token string, status domain.Status) map[string]any {
	e.T.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last map[string]any
	for time.Now().Before(deadline) {
		r := e.Do("GET", "/v1/applications/"+id, token, nil)
		if r.Status == http.StatusOK {
			last = map[string]any{}
			r.JSON(e.T, &last)
			if last["status"] == string(status) {
				return last
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.T.Fatalf("application %s never reached %q; last view %v", id, status, last)
	return nil
}

// SafeBuffer is a goroutine-safe log sink tests can search.
type SafeBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SafeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *SafeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Chamber creates a chamber account and returns its id and bearer token.
func (e *Env) Chamber(name string) (id, token string) {
	e.T.Helper()
	id, token, err := e.Services.Cases.NewChamber(context.Background(), "", name)
	if err != nil {
		e.T.Fatal(err)
	}
	return id, token
}
