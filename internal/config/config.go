// Package config reads visad's settings from VISA_* environment variables,
// with command-line flags as overrides.
package config

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config is every setting a visad process may need.
type Config struct {
	DataDir               string        // VISA_DATA_DIR: dev-mode state (Temporal and app SQLite files, secret)
	DatabaseURL           string        // VISA_DATABASE_URL: SQLite path or postgres:// URL
	HTTPAddr              string        // VISA_HTTP_ADDR
	TemporalAddress       string        // VISA_TEMPORAL_ADDRESS
	Namespace             string        // VISA_TEMPORAL_NAMESPACE
	TaskQueue             string        // VISA_TASK_QUEUE
	Watchlist             string        // VISA_WATCHLIST: CSV path
	EligibleNationalities []string      // VISA_ELIGIBLE_NATIONALITIES: comma-separated alpha-3
	SecretKey             string        // VISA_SECRET_KEY: hex/base64, ≥32 bytes; dev default is a file in the data dir
	LogLevel              string        // VISA_LOG_LEVEL: debug|info|warn|error
	TemporalLogLevel      string        // VISA_TEMPORAL_LOG_LEVEL: the embedded server's log level (dev), or off
	ShutdownTimeout       time.Duration // VISA_SHUTDOWN_TIMEOUT
}

// Variables lists every environment variable the config reads (docs and tests check against it).
var Variables = []string{
	"VISA_DATA_DIR", "VISA_DATABASE_URL", "VISA_HTTP_ADDR", "VISA_TEMPORAL_ADDRESS",
	"VISA_TEMPORAL_NAMESPACE", "VISA_TASK_QUEUE", "VISA_WATCHLIST", "VISA_ELIGIBLE_NATIONALITIES",
	"VISA_SECRET_KEY", "VISA_LOG_LEVEL", "VISA_TEMPORAL_LOG_LEVEL", "VISA_SHUTDOWN_TIMEOUT",
}

// Load reads the environment and then parses args as flag overrides; extra
// registers a command's own flags on the same flag set.
func Load(name string, args []string, extra ...func(*flag.FlagSet)) (Config, *flag.FlagSet, error) {
	c := Config{
		DataDir:               env("VISA_DATA_DIR", "./data"),
		DatabaseURL:           os.Getenv("VISA_DATABASE_URL"),
		HTTPAddr:              env("VISA_HTTP_ADDR", "127.0.0.1:8080"),
		TemporalAddress:       env("VISA_TEMPORAL_ADDRESS", "127.0.0.1:7233"),
		Namespace:             env("VISA_TEMPORAL_NAMESPACE", "default"),
		TaskQueue:             env("VISA_TASK_QUEUE", "visad-applications"),
		Watchlist:             os.Getenv("VISA_WATCHLIST"),
		EligibleNationalities: splitList(env("VISA_ELIGIBLE_NATIONALITIES", "KAZ")),
		SecretKey:             os.Getenv("VISA_SECRET_KEY"),
		LogLevel:              env("VISA_LOG_LEVEL", "info"),
		TemporalLogLevel:      env("VISA_TEMPORAL_LOG_LEVEL", "warn"),
	}
	timeout, err := time.ParseDuration(env("VISA_SHUTDOWN_TIMEOUT", "20s"))
	if err != nil {
		return c, nil, fmt.Errorf("VISA_SHUTDOWN_TIMEOUT: %w", err)
	}
	c.ShutdownTimeout = timeout

	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for dev-mode state (VISA_DATA_DIR)")
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "SQLite path or postgres:// URL (VISA_DATABASE_URL; default <data-dir>/visad.db)")
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "API listen address (VISA_HTTP_ADDR)")
	fs.StringVar(&c.TemporalAddress, "temporal-address", c.TemporalAddress, "Temporal frontend host:port (VISA_TEMPORAL_ADDRESS)")
	fs.StringVar(&c.Namespace, "namespace", c.Namespace, "Temporal namespace (VISA_TEMPORAL_NAMESPACE)")
	fs.StringVar(&c.TaskQueue, "task-queue", c.TaskQueue, "Temporal task queue (VISA_TASK_QUEUE)")
	fs.StringVar(&c.Watchlist, "watchlist", c.Watchlist, "screening watchlist CSV (VISA_WATCHLIST)")
	nationalities := fs.String("eligible-nationalities", strings.Join(c.EligibleNationalities, ","), "comma-separated ISO alpha-3 codes (VISA_ELIGIBLE_NATIONALITIES)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (VISA_LOG_LEVEL)")
	fs.StringVar(&c.TemporalLogLevel, "temporal-log-level", c.TemporalLogLevel, "embedded Temporal server log level, or off (VISA_TEMPORAL_LOG_LEVEL)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "graceful shutdown limit (VISA_SHUTDOWN_TIMEOUT)")
	for _, register := range extra {
		register(fs)
	}
	if err := fs.Parse(args); err != nil {
		return c, fs, err
	}
	c.EligibleNationalities = splitList(*nationalities)
	if c.DatabaseURL == "" {
		c.DatabaseURL = filepath.Join(c.DataDir, "visad.db")
	}
	return c, fs, nil
}

// SecretFile is where dev mode keeps a generated secret when VISA_SECRET_KEY is unset.
func (c Config) SecretFile() string { return filepath.Join(c.DataDir, "secret.key") }

// TemporalLogFile is where the embedded Temporal server writes its logs.
func (c Config) TemporalLogFile() string { return filepath.Join(c.DataDir, "temporal.log") }

// TemporalDatabaseFile is the embedded Temporal server's SQLite file.
func (c Config) TemporalDatabaseFile() string { return filepath.Join(c.DataDir, "temporal.db") }

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.ToUpper(strings.TrimSpace(p)); p != "" {
			out = append(out, p)
		}
	}
	return out
}
