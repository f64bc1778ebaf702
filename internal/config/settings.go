package config

import "time"

// Setting is one row of the configuration table.
type Setting struct {
	Env        string // the environment variable, VISA_…
	Flag       string // the flag, without dashes; "" for none (a flag shows in ps)
	Default    string // as it would be written in the variable; "" for none
	DocDefault string // the default as the docs and -h describe it, when it is not a plain value
	Help       string // one line: -h and the start of the docs' meaning
	Doc        string // more, for the docs only
	Secret     bool   // never echoed in an error
	field      field  // the Config field it sets, and how its text is checked
}

// Settings is the configuration table: every setting visad reads, once.
// docs/configuration.md is generated from it (go generate ./internal/config).
var Settings = []Setting{
	{
		Env: "VISA_DATA_DIR", Flag: "data-dir", Default: "./data",
		Help: "directory for dev-mode state",
		Doc: "It holds `temporal.db` and `temporal-visibility.db` (each plus `-wal`/`-shm`), `temporal.db.ports.json`, " +
			"`temporal.log`, `secret.key`, `payload.keys`. It is also where the default SQLite app database lives.",
		field: to(filePath, func(c *Config) *string { return &c.DataDir }),
	},
	{
		Env: "VISA_DATABASE_URL", Flag: "database-url", DocDefault: "`<data-dir>/visad.db`", Secret: true,
		Help: "app database: a SQLite file path or a postgres:// URL",
		Doc: "A SQLite path may start with `sqlite://` or `file:`; " +
			"PostgreSQL takes `postgres://` or `postgresql://`.",
		field: to(databaseURL, func(c *Config) *string { return &c.DatabaseURL }),
	},
	{
		Env: "VISA_HTTP_ADDR", Flag: "http-addr", Default: "127.0.0.1:8080",
		Help:  "API listen address",
		Doc:   "`api` and `dev` also serve `/metrics` here.",
		field: to(address, func(c *Config) *string { return &c.HTTPAddr }),
	},
	{
		Env: "VISA_TEMPORAL_ADDRESS", Flag: "temporal-address", Default: "127.0.0.1:7233",
		Help:  "Temporal frontend: where dev's embedded server listens, or the one api and worker dial",
		Doc:   "In `dev`, port `0` picks a free port.",
		field: to(address, func(c *Config) *string { return &c.TemporalAddress }),
	},
	{
		Env: "VISA_TEMPORAL_NAMESPACE", Flag: "namespace", Default: "default",
		Help:  "Temporal namespace",
		Doc:   "`dev` registers it; in production it must already exist.",
		field: to(anyText, func(c *Config) *string { return &c.Namespace }),
	},
	{
		Env: "VISA_TASK_QUEUE", Flag: "task-queue", Default: "visad-applications",
		Help:  "Temporal task queue the workflows run on",
		field: to(anyText, func(c *Config) *string { return &c.TaskQueue }),
	},
	{
		Env: "VISA_WATCHLIST", Flag: "watchlist",
		Help: "screening watchlist CSV; required while straight-through processing is on",
		DocDefault: "`dev`: `<data-dir>/sample-watchlist.csv`, a small invented sample list; " +
			"`worker`: none (without one every screening is clear)",
		Doc: "Header `surname,given_names,date_of_birth`. The date may be empty, which matches any birth date. " +
			"Names are compared after normalisation (case, diacritics, word order). " +
			"The file is re-read when it changes. A worker with `VISA_STP_ENABLED=true` and no watchlist, " +
			"or one without entries, refuses to start.",
		field: to(filePath, func(c *Config) *string { return &c.Watchlist }),
	},
	{
		Env: "VISA_ELIGIBLE_NATIONALITIES", Flag: "eligible-nationalities", Default: "KAZ",
		Help:  "nationalities allowed to apply",
		Doc:   "Read by both the API and the worker, so set it the same on both.",
		field: to(countryList, func(c *Config) *[]string { return &c.EligibleNationalities }),
	},
	{
		Env: "VISA_SECRET_KEY", Secret: true,
		DocDefault: "`dev`: `<data-dir>/secret.key`, generated on first use; `api` and `worker`: required",
		Help:       "server secret; every key of the app database is derived from it",
		Doc:        "No flag, because a flag shows in `ps`. The same value on every `api` and `worker` process.",
		field:      to(serverSecret, func(c *Config) *string { return &c.SecretKey }),
	},
	{
		Env: "VISA_PAYLOAD_KEYS", Flag: "payload-keys", Secret: true,
		DocDefault: "`dev`: `<data-dir>/payload.keys`, generated on first use; `api` and `worker`: required",
		Help:       "Temporal payload encryption keys; the first encrypts, every one decrypts",
		Doc: "Key ids are letters, digits, `.`, `_`, `-`. The same keys on every `api`, `worker` and " +
			"`codec-server` process. Prefer the variable: a flag shows in `ps`.",
		field: to(payloadKeys, func(c *Config) *string { return &c.PayloadKeys }),
	},
	{
		Env: "VISA_SLA_BUSINESS_2Y", Flag: "sla-business-2y", Default: "24h",
		Help:  "decision deadline of business_2y",
		Doc:   "Set it the same on API and worker processes; it applies to cases submitted from then on.",
		field: to(positiveDuration, func(c *Config) *time.Duration { return &c.SLABusiness2Y }),
	},
	{
		Env: "VISA_SLA_BUSINESS_5Y_MULTI", Flag: "sla-business-5y-multi", Default: "72h",
		Help:  "decision deadline of business_5y_multi",
		field: to(positiveDuration, func(c *Config) *time.Duration { return &c.SLABusiness5YMulti }),
	},
	{
		Env: "VISA_STP_ENABLED", Flag: "stp", Default: "true",
		Help: "straight-through processing of two-year cases of active chamber members",
		Doc: "`false` (or `--stp=false`) sends every case to an officer. On, it needs `VISA_WATCHLIST` " +
			"([case-handling.md](case-handling.md#straight-through-processing)).",
		field: to(trueFalse, func(c *Config) *bool { return &c.STPEnabled }),
	},
	{
		Env: "VISA_CHAMBER_ROWS_PER_DAY", Flag: "chamber-rows-per-day", Default: "20000",
		Help: "batch rows one chamber may post per UTC day",
		Doc: "A batch that does not fit in what is left of the day is refused whole: `429` with " +
			"`Retry-After` (until midnight UTC) and code `chamber_quota_exceeded` ([chambers.md](chambers.md)).",
		field: to(positiveInt, func(c *Config) *int { return &c.ChamberRowsPerDay }),
	},
	{
		Env: "VISA_CHAMBER_TOKEN_TTL", Flag: "chamber-token-ttl", Default: "2160h",
		Help: "lifetime of a chamber account's token, from its creation or rotation",
		Doc: "`visad chambers rotate-token --id chb_…` or `POST /v1/chambers/{id}/token` (admin) issue a new " +
			"token; the old one stops working at once.",
		field: to(positiveDuration, func(c *Config) *time.Duration { return &c.ChamberTokenTTL }),
	},
	{
		Env: "VISA_SMTP_URL", Flag: "smtp-url", Secret: true,
		Help:  "SMTP server for notifications; without one e-mails are logged, not sent",
		Doc:   "STARTTLS is used when the server offers it.",
		field: to(smtpURL, func(c *Config) *string { return &c.SMTPURL }),
	},
	{
		Env: "VISA_MAIL_FROM", Flag: "mail-from", Default: "visad <no-reply@visad.local>",
		Help:  "sender of notification e-mails",
		field: to(mailAddress, func(c *Config) *string { return &c.MailFrom }),
	},
	{
		Env: "VISA_SUPERVISOR_EMAIL", Flag: "supervisor-email",
		Help:  "where escalations are e-mailed; without one they are only logged",
		field: to(mailAddress, func(c *Config) *string { return &c.SupervisorEmail }),
	},
	{
		Env: "VISA_SEAL_CA_CERT", Flag: "seal-ca-cert",
		DocDefault: "`dev` and `worker`/`api` with a data directory: `<data-dir>/seal/`, generated on first use",
		Help:       "PEM file of the country signing CA certificate that issues the e-visa seal signers",
		Doc: "With `VISA_SEAL_SIGNER_CERT` and `VISA_SEAL_SIGNER_KEY`, the production seal PKI " +
			"([evisa.md](evisa.md#the-pki)); set all three or none, the same on every `api` and `worker` process. " +
			"Without them `api` and `worker` fall back to a development PKI in `VISA_DATA_DIR`, and only " +
			"when that directory is set explicitly.",
		field: to(filePath, func(c *Config) *string { return &c.SealCACert }),
	},
	{
		Env: "VISA_SEAL_SIGNER_CERT", Flag: "seal-signer-cert",
		Help:  "PEM file of the active document signer's certificate (signs new e-visa seals)",
		field: to(filePath, func(c *Config) *string { return &c.SealSignerCert }),
	},
	{
		Env: "VISA_SEAL_SIGNER_KEY", Flag: "seal-signer-key",
		Help:  "PEM file (PKCS#8, mode 0600) of the active document signer's ECDSA private key",
		Doc:   "A path, not the key: the file's content is never logged.",
		field: to(filePath, func(c *Config) *string { return &c.SealSignerKey }),
	},
	{
		Env: "VISA_SEAL_RETIRED_CERTS", Flag: "seal-retired-certs",
		Help: "comma-separated PEM files of earlier signer certificates, still published so their seals verify",
		Doc: "`visad seal init` writes `retired.pem` (a file without certificates is an empty list) and " +
			"`--rotate` appends the old signer to it ([evisa.md](evisa.md#rotating-the-document-signer)).",
		field: to(pathList, func(c *Config) *[]string { return &c.SealRetiredCerts }),
	},
	{
		Env: "VISA_PUBLIC_URL", Flag: "public-url", Default: "http://127.0.0.1:8080",
		Help:  "public base URL of the API, for the check link printed as a QR code on e-visas",
		Doc:   "The PDF links to `<public-url>/check`. Set it in production to the address travellers reach.",
		field: to(publicURL, func(c *Config) *string { return &c.PublicURL }),
	},
	{
		Env: "VISA_RATE_LIMIT_RPS", Flag: "rate-limit-rps", Default: "20",
		Help:  "requests per second per client on /v1/… (0: no limit)",
		field: to(perSecond, func(c *Config) *float64 { return &c.RateLimitRPS }),
	},
	{
		Env: "VISA_RATE_LIMIT_BURST", Flag: "rate-limit-burst", Default: "40",
		Help:  "burst size of the per-client rate limit",
		field: to(positiveInt, func(c *Config) *int { return &c.RateLimitBurst }),
	},
	{
		Env: "VISA_STATUS_LOOKUPS_PER_MINUTE", Flag: "status-lookups-per-minute", Default: "10",
		Help:  "public status lookups per client per minute",
		field: to(positiveInt, func(c *Config) *int { return &c.LookupsPerMinute }),
	},
	{
		Env: "VISA_TRUSTED_PROXIES", Flag: "trusted-proxies",
		Help: "proxies whose X-Forwarded-For or X-Real-IP names the client",
		Doc: "Used for rate limiting. Without any, the peer address is the client, so clients cannot spoof " +
			"their address.",
		field: to(ipOrCIDRList, func(c *Config) *[]string { return &c.TrustedProxies }),
	},
	{
		Env: "VISA_METRICS_ADDR", Flag: "metrics-addr",
		Help:  "where a worker serves its Prometheus metrics; without it, none",
		Doc:   "`api` and `dev` serve `/metrics` on the API address instead.",
		field: to(address, func(c *Config) *string { return &c.MetricsAddr }),
	},
	{
		Env: "VISA_CODEC_ADDR", Flag: "codec-addr", Default: "127.0.0.1:8089",
		Help:  "where visad codec-server listens",
		field: to(address, func(c *Config) *string { return &c.CodecAddr }),
	},
	{
		Env: "VISA_CODEC_CORS_ORIGIN", Flag: "codec-cors-origin", Default: DefaultCodecCORSOrigin,
		Help: "Temporal Web UI origins the codec server answers",
		Doc: "The default is the UI of `temporal server start-dev`; for the compose stack's UI use " +
			"`http://localhost:8088`. A request from another origin gets `403`.",
		field: to(webOrigins, func(c *Config) *[]string { return &c.CodecCORSOrigins }),
	},
	{
		Env: "VISA_LOG_LEVEL", Flag: "log-level", Default: "info",
		Help:  "log level",
		Doc:   "`dev` logs text to stderr; `api`, `worker` and `codec-server` log JSON.",
		field: to(logLevel, func(c *Config) *string { return &c.LogLevel }),
	},
	{
		Env: "VISA_TEMPORAL_LOG_LEVEL", Flag: "temporal-log-level", Default: "warn",
		Help:  "log level of dev's embedded Temporal server",
		Doc:   "Its log goes to `<data-dir>/temporal.log`.",
		field: to(temporalLogLevel, func(c *Config) *string { return &c.TemporalLogLevel }),
	},
	{
		Env: "VISA_SHUTDOWN_TIMEOUT", Flag: "shutdown-timeout", Default: "20s",
		Help:  "how long the API and the codec server may take to drain on shutdown",
		field: to(positiveDuration, func(c *Config) *time.Duration { return &c.ShutdownTimeout }),
	},
}

// DefaultCodecCORSOrigin is the Temporal Web UI of `temporal server start-dev`
// (port 8233), under both names a browser may use for it.
const DefaultCodecCORSOrigin = "http://localhost:8233,http://127.0.0.1:8233"

// Groups of settings that go together, for Commands.
var (
	// storage: every command that opens the app database.
	storage = []string{"VISA_DATA_DIR", "VISA_DATABASE_URL"}
	// services: what app.NewServices needs besides storage (api, worker, dev).
	services = []string{"VISA_TEMPORAL_ADDRESS", "VISA_TEMPORAL_NAMESPACE", "VISA_TASK_QUEUE", "VISA_PAYLOAD_KEYS",
		"VISA_SECRET_KEY", "VISA_ELIGIBLE_NATIONALITIES", "VISA_SLA_BUSINESS_2Y", "VISA_SLA_BUSINESS_5Y_MULTI"}
	// serving: the HTTP API (api, dev).
	serving = []string{"VISA_HTTP_ADDR", "VISA_RATE_LIMIT_RPS", "VISA_RATE_LIMIT_BURST",
		"VISA_STATUS_LOOKUPS_PER_MINUTE", "VISA_TRUSTED_PROXIES", "VISA_SHUTDOWN_TIMEOUT",
		"VISA_CHAMBER_ROWS_PER_DAY", "VISA_CHAMBER_TOKEN_TTL"}
	// working: the worker's activities and notification dispatcher (worker, dev).
	working = []string{"VISA_WATCHLIST", "VISA_STP_ENABLED", "VISA_SMTP_URL", "VISA_MAIL_FROM", "VISA_SUPERVISOR_EMAIL"}
	logging = []string{"VISA_LOG_LEVEL"}
	// sealing: the e-visa seal PKI (api, worker, dev).
	sealing = []string{"VISA_SEAL_CA_CERT", "VISA_SEAL_SIGNER_CERT", "VISA_SEAL_SIGNER_KEY", "VISA_SEAL_RETIRED_CERTS"}
)

// Command is a visad command and the settings it reads.
type Command struct {
	Name     string   // the first word after visad
	Settings []string // their variables
}

// Commands declares, for each visad command, the settings it reads. Load
// reads only these, so a variable meant for another process (one shared
// environment for the whole stack) cannot stop a command that ignores it.
var Commands = []Command{
	{"dev", join(storage, logging, services, serving, working, sealing,
		[]string{"VISA_PUBLIC_URL", "VISA_TEMPORAL_LOG_LEVEL"})},
	{"api", join(storage, logging, services, serving, sealing, []string{"VISA_PUBLIC_URL"})},
	{"worker", join(storage, logging, services, working, sealing, []string{"VISA_METRICS_ADDR"})},
	{"migrate", storage},
	{"users", storage},
	{"chambers", join(storage, []string{"VISA_SECRET_KEY", "VISA_CHAMBER_TOKEN_TTL"})},
	{"sample-batch", nil},
	{"codec-server", join(storage, logging,
		[]string{"VISA_PAYLOAD_KEYS", "VISA_CODEC_ADDR", "VISA_CODEC_CORS_ORIGIN", "VISA_SHUTDOWN_TIMEOUT"})},
	{"audit", storage},
	{"seal", []string{"VISA_DATA_DIR"}}, // verify without --certs: the development PKI's certificates
}

func join(groups ...[]string) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}
