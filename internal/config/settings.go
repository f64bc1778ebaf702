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
			"`temporal.log`, `keys.env`, `payload.keys`, `action.keys` (and `secret.key` if an older `dev` wrote one). " +
			"It is also where the default SQLite app database lives.",
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
		Doc:   "It serves the API only; `/metrics` is on `VISA_METRICS_ADDR`.",
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
		Env: "VISA_TEMPORAL_TLS", Flag: "temporal-tls", Default: "false",
		Help: "connect to Temporal over TLS, trusting the system's CAs (or VISA_TEMPORAL_TLS_CA)",
		Doc: "Any of `VISA_TEMPORAL_TLS_CA`, `_CERT`, `_KEY`, `_SERVER_NAME` or `VISA_TEMPORAL_API_KEY` switches " +
			"TLS on as well.",
		field: to(trueFalse, func(c *Config) *bool { return &c.TemporalTLS }),
	},
	{
		Env: "VISA_TEMPORAL_TLS_CA", Flag: "temporal-tls-ca",
		Help:  "PEM file of the CA that issued the Temporal frontend's certificate",
		Doc:   "Without it the system's CAs are trusted.",
		field: to(filePath, func(c *Config) *string { return &c.TemporalTLSCA }),
	},
	{
		Env: "VISA_TEMPORAL_TLS_CERT", Flag: "temporal-tls-cert",
		Help:  "PEM file of this process's client certificate, for mutual TLS to Temporal",
		Doc:   "Set it with `VISA_TEMPORAL_TLS_KEY`.",
		field: to(filePath, func(c *Config) *string { return &c.TemporalTLSCert }),
	},
	{
		Env: "VISA_TEMPORAL_TLS_KEY", Flag: "temporal-tls-key",
		Help:  "PEM file of the client certificate's private key (mode 0600)",
		Doc:   "A path, not the key: the file's content is never logged.",
		field: to(filePath, func(c *Config) *string { return &c.TemporalTLSKey }),
	},
	{
		Env: "VISA_TEMPORAL_TLS_SERVER_NAME", Flag: "temporal-tls-server-name",
		Help:  "the name the Temporal frontend's certificate must carry, when it is not the address's host",
		field: to(anyText, func(c *Config) *string { return &c.TemporalTLSServerName }),
	},
	{
		Env: "VISA_TEMPORAL_API_KEY", Secret: true,
		Help:  "API key sent to Temporal as `Authorization: Bearer …` (e.g. Temporal Cloud); implies TLS",
		Doc:   "No flag, because a flag shows in `ps`.",
		field: to(anyText, func(c *Config) *string { return &c.TemporalAPIKey }),
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
		DocDefault: "`dev`: `<data-dir>/secret.key` if an older `dev` wrote one",
		Help:       "legacy server secret: derives any of the four keys below that is not set",
		Doc: "Its derived keys carry the key id `legacy`; values sealed before sealed values named their key " +
			"open with its sealing key. Set it while data it sealed remains (`visad keys rotate` re-seals that " +
			"under `VISA_SEALING_KEYS`), and as long as `VISA_INDEX_KEY` is unset (the blind index cannot be " +
			"re-keyed). New deployments set the four keys instead. No flag, because a flag shows in `ps`. " +
			"See [security.md](security.md#key-management-and-rotation).",
		field: to(serverSecret, func(c *Config) *string { return &c.SecretKey }),
	},
	{
		Env: "VISA_SEALING_KEYS", Secret: true,
		DocDefault: "`dev`: `<data-dir>/keys.env`, generated on first use; `api` and `worker`: required " +
			"(or `VISA_SECRET_KEY`)",
		Help: "keys that seal personal data at rest (forms, timeline details, rosters, notes): id:key[,id:key…]; " +
			"the first seals, every one opens",
		Doc: "Each key 32 bytes as hex or base64; ids are letters, digits, `_`, `-`. Put a new key first to " +
			"rotate, run `visad keys rotate`, then drop the old one ([operations.md](operations.md#rotating-keys)).",
		field: to(keyList("sealing"), func(c *Config) *string { return &c.SealingKeys }),
	},
	{
		Env: "VISA_INDEX_KEY", Secret: true,
		DocDefault: "`dev`: `<data-dir>/keys.env`; `api` and `worker`: required (or `VISA_SECRET_KEY`)",
		Help:       "key of the blind indexes (keyed hashes of passport numbers for lookup and rosters)",
		Doc: "32 bytes as hex or base64. It cannot be rotated: rosters keep only the hashes. " +
			"The same on every `api` and `worker` process.",
		field: to(indexKey, func(c *Config) *string { return &c.IndexKey }),
	},
	{
		Env: "VISA_TOKEN_KEYS", Secret: true,
		DocDefault: "`dev`: `<data-dir>/keys.env`; `api` and `worker`: required (or `VISA_SECRET_KEY`)",
		Help:       "keys of applicants' access tokens: id:key[,id:key…]; the first issues, every one verifies",
		Doc: "Tokens are derived, not stored: while an old key is listed, its tokens keep working; " +
			"dropping it ends them.",
		field: to(keyList("token"), func(c *Config) *string { return &c.TokenKeys }),
	},
	{
		Env: "VISA_AUDIT_KEYS", Secret: true,
		DocDefault: "`dev`: `<data-dir>/keys.env`; `api`, `worker` and admin commands: required " +
			"(or `VISA_SECRET_KEY`)",
		Help: "keys of the audit trail's HMAC chain: id:key[,id:key…]; the first keys new entries, " +
			"`visad audit verify` needs every key entries name",
		Doc: "Keep them outside the database and away from its administrators: whoever holds an audit key " +
			"and can write the database can rewrite the trail undetected.",
		field: to(keyList("audit"), func(c *Config) *string { return &c.AuditKeys }),
	},
	{
		Env: "VISA_APPLICANT_TOKEN_TTL_AFTER_CLOSE", Flag: "applicant-token-ttl-after-close", Default: "2160h",
		DocDefault: "`2160h` (90 days)",
		Help:       "how long an applicant's access token works after the case closed",
		Doc:        "After that the token gets `401`. Staff still see the case.",
		field:      to(positiveDuration, func(c *Config) *time.Duration { return &c.ApplicantTokenTTL }),
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
		Env: "VISA_ACTION_KEYS", Secret: true,
		DocDefault: "`dev`: `<data-dir>/action.keys`, generated on first use; `api` and `worker`: required",
		Help:       "action signing keys: the API signs every human action it relays to a workflow, the worker checks",
		Doc: "`id:key[,id:key…]`, each key at least 32 bytes hex or base64 (e.g. `a1:$(openssl rand -hex 32)`); " +
			"the first signs, every one verifies. Only `api` and `worker` processes hold them, never " +
			"`codec-server` or the Temporal server: with the payload keys alone nobody can decide, claim or " +
			"withdraw in anybody's name. No flag, because a flag shows in `ps`.",
		field: to(actionKeys, func(c *Config) *string { return &c.ActionKeys }),
	},
	{
		Env: "VISA_CODEC_ALLOW_PLAINTEXT_READS", Flag: "codec-allow-plaintext-reads", Default: "false",
		Help: "let api and worker read unencrypted Temporal payloads (histories from before encryption)",
		Doc: "Off, a payload visad did not encrypt is refused (a forged update sent straight to Temporal fails " +
			"to decode). Writes are always encrypted. Switch it on only while old unencrypted histories are open.",
		field: to(trueFalse, func(c *Config) *bool { return &c.CodecAllowPlaintextReads }),
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
		Env: "VISA_METRICS_ADDR", Flag: "metrics-addr", Default: "127.0.0.1:9090",
		Help: "where `api`, `worker` and `dev` serve Prometheus `/metrics`, apart from the API",
		Doc: "Loopback by default: metrics name routes, volumes and the runtime, so keep them off the public " +
			"network (bind the scrape network's address, never the API's). Two processes on one host need two " +
			"addresses.",
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
	{
		Env: "VISA_DOCUMENTS_STORE", Flag: "documents-store", Default: "fs",
		Help: "where supporting documents are kept, encrypted: fs (a directory) or s3 (an S3-compatible bucket)",
		Doc: "Either way each document is encrypted with its own key, wrapped by `VISA_PAYLOAD_KEYS`, and named " +
			"by a keyed hash of its content ([documents.md](documents.md)). Every `api` and `worker` process " +
			"must reach the same store: `fs` suits `dev` and a single host.",
		field: to(oneOf("fs", "s3"), func(c *Config) *string { return &c.DocumentsStore }),
	},
	{
		Env: "VISA_DOCUMENTS_DIR", Flag: "documents-dir", DocDefault: "`<data-dir>/documents`",
		Help:  "the directory of the fs document store",
		field: to(filePath, func(c *Config) *string { return &c.DocumentsDir }),
	},
	{
		Env: "VISA_S3_ENDPOINT", Flag: "s3-endpoint",
		Help:  "URL of the S3-compatible object store, e.g. http://objectstore:7070 (empty: AWS S3)",
		Doc:   "Objects are addressed by path (`<endpoint>/<bucket>/<key>`), which every S3-compatible store takes.",
		field: to(anyText, func(c *Config) *string { return &c.S3Endpoint }),
	},
	{
		Env: "VISA_S3_REGION", Flag: "s3-region", Default: "us-east-1",
		Help:  "region of the S3 bucket",
		field: to(anyText, func(c *Config) *string { return &c.S3Region }),
	},
	{
		Env: "VISA_S3_BUCKET", Flag: "s3-bucket",
		Help:  "bucket of the s3 document store (required with VISA_DOCUMENTS_STORE=s3)",
		Doc:   "It must exist; `dev` creates it.",
		field: to(anyText, func(c *Config) *string { return &c.S3Bucket }),
	},
	{
		Env:   "VISA_S3_ACCESS_KEY_ID",
		Help:  "access key id of the s3 document store",
		field: to(anyText, func(c *Config) *string { return &c.S3AccessKeyID }),
	},
	{
		Env: "VISA_S3_SECRET_ACCESS_KEY", Secret: true,
		Help:  "secret access key of the s3 document store",
		Doc:   "No flag, because a flag shows in `ps`.",
		field: to(anyText, func(c *Config) *string { return &c.S3SecretAccessKey }),
	},
	{
		Env: "VISA_UPLOAD_TTL", Flag: "upload-ttl", Default: "24h",
		Help: "how long an upload that no application names is kept",
		Doc: "The worker's sweeper deletes it (and its blob, unless another document shares it) after that. " +
			"A chamber's batch that names it keeps it for this long again from when the batch is posted.",
		field: to(positiveDuration, func(c *Config) *time.Duration { return &c.UploadTTL }),
	},
	{
		Env: "VISA_DOCUMENT_RETENTION", Flag: "document-retention", Default: "8760h",
		Help:  "how long a closed case keeps its documents",
		Doc:   "Counted from the case's last change (its closing); then the worker's sweeper deletes them.",
		field: to(positiveDuration, func(c *Config) *time.Duration { return &c.DocumentRetention }),
	},
	{
		Env: "VISA_DOCUMENT_SWEEP_INTERVAL", Flag: "document-sweep-interval", Default: "1m",
		Help: "how often the worker's sweeper deletes expired uploads and documents past retention",
		Doc: "An unattached upload is therefore gone at most this long after `VISA_UPLOAD_TTL`. " +
			"The chaos run shortens it to see the sweeper work within minutes.",
		field: to(positiveDuration, func(c *Config) *time.Duration { return &c.DocumentSweepInterval }),
	},
	{
		Env: "VISA_DEV_UI_ADDR", Flag: "dev-ui-addr", Default: "127.0.0.1:8233",
		Help: "where `dev` serves the Temporal Web UI, decrypting payloads with the dev keys; empty: no UI",
		Doc: "The UI reads the embedded Temporal server and decodes payloads through its own `/codec` endpoint, " +
			"which answers only a browser that opened the unlock link the dev banner prints. Loopback only: " +
			"anyone who reaches it can act on workflows.",
		field: to(optionalAddress, func(c *Config) *string { return &c.DevUIAddr }),
	},
	{
		Env: "VISA_DOCUMENTS_REQUIRED", Flag: "documents-required", Default: "true",
		Help: "enforce each product's checklist of supporting documents",
		Doc: "On, the applicant portal does not send a form without its required documents, and a case " +
			"without them (sent through the API) asks for them at once (a request for information, the " +
			"decision clock paused) and is neither processed straight through nor approved until they " +
			"arrive. `false` turns enforcement off for integrators who are migrating " +
			"([documents.md](documents.md#completeness)). Set it the same on API and worker processes.",
		field: to(trueFalse, func(c *Config) *bool { return &c.DocumentsRequired }),
	},
	{
		Env: "VISA_STAFF_SESSION_IDLE", Flag: "staff-session-idle", Default: "30m",
		Help: "a console session unused this long ends (staff and chamber sign-in)",
		Doc: "The person signs in again, with password and code ([consoles.md](consoles.md#signing-in)). " +
			"Bearer tokens for the API are not sessions and are not affected.",
		field: to(positiveDuration, func(c *Config) *time.Duration { return &c.StaffSessionIdle }),
	},
	{
		Env: "VISA_STAFF_SESSION_MAX", Flag: "staff-session-max", Default: "12h",
		Help:  "a console session ends this long after sign-in, however busy",
		field: to(positiveDuration, func(c *Config) *time.Duration { return &c.StaffSessionMax }),
	},
	{
		Env: "VISA_STAFF_LOCKOUT", Flag: "staff-lockout", Default: "15m",
		Help: "how long ten failed sign-ins in a row lock a console account",
		Doc: "A wrong password and a wrong code both count; so does a wrong current password on a second-factor " +
			"reset. Every failure is in the audit trail (account id and reason, never the name typed).",
		field: to(positiveDuration, func(c *Config) *time.Duration { return &c.StaffLockout }),
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
	services = join([]string{"VISA_TEMPORAL_ADDRESS", "VISA_TEMPORAL_NAMESPACE", "VISA_TASK_QUEUE",
		"VISA_PAYLOAD_KEYS", "VISA_ELIGIBLE_NATIONALITIES", "VISA_SLA_BUSINESS_2Y", "VISA_SLA_BUSINESS_5Y_MULTI",
		"VISA_APPLICANT_TOKEN_TTL_AFTER_CLOSE", "VISA_ACTION_KEYS", "VISA_CODEC_ALLOW_PLAINTEXT_READS",
		"VISA_TEMPORAL_TLS", "VISA_TEMPORAL_TLS_CA", "VISA_TEMPORAL_TLS_CERT", "VISA_TEMPORAL_TLS_KEY",
		"VISA_TEMPORAL_TLS_SERVER_NAME", "VISA_TEMPORAL_API_KEY"}, appKeys, documentStore)
	// appKeys: the keys of the app database (sealing, blind index, tokens, audit chain).
	appKeys = []string{"VISA_SECRET_KEY", "VISA_SEALING_KEYS", "VISA_INDEX_KEY", "VISA_TOKEN_KEYS",
		"VISA_AUDIT_KEYS"}
	// serving: the HTTP API (api, dev).
	serving = []string{"VISA_HTTP_ADDR", "VISA_METRICS_ADDR", "VISA_RATE_LIMIT_RPS", "VISA_RATE_LIMIT_BURST",
		"VISA_STATUS_LOOKUPS_PER_MINUTE", "VISA_TRUSTED_PROXIES", "VISA_SHUTDOWN_TIMEOUT",
		"VISA_CHAMBER_ROWS_PER_DAY", "VISA_CHAMBER_TOKEN_TTL",
		"VISA_STAFF_SESSION_IDLE", "VISA_STAFF_SESSION_MAX", "VISA_STAFF_LOCKOUT"}
	// working: the worker's activities and notification dispatcher (worker, dev).
	working = []string{"VISA_WATCHLIST", "VISA_STP_ENABLED", "VISA_SMTP_URL", "VISA_MAIL_FROM", "VISA_SUPERVISOR_EMAIL"}
	logging = []string{"VISA_LOG_LEVEL"}
	// documentStore: where supporting documents are kept, and for how long (api, worker, dev).
	documentStore = []string{"VISA_DOCUMENTS_STORE", "VISA_DOCUMENTS_DIR", "VISA_S3_ENDPOINT", "VISA_S3_REGION",
		"VISA_S3_BUCKET", "VISA_S3_ACCESS_KEY_ID", "VISA_S3_SECRET_ACCESS_KEY", "VISA_UPLOAD_TTL",
		"VISA_DOCUMENT_RETENTION", "VISA_DOCUMENT_SWEEP_INTERVAL"}
	// sealing: the e-visa seal PKI (api, worker, dev).
	sealing = []string{"VISA_SEAL_CA_CERT", "VISA_SEAL_SIGNER_CERT", "VISA_SEAL_SIGNER_KEY", "VISA_SEAL_RETIRED_CERTS"}
	// documentPolicy: the document checklist's enforcement (api, worker, dev).
	documentPolicy = []string{"VISA_DOCUMENTS_REQUIRED"}
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
		[]string{"VISA_PUBLIC_URL", "VISA_TEMPORAL_LOG_LEVEL", "VISA_DEV_UI_ADDR"}, documentPolicy)},
	{"api", join(storage, logging, services, serving, sealing, []string{"VISA_PUBLIC_URL"}, documentPolicy)},
	{"worker", join(storage, logging, services, working, sealing, []string{"VISA_METRICS_ADDR"}, documentPolicy)},
	{"migrate", storage},
	{"users", join(storage, appKeys, []string{"VISA_PUBLIC_URL"})},
	{"chambers", join(storage, appKeys, []string{"VISA_CHAMBER_TOKEN_TTL"})},
	{"sample-batch", nil},
	{"sample-documents", nil},
	{"codec-server", join(storage, logging,
		[]string{"VISA_PAYLOAD_KEYS", "VISA_CODEC_ADDR", "VISA_CODEC_CORS_ORIGIN", "VISA_SHUTDOWN_TIMEOUT"})},
	{"audit", join(storage, appKeys)},
	{"keys", join(storage, appKeys)},
	{"seal", []string{"VISA_DATA_DIR"}}, // verify without --certs: the development PKI's certificates
	{"plan", []string{"VISA_SLA_BUSINESS_2Y", "VISA_SLA_BUSINESS_5Y_MULTI"}},
	{"simulate", join(logging, []string{"VISA_SLA_BUSINESS_2Y", "VISA_SLA_BUSINESS_5Y_MULTI", "VISA_TEMPORAL_LOG_LEVEL"})},
}

func join(groups ...[]string) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}
