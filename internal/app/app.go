// Package app wires visad's parts together for the visad command and the
// integration tests: database, keys, Temporal client, worker and HTTP API.
package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/visad/visad/activities"
	"github.com/visad/visad/api"
	"github.com/visad/visad/db"
	"github.com/visad/visad/internal/actionauth"
	"github.com/visad/visad/internal/casework"
	"github.com/visad/visad/internal/codec"
	"github.com/visad/visad/internal/config"
	"github.com/visad/visad/internal/keys"
	"github.com/visad/visad/internal/notify"
	"github.com/visad/visad/internal/sealpki"
	"github.com/visad/visad/web"
	"github.com/visad/visad/workflows"
)

// OpenStore connects to the configured database, migrates it, and gives it
// the app keys (LoadKeys), which it seals personal data and keys the audit
// trail with.
//
// Admin commands call it too. They generate the dev key file only for the
// dev database in the data directory: against any other database a key
// made up on the spot would seal and audit under a key nobody else holds.
func OpenStore(ctx context.Context, cfg config.Config) (*db.Store, error) {
	devDatabase := cfg.DatabaseURL == filepath.Join(cfg.DataDir, "visad.db")
	settings, _, err := KeySettings(cfg, devDatabase)
	if errors.Is(err, os.ErrNotExist) {
		return nil, errors.New("no app keys: set VISA_SEALING_KEYS, VISA_INDEX_KEY, VISA_TOKEN_KEYS and " +
			"VISA_AUDIT_KEYS (or the legacy VISA_SECRET_KEY), the same as the api and worker processes")
	}
	if err != nil {
		return nil, err
	}
	k, err := keyring(settings)
	if err != nil {
		return nil, err
	}
	store, err := OpenStoreWithoutKeys(ctx, cfg)
	if err != nil {
		return nil, err
	}
	store.UseKeys(k)
	return store, nil
}

// OpenStoreWithoutKeys connects and migrates, for commands that neither seal
// nor audit (migrate).
func OpenStoreWithoutKeys(ctx context.Context, cfg config.Config) (*db.Store, error) {
	store, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx); err != nil {
		store.Close()
		return nil, err
	}
	return store, nil
}

// LoadKeys builds the keyring from the key settings (VISA_SEALING_KEYS,
// VISA_INDEX_KEY, VISA_TOKEN_KEYS, VISA_AUDIT_KEYS, legacy VISA_SECRET_KEY).
// With none set, it reads the data directory: the secret an older dev mode
// generated (secret.key), else the keys dev mode generates (keys.env).
func LoadKeys(cfg config.Config) (*keys.Keyring, error) {
	settings, _, err := KeySettings(cfg, true)
	if err != nil {
		return nil, err
	}
	return keyring(settings)
}

func keyring(settings keys.Settings) (*keys.Keyring, error) {
	c, err := settings.Config()
	if err != nil {
		return nil, err
	}
	k, err := keys.NewKeyring(c)
	if err != nil {
		return nil, fmt.Errorf("app keys: %w", err)
	}
	return k, nil
}

// KeySettings are the key settings LoadKeys uses, and where they come from.
// create allows generating the dev key file.
func KeySettings(cfg config.Config, create bool) (keys.Settings, string, error) {
	if s := cfg.KeySettings(); !s.Empty() {
		return s, "from the VISA_* key settings", nil
	}
	if secret, err := keys.ReadSecretFile(cfg.SecretFile()); err == nil {
		return keys.Settings{Secret: secret}, cfg.SecretFile() + " (legacy secret written by an older visad dev)", nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return keys.Settings{}, "", err
	}
	if !create {
		s, err := keys.ReadKeyFile(cfg.KeysFile())
		return s, cfg.KeysFile(), err
	}
	s, err := keys.LoadOrCreateKeyFile(cfg.KeysFile())
	if err != nil {
		return keys.Settings{}, "", fmt.Errorf("app keys: %w", err)
	}
	return s, cfg.KeysFile() + " (generated; set the VISA_* key settings in production)", nil
}

// PayloadCodec builds the Temporal payload codec from VISA_PAYLOAD_KEYS, or
// in dev mode from a key file generated in the data directory (the api and
// worker commands require the variable). It refuses payloads it did not
// encrypt unless VISA_CODEC_ALLOW_PLAINTEXT_READS is on.
func PayloadCodec(cfg config.Config) (*codec.Codec, error) {
	spec := cfg.PayloadKeys
	if spec == "" {
		var err error
		if spec, err = codec.LoadOrCreateKeyFile(cfg.PayloadKeysFile()); err != nil {
			return nil, fmt.Errorf("payload keys: %w", err)
		}
	}
	c, err := codec.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("VISA_PAYLOAD_KEYS: %w", err)
	}
	if cfg.CodecAllowPlaintextReads {
		c = c.AllowPlaintextReads()
	}
	return c, nil
}

// ActionKeys reads the action signing keys from VISA_ACTION_KEYS, or in dev
// mode from a key file generated in the data directory (the api and worker
// commands require the variable).
func ActionKeys(cfg config.Config) (*keys.ActionKeys, error) {
	spec := cfg.ActionKeys
	if spec == "" {
		var err error
		if spec, err = keys.LoadOrCreateActionKeyFile(cfg.ActionKeysFile()); err != nil {
			return nil, fmt.Errorf("action keys: %w", err)
		}
	}
	k, err := keys.ParseActionKeys(spec)
	if err != nil {
		return nil, fmt.Errorf("VISA_ACTION_KEYS: %w", err)
	}
	return k, nil
}

// TemporalTLS is the TLS configuration of the connection to Temporal, or nil
// for plaintext (VISA_TEMPORAL_TLS*, VISA_TEMPORAL_API_KEY).
func TemporalTLS(cfg config.Config) (*tls.Config, error) {
	if !cfg.TemporalUsesTLS() {
		return nil, nil
	}
	t := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.TemporalTLSServerName}
	if cfg.TemporalTLSCA != "" {
		pem, err := os.ReadFile(cfg.TemporalTLSCA)
		if err != nil {
			return nil, fmt.Errorf("VISA_TEMPORAL_TLS_CA: %w", err)
		}
		t.RootCAs = x509.NewCertPool()
		if !t.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("VISA_TEMPORAL_TLS_CA: no PEM certificate in %s", cfg.TemporalTLSCA)
		}
	}
	if (cfg.TemporalTLSCert == "") != (cfg.TemporalTLSKey == "") {
		return nil, errors.New("VISA_TEMPORAL_TLS_CERT and VISA_TEMPORAL_TLS_KEY go together: set both or neither")
	}
	if cfg.TemporalTLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TemporalTLSCert, cfg.TemporalTLSKey)
		if err != nil {
			// The error names the files, never the key.
			return nil, fmt.Errorf("VISA_TEMPORAL_TLS_CERT/KEY: %w", err)
		}
		t.Certificates = []tls.Certificate{cert}
	}
	return t, nil
}

// ClientOptions are the SDK client options of an api or worker process:
// every payload encrypted with the payload codec (failure messages and stack
// traces included), every update signed with the action keys, and the
// connection's TLS and API key. metrics receives the SDK's own metrics (nil:
// none).
func ClientOptions(
	cfg config.Config,
	log *slog.Logger,
	metrics client.MetricsHandler,
	actions *keys.ActionKeys,
) (client.Options, error) {
	pc, err := PayloadCodec(cfg)
	if err != nil {
		return client.Options{}, err
	}
	tlsConfig, err := TemporalTLS(cfg)
	if err != nil {
		return client.Options{}, err
	}
	dc := codec.DataConverter(pc)
	opts := client.Options{
		HostPort:          cfg.TemporalAddress,
		Namespace:         cfg.Namespace,
		Logger:            sdklog.NewStructuredLogger(log.With("component", "temporal-sdk")),
		MetricsHandler:    metrics,
		DataConverter:     dc,
		FailureConverter:  codec.FailureConverter(dc),
		ConnectionOptions: client.ConnectionOptions{TLS: tlsConfig},
	}
	if actions != nil {
		opts.Interceptors = []interceptor.ClientInterceptor{actionauth.ClientInterceptor(actions, dc)}
	}
	if cfg.TemporalAPIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.TemporalAPIKey)
	}
	return opts, nil
}

// DialTemporal connects an SDK client with ClientOptions, retrying while the
// server comes up. actions may be nil for a client that sends no updates.
func DialTemporal(
	ctx context.Context,
	cfg config.Config,
	log *slog.Logger,
	metrics client.MetricsHandler,
	actions *keys.ActionKeys,
) (client.Client, error) {
	opts, err := ClientOptions(cfg, log, metrics, actions)
	if err != nil {
		return nil, err
	}
	var lastErr error
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c, err := client.DialContext(ctx, opts)
		if err == nil {
			return c, nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return nil, fmt.Errorf("connect to Temporal at %s: %w", cfg.TemporalAddress, lastErr)
}

// Services bundles a process's long-lived dependencies.
type Services struct {
	Config config.Config
	Log    *slog.Logger
	Store  *db.Store
	Keys   *keys.Keyring
	// Actions sign the updates the API sends and verify them in the worker;
	// Payloads is the data converter with the payload codec.
	Actions  *keys.ActionKeys
	Payloads converter.DataConverter
	Temporal client.Client
	Cases    *casework.Service
	// Metrics is the process's Prometheus registry (served on VISA_METRICS_ADDR, ServeMetrics),
	// including the Temporal SDK's client and worker metrics.
	Metrics *api.Metrics
	// Seals signs e-visa seals (worker); EVisas serves e-visas (API).
	Seals  *sealpki.PKI
	EVisas *casework.EVisas
	// Accounts signs staff and chambers in to the consoles.
	Accounts *casework.Accounts
}

// NewServices opens the store and keys and dials Temporal.
func NewServices(ctx context.Context, cfg config.Config, log *slog.Logger) (*Services, error) {
	k, err := LoadKeys(cfg)
	if err != nil {
		return nil, err
	}
	store, err := OpenStoreWithoutKeys(ctx, cfg)
	if err != nil {
		return nil, err
	}
	store.UseKeys(k)
	// Entries written before the chain was keyed get a keyed entry after them.
	if err := store.AnchorAudit(ctx); err != nil {
		store.Close()
		return nil, fmt.Errorf("anchor the audit trail: %w", err)
	}
	seals, err := LoadSealPKI(cfg, time.Now())
	if err != nil {
		store.Close()
		return nil, err
	}
	actions, err := ActionKeys(cfg)
	if err != nil {
		store.Close()
		return nil, err
	}
	pc, err := PayloadCodec(cfg)
	if err != nil {
		store.Close()
		return nil, err
	}
	vault, err := DocumentVault(ctx, cfg, k)
	if err != nil {
		store.Close()
		return nil, err
	}
	metrics := api.NewMetrics(log)
	tc, err := DialTemporal(ctx, cfg, log, metrics.TemporalHandler(), actions)
	if err != nil {
		metrics.Close()
		store.Close()
		return nil, err
	}
	cases := &casework.Service{
		Store: store, Keys: k, Temporal: tc, TaskQueue: cfg.TaskQueue,
		EligibleNationalities: cfg.EligibleNationalities, Log: log, SLA: cfg.SLA(),
		ApplicantTokenTTL: cfg.ApplicantTokenTTL,
		ChamberRowsPerDay: cfg.ChamberRowsPerDay, ChamberTokenTTL: cfg.ChamberTokenTTL,
		Documents: vault, UploadTTL: cfg.UploadTTL, DocumentRetention: cfg.DocumentRetention,
	}
	metrics.WatchCounts(cases.Counts)
	svc := &Services{Config: cfg, Log: log, Store: store, Keys: k, Temporal: tc, Metrics: metrics, Cases: cases,
		Seals: seals, Actions: actions, Payloads: codec.DataConverter(pc)}
	svc.Accounts = NewAccounts(cfg, store, k)
	if svc.EVisas, err = casework.NewEVisas(cases, seals, cfg.PublicURL); err != nil {
		svc.Close()
		return nil, err
	}
	return svc, nil
}

// Close releases the services.
func (s *Services) Close() {
	s.Temporal.Close()
	s.Store.Close()
	s.Metrics.Close()
}

// Workers are the workers of one process: the main task queue, and the bulk
// lane that runs the applications of chamber batches.
type Workers []worker.Worker

// Start starts every worker.
func (ws Workers) Start() error {
	for _, w := range ws {
		if err := w.Start(); err != nil {
			return err
		}
	}
	return nil
}

// Stop stops every worker.
func (ws Workers) Stop() {
	for _, w := range ws {
		w.Stop()
	}
}

// BulkLaneOptions throttle the bulk lane: a 10,000-row batch is worked
// through steadily instead of flooding the Temporal server, so single
// applicants' cases (and starting the rest of the batch) are not starved.
var BulkLaneOptions = worker.Options{
	MaxConcurrentWorkflowTaskExecutionSize:  2,
	MaxConcurrentActivityExecutionSize:      4,
	MaxConcurrentLocalActivityExecutionSize: 4,
	MaxConcurrentWorkflowTaskPollers:        2,
	MaxConcurrentActivityTaskPollers:        2,
}

// NewWorker registers the workflows and activities on the main task queue
// and on the bulk lane.
func (s *Services) NewWorker() (Workers, error) {
	wl, err := activities.NewWatchlist(s.Config.Watchlist)
	if err != nil {
		return nil, err
	}
	if err := RequireWatchlistForSTP(s.Config, wl.Len()); err != nil {
		return nil, err
	}
	acts := &activities.Activities{
		Store: s.Store, Keys: s.Keys, Watchlist: wl, EligibleNationalities: s.Config.EligibleNationalities,
		Starter: s.Cases.Bulk(), SLA: s.Config.SLA(), STPEnabled: s.Config.STPEnabled, OnSLAEvent: s.Metrics.SLAEvent,
		Seals: s.Seals, DocumentsRequired: s.Config.DocumentsRequired,
	}
	var ws Workers
	for _, lane := range []struct {
		queue string
		opts  worker.Options
	}{{s.Config.TaskQueue, worker.Options{}}, {s.Cases.BulkQueue(), BulkLaneOptions}} {
		opts := lane.opts
		// Every update must carry the API's signature (internal/actionauth).
		opts.Interceptors = append(opts.Interceptors, actionauth.WorkerInterceptor(s.Actions, s.Payloads))
		w := worker.New(s.Temporal, lane.queue, opts)
		workflows.Register(w)
		w.RegisterActivity(acts)
		ws = append(ws, w)
	}
	return ws, nil
}

// ErrNoWatchlist is why a worker with straight-through processing on and no
// watchlist refuses to start: every screening would be clear, and clean cases
// would be issued without anyone having been screened.
var ErrNoWatchlist = errors.New("straight-through processing is on (VISA_STP_ENABLED) but no watchlist is " +
	"configured: set VISA_WATCHLIST to the screening list (CSV), or VISA_STP_ENABLED=false to send every case " +
	"to an officer")

// RequireWatchlistForSTP refuses straight-through processing without a
// watchlist that has entries (entries: how many the configured list holds).
func RequireWatchlistForSTP(cfg config.Config, entries int) error {
	switch {
	case !cfg.STPEnabled:
		return nil
	case cfg.Watchlist == "":
		return ErrNoWatchlist
	case entries == 0:
		return fmt.Errorf("%w (the watchlist %s has no entries)", ErrNoWatchlist, cfg.Watchlist)
	}
	return nil
}

// Dispatcher sends the notification outbox.
func (s *Services) Dispatcher() *notify.Dispatcher {
	return &notify.Dispatcher{Store: s.Store, Keys: s.Keys, SMTPURL: s.Config.SMTPURL, From: s.Config.MailFrom,
		SupervisorEmail: s.Config.SupervisorEmail, PortalURL: s.Config.PublicURL, Log: s.Log}
}

// Handler builds the HTTP handler: the applicant portal's pages (package
// web) on their routes, the JSON API on everything else.
func (s *Services) Handler() http.Handler {
	apiHandler := api.New(api.Deps{Cases: s.Cases, EVisas: s.EVisas, Log: s.Log, Metrics: s.Metrics,
		Limits: api.RateLimit{
			Rate:            s.Config.RateLimitRPS,
			Burst:           s.Config.RateLimitBurst,
			LookupPerMinute: s.Config.LookupsPerMinute,
		},
		TrustedProxies: s.Config.TrustedProxies})
	portal := web.New(web.Deps{Cases: s.Cases, EVisas: s.EVisas, Log: s.Log,
		Secure: strings.HasPrefix(s.Config.PublicURL, "https://"), LookupsPerMinute: s.Config.LookupsPerMinute,
		Accounts: s.Accounts, DocumentsRequired: s.Config.DocumentsRequired})
	mux := http.NewServeMux()
	mux.Handle("/", apiHandler)
	for _, route := range web.Routes {
		mux.Handle(route, portal)
	}
	for _, route := range web.ConsoleRoutes {
		mux.Handle(route, portal)
	}
	return portalAndAPI{Handler: mux, api: apiHandler}
}

// portalAndAPI is the binary's handler; it names the API's own handler so
// that api.Routes can list the API's routes.
type portalAndAPI struct {
	http.Handler
	api http.Handler
}

func (h portalAndAPI) APIHandler() http.Handler { return h.api }

// RunWorker runs the worker and the start reconciler until ctx ends.
func (s *Services) RunWorker(ctx context.Context) error {
	w, err := s.NewWorker()
	if err != nil {
		return err
	}
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	defer w.Stop()
	go s.Cases.RunReconciler(ctx, 10*time.Second)
	go s.Dispatcher().Run(ctx, 2*time.Second)
	go s.Cases.RunDocumentSweeper(ctx, s.Config.DocumentSweepInterval)
	<-ctx.Done()
	return nil
}

// ServeMetrics serves /metrics on VISA_METRICS_ADDR, apart from the API,
// until stop is called. It fails at once when the address is taken.
func (s *Services) ServeMetrics() (addr string, stop func(), err error) {
	ln, err := net.Listen("tcp", s.Config.MetricsAddr)
	if err != nil {
		return "", nil, fmt.Errorf("metrics: listen on %s: %w", s.Config.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.Metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.Log.Error("metrics listener", "error", err)
		}
	}()
	return ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// RunAPI serves HTTP on the configured address until ctx ends, then drains.
// Its metrics are served on their own listener (ServeMetrics).
func (s *Services) RunAPI(ctx context.Context, ready func(addr string)) error {
	metricsAddr, stopMetrics, err := s.ServeMetrics()
	if err != nil {
		return err
	}
	defer stopMetrics()
	s.Log.Info("metrics listening", "addr", metricsAddr)
	ln, err := net.Listen("tcp", s.Config.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.Config.HTTPAddr, err)
	}
	srv := api.NewHTTPServer(s.Config.HTTPAddr, s.Handler())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.Config.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// NewAccounts is console sign-in as configured.
func NewAccounts(cfg config.Config, store *db.Store, k *keys.Keyring) *casework.Accounts {
	return &casework.Accounts{Store: store, Keys: k, SessionIdle: cfg.StaffSessionIdle, SessionMax: cfg.StaffSessionMax,
		Lockout: cfg.StaffLockout, PublicURL: cfg.PublicURL}
}
