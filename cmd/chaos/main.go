// Command chaos runs several visad processes on one Temporal server and breaks
// things while a mixed load of applications flows through them (`make chaos`).
//
// On loopback ports only, it starts `visad dev --temporal-only` (file-backed),
// creates a fresh PostgreSQL database on the machine's server, runs
// `visad migrate`, starts two workers and two APIs, creates an officer, a
// supervisor and a chamber, and then drives 1,000 applications (single
// submissions alternating between the APIs, plus one chamber batch) while a
// scripted officer approves every case that reaches review. Documents are
// required: each single applicant uploads its documents first (uploads.go),
// some abandon an upload or answer the request for documents, and the
// checks find none lost, none orphaned, expired ones swept. Meanwhile:
//
//	R1  kill -9 one worker and one API, restart them a few seconds later
//	R2  stop (SIGTERM) and restart the Temporal server
//	R3  stop PostgreSQL for 30 s (pg_ctlcluster), then start it again
//
// Each disruption is confirmed to have taken effect (the killed process is gone,
// the port or the database really is unreachable) and clients must have seen
// errors and retried while it lasted. At the end it compares what the clients
// were told with the database and with Temporal (checks.go); every summary line
// is PASS or FAIL, and any FAIL makes the exit code non-zero. -short is the
// run CI makes (make chaos-short): fewer applications and shorter outages.
// Every child process is killed on exit, Ctrl-C included.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/codec"
	"github.com/visad/visad/internal/keys"
	"github.com/visad/visad/internal/sample"
)

type options struct {
	bin         string
	singles     int
	batchRows   int
	concurrency int
	rate        float64
	pgAdminURL  string
	issueWait   time.Duration
	maxRun      time.Duration
	keep        bool
	short       bool
	grace       time.Duration // errors up to this long after a disruption are its own
	batchAt     time.Duration
	// Uploads: how long an unnamed upload lives, and how often the workers sweep.
	uploadTTL, sweepEvery time.Duration
	// When each disruption starts (from the start of the load) and how long it lasts.
	r1At, r1Down, r2At, r2Down, r3At, r3Down time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/visad", "the visad binary (make chaos builds it)")
	flag.IntVar(&o.singles, "singles", 800, "applications submitted one by one")
	flag.IntVar(&o.batchRows, "batch-rows", 200, "applications in the chamber batch")
	flag.IntVar(&o.concurrency, "concurrency", 16, "concurrent single submissions")
	flag.Float64Var(&o.rate, "rate", 10, "single submissions started per second (spreads the load over the disruptions)")
	flag.StringVar(
		&o.pgAdminURL,
		"pg",
		"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"PostgreSQL admin URL (the chaos database is created next to it)",
	)
	flag.DurationVar(
		&o.issueWait,
		"issue-wait",
		10*time.Minute,
		"how long to wait for every accepted application to be issued",
	)
	flag.DurationVar(&o.maxRun, "max-run", 30*time.Minute, "hard limit on the whole run")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (logs, Temporal file) even when every check passes")
	flag.BoolVar(&o.short, "short", false,
		"the CI run: 100 singles over 50 s, a 20-row batch, a 10 s database outage; about three minutes")
	flag.DurationVar(&o.grace, "grace", 20*time.Second,
		"client errors up to this long after a disruption ends are counted as the disruption's")
	flag.DurationVar(&o.batchAt, "batch-at", 12*time.Second, "when the chamber batch is posted")
	flag.DurationVar(&o.uploadTTL, "upload-ttl", 30*time.Second,
		"VISA_UPLOAD_TTL: an upload no application names is swept this long after it was made")
	flag.DurationVar(&o.sweepEvery, "sweep-every", 5*time.Second,
		"VISA_DOCUMENT_SWEEP_INTERVAL: how often the workers sweep expired uploads")
	flag.DurationVar(&o.r1At, "r1-at", 8*time.Second, "R1 (kill -9 worker-1 and api-1) starts this long into the load")
	flag.DurationVar(&o.r1Down, "r1-down", 5*time.Second, "R1: how long the killed processes stay down")
	flag.DurationVar(&o.r2At, "r2-at", 25*time.Second, "R2 (Temporal restart) starts this long into the load")
	flag.DurationVar(&o.r2Down, "r2-down", 3*time.Second, "R2: how long the Temporal server stays down")
	flag.DurationVar(&o.r3At, "r3-at", 45*time.Second, "R3 (PostgreSQL stop) starts this long into the load")
	flag.DurationVar(&o.r3Down, "r3-down", 30*time.Second, "R3: how long PostgreSQL stays down")
	flag.Parse()
	if o.short {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		// Flags given explicitly win over the short run's values.
		for name, v := range map[string]string{"singles": "100", "batch-rows": "20", "rate": "2",
			"concurrency": "8", "batch-at": "8s", "grace": "10s", "r1-at": "5s", "r1-down": "3s", "r2-at": "20s",
			"r2-down": "3s", "r3-at": "35s", "r3-down": "10s", "issue-wait": "3m", "max-run": "10m",
			"upload-ttl": "25s"} {
			if !set[name] {
				_ = flag.Set(name, v)
			}
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.maxRun)
	defer cancel()
	code := run(ctx, o)
	cancel()
	stop()
	os.Exit(code)
}

var logMu sync.Mutex
var t0 = time.Now()

func logf(format string, args ...any) {
	logMu.Lock()
	defer logMu.Unlock()
	fmt.Fprintf(
		os.Stderr,
		"[chaos %s +%5.1fs] %s\n",
		time.Now().Format(time.TimeOnly),
		time.Since(t0).Seconds(),
		fmt.Sprintf(format, args...),
	)
}

// disruption is one of R1, R2, R3 as it actually ran.
type disruption struct {
	name, what string
	start, end time.Time
	err        error
	ran        bool
	// What was checked to show it took effect, and what did not hold.
	confirmed, unconfirmed []string
}

func (d *disruption) check(ok bool, what string) {
	if ok {
		d.confirmed = append(d.confirmed, what)
	} else {
		d.unconfirmed = append(d.unconfirmed, what)
	}
}

// harness is the state of one run.
type harness struct {
	o        options
	dir      string
	env      []string
	ps       procs
	temporal *proc
	workers  []*proc
	apis     []*proc
	tAddr    string
	dbURL    string
	keySpec  string
	keys     *keys.Keyring
	api      *apiClient
	bases    []string
	pg       pgCluster
	pgErr    error

	officer, supervisor, chamberID, chamberToken string
	docsDir                                      string // the documents store every api and worker shares

	mu          sync.Mutex
	submissions []submission // every application a client tried to submit, and what it was told
	approvedOK  atomic.Int64
	approve409  atomic.Int64
	approveErr  atomic.Int64
	// When approvals gave up (guarded by mu).
	approveGaveUp []time.Time
	uploads       []sentUpload // every upload a client was answered 201 for (guarded by mu)
	answering     []*answering // applicants who answer the request for documents (guarded by mu)
	reuploads     atomic.Int64 // submissions whose uploads expired while they were retried
	disrupt       [3]*disruption
}

func run(ctx context.Context, o options) (code int) {
	h := &harness{o: o}
	h.disrupt = [3]*disruption{
		{name: "R1", what: fmt.Sprintf("kill -9 worker-1 and api-1 for %s", o.r1Down)},
		{name: "R2", what: fmt.Sprintf("SIGTERM Temporal, restart after %s", o.r2Down)},
		{name: "R3", what: fmt.Sprintf("stop PostgreSQL for %s", o.r3Down)},
	}
	var err error
	if h.dir, err = os.MkdirTemp("", "visad-chaos-"); err != nil {
		logf("temp dir: %v", err)
		return 2
	}
	logf("work dir %s (process logs are here)", h.dir)
	defer func() {
		if code == 0 && !o.keep {
			os.RemoveAll(h.dir)
		} else {
			logf("kept %s for inspection", h.dir)
		}
	}()
	if _, err := os.Stat(o.bin); err != nil {
		logf("visad binary: %v (run make build)", err)
		return 2
	}
	if h.pg, h.pgErr = findPGCluster(o.pgAdminURL); h.pgErr != nil {
		logf("R3 unavailable: %v", h.pgErr)
	}
	// Whatever happens, PostgreSQL is running again at the end. Deferred after
	// the database is dropped below, so it runs first.
	defer func() {
		if err := h.pg.ensureRunning(); err != nil {
			logf("COULD NOT RESTART POSTGRESQL: %v", err)
			code = 1
		}
	}()

	// A fresh database, dropped at the end.
	dbName := "visad_chaos_" + time.Now().UTC().Format("20060102_150405")
	if err := adminExec(ctx, o.pgAdminURL, `CREATE DATABASE `+dbName); err != nil {
		logf("create database: %v", err)
		return 2
	}
	logf("created database %s", dbName)
	defer func() {
		if err := h.pg.ensureRunning(); err != nil {
			logf("postgres start: %v", err)
		}
		dctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		var err error
		for i := 0; i < 10; i++ { // the server may still be starting after R3
			if err = adminExec(dctx, o.pgAdminURL, `DROP DATABASE IF EXISTS `+dbName+` WITH (FORCE)`); err == nil {
				logf("dropped database %s", dbName)
				return
			}
			time.Sleep(time.Second)
		}
		logf("drop database %s: %v", dbName, err)
	}()
	h.dbURL = replaceDBName(o.pgAdminURL, dbName)

	// Every child is killed on exit: normal end, failure or Ctrl-C.
	defer h.ps.killAll()

	if err := h.setup(ctx); err != nil {
		logf("setup failed: %v", err)
		return 2
	}
	return h.exercise(ctx)
}

func (h *harness) setup(ctx context.Context) error {
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	h.tAddr = fmt.Sprintf("127.0.0.1:%d", ports[0])
	h.docsDir = filepath.Join(h.dir, "documents")
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	// The harness hashes passports as the service does, to match rows to what clients submitted.
	if h.keys, err = keys.New(secret); err != nil {
		return err
	}
	if h.keySpec, err = codec.GenerateKeys("chaos1"); err != nil {
		return err
	}
	actionKeys, err := keys.GenerateActionKeys("chaos1")
	if err != nil {
		return err
	}
	base := []string{}
	for _, kv := range os.Environ() { // no VISA_* setting of the caller leaks in
		if !strings.HasPrefix(kv, "VISA_") {
			base = append(base, kv)
		}
	}
	h.env = append(base,
		"VISA_DATABASE_URL="+h.dbURL,
		"VISA_TEMPORAL_ADDRESS="+h.tAddr,
		"VISA_SECRET_KEY="+hex.EncodeToString(secret),
		"VISA_PAYLOAD_KEYS="+h.keySpec,
		"VISA_ACTION_KEYS="+actionKeys,
		"VISA_STP_ENABLED=false",
		"VISA_RATE_LIMIT_RPS=0",
		"VISA_METRICS_ADDR=127.0.0.1:0", // several APIs and workers on one host
		"VISA_LOG_LEVEL=info",
		// Documents: required (cases without them ask for them), in one store every process shares,
		// with a short life for unnamed uploads so that the sweeper deletes some during the run.
		"VISA_DOCUMENTS_REQUIRED=true",
		"VISA_DOCUMENTS_STORE=fs",
		"VISA_DOCUMENTS_DIR="+h.docsDir,
		"VISA_UPLOAD_TTL="+h.o.uploadTTL.String(),
		"VISA_DOCUMENT_SWEEP_INTERVAL="+h.o.sweepEvery.String(),
	)
	withEnv := func(extra ...string) []string { return append(append([]string(nil), h.env...), extra...) }

	h.temporal = h.ps.add(&proc{name: "temporal", bin: h.o.bin,
		args: []string{
			"dev",
			"--temporal-only",
			"--data-dir",
			filepath.Join(h.dir, "temporal"),
			"--temporal-address",
			h.tAddr,
		},
		env: withEnv("VISA_TEMPORAL_LOG_LEVEL=warn"), log: filepath.Join(h.dir, "temporal.out")})
	if err := h.temporal.start(); err != nil {
		return err
	}
	if err := waitTemporal(ctx, h.tAddr, 90*time.Second); err != nil {
		return err
	}
	logf("temporal server ready on %s", h.tAddr)

	setupLog := filepath.Join(h.dir, "setup.log")
	if out, err := runOnce(ctx, h.o.bin, h.env, setupLog, "migrate"); err != nil {
		return err
	} else {
		logf("%s", strings.TrimSpace(out))
	}
	if h.officer, err = runOnce(ctx, h.o.bin, h.env, setupLog, "users", "create", "--role",
		string(domain.RoleOfficer), "--name", "Chaos Officer"); err != nil {
		return err
	}
	if h.supervisor, err = runOnce(ctx, h.o.bin, h.env, setupLog, "users", "create", "--role",
		string(domain.RoleSupervisor), "--name", "Chaos Supervisor"); err != nil {
		return err
	}
	h.officer, h.supervisor = strings.TrimSpace(h.officer), strings.TrimSpace(h.supervisor)
	out, err := runOnce(ctx, h.o.bin, h.env, setupLog, "chambers", "create", "--name", "Chaos Chamber of Commerce")
	if err != nil {
		return err
	}
	var ch struct {
		ChamberID string `json:"chamber_id"`
		Token     string `json:"token"`
	}
	if err := json.Unmarshal([]byte(out), &ch); err != nil || ch.ChamberID == "" {
		return fmt.Errorf("chambers create printed %q", out)
	}
	h.chamberID, h.chamberToken = ch.ChamberID, ch.Token
	logf("created officer, supervisor and chamber %s", h.chamberID)

	for i := 1; i <= 2; i++ {
		w := h.ps.add(&proc{name: fmt.Sprintf("worker-%d", i), bin: h.o.bin, args: []string{"worker"},
			env: withEnv(
				fmt.Sprintf("VISA_DATA_DIR=%s/worker-%d", h.dir, i),
			), log: filepath.Join(h.dir, fmt.Sprintf("worker-%d.log", i))})
		h.workers = append(h.workers, w)
		addr := fmt.Sprintf("127.0.0.1:%d", ports[i])
		a := h.ps.add(&proc{name: fmt.Sprintf("api-%d", i), bin: h.o.bin, args: []string{"api"},
			env: withEnv(
				"VISA_HTTP_ADDR="+addr,
				fmt.Sprintf("VISA_DATA_DIR=%s/api-%d", h.dir, i),
			), log: filepath.Join(h.dir, fmt.Sprintf("api-%d.log", i))})
		h.apis = append(h.apis, a)
		h.bases = append(h.bases, "http://"+addr)
	}
	for _, p := range append(append([]*proc(nil), h.workers...), h.apis...) {
		if err := p.start(); err != nil {
			return err
		}
	}
	h.api = &apiClient{
		bases: h.bases,
		http:  &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}},
	}
	for _, b := range h.bases {
		if err := waitReady(ctx, b, 60*time.Second); err != nil {
			return err
		}
	}
	logf("2 workers and 2 APIs running: %s", strings.Join(h.bases, ", "))
	return nil
}

func (h *harness) exercise(ctx context.Context) int {
	start := time.Now()
	loadCtx, stopAux := context.WithCancel(ctx)
	defer stopAux()
	var aux sync.WaitGroup

	// Scripted officer, readiness probe, restarts of crashed processes, progress lines.
	aux.Add(5)
	go func() { defer aux.Done(); h.officerLoop(loadCtx) }()
	go func() { defer aux.Done(); h.answerLoop(loadCtx) }()
	go func() { defer aux.Done(); h.probeReadiness(loadCtx) }()
	go func() { defer aux.Done(); h.supervise(loadCtx) }()
	go func() { defer aux.Done(); h.progress(loadCtx) }()

	// Disruptions, on a schedule relative to the start of the load.
	var disruptDone sync.WaitGroup
	disruptDone.Add(1)
	go func() { defer disruptDone.Done(); h.disruptions(loadCtx, start) }()

	// The load: singles paced over about a minute and a half, the batch a little later.
	var load sync.WaitGroup
	load.Add(2)
	go func() { defer load.Done(); h.submitSingles(loadCtx) }()
	go func() {
		defer load.Done()
		select {
		case <-loadCtx.Done():
			return
		case <-time.After(h.o.batchAt):
		}
		h.submitBatch(loadCtx)
	}()
	load.Wait()
	disruptDone.Wait()
	logf(
		"load and disruptions done: %d accepted; waiting up to %s for every one to be issued "+
			"(or, without its documents, to ask for them)",
		h.acceptedCount(),
		h.o.issueWait,
	)

	issued, awaiting := h.waitIssued(ctx, h.o.issueWait)
	logf("%d of %d accepted applications issued, %d awaiting their documents", issued, h.acceptedCount(), awaiting)
	h.logUploads()
	stopAux()
	aux.Wait()
	// Every upload abandoned so far is swept one interval after it expired: wait for that, if need be.
	if by := h.sweptBy(); time.Until(by) > 0 && ctx.Err() == nil {
		logf("waiting %s for the last abandoned uploads to expire and be swept", time.Until(by).Round(time.Second))
		sleepCtx(ctx, time.Until(by))
	}
	if err := ctx.Err(); err != nil {
		// Ctrl-C or -max-run: the checks would only report the interruption as losses.
		logf("stopped before the checks (%v): %d accepted so far; no verdict", context.Cause(ctx), h.acceptedCount())
		return 130
	}

	return printSummary(os.Stdout, judge(h.observe(ctx)))
}

func (h *harness) acceptedCount() int { return len(h.acceptedIDs()) }

// submitted records what a client was told about one application: its id
// (202 or the batch report), or why it has none, and the uploads it named.
func (h *harness) submitted(source, passport, id, why string, documents ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.submissions = append(h.submissions, submission{source: source,
		passportHash: h.keys.PassportHash("KAZ", passport), id: id, why: why, documents: documents})
}

// probeReadiness asks for /readyz every second, as a load balancer would; it
// sees a disruption of the database or Temporal as 503s, and retries them.
func (h *harness) probeReadiness(ctx context.Context) {
	for ctx.Err() == nil {
		h.api.do(ctx, request{method: http.MethodGet, path: "/readyz", startAt: -1, maxAttempts: 5,
			maxTime: 20 * time.Second, what: "ready"})
		sleepCtx(ctx, time.Second)
	}
}

// singleForm is a valid business_2y application with a host, for passport
// number, naming its uploaded documents.
func singleForm(i int, passport string, docs []domain.DocumentRef) []byte {
	now := time.Now().UTC()
	given := []string{"Nurlan", "Aigerim", "Askar", "Dana", "Timur", "Saule"}[i%6]
	sex := "M"
	if i%2 == 1 {
		sex = "F"
	}
	f := domain.Application{
		Product: domain.ProductBusiness2Y,
		Applicant: domain.Applicant{Surname: "Chaosov", GivenNames: given, Sex: sex, DateOfBirth: "1985-03-14",
			PlaceOfBirth: "Almaty", Nationality: "KAZ", Email: fmt.Sprintf("chaos%05d@example.kz", i), Phone: "+7 701 555 0101"},
		Passport: domain.Passport{Number: passport, IssuingCountry: "KAZ",
			IssueDate: now.AddDate(-2, 0, 0).Format(time.DateOnly), ExpiryDate: now.AddDate(8, 0, 0).Format(time.DateOnly)},
		Employment: domain.Employment{Company: "Steppe Grain LLP", Position: "Export Director"},
		Visit: domain.Visit{Purpose: "business_forum", IntendedArrival: now.AddDate(0, 0, 14).Format(time.DateOnly),
			Host: &domain.Host{Company: "Lahore Textiles Ltd", City: "Lahore", Address: "12 Mall Road",
				Phone: "+92 42 555 0101"}},
		Documents: docs,
	}
	b, _ := json.Marshal(f)
	return b
}

func (h *harness) submitSingles(ctx context.Context) {
	jobs := make(chan int)
	var wg sync.WaitGroup
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	for w := 0; w < h.o.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				h.submitSingle(ctx, run, i)
			}
		}()
	}
	interval := time.Duration(float64(time.Second) / h.o.rate)
	tick := time.NewTicker(interval)
	defer tick.Stop()
feed:
	for i := 0; i < h.o.singles; i++ {
		select {
		case <-ctx.Done():
			break feed
		case <-tick.C:
		}
		select {
		case <-ctx.Done():
			break feed
		case jobs <- i:
		}
	}
	close(jobs)
	wg.Wait()
	logf("single submissions done")
}

// submitSingle is one applicant: it uploads its documents, then submits the
// application naming them. One in ten leaves its letter out and answers the
// case's request for it (answerLoop). A submission refused because its
// uploads expired while it was retried through an outage uploads them again
// (at most three rounds); the expired ones are abandoned.
func (h *harness) submitSingle(ctx context.Context, run string, i int) {
	passport := fmt.Sprintf("ZC%07d", i)
	files := filesFor(i, passport)
	withLetter := i%10 != 3
	for round := 0; ; round++ {
		refs, err := h.uploadedDocs(ctx, i, files, withLetter)
		if err != nil {
			h.submitted("single", passport, "", "upload gave up: "+truncate(err.Error(), 80))
			return
		}
		ids := make([]string, len(refs))
		for j, r := range refs {
			ids[j] = r.UploadID
		}
		res := h.api.do(ctx, request{method: http.MethodPost, path: "/v1/applications", contentType: "application/json",
			idemKey: fmt.Sprintf("chaos-%s-%05d-%d", run, i, round), body: singleForm(i, passport, refs),
			startAt: i % 2, what: "submit"})
		switch {
		case res.err != nil:
			// Its uploads stay named by a submission whose outcome is unknown.
			h.submitted("single", passport, "", "gave up: "+truncate(res.err.Error(), 80))
		case res.status == http.StatusAccepted:
			var a struct {
				ID          string `json:"id"`
				AccessToken string `json:"access_token"`
			}
			if json.Unmarshal(res.body, &a) != nil || a.ID == "" {
				h.submitted("single", passport, "", "202 without id")
				return
			}
			h.setUse(ids, useNamed, a.ID, false)
			h.submitted("single", passport, a.ID, "", ids...)
			if !withLetter {
				h.mu.Lock()
				h.answering = append(h.answering, &answering{id: a.ID, token: a.AccessToken, i: i,
					letter: files.letter})
				h.mu.Unlock()
			}
		case expiredUploads(res.status, res.body) && round < 2:
			h.setUse(ids, useAbandoned, "", false)
			h.reuploads.Add(1)
			continue
		default:
			h.setUse(ids, useAbandoned, "", false)
			h.submitted("single", passport, "", fmt.Sprintf("HTTP %d %s", res.status, problemType(res.body)))
		}
		return
	}
}

func problemType(body []byte) string {
	var p struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(body, &p)
	return strings.TrimPrefix(p.Type, "urn:visad:problem:")
}

func (h *harness) submitBatch(ctx context.Context) {
	people := sample.Generate(sample.Options{Rows: h.o.batchRows, Product: domain.ProductBusiness2Y, Seed: 1})
	for i := range people {
		people[i].Row.Values["membership_number"] = "" // a host for each row, no chamber endorsement
	}
	// Whatever happens below, each row is one submission: acknowledged by the report, or not.
	ids, rowWhy := make([]string, len(people)), make([]string, len(people))
	why := "batch not reported"
	defer func() {
		for i, p := range people {
			if rowWhy[i] == "" {
				rowWhy[i] = why
			}
			h.submitted("batch", p.Row.Values["passport_number"], ids[i], rowWhy[i])
		}
	}()
	var buf bytes.Buffer
	if err := sample.WriteBatchCSV(&buf, people); err != nil {
		why = "csv: " + err.Error()
		return
	}
	ref := "chaos-batch-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	res := h.api.do(
		ctx,
		request{method: http.MethodPost, path: "/v1/chambers/" + h.chamberID + "/batches", contentType: "text/csv",
			token: h.chamberToken, idemKey: ref, body: buf.Bytes(), startAt: -1, what: "batch"},
	)
	if res.err != nil || res.status != http.StatusAccepted {
		why = fmt.Sprintf("batch not accepted: HTTP %d %v %s", res.status, res.err, truncate(string(res.body), 200))
		logf("%s", why)
		return
	}
	var b struct {
		BatchID string `json:"batch_id"`
	}
	_ = json.Unmarshal(res.body, &b)
	logf("batch %s accepted (%d rows, %d tries)", b.BatchID, h.o.batchRows, res.tries)
	deadline := time.Now().Add(10 * time.Minute)
	var st struct {
		Status    string `json:"status"`
		Total     int    `json:"total"`
		Processed int    `json:"processed"`
	}
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if err := h.api.getJSON(ctx, "/v1/batches/"+b.BatchID, h.chamberToken, &st); err == nil && st.Status == "completed" {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
	if st.Status != "completed" {
		why = fmt.Sprintf("batch %s not completed in time: %+v", b.BatchID, st)
		logf("%s", why)
	}
	var report struct {
		Rows []struct {
			Row           int    `json:"row"`
			Outcome       string `json:"outcome"`
			ApplicationID string `json:"application_id"`
		} `json:"rows"`
	}
	if err := h.api.getJSON(ctx, "/v1/batches/"+b.BatchID+"/report", h.chamberToken, &report); err != nil {
		why += "; report: " + err.Error()
		logf("batch report: %v", err)
		return
	}
	// The report lists the rows in order; the i-th is people[i].
	sort.Slice(report.Rows, func(i, j int) bool { return report.Rows[i].Row < report.Rows[j].Row })
	created := 0
	why = "batch row not reported"
	for i, r := range report.Rows {
		if i >= len(ids) {
			break
		}
		if (r.Outcome == "created" || r.Outcome == "existing") && r.ApplicationID != "" {
			ids[i] = r.ApplicationID
			created++
		} else {
			rowWhy[i] = "batch row " + r.Outcome
		}
	}
	logf("batch %s %s: %d of %d rows created", b.BatchID, st.Status, created, len(report.Rows))
}

// officerLoop approves every case that reaches awaiting_review, until ctx ends.
func (h *harness) officerLoop(ctx context.Context) {
	inflight := sync.Map{}
	sem := make(chan struct{}, 8)
	for ctx.Err() == nil {
		cursor := ""
		for page := 0; page < 50 && ctx.Err() == nil; page++ {
			var list struct {
				Items []struct {
					ID string `json:"id"`
				} `json:"items"`
				NextCursor string `json:"next_cursor"`
			}
			path := "/v1/cases?status=awaiting_review&limit=200"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			if err := h.api.getJSON(ctx, path, h.officer, &list); err != nil {
				break
			}
			for _, it := range list.Items {
				if _, busy := inflight.LoadOrStore(it.ID, true); busy {
					continue
				}
				select {
				case <-ctx.Done():
					return
				case sem <- struct{}{}:
				}
				go func(id string) {
					defer func() { <-sem; inflight.Delete(id) }()
					res := h.api.do(
						ctx,
						request{method: http.MethodPost, path: "/v1/cases/" + id + "/decision", contentType: "application/json",
							token: h.officer, idemKey: "chaos-approve-" + id, body: []byte(`{"decision":"approve"}`), startAt: -1,
							maxAttempts: 10, maxTime: 2 * time.Minute, what: "decide"},
					)
					switch {
					case res.err == nil && res.status == http.StatusOK:
						h.approvedOK.Add(1)
					case res.err == nil && res.status == http.StatusConflict:
						h.approve409.Add(1) // already decided: done
					default:
						h.approveErr.Add(1) // the next poll sees it again if it still awaits review
						h.mu.Lock()
						h.approveGaveUp = append(h.approveGaveUp, time.Now())
						h.mu.Unlock()
					}
				}(it.ID)
			}
			if list.NextCursor == "" {
				break
			}
			cursor = list.NextCursor
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// supervise restarts a process that exited on its own (as systemd would); the
// exit is still reported as a failure.
func (h *harness) supervise(ctx context.Context) {
	restarts := map[string]int{}
	all := append(append([]*proc{h.temporal}, h.workers...), h.apis...)
	for ctx.Err() == nil {
		for _, p := range all {
			p.mu.Lock()
			crashedDown := p.cmd != nil && !p.expected && isClosed(p.done)
			p.mu.Unlock()
			if crashedDown && restarts[p.name] < 5 {
				restarts[p.name]++
				logf("restarting %s after its unexpected exit", p.name)
				_ = p.start()
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func (h *harness) progress(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(15 * time.Second):
		}
		logf(
			"progress: accepted %d, approved %d (+%d already decided, %d decision errors), HTTP attempts %d, retries %d",
			h.acceptedCount(),
			h.approvedOK.Load(),
			h.approve409.Load(),
			h.approveErr.Load(),
			h.api.attempts.Load(),
			h.api.retries.Load(),
		)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

func (h *harness) disruptions(ctx context.Context, start time.Time) {
	// Each disruption starts on schedule, but never before the one before it has
	// ended and the grace after it passed: the checks attribute errors to one disruption at a time.
	var prevEnd time.Time
	at := func(d time.Duration) bool {
		when := start.Add(d)
		if !prevEnd.IsZero() && prevEnd.Add(h.o.grace).After(when) {
			when = prevEnd.Add(h.o.grace)
		}
		return sleepCtx(ctx, time.Until(when))
	}

	// R1: kill -9 one worker and one API, restart them after a few seconds.
	if !at(h.o.r1At) {
		return
	}
	r1 := h.disrupt[0]
	r1.start, r1.ran = time.Now(), true
	logf("R1: kill -9 worker-1 and api-1")
	apiAddr := strings.TrimPrefix(h.bases[0], "http://")
	for _, p := range []*proc{h.workers[0], h.apis[0]} {
		pid := p.pid()
		p.kill9()
		r1.check(p.wait(5*time.Second) && processGone(pid), fmt.Sprintf("%s (pid %d) is gone", p.name, pid))
	}
	r1.check(!reachable(apiAddr), "api-1's port "+apiAddr+" refuses connections")
	sleepCtx(ctx, h.o.r1Down)
	if err := h.workers[0].start(); err != nil {
		r1.err = err
	}
	if err := h.apis[0].start(); err != nil {
		r1.err = err
	}
	r1.check(waitReady(ctx, h.bases[0], 60*time.Second) == nil, "api-1 ready again")
	r1.end = time.Now()
	prevEnd = r1.end
	logf("R1: worker-1 and api-1 restarted")

	// R2: stop the Temporal server (SIGTERM), restart it.
	if !at(h.o.r2At) {
		return
	}
	r2 := h.disrupt[1]
	r2.start, r2.ran = time.Now(), true
	logf("R2: SIGTERM the Temporal server")
	pid := h.temporal.pid()
	if !h.temporal.stop(30 * time.Second) {
		r2.what += " (did not stop within 30 s: SIGKILLed)"
	}
	r2.check(processGone(pid), fmt.Sprintf("temporal (pid %d) is gone", pid))
	r2.check(!reachable(h.tAddr), "Temporal's port "+h.tAddr+" refuses connections")
	sleepCtx(ctx, h.o.r2Down)
	r2.check(!reachable(h.tAddr), "Temporal's port still refuses connections at the end of the outage")
	if err := h.temporal.start(); err != nil {
		r2.err = err
	} else if err := waitTemporal(ctx, h.tAddr, 90*time.Second); err != nil {
		r2.err = err
	}
	r2.end = time.Now()
	prevEnd = r2.end
	logf("R2: Temporal server back (%v)", r2.err)

	// R3: stop PostgreSQL.
	if !at(h.o.r3At) {
		return
	}
	r3 := h.disrupt[2]
	if h.pgErr != nil {
		r3.err = h.pgErr
		logf("R3 skipped: %v", h.pgErr)
		return
	}
	r3.start, r3.ran = time.Now(), true
	logf("R3: stopping PostgreSQL (cluster %s) for %s", h.pg, h.o.r3Down)
	if err := h.pg.run("stop"); err != nil {
		r3.err = err
		logf("R3: %v", err)
	}
	// pg_ctlcluster's exit code is not proof: the database must refuse the service's own URL.
	err := pingDB(ctx, h.dbURL)
	r3.check(err != nil, fmt.Sprintf("the database refuses connections (%v)", errText(err)))
	sleepCtx(ctx, h.o.r3Down)
	err = pingDB(ctx, h.dbURL)
	r3.check(err != nil, "the database still refuses connections at the end of the outage")
	if err := h.pg.run("start"); err != nil {
		r3.err = err
		logf("R3: %v", err)
	}
	back := false
	for i := 0; i < 30 && !back && ctx.Err() == nil; i++ {
		if back = pingDB(ctx, h.dbURL) == nil; !back {
			sleepCtx(ctx, time.Second)
		}
	}
	r3.check(back, "the database answers again after the start")
	r3.end = time.Now()
	logf("R3: PostgreSQL started again")
}

func errText(err error) string {
	if err == nil {
		return "it answered"
	}
	return truncate(err.Error(), 60)
}

// processGone reports whether no process has the pid any more.
func processGone(pid int) bool {
	return pid > 0 && errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// reachable reports whether a TCP connection to addr succeeds.
func reachable(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// pingDB connects to the database and runs a query.
func pingDB(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var one int
	return conn.QueryRow(ctx, "SELECT 1").Scan(&one)
}

func (h *harness) acceptedIDs() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	ids := make([]string, 0, len(h.submissions))
	for _, s := range h.submissions {
		if s.id != "" {
			ids = append(ids, s.id)
		}
	}
	sort.Strings(ids)
	return ids
}

// waitIssued polls the database until every accepted application is issued,
// or asks for the documents it lacks, or the time is up.
func (h *harness) waitIssued(ctx context.Context, limit time.Duration) (issued, awaiting int) {
	ids := h.acceptedIDs()
	batch := map[string]bool{} // a chamber's rows carry no documents: they may wait for them
	h.mu.Lock()
	for _, s := range h.submissions {
		if s.source == "batch" && s.id != "" {
			batch[s.id] = true
		}
	}
	h.mu.Unlock()
	deadline := time.Now().Add(limit)
	lastLog := time.Now()
	for {
		n, w, err := countSettled(ctx, h.dbURL, ids, batch)
		if err == nil {
			issued, awaiting = n, w
		}
		if issued+awaiting == len(ids) || time.Now().After(deadline) || ctx.Err() != nil {
			return issued, awaiting
		}
		if time.Since(lastLog) > 15*time.Second {
			logf("waiting: %d of %d issued, %d awaiting documents (%v)", issued, len(ids), awaiting, err)
			lastLog = time.Now()
		}
		sleepCtx(ctx, 2*time.Second)
	}
}

// waitTemporal dials until the frontend serves the default namespace.
func waitTemporal(ctx context.Context, addr string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var last error
	for ctx.Err() == nil {
		c, err := client.DialContext(ctx, client.Options{HostPort: addr, Logger: quietLogger()})
		if err == nil {
			_, err = c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "default"})
			c.Close()
			if err == nil {
				return nil
			}
		}
		last = err
		sleepCtx(ctx, 300*time.Millisecond)
	}
	return fmt.Errorf("temporal at %s not ready: %v", addr, last)
}

func waitReady(ctx context.Context, base string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		sleepCtx(ctx, 300*time.Millisecond)
	}
	return fmt.Errorf("%s/readyz not ready within %s", base, limit)
}

func quietLogger() *slogLogger { return &slogLogger{l: slog.New(slog.DiscardHandler)} }

// slogLogger adapts slog to the Temporal SDK's logger interface.
type slogLogger struct{ l *slog.Logger }

func (s *slogLogger) Debug(msg string, kv ...any) { s.l.Debug(msg, kv...) }
func (s *slogLogger) Info(msg string, kv ...any)  { s.l.Info(msg, kv...) }
func (s *slogLogger) Warn(msg string, kv ...any)  { s.l.Warn(msg, kv...) }
func (s *slogLogger) Error(msg string, kv ...any) { s.l.Error(msg, kv...) }

func adminExec(ctx context.Context, url, stmt string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, stmt)
	return err
}

// replaceDBName swaps the database in a postgres:// URL.
func replaceDBName(url, name string) string {
	q := ""
	if i := strings.IndexByte(url, '?'); i >= 0 {
		url, q = url[:i], url[i:]
	}
	if i := strings.LastIndexByte(url, '/'); i > len("postgres://") {
		url = url[:i]
	}
	return url + "/" + name + q
}
