// Package config reads visad's settings from VISA_* environment variables,
// with command-line flags as overrides.
package config

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
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
	SLABusiness2Y         time.Duration // VISA_SLA_BUSINESS_2Y: decision deadline of the two-year visa
	SLABusiness5YMulti    time.Duration // VISA_SLA_BUSINESS_5Y_MULTI: decision deadline of the five-year visa
	STPEnabled            bool          // VISA_STP_ENABLED: straight-through processing of endorsed two-year cases
	SMTPURL               string        // VISA_SMTP_URL: smtp://[user:pass@]host:port; empty logs e-mails instead (dev)
	MailFrom              string        // VISA_MAIL_FROM
	SupervisorEmail       string        // VISA_SUPERVISOR_EMAIL: where escalations are e-mailed (optional)
	RateLimitRPS          float64       // VISA_RATE_LIMIT_RPS: requests per second per client (0: off)
	RateLimitBurst        int           // VISA_RATE_LIMIT_BURST
	LookupsPerMinute      int           // VISA_STATUS_LOOKUPS_PER_MINUTE: public status lookups per client
	TrustedProxies        []string      // VISA_TRUSTED_PROXIES: proxies allowed to set X-Forwarded-For
	MetricsAddr           string        // VISA_METRICS_ADDR: where visad worker serves /metrics (api serves it on its own port)
	PayloadKeys           string        // VISA_PAYLOAD_KEYS: id:key[,id:key…] AES-256 keys for Temporal payloads, the first encrypts; dev default is a file in the data dir
	CodecAddr             string        // VISA_CODEC_ADDR: where `visad codec-server` listens
	CodecCORSOrigins      []string      // VISA_CODEC_CORS_ORIGIN: comma-separated Temporal Web UI origins the codec server answers
}

// Variables lists every environment variable the config reads (docs and tests check against it).
var Variables = []string{
	"VISA_DATA_DIR", "VISA_DATABASE_URL", "VISA_HTTP_ADDR", "VISA_TEMPORAL_ADDRESS",
	"VISA_TEMPORAL_NAMESPACE", "VISA_TASK_QUEUE", "VISA_WATCHLIST", "VISA_ELIGIBLE_NATIONALITIES",
	"VISA_SECRET_KEY", "VISA_LOG_LEVEL", "VISA_TEMPORAL_LOG_LEVEL", "VISA_SHUTDOWN_TIMEOUT",
	"VISA_SLA_BUSINESS_2Y", "VISA_SLA_BUSINESS_5Y_MULTI", "VISA_STP_ENABLED", "VISA_SMTP_URL", "VISA_MAIL_FROM",
	"VISA_SUPERVISOR_EMAIL", "VISA_RATE_LIMIT_RPS", "VISA_RATE_LIMIT_BURST", "VISA_STATUS_LOOKUPS_PER_MINUTE",
	"VISA_TRUSTED_PROXIES", "VISA_METRICS_ADDR", "VISA_PAYLOAD_KEYS", "VISA_CODEC_ADDR", "VISA_CODEC_CORS_ORIGIN",
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
	c.SMTPURL = os.Getenv("VISA_SMTP_URL")
	c.MailFrom = env("VISA_MAIL_FROM", "visad <no-reply@visad.local>")
	c.SupervisorEmail = os.Getenv("VISA_SUPERVISOR_EMAIL")
	c.MetricsAddr = os.Getenv("VISA_METRICS_ADDR")
	c.PayloadKeys = os.Getenv("VISA_PAYLOAD_KEYS")
	c.CodecAddr = env("VISA_CODEC_ADDR", "127.0.0.1:8089")
	corsOrigins := env("VISA_CODEC_CORS_ORIGIN", DefaultCodecCORSOrigin)
	for _, p := range strings.Split(os.Getenv("VISA_TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
	}
	var err error
	if c.RateLimitRPS, err = strconv.ParseFloat(env("VISA_RATE_LIMIT_RPS", "20"), 64); err != nil || c.RateLimitRPS < 0 {
		return c, nil, fmt.Errorf("VISA_RATE_LIMIT_RPS: want a number of requests per second (0 switches limiting off)")
	}
	if c.RateLimitBurst, err = strconv.Atoi(env("VISA_RATE_LIMIT_BURST", "40")); err != nil || c.RateLimitBurst < 1 {
		return c, nil, fmt.Errorf("VISA_RATE_LIMIT_BURST: want a positive whole number")
	}
	if c.LookupsPerMinute, err = strconv.Atoi(env("VISA_STATUS_LOOKUPS_PER_MINUTE", "10")); err != nil || c.LookupsPerMinute < 1 {
		return c, nil, fmt.Errorf("VISA_STATUS_LOOKUPS_PER_MINUTE: want a positive whole number")
	}
	for _, d := range []struct {
		key, def string
		dst      *time.Duration
	}{
		{"VISA_SHUTDOWN_TIMEOUT", "20s", &c.ShutdownTimeout},
		{"VISA_SLA_BUSINESS_2Y", "24h", &c.SLABusiness2Y},
		{"VISA_SLA_BUSINESS_5Y_MULTI", "72h", &c.SLABusiness5YMulti},
	} {
		v, err := time.ParseDuration(env(d.key, d.def))
		if err != nil || v <= 0 {
			return c, nil, fmt.Errorf("%s: want a positive duration such as %s", d.key, d.def)
		}
		*d.dst = v
	}
	stp, err := strconv.ParseBool(env("VISA_STP_ENABLED", "true"))
	if err != nil {
		return c, nil, fmt.Errorf("VISA_STP_ENABLED: want true or false")
	}
	c.STPEnabled = stp

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
	fs.DurationVar(&c.SLABusiness2Y, "sla-business-2y", c.SLABusiness2Y, "decision deadline of business_2y (VISA_SLA_BUSINESS_2Y)")
	fs.DurationVar(&c.SLABusiness5YMulti, "sla-business-5y-multi", c.SLABusiness5YMulti, "decision deadline of business_5y_multi (VISA_SLA_BUSINESS_5Y_MULTI)")
	fs.BoolVar(&c.STPEnabled, "stp", c.STPEnabled, "straight-through processing (VISA_STP_ENABLED)")
	fs.StringVar(&c.SMTPURL, "smtp-url", c.SMTPURL, "SMTP server for notifications; empty logs them (VISA_SMTP_URL)")
	fs.StringVar(&c.PayloadKeys, "payload-keys", c.PayloadKeys, "Temporal payload encryption keys id:key[,id:key…], the first encrypts (VISA_PAYLOAD_KEYS; prefer the variable: flags show in ps)")
	fs.StringVar(&c.CodecAddr, "codec-addr", c.CodecAddr, "codec-server listen address (VISA_CODEC_ADDR)")
	fs.StringVar(&corsOrigins, "codec-cors-origin", corsOrigins, "codec-server: comma-separated Temporal Web UI origins allowed by CORS (VISA_CODEC_CORS_ORIGIN)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "graceful shutdown limit (VISA_SHUTDOWN_TIMEOUT)")
	for _, register := range extra {
		register(fs)
	}
	if err := fs.Parse(args); err != nil {
		return c, fs, err
	}
	c.EligibleNationalities = splitList(*nationalities)
	c.CodecCORSOrigins = nil
	for _, o := range strings.Split(corsOrigins, ",") {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			c.CodecCORSOrigins = append(c.CodecCORSOrigins, o)
		}
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = filepath.Join(c.DataDir, "visad.db")
	}
	return c, fs, nil
}

// SLA maps product codes to their configured decision deadline.
func (c Config) SLA() map[string]time.Duration {
	return map[string]time.Duration{"business_2y": c.SLABusiness2Y, "business_5y_multi": c.SLABusiness5YMulti}
}

// SecretFile is where dev mode keeps a generated secret when VISA_SECRET_KEY is unset.
func (c Config) SecretFile() string { return filepath.Join(c.DataDir, "secret.key") }

// PayloadKeysFile is where dev mode keeps generated payload keys when VISA_PAYLOAD_KEYS is unset.
func (c Config) PayloadKeysFile() string { return filepath.Join(c.DataDir, "payload.keys") }

// DefaultCodecCORSOrigin is the Temporal Web UI of `temporal server start-dev`
// (port 8233), under both names a browser may use for it.
const DefaultCodecCORSOrigin = "http://localhost:8233,http://127.0.0.1:8233"

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
