// Package app wires visad's parts together for the visad command and the
// integration tests: database, keys, Temporal client, worker and HTTP API.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/visad/visad/activities"
	"github.com/visad/visad/api"
	"github.com/visad/visad/db"
	"github.com/visad/visad/internal/casework"
	"github.com/visad/visad/internal/codec"
	"github.com/visad/visad/internal/config"
	"github.com/visad/visad/internal/keys"
	"github.com/visad/visad/internal/notify"
	"github.com/visad/visad/internal/sealpki"
	"github.com/visad/visad/web"
	"github.com/visad/visad/workflows"
)

// OpenStore connects to the configured database and migrates it.
func OpenStore(ctx context.Context, cfg config.Config) (*db.Store, error) {
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

// LoadKeys derives the keyring from VISA_SECRET_KEY, or in dev mode from a
// secret file generated in the data directory.
func LoadKeys(cfg config.Config) (*keys.Keyring, error) {
	var secret []byte
	var err error
	if cfg.SecretKey != "" {
		secret, err = keys.ParseSecret(cfg.SecretKey)
	} else {
		secret, err = keys.LoadOrCreateSecretFile(cfg.SecretFile())
	}
	if err != nil {
		return nil, fmt.Errorf("server secret: %w", err)
	}
	return keys.New(secret)
}

// PayloadCodec builds the Temporal payload codec from VISA_PAYLOAD_KEYS, or
// in dev mode from a key file generated in the data directory (the api and
// worker commands require the variable).
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
	return c, nil
}

// DialTemporal connects an SDK client, retrying while the server comes up.
// metrics receives the SDK's own metrics (nil: none). Every payload the client
// (and a worker on it) sends is encrypted with the payload codec, failure
// messages and stack traces included.
func DialTemporal(
	ctx context.Context,
	cfg config.Config,
	log *slog.Logger,
	metrics client.MetricsHandler,
) (client.Client, error) {
	pc, err := PayloadCodec(cfg)
	if err != nil {
		return nil, err
	}
	dc := codec.DataConverter(pc)
	var lastErr error
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c, err := client.DialContext(ctx, client.Options{
			HostPort:         cfg.TemporalAddress,
			Namespace:        cfg.Namespace,
			Logger:           sdklog.NewStructuredLogger(log.With("component", "temporal-sdk")),
			MetricsHandler:   metrics,
			DataConverter:    dc,
			FailureConverter: codec.FailureConverter(dc),
		})
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
	Config   config.Config
	Log      *slog.Logger
	Store    *db.Store
	Keys     *keys.Keyring
	Temporal client.Client
	Cases    *casework.Service
	// Metrics is the process's Prometheus registry (served by the API at /metrics),
	// including the Temporal SDK's client and worker metrics.
	Metrics *api.Metrics
	// Seals signs e-visa seals (worker); EVisas serves e-visas (API).
	Seals  *sealpki.PKI
	EVisas *casework.EVisas
}

// NewServices opens the store and keys and dials Temporal.
func NewServices(ctx context.Context, cfg config.Config, log *slog.Logger) (*Services, error) {
	store, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	k, err := LoadKeys(cfg)
	if err != nil {
		store.Close()
		return nil, err
	}
	seals, err := LoadSealPKI(cfg, time.Now())
	if err != nil {
		store.Close()
		return nil, err
	}
	metrics := api.NewMetrics(log)
	tc, err := DialTemporal(ctx, cfg, log, metrics.TemporalHandler())
	if err != nil {
		metrics.Close()
		store.Close()
		return nil, err
	}
	cases := &casework.Service{
		Store: store, Keys: k, Temporal: tc, TaskQueue: cfg.TaskQueue,
		EligibleNationalities: cfg.EligibleNationalities, Log: log, SLA: cfg.SLA(),
	}
	metrics.WatchCounts(cases.Counts)
	svc := &Services{Config: cfg, Log: log, Store: store, Keys: k, Temporal: tc, Metrics: metrics, Cases: cases,
		Seals: seals}
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
	MaxConcurrentWorkflowTaskExecutionSize: 2,
	MaxConcurrentActivityExecutionSize:     4,
	MaxConcurrentWorkflowTaskPollers:       2,
	MaxConcurrentActivityTaskPollers:       2,
}

// NewWorker registers the workflows and activities on the main task queue
// and on the bulk lane.
func (s *Services) NewWorker() (Workers, error) {
	wl, err := activities.NewWatchlist(s.Config.Watchlist)
	if err != nil {
		return nil, err
	}
	acts := &activities.Activities{
		Store: s.Store, Keys: s.Keys, Watchlist: wl, EligibleNationalities: s.Config.EligibleNationalities,
		Starter: s.Cases.Bulk(), SLA: s.Config.SLA(), STPEnabled: s.Config.STPEnabled, OnSLAEvent: s.Metrics.SLAEvent,
		Seals: s.Seals,
	}
	var ws Workers
	for _, lane := range []struct {
		queue string
		opts  worker.Options
	}{{s.Config.TaskQueue, worker.Options{}}, {s.Cases.BulkQueue(), BulkLaneOptions}} {
		w := worker.New(s.Temporal, lane.queue, lane.opts)
		workflows.Register(w)
		w.RegisterActivity(acts)
		ws = append(ws, w)
	}
	return ws, nil
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
		Secure: strings.HasPrefix(s.Config.PublicURL, "https://"), LookupsPerMinute: s.Config.LookupsPerMinute})
	mux := http.NewServeMux()
	mux.Handle("/", apiHandler)
	for _, route := range web.Routes {
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
	<-ctx.Done()
	return nil
}

// RunAPI serves HTTP on the configured address until ctx ends, then drains.
func (s *Services) RunAPI(ctx context.Context, ready func(addr string)) error {
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
