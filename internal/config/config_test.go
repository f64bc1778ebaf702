package config

import (
	"bytes"
	"flag"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// isolate unsets every VISA_* variable for the test (an empty variable counts as unset).
func isolate(t *testing.T) {
	t.Helper()
	for _, env := range Variables {
		t.Setenv(env, "")
	}
}

const (
	secretHex  = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	payloadKey = "k1:" + secretHex
)

func TestDefaults(t *testing.T) {
	want := Config{
		DataDir: "./data", DatabaseURL: "data/visad.db", HTTPAddr: "127.0.0.1:8080",
		TemporalAddress: "127.0.0.1:7233", Namespace: "default", TaskQueue: "visad-applications",
		EligibleNationalities: []string{"KAZ"}, LogLevel: "info", TemporalLogLevel: "warn",
		ShutdownTimeout: 20 * time.Second, SLABusiness2Y: 24 * time.Hour, SLABusiness5YMulti: 72 * time.Hour,
		STPEnabled: true, ChamberRowsPerDay: 20000, ChamberTokenTTL: 2160 * time.Hour,
		MailFrom: "visad <no-reply@visad.local>", RateLimitRPS: 20, RateLimitBurst: 40,
		LookupsPerMinute: 10, CodecAddr: "127.0.0.1:8089", MetricsAddr: "127.0.0.1:9090",
		CodecCORSOrigins: []string{"http://localhost:8233", "http://127.0.0.1:8233"},
		PublicURL:        "http://127.0.0.1:8080", ApplicantTokenTTL: 90 * 24 * time.Hour,
		DocumentsStore: "fs", DocumentsDir: "data/documents", S3Region: "us-east-1", UploadTTL: 24 * time.Hour,
		DocumentRetention: 365 * 24 * time.Hour,
		DevUIAddr:         "127.0.0.1:8233", DocumentsRequired: true,
		StaffSessionIdle: 30 * time.Minute, StaffSessionMax: 12 * time.Hour, StaffLockout: 15 * time.Minute,
	}
	want.DocumentSweepInterval = time.Minute
	if got := Defaults(); !reflect.DeepEqual(got, want) {
		t.Errorf("Defaults() =\n%+v\nwant\n%+v", got, want)
	}
	isolate(t)
	for _, c := range Commands {
		cfg, _, err := Load(c.Name, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if !reflect.DeepEqual(cfg, want) {
			t.Errorf("Load(%q) without variables or flags =\n%+v\nwant the defaults", c.Name, cfg)
		}
	}
}

// A valid value other than the default for every setting.
var samples = map[string]string{
	"VISA_DATA_DIR": "/var/lib/visad", "VISA_DATABASE_URL": "postgres://u:p@db:5432/visad",
	"VISA_HTTP_ADDR": "0.0.0.0:9090", "VISA_TEMPORAL_ADDRESS": "temporal:7233", "VISA_TEMPORAL_NAMESPACE": "visad",
	"VISA_TASK_QUEUE": "q", "VISA_WATCHLIST": "/etc/visad/watchlist.csv", "VISA_ELIGIBLE_NATIONALITIES": "kaz, uzb",
	"VISA_SECRET_KEY": secretHex, "VISA_PAYLOAD_KEYS": payloadKey, "VISA_SLA_BUSINESS_2Y": "40s",
	"VISA_SLA_BUSINESS_5Y_MULTI": "1h", "VISA_STP_ENABLED": "true", "VISA_SMTP_URL": "smtp://mailpit:1025",
	"VISA_MAIL_FROM": "ops@example.org", "VISA_SUPERVISOR_EMAIL": "Sup <sup@example.org>",
	"VISA_CHAMBER_ROWS_PER_DAY": "500", "VISA_CHAMBER_TOKEN_TTL": "720h",
	"VISA_RATE_LIMIT_RPS": "0.5", "VISA_RATE_LIMIT_BURST": "3", "VISA_STATUS_LOOKUPS_PER_MINUTE": "2",
	"VISA_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.10", "VISA_METRICS_ADDR": ":9091", "VISA_CODEC_ADDR": ":8090",
	"VISA_CODEC_CORS_ORIGIN": "http://localhost:8088/", "VISA_LOG_LEVEL": "DEBUG", "VISA_TEMPORAL_LOG_LEVEL": "off",
	"VISA_SHUTDOWN_TIMEOUT": "5s", "VISA_DOCUMENTS_REQUIRED": "true",
	"VISA_SEAL_CA_CERT": "/etc/visad/seal/ca.pem", "VISA_SEAL_SIGNER_CERT": "/etc/visad/seal/signer.pem",
	"VISA_SEAL_SIGNER_KEY": "/etc/visad/seal/signer-key.pem", "VISA_SEAL_RETIRED_CERTS": "/etc/visad/seal/old.pem",
	"VISA_PUBLIC_URL": "https://visa.example.org/",
	// Trust to Temporal (issue 11).
	"VISA_ACTION_KEYS": "a1:" + secretHex, "VISA_CODEC_ALLOW_PLAINTEXT_READS": "true", "VISA_TEMPORAL_TLS": "true",
	"VISA_TEMPORAL_TLS_CA": "/etc/visad/temporal/ca.pem", "VISA_TEMPORAL_TLS_CERT": "/etc/visad/temporal/c.pem",
	"VISA_TEMPORAL_TLS_KEY": "/etc/visad/temporal/k.pem", "VISA_TEMPORAL_TLS_SERVER_NAME": "temporal.internal",
	"VISA_TEMPORAL_API_KEY": "tmprl-api-key",
	"VISA_SEALING_KEYS":     "s2:" + secretHex + ",s1:" + secretHex, "VISA_INDEX_KEY": secretHex,
	"VISA_TOKEN_KEYS": "t1:" + secretHex, "VISA_AUDIT_KEYS": "a1:" + secretHex,
	"VISA_APPLICANT_TOKEN_TTL_AFTER_CLOSE": "720h",
	"VISA_DOCUMENTS_STORE":                 "s3", "VISA_DOCUMENTS_DIR": "/var/lib/visad/documents",
	"VISA_S3_ENDPOINT": "http://objectstore:7070", "VISA_S3_REGION": "eu-central-1", "VISA_S3_BUCKET": "visad-documents",
	"VISA_S3_ACCESS_KEY_ID": "visad", "VISA_S3_SECRET_ACCESS_KEY": "s3-secret", "VISA_UPLOAD_TTL": "2h",
	"VISA_DOCUMENT_RETENTION":      "720h",
	"VISA_DOCUMENT_SWEEP_INTERVAL": "30s",
	"VISA_DEV_UI_ADDR":             "127.0.0.1:18233",

	"VISA_STAFF_SESSION_IDLE": "10m", "VISA_STAFF_SESSION_MAX": "8h", "VISA_STAFF_LOCKOUT": "30m",
}

// Each row sets exactly one Config field, and every field has its row.
func TestEverySettingSetsOneField(t *testing.T) {
	fields := reflect.TypeFor[Config]().NumField()
	set := map[string]string{}
	for _, s := range Settings {
		sample, ok := samples[s.Env]
		if !ok {
			t.Errorf("%s: no sample value in the test", s.Env)
			continue
		}
		var c Config
		if err := s.field.set(&c, sample); err != nil {
			t.Errorf("%s=%q: %v", s.Env, sample, err)
			continue
		}
		v := reflect.ValueOf(c)
		var changed []string
		for i := range fields {
			if !v.Field(i).IsZero() {
				changed = append(changed, reflect.TypeFor[Config]().Field(i).Name)
			}
		}
		if len(changed) != 1 {
			t.Errorf("%s sets fields %v, want one", s.Env, changed)
			continue
		}
		if other, dup := set[changed[0]]; dup {
			t.Errorf("%s and %s both set %s", other, s.Env, changed[0])
		}
		set[changed[0]] = s.Env
	}
	if len(set) != fields {
		t.Errorf("%d settings set %d of Config's %d fields", len(Settings), len(set), fields)
	}
}

func TestCommandsUseKnownSettings(t *testing.T) {
	used := map[string]bool{}
	names := map[string]bool{}
	for _, c := range Commands {
		if names[c.Name] {
			t.Errorf("command %s declared twice", c.Name)
		}
		names[c.Name] = true
		for i, env := range c.Settings {
			if _, ok := Lookup(env); !ok {
				t.Errorf("command %s uses unknown setting %s", c.Name, env)
			}
			if slices.Contains(c.Settings[:i], env) {
				t.Errorf("command %s lists %s twice", c.Name, env)
			}
			used[env] = true
		}
	}
	flags := map[string]bool{}
	for _, s := range Settings {
		if !used[s.Env] {
			t.Errorf("no command reads %s", s.Env)
		}
		if !strings.HasPrefix(s.Env, "VISA_") || s.Help == "" {
			t.Errorf("%s: want a VISA_ name and help", s.Env)
		}
		if s.Flag != "" && flags[s.Flag] {
			t.Errorf("flag --%s used twice", s.Flag)
		}
		flags[s.Flag] = true
	}
	if _, _, err := Load("no-such-command", nil); err == nil {
		t.Error("Load of an undeclared command: want an error")
	}
}

// commandReading names a command that reads the setting.
func commandReading(t *testing.T, env string) string {
	t.Helper()
	for _, c := range Commands {
		if slices.Contains(c.Settings, env) {
			return c.Name
		}
	}
	t.Fatalf("no command reads %s", env)
	return ""
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		env, value string
		want       func(Config) any
		wantValue  any
		wantErr    string // in the error's expectation or detail; "" for valid
	}{
		{"VISA_SHUTDOWN_TIMEOUT", "90s", func(c Config) any { return c.ShutdownTimeout }, 90 * time.Second, ""},
		{"VISA_SHUTDOWN_TIMEOUT", "90", nil, nil, "not a duration"},
		{"VISA_SHUTDOWN_TIMEOUT", "-1s", nil, nil, "not positive"},
		{"VISA_SLA_BUSINESS_2Y", "0s", nil, nil, "positive duration"},
		{"VISA_RATE_LIMIT_BURST", "7", func(c Config) any { return c.RateLimitBurst }, 7, ""},
		{"VISA_RATE_LIMIT_BURST", "0", nil, nil, "less than 1"},
		{"VISA_RATE_LIMIT_BURST", "1.5", nil, nil, "not a whole number"},
		{"VISA_STATUS_LOOKUPS_PER_MINUTE", "ten", nil, nil, "whole number of at least 1"},
		{"VISA_RATE_LIMIT_RPS", "0", func(c Config) any { return c.RateLimitRPS }, 0.0, ""},
		{"VISA_RATE_LIMIT_RPS", "-1", nil, nil, "negative"},
		{"VISA_RATE_LIMIT_RPS", "NaN", nil, nil, "not a number"},
		{"VISA_RATE_LIMIT_RPS", "Inf", nil, nil, "not a number"},
		{"VISA_STP_ENABLED", "0", func(c Config) any { return c.STPEnabled }, false, ""},
		{"VISA_STP_ENABLED", "yes", nil, nil, "true or false"},
		{"VISA_DOCUMENTS_REQUIRED", "false", func(c Config) any { return c.DocumentsRequired }, false, ""},
		{"VISA_HTTP_ADDR", ":0", func(c Config) any { return c.HTTPAddr }, ":0", ""},
		{"VISA_HTTP_ADDR", "[::1]:8080", func(c Config) any { return c.HTTPAddr }, "[::1]:8080", ""},
		{"VISA_HTTP_ADDR", "localhost", nil, nil, "not host:port"},
		{"VISA_TEMPORAL_ADDRESS", "temporal:http", nil, nil, "from 0 to 65535"},
		{"VISA_METRICS_ADDR", "0.0.0.0:70000", nil, nil, "from 0 to 65535"},
		{"VISA_LOG_LEVEL", "Warn", func(c Config) any { return c.LogLevel }, "warn", ""},
		{"VISA_LOG_LEVEL", "verbose", nil, nil, "debug, info, warn or error"},
		{"VISA_LOG_LEVEL", "off", nil, nil, "debug, info, warn or error"},
		{"VISA_TEMPORAL_LOG_LEVEL", "off", func(c Config) any { return c.TemporalLogLevel }, "off", ""},
		{"VISA_TRUSTED_PROXIES", " 10.0.0.0/8 ,, ::1 ", func(c Config) any { return c.TrustedProxies },
			[]string{"10.0.0.0/8", "::1"}, ""},
		{"VISA_TRUSTED_PROXIES", "10.0.0.0/33", nil, nil, `"10.0.0.0/33" is not a CIDR prefix`},
		{"VISA_TRUSTED_PROXIES", "10.0.0.1,proxy.internal", nil, nil, `"proxy.internal" is not an IP address`},
		{"VISA_ELIGIBLE_NATIONALITIES", "kaz,UZB", func(c Config) any { return c.EligibleNationalities },
			[]string{"KAZ", "UZB"}, ""},
		{"VISA_ELIGIBLE_NATIONALITIES", "KAZ,KZ", nil, nil, `"KZ" is not three letters`},
		{"VISA_ELIGIBLE_NATIONALITIES", ",", nil, nil, "no entries"},
		{"VISA_CODEC_CORS_ORIGIN", "https://ui.example.org/", func(c Config) any { return c.CodecCORSOrigins },
			[]string{"https://ui.example.org"}, ""},
		{"VISA_CODEC_CORS_ORIGIN", "ui.example.org", nil, nil, "is not an http(s)://host[:port] origin"},
		{"VISA_CODEC_CORS_ORIGIN", "http://ui.example.org/codec", nil, nil, "origin"},
		{"VISA_MAIL_FROM", "visad <no-reply@example.org>", func(c Config) any { return c.MailFrom },
			"visad <no-reply@example.org>", ""},
		{"VISA_SUPERVISOR_EMAIL", "supervisor", nil, nil, "not an e-mail address"},
		{"VISA_SMTP_URL", "smtp://u:p@mail:587", func(c Config) any { return c.SMTPURL }, "smtp://u:p@mail:587", ""},
		{"VISA_SMTP_URL", "mail:25", nil, nil, "not an smtp:// URL"},
		{"VISA_SMTP_URL", "smtp://mail", nil, nil, "no host:port"},
		{"VISA_DATABASE_URL", "sqlite:///tmp/x.db", func(c Config) any { return c.DatabaseURL }, "sqlite:///tmp/x.db", ""},
		{"VISA_DATABASE_URL", "mysql://u:p@db/visad", nil, nil, "unknown scheme"},
		{"VISA_DATABASE_URL", "postgres:///visad", nil, nil, "not a URL with a host"},
		{"VISA_SECRET_KEY", secretHex, func(c Config) any { return c.SecretKey }, secretHex, ""},
		{"VISA_SECRET_KEY", "abcd", nil, nil, "2 bytes"},
		{"VISA_SECRET_KEY", "not a secret!", nil, nil, "neither hex nor base64"},
		{"VISA_PAYLOAD_KEYS", "k1:abcd", nil, nil, `payload key "k1": want 32 bytes`},
		{"VISA_SEAL_RETIRED_CERTS", "a.pem, ,b.pem", func(c Config) any { return c.SealRetiredCerts },
			[]string{"a.pem", "b.pem"}, ""},
		{"VISA_PUBLIC_URL", "https://visa.example.org/", func(c Config) any { return c.PublicURL },
			"https://visa.example.org", ""},
		{"VISA_PUBLIC_URL", "visa.example.org", nil, nil, "is not an http(s):// base URL"},
		{"VISA_PUBLIC_URL", "https://visa.example.org/?x=1", nil, nil, "base URL"},
	} {
		t.Run(tc.env+"="+tc.value, func(t *testing.T) {
			isolate(t)
			t.Setenv(tc.env, tc.value)
			cfg, _, err := Load(commandReading(t, tc.env), nil)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := tc.want(cfg); !reflect.DeepEqual(got, tc.wantValue) {
					t.Errorf("got %#v, want %#v", got, tc.wantValue)
				}
				return
			}
			if err == nil {
				t.Fatalf("want an error containing %q", tc.wantErr)
			}
			s, _ := Lookup(tc.env)
			msg := err.Error()
			for _, part := range []string{tc.env, tc.wantErr, "want " + s.field.expect()} {
				if !strings.Contains(msg, part) {
					t.Errorf("error %q does not contain %q", msg, part)
				}
			}
			if shown := strings.Contains(msg, tc.value); shown == s.Secret {
				t.Errorf("secret %v, but value shown %v: %q", s.Secret, shown, msg)
			}
		})
	}
}

// Whatever is wrong with a secret, the error never repeats it.
func TestSecretsNeverEchoed(t *testing.T) {
	bad := map[string]string{
		"VISA_SECRET_KEY":   "hunter2-hunter2-hunter2",
		"VISA_PAYLOAD_KEYS": "k1:hunter2hunter2,k2",
		"VISA_SMTP_URL":     "smtp://ops:hunter2@mail",
		"VISA_DATABASE_URL": "postgres://ops:hunter2@db:54x32/visad",
	}
	for env, value := range bad {
		s, _ := Lookup(env)
		if !s.Secret {
			t.Errorf("%s is not marked secret", env)
		}
		isolate(t)
		t.Setenv(env, value)
		_, _, err := Load(commandReading(t, env), nil)
		if err == nil {
			t.Errorf("%s=%q: want an error", env, value)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), env+" (value not shown)") {
			t.Errorf("%s: error %q", env, err)
		}
		if s.Flag == "" {
			continue
		}
		_, _, err = Load(commandReading(t, env), []string{"--" + s.Flag + "=" + value})
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("--%s: error %v", s.Flag, err)
		}
	}
}

func TestEveryInvalidValueReported(t *testing.T) {
	isolate(t)
	t.Setenv("VISA_RATE_LIMIT_BURST", "lots")
	t.Setenv("VISA_SHUTDOWN_TIMEOUT", "soon")
	_, _, err := Load("api", []string{"--http-addr", "nowhere"})
	if err == nil {
		t.Fatal("want an error")
	}
	for _, part := range []string{
		`VISA_RATE_LIMIT_BURST="lots"`, `VISA_SHUTDOWN_TIMEOUT="soon"`, `--http-addr="nowhere"`,
	} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not name %s", err, part)
		}
	}
}

func TestFlagOverridesVariable(t *testing.T) {
	for _, tc := range []struct {
		name, env string
		args      []string
		want      string
	}{
		{"default", "", nil, "127.0.0.1:8080"},
		{"variable", "127.0.0.1:1111", nil, "127.0.0.1:1111"},
		{"flag over variable", "127.0.0.1:1111", []string{"--http-addr", "127.0.0.1:2222"}, "127.0.0.1:2222"},
		{"flag alone", "", []string{"-http-addr=127.0.0.1:2222"}, "127.0.0.1:2222"},
		{"flag over a bad variable", "bad", []string{"--http-addr", "127.0.0.1:2222"}, "127.0.0.1:2222"},
		{"empty flag is unset", "127.0.0.1:1111", []string{"--http-addr="}, "127.0.0.1:8080"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			t.Setenv("VISA_HTTP_ADDR", tc.env)
			cfg, _, err := Load("api", tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.HTTPAddr != tc.want {
				t.Errorf("HTTPAddr %q, want %q", cfg.HTTPAddr, tc.want)
			}
		})
	}
	isolate(t)
	t.Setenv("VISA_STP_ENABLED", "false")
	if cfg, _, err := Load("worker", []string{"--stp"}); err != nil || !cfg.STPEnabled {
		t.Errorf("--stp over VISA_STP_ENABLED=false: STPEnabled %v, err %v", cfg.STPEnabled, err)
	}
	t.Setenv("VISA_DATA_DIR", "/srv/visad")
	if cfg, _, _ := Load("migrate", nil); cfg.DatabaseURL != "/srv/visad/visad.db" {
		t.Errorf("DatabaseURL %q, want it in the data dir", cfg.DatabaseURL)
	}
}

func TestCommandReadsOnlyItsSettings(t *testing.T) {
	isolate(t)
	t.Setenv("VISA_TRUSTED_PROXIES", "not-an-ip") // an api setting: migrate ignores it
	t.Setenv("VISA_DATABASE_URL", "/tmp/visad.db")
	cfg, _, err := Load("migrate", nil)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if cfg.TrustedProxies != nil || cfg.DatabaseURL != "/tmp/visad.db" {
		t.Errorf("migrate read %+v", cfg)
	}
	if _, _, err := Load("migrate", []string{"--trusted-proxies", "10.0.0.1"}); err == nil ||
		!strings.Contains(err.Error(), "flag provided but not defined") {
		t.Errorf("a flag of a setting migrate does not read: err %v", err)
	}
}

// The api fails at start on a bad VISA_TRUSTED_PROXIES, which gin would
// otherwise have ignored; whatever passes is a list gin accepts.
func TestTrustedProxies(t *testing.T) {
	isolate(t)
	t.Setenv("VISA_TRUSTED_PROXIES", "10.0.0.1,10.0.0.0/33")
	_, _, err := Load("api", nil)
	if err == nil || !strings.Contains(err.Error(), `VISA_TRUSTED_PROXIES="10.0.0.1,10.0.0.0/33"`) {
		t.Fatalf("want an error naming VISA_TRUSTED_PROXIES, got %v", err)
	}
	if gin.New().SetTrustedProxies([]string{"10.0.0.0/33"}) == nil {
		t.Fatal("gin accepts 10.0.0.0/33: the check above guards nothing")
	}
	for _, list := range []string{"10.0.0.1", "10.0.0.0/8,172.16.0.0/12", "::1,fd00::/8", "0.0.0.0/0"} {
		t.Setenv("VISA_TRUSTED_PROXIES", list)
		cfg, _, err := Load("api", nil)
		if err != nil {
			t.Fatalf("%s: %v", list, err)
		}
		if err := gin.New().SetTrustedProxies(cfg.TrustedProxies); err != nil {
			t.Errorf("%s: gin rejects %v: %v", list, cfg.TrustedProxies, err)
		}
	}
}

func TestUsage(t *testing.T) {
	isolate(t)
	t.Setenv("VISA_PAYLOAD_KEYS", payloadKey)
	var role string
	_, fs, err := Load("users create", nil, func(fs *flag.FlagSet) {
		fs.StringVar(&role, "role", "", "officer, supervisor or admin")
	})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	fs.SetOutput(&out)
	fs.Usage()
	for _, part := range []string{"visad users create", "-role", "-data-dir path  VISA_DATA_DIR  (default ./data)",
		"VISA_DATABASE_URL  (default <data-dir>/visad.db)"} {
		if !strings.Contains(out.String(), part) {
			t.Errorf("usage does not contain %q:\n%s", part, out.String())
		}
	}
	if _, fs, err = Load("dev", nil); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	fs.SetOutput(&out)
	fs.Usage()
	if !strings.Contains(out.String(), "-stp  VISA_STP_ENABLED") || strings.Contains(out.String(), secretHex) {
		t.Errorf("usage of dev:\n%s", out.String())
	}
}

func TestDocsInSync(t *testing.T) {
	const path = "../../docs/configuration.md"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := UpdateDocs(doc)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if !bytes.Equal(doc, want) {
		t.Errorf("%s is out of date with the settings table: run go generate ./internal/config", path)
	}
	for _, s := range Settings {
		if !strings.Contains(string(doc), "| `"+s.Env+"` |") {
			t.Errorf("%s has no row for %s", path, s.Env)
		}
	}
}
