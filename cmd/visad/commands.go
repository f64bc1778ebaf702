package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/visad/visad/activities"
	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/app"
	"github.com/visad/visad/internal/casework"
	"github.com/visad/visad/internal/config"
	"github.com/visad/visad/internal/devserver"
	"github.com/visad/visad/internal/devui"
	"github.com/visad/visad/internal/sample"
)

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var temporalOnly bool
	cfg, fs, err := config.Load("dev", args, func(fs *flag.FlagSet) {
		fs.BoolVar(
			&temporalOnly,
			"temporal-only",
			false,
			"run only the embedded Temporal server (SQLite file in the data dir) until interrupted; "+
				"for api and worker processes elsewhere",
		)
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	log := newLogger(stderr, cfg.LogLevel, true)

	temporal, err := devserver.Start(ctx, devserver.Config{
		DatabaseFile:    cfg.TemporalDatabaseFile(),
		FrontendAddress: cfg.TemporalAddress,
		Namespaces:      []string{cfg.Namespace},
		LogLevel:        cfg.TemporalLogLevel,
		LogFile:         cfg.TemporalLogFile(),
	})
	if err != nil {
		return err
	}
	defer temporal.Stop()
	cfg.TemporalAddress = temporal.HostPort()
	watchlistNote := "from VISA_WATCHLIST"
	if cfg.Watchlist == "" {
		// Straight-through processing needs a watchlist: dev screens against a small invented one.
		if cfg.Watchlist, err = sample.WriteWatchlist(cfg.DataDir); err != nil {
			return fmt.Errorf("sample watchlist: %w", err)
		}
		watchlistNote = "(sample, invented names; set VISA_WATCHLIST in production)"
	}
	if temporalOnly {
		fmt.Fprintf(stdout, `visad dev --temporal-only is running
  Temporal         %s   namespace %q
  Temporal state   %s   (server log: %s)
Stop with Ctrl-C or SIGTERM.
`, cfg.TemporalAddress, cfg.Namespace, cfg.TemporalDatabaseFile(), cfg.TemporalLogFile())
		<-ctx.Done()
		return nil
	}

	svc, err := app.NewServices(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer svc.Close()

	// Stop order on Ctrl-C (or an API failure): the API drains, then the worker
	// stops, then the clients and the Temporal server close.
	ctx, cancel := context.WithCancel(ctx)
	workerErr := make(chan error, 1)
	go func() { workerErr <- svc.RunWorker(ctx) }()
	defer func() {
		cancel()
		<-workerErr
	}()
	uiLine, err := startDevUI(ctx, cfg, log)
	if err != nil {
		return err
	}
	return svc.RunAPI(ctx, func(addr string) {
		fmt.Fprintf(stdout, `visad dev is running
  Apply            http://%s/   (the applicant portal: open it in a browser)
  Staff            http://%s/staff/sign-in   (officers, supervisors, chambers, admins: ./bin/visad users create prints
                   an enrolment link; docs/consoles.md)
  API              http://%s   (try: curl http://%s/readyz)
  Metrics          http://%s/metrics
  Temporal         %s   namespace %q, task queue %q
%s  Temporal state   %s   (server log: %s)
  App database     %s
  App keys         %s
  Payload keys     %s
  Action keys      %s
  Watchlist        %s %s
Stop with Ctrl-C; start again and every case is still there.
`, addr, addr, addr, addr, cfg.MetricsAddr, cfg.TemporalAddress, cfg.Namespace, cfg.TaskQueue, uiLine,
			cfg.TemporalDatabaseFile(), cfg.TemporalLogFile(), cfg.DatabaseURL, secretSource(cfg), payloadKeysSource(cfg),
			actionKeysSource(cfg), cfg.Watchlist, watchlistNote)
	})
}

// startDevUI serves the Temporal Web UI (VISA_DEV_UI_ADDR; empty: none) and
// returns its banner lines.
func startDevUI(ctx context.Context, cfg config.Config, log *slog.Logger) (string, error) {
	if cfg.DevUIAddr == "" {
		return "", nil
	}
	pc, err := codecServerKeys(cfg)
	if err != nil {
		return "", err
	}
	ui, err := devui.Start(ctx, devui.Config{Addr: cfg.DevUIAddr, TemporalAddress: cfg.TemporalAddress,
		Namespace: cfg.Namespace, Codec: pc, Log: log})
	if err != nil {
		return "", fmt.Errorf("%w (set VISA_DEV_UI_ADDR to another address, or empty for no UI)", err)
	}
	return fmt.Sprintf("  Temporal UI      %s   (decrypted payloads: open %s)\n", ui.URL, ui.UnlockURL), nil
}

func secretSource(cfg config.Config) string {
	_, source, err := app.KeySettings(cfg, false)
	if err != nil {
		return "unavailable: " + err.Error()
	}
	return source
}

func payloadKeysSource(cfg config.Config) string {
	if cfg.PayloadKeys != "" {
		return "from VISA_PAYLOAD_KEYS"
	}
	return cfg.PayloadKeysFile() +
		" (generated; set VISA_PAYLOAD_KEYS in production; visad codec-server decrypts for the Web UI)"
}

func actionKeysSource(cfg config.Config) string {
	if cfg.ActionKeys != "" {
		return "from VISA_ACTION_KEYS"
	}
	return cfg.ActionKeysFile() + " (generated; set VISA_ACTION_KEYS on api and worker in production)"
}

// requireProductionKeys: api and worker processes share their keys, so
// neither may fall back to a file generated in its own data directory.
func requireProductionKeys(cfg config.Config) error {
	if !cfg.KeySettings().Complete() {
		return errors.New(
			"VISA_SEALING_KEYS, VISA_INDEX_KEY, VISA_TOKEN_KEYS and VISA_AUDIT_KEYS are required " +
				"(e.g. VISA_SEALING_KEYS=s1:$(openssl rand -hex 32), VISA_INDEX_KEY=$(openssl rand -hex 32); " +
				"the same on every api and worker process), or the legacy VISA_SECRET_KEY; " +
				"visad dev generates them for you",
		)
	}
	if cfg.PayloadKeys == "" {
		return errors.New(
			"VISA_PAYLOAD_KEYS is required (id:key[,id:key…], each key 32 bytes hex or base64, " +
				"e.g. k1:$(openssl rand -hex 32); the same on every api and worker process; the first key encrypts); " +
				"visad dev generates one for you",
		)
	}
	if cfg.ActionKeys == "" {
		return errors.New(
			"VISA_ACTION_KEYS is required (id:key[,id:key…], each key at least 32 bytes hex or base64, " +
				"e.g. a1:$(openssl rand -hex 32); the same on every api and worker process and nowhere else; " +
				"the first key signs); visad dev generates one for you",
		)
	}
	return nil
}

// productionServices loads the configuration of `visad api` or `visad worker`,
// checks the keys every production process must share, and connects.
func productionServices(
	ctx context.Context,
	name string,
	args []string,
	stderr io.Writer,
) (*app.Services, *slog.Logger, error) {
	cfg, fs, err := config.Load(name, args)
	if err != nil {
		return nil, nil, err
	}
	if err := requireProductionKeys(cfg); err != nil {
		return nil, nil, err
	}
	if err := requireSealPKI(cfg, fs); err != nil {
		return nil, nil, err
	}
	if name == "worker" {
		// Checked again by NewWorker; here, before the worker connects to anything.
		wl, err := activities.NewWatchlist(cfg.Watchlist)
		if err != nil {
			return nil, nil, err
		}
		if err := app.RequireWatchlistForSTP(cfg, wl.Len()); err != nil {
			return nil, nil, err
		}
	}
	log := newLogger(stderr, cfg.LogLevel, false)
	svc, err := app.NewServices(ctx, cfg, log)
	return svc, log, err
}

func runAPI(ctx context.Context, args []string, stderr io.Writer) error {
	svc, log, err := productionServices(ctx, "api", args, stderr)
	if err != nil {
		return err
	}
	defer svc.Close()
	return svc.RunAPI(ctx, func(addr string) { log.Info("api listening", "addr", addr) })
}

func runWorker(ctx context.Context, args []string, stderr io.Writer) error {
	svc, log, err := productionServices(ctx, "worker", args, stderr)
	if err != nil {
		return err
	}
	defer svc.Close()
	cfg := svc.Config
	log.Info("worker started", "task_queue", cfg.TaskQueue, "temporal", cfg.TemporalAddress)
	// Workers have no API port: their SLA counters and Temporal SDK metrics are served here.
	metricsAddr, stopMetrics, err := svc.ServeMetrics()
	if err != nil {
		return err
	}
	defer stopMetrics()
	log.Info("metrics listening", "addr", metricsAddr)
	return svc.RunWorker(ctx)
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, _, err := config.Load("migrate", args)
	if err != nil {
		return err
	}
	store, err := app.OpenStoreWithoutKeys(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	fmt.Fprintf(stdout, "database migrated (%s)\n", store.Dialect())
	return nil
}

func runUsers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: visad users create|list|revoke [flags]")
	}
	verb := args[0]
	var role, name, id, login, chamber string
	var expiresIn time.Duration
	cfg, _, err := config.Load("users "+verb, args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&role, "role", "", "create: "+joinRoles(domain.AccountRoles, ", ", " or "))
		fs.StringVar(&name, "name", "", "create: the person's name")
		fs.StringVar(&login, "login", "", "create: the console sign-in name (default: the account id)")
		fs.StringVar(&chamber, "chamber", "", //vocabulary:ignore: the flag's name, not the role
			"create: the chamber (chb_…) a chamber account belongs to")
		fs.DurationVar(&expiresIn, "expires-in", 0, "create: token lifetime, e.g. 720h (default: no expiry)")
		fs.StringVar(&id, "id", "", "revoke: the account id (usr_…)")
	})
	if err != nil {
		return err
	}
	store, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	ctx = db.WithAuditActor(ctx, "cli") // audit entries of account changes made from the command line
	switch verb {
	case "create":
		if !domain.Role(role).IsAccount() {
			return fmt.Errorf("--role must be one of %s", joinRoles(domain.AccountRoles, ", ", ", "))
		}
		if (domain.Role(role) == domain.RoleChamber) != (chamber != "") {
			return errors.New("--chamber (the chamber's id, chb_…) is required with --role chamber, and only then")
		}
		accounts := &casework.Accounts{Store: store, PublicURL: cfg.PublicURL}
		created, err := accounts.CreateAccount(ctx, "cli", casework.NewAccount{Name: name, Login: login,
			Role: domain.Role(role), ChamberID: chamber, ExpiresIn: expiresIn})
		var ce *casework.Error
		if errors.As(err, &ce) && len(ce.Fields) > 0 {
			flags := map[string]string{"/name": "--name", "/login": "--login", "/role": "--role",
				"/chamber_id": "--chamber"}
			var msgs []string
			for _, f := range ce.Fields {
				msgs = append(msgs, flags[f.Pointer]+" "+f.Detail)
			}
			return errors.New(strings.Join(msgs, "; "))
		}
		if err != nil {
			return err
		}
		// Only the token goes to stdout, so scripts can capture it: TOKEN=$(visad users create …).
		fmt.Fprintln(stdout, created.APIToken)
		fmt.Fprintf(stderr, "created %s %s (%s), sign-in name %s\n", created.Role, created.ID, strings.TrimSpace(name),
			created.Login)
		fmt.Fprintf(stderr, "console enrolment link (works once, until %s; hand it over in person):\n  %s\n",
			created.EnrolUntil.Format(time.RFC3339), created.EnrolURL)
		return nil
	case "list":
		users, err := store.ListUsers(ctx)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(stdout)
		for _, u := range users {
			rec := map[string]any{
				"id":         u.ID,
				"name":       u.Name,
				"role":       u.Role,
				"created_at": time.UnixMilli(u.CreatedAtMS).UTC(),
				"active":     u.Active(time.Now()),
			}
			if u.Login.Valid {
				rec["login"] = u.Login.String
			}
			if err := enc.Encode(rec); err != nil {
				return err
			}
		}
		return nil
	case "revoke":
		if id == "" {
			return errors.New("--id is required")
		}
		ok, err := store.RevokeUser(ctx, id, time.Now())
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("no active user %s", id)
		}
		fmt.Fprintf(stderr, "revoked %s\n", id)
		return nil
	default:
		return fmt.Errorf("unknown users command %q (create, list, revoke)", verb)
	}
}

// joinRoles lists roles for a message: "a, b or c".
func joinRoles(roles []domain.Role, sep, last string) string {
	var b strings.Builder
	for i, r := range roles {
		switch {
		case i == 0:
		case i == len(roles)-1:
			b.WriteString(last)
		default:
			b.WriteString(sep)
		}
		b.WriteString(string(r))
	}
	return b.String()
}

func runChambers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = `usage: visad chambers create --name "…" | visad chambers rotate-token --id chb_…`
	if len(args) == 0 || (args[0] != "create" && args[0] != "rotate-token") {
		return errors.New(usage)
	}
	verb := args[0]
	var name, id string
	cfg, _, err := config.Load("chambers "+verb, args[1:], func(fs *flag.FlagSet) {
		if verb == "create" {
			fs.StringVar(&name, "name", "", "the chamber's name")
		} else {
			fs.StringVar(&id, "id", "", "the chamber's id (chb_…)")
		}
	})
	if err != nil {
		return err
	}
	store, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	k, err := app.LoadKeys(cfg)
	if err != nil {
		return err
	}
	svc := &casework.Service{Store: store, Keys: k, ChamberTokenTTL: cfg.ChamberTokenTTL}
	if verb == "rotate-token" {
		if id == "" {
			return errors.New("--id is required")
		}
		token, expiresAt, err := svc.RotateChamberToken(ctx, "cli", id)
		if err != nil {
			return err
		}
		// The old token stops working now; only the new one goes to stdout.
		return json.NewEncoder(stdout).Encode(map[string]string{"chamber_id": id, "token": token,
			"expires_at": expiresAt.Format(time.RFC3339)})
	}
	id, token, err := svc.NewChamber(ctx, "cli", name)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(map[string]string{"chamber_id": id, "token": token})
}

func runSampleBatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var rows *int
	var chamber, product, out, roster *string
	var seed *uint64
	if _, _, err := config.Load("sample-batch", args, func(fs *flag.FlagSet) {
		rows = fs.Int("rows", 100, "number of rows (at most 10000)")
		chamber = fs.String("chamber", "", //vocabulary:ignore: the flag's name, not the role
			"the chamber the batch is for (recorded in the membership numbers' roster)")
		product = fs.String("product", string(domain.ProductBusiness2Y), "business_2y or business_5y_multi")
		seed = fs.Uint64("seed", uint64(time.Now().UnixNano()), "random seed: the same seed writes the same file")
		out = fs.String("out", "-", "batch CSV file, - for standard output")
		roster = fs.String("roster", "", "also write the matching roster CSV to this file (for five-year batches)")
	}); err != nil {
		return err
	}
	if *rows < 1 || *rows > domain.MaxBatchRows {
		return fmt.Errorf("--rows must be from 1 to %d", domain.MaxBatchRows)
	}
	if _, ok := domain.LookupProduct(domain.Product(*product)); !ok {
		return fmt.Errorf("--product must be business_2y or business_5y_multi")
	}
	if *chamber == "" {
		return errors.New("--chamber is required")
	}
	people := sample.Generate(sample.Options{Rows: *rows, Product: domain.Product(*product), Seed: *seed})
	w := stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if err := sample.WriteBatchCSV(w, people); err != nil {
		return err
	}
	if *roster != "" {
		f, err := os.Create(*roster)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := sample.WriteRosterCSV(f, people); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "wrote %d rows for chamber %s\n", *rows, *chamber)
	return nil
}

// runSampleDocuments writes specimen supporting documents (a passport data
// page, a photograph and the letters) that the upload rules take, for demos
// and the docs' walkthrough.
func runSampleDocuments(_ context.Context, args []string, _, stderr io.Writer) error {
	var out *string
	if _, _, err := config.Load("sample-documents", args, func(fs *flag.FlagSet) {
		out = fs.String("out", ".", "directory to write the files to (made if missing)")
	}); err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	var names []string
	for _, d := range sample.Documents() {
		if err := os.WriteFile(filepath.Join(*out, d.Name), d.Data, 0o644); err != nil {
			return err
		}
		names = append(names, d.Name+" ("+string(d.Kind)+")")
	}
	fmt.Fprintf(stderr, "wrote %s to %s\n", strings.Join(names, ", "), *out)
	return nil
}
