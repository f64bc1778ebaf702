// Package config holds visad's settings. One table (Settings) defines each
// setting once: its VISA_* environment variable, its flag, its default, how
// its value is checked and what it means. Load reads the table for a command,
// `visad <command> -h` prints it, and docs/configuration.md is generated from
// it (go generate ./internal/config).
package config

//go:generate go run ./gendocs ../../docs/configuration.md

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/keys"
)

// Config is every setting a visad process may need. Each field is set by one
// row of Settings.
type Config struct {
	DataDir               string
	DatabaseURL           string
	HTTPAddr              string
	TemporalAddress       string
	Namespace             string
	TaskQueue             string
	Watchlist             string
	EligibleNationalities []string
	SecretKey             string
	SealingKeys           string
	IndexKey              string
	TokenKeys             string
	AuditKeys             string
	ApplicantTokenTTL     time.Duration
	LogLevel              string
	TemporalLogLevel      string
	ShutdownTimeout       time.Duration
	SLABusiness2Y         time.Duration
	SLABusiness5YMulti    time.Duration
	STPEnabled            bool
	ChamberRowsPerDay     int
	ChamberTokenTTL       time.Duration
	SMTPURL               string
	MailFrom              string
	SupervisorEmail       string
	RateLimitRPS          float64
	RateLimitBurst        int
	LookupsPerMinute      int
	TrustedProxies        []string
	MetricsAddr           string
	PayloadKeys           string
	CodecAddr             string
	DevUIAddr             string // dev only: the Temporal Web UI; empty: none
	CodecCORSOrigins      []string
	SealCACert            string
	SealSignerCert        string
	SealSignerKey         string
	SealRetiredCerts      []string
	PublicURL             string

	// Trust between api, worker and Temporal (issue 11): action signing,
	// strict payload decoding, TLS and an API key to the Temporal frontend.
	ActionKeys               string
	CodecAllowPlaintextReads bool
	TemporalTLS              bool
	TemporalTLSCA            string
	TemporalTLSCert          string
	TemporalTLSKey           string
	TemporalTLSServerName    string
	TemporalAPIKey           string

	// Supporting documents (issue 16): the blob store and how long uploads and documents are kept.
	DocumentsStore    string
	DocumentsDir      string
	S3Endpoint        string
	S3Region          string
	S3Bucket          string
	S3AccessKeyID     string
	S3SecretAccessKey string
	UploadTTL         time.Duration
	DocumentRetention time.Duration
	// DocumentSweepInterval is how often the worker's sweeper deletes what is past keeping.
	DocumentSweepInterval time.Duration

	// DocumentsRequired enforces each product's document checklist (issue 16).
	DocumentsRequired bool
	// Console sign-in (issue 15).
	StaffSessionIdle time.Duration
	StaffSessionMax  time.Duration
	StaffLockout     time.Duration
}

// Defaults is the configuration with every setting at its default, as if no
// variable were set and no flag given.
func Defaults() Config {
	c := defaults()
	c.derive()
	return c
}

// defaults is Defaults before derived settings are filled in.
func defaults() Config {
	var c Config
	for _, s := range Settings {
		if s.Default == "" {
			continue
		}
		if err := s.field.set(&c, s.Default); err != nil {
			panic(fmt.Sprintf("config: default of %s: %v", s.Env, err)) // a bad row; TestDefaults catches it
		}
	}
	return c
}

// Load reads the settings command uses (see Commands): each from its VISA_*
// variable, overridden by its flag in args. Settings the command does not use
// keep their defaults, and their flags do not exist. extra registers the
// command's own flags on the same flag set. command is what follows "visad",
// e.g. "api" or "users create"; its first word selects the settings.
//
// An invalid value is an error naming the variable or flag, the value (never
// a secret's) and what is expected; every invalid value is reported at once.
func Load(command string, args []string, extra ...func(*flag.FlagSet)) (Config, *flag.FlagSet, error) {
	name, _, _ := strings.Cut(command, " ")
	i := slices.IndexFunc(Commands, func(c Command) bool { return c.Name == name })
	if i < 0 {
		return Config{}, nil, fmt.Errorf("config: command %q declares no settings (see config.Commands)", name)
	}
	settings, err := settingsOf(name, Commands[i].Settings)
	if err != nil {
		return Config{}, nil, err
	}

	fs := flag.NewFlagSet("visad "+command, flag.ContinueOnError)
	given := map[string]*flagText{}
	for _, s := range settings {
		if s.Flag == "" {
			continue
		}
		ft := &flagText{boolean: s.field.boolean()}
		fs.Var(ft, s.Flag, s.Help)
		given[s.Env] = ft
	}
	for _, register := range extra {
		register(fs)
	}
	fs.Usage = func() { printUsage(fs, settings) }
	if err := fs.Parse(args); err != nil {
		return Config{}, fs, err
	}

	c := defaults()
	var errs []error
	for _, s := range settings {
		source, text := s.Env, os.Getenv(s.Env)
		if ft := given[s.Env]; ft != nil && ft.set {
			source, text = "--"+s.Flag, ft.text
		}
		if text == "" { // an empty variable or flag counts as unset
			continue
		}
		if err := s.field.set(&c, text); err != nil {
			errs = append(errs, s.invalid(source, text, err))
		}
	}
	if len(errs) > 0 {
		return Config{}, fs, errors.Join(errs...)
	}
	c.derive()
	return c, fs, nil
}

// settingsOf returns the named settings in the table's order.
func settingsOf(command string, names []string) ([]Setting, error) {
	for _, env := range names {
		if _, ok := Lookup(env); !ok {
			return nil, fmt.Errorf("config: command %q uses unknown setting %s", command, env)
		}
	}
	var out []Setting
	for _, s := range Settings {
		if slices.Contains(names, s.Env) {
			out = append(out, s)
		}
	}
	return out, nil
}

// docDefault is the default as -h and the docs show it.
func (s Setting) docDefault() string {
	if s.DocDefault != "" {
		return s.DocDefault
	}
	return s.Default
}

// derive fills the settings whose default depends on another setting.
func (c *Config) derive() {
	if c.DatabaseURL == "" {
		c.DatabaseURL = filepath.Join(c.DataDir, "visad.db")
	}
	if c.DocumentsDir == "" {
		c.DocumentsDir = filepath.Join(c.DataDir, "documents")
	}
}

// invalid explains a bad value: where it came from, the value (not a
// secret's) and what the setting expects.
func (s Setting) invalid(source, text string, err error) error {
	shown := fmt.Sprintf("=%q", text)
	if s.Secret {
		shown = " (value not shown)"
	}
	return fmt.Errorf("%s%s: want %s (%v)", source, shown, s.field.expect(), err)
}

// flagText records a flag's text; Load checks it once every source is known,
// so that an error reads the same from a flag as from a variable and the flag
// package never echoes a secret.
type flagText struct {
	text    string
	set     bool
	boolean bool
}

func (f *flagText) String() string   { return "" }
func (f *flagText) IsBoolFlag() bool { return f.boolean }

func (f *flagText) Set(s string) error {
	f.text, f.set = s, true
	return nil
}

// printUsage is `visad <command> -h`: the command's own flags as the flag
// package prints them, then each setting with its variable and default.
func printUsage(fs *flag.FlagSet, settings []Setting) {
	out := fs.Output()
	fmt.Fprintf(out, "Usage: %s [flags]\n", fs.Name())
	fs.VisitAll(func(f *flag.Flag) {
		if slices.ContainsFunc(settings, func(s Setting) bool { return s.Flag == f.Name }) {
			return
		}
		metavar, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(out, "  -%s %s\n    \t%s", f.Name, metavar, usage)
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" {
			fmt.Fprintf(out, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(out)
	})
	if len(settings) == 0 {
		return
	}
	fmt.Fprintf(out, "\nSettings (a flag overrides its variable; an empty value counts as unset; "+
		"see docs/configuration.md):\n")
	for _, s := range settings {
		flagName := "(no flag)"
		if s.Flag != "" {
			flagName = "-" + s.Flag
			if !s.field.boolean() {
				flagName += " " + s.field.metavar()
			}
		}
		fmt.Fprintf(out, "  %s  %s", flagName, s.Env)
		if def := strings.ReplaceAll(s.docDefault(), "`", ""); def != "" {
			fmt.Fprintf(out, "  (default %s)", def)
		}
		fmt.Fprintf(out, "\n    \t%s\n", s.Help)
	}
}

// Lookup finds a setting by its variable's name.
func Lookup(env string) (Setting, bool) {
	i := slices.IndexFunc(Settings, func(s Setting) bool { return s.Env == env })
	if i < 0 {
		return Setting{}, false
	}
	return Settings[i], true
}

// Variables lists every environment variable the config reads.
var Variables = func() []string {
	out := make([]string, len(Settings))
	for i, s := range Settings {
		out[i] = s.Env
	}
	return out
}()

// SLA maps product codes to their configured decision deadline.
func (c Config) SLA() map[string]time.Duration {
	return map[string]time.Duration{
		string(domain.ProductBusiness2Y):      c.SLABusiness2Y,
		string(domain.ProductBusiness5YMulti): c.SLABusiness5YMulti,
	}
}

// SecretFile is where an older dev mode kept the secret it generated; it is
// still read as the legacy secret when present.
func (c Config) SecretFile() string { return filepath.Join(c.DataDir, "secret.key") }

// KeysFile is where dev mode keeps the app keys it generates when none is set.
func (c Config) KeysFile() string { return filepath.Join(c.DataDir, "keys.env") }

// KeySettings are the app key settings.
func (c Config) KeySettings() keys.Settings {
	return keys.Settings{Secret: c.SecretKey, Sealing: c.SealingKeys, Index: c.IndexKey, Tokens: c.TokenKeys,
		Audit: c.AuditKeys}
}

// PayloadKeysFile is where dev mode keeps generated payload keys when VISA_PAYLOAD_KEYS is unset.
func (c Config) PayloadKeysFile() string { return filepath.Join(c.DataDir, "payload.keys") }

// ActionKeysFile is where dev mode keeps generated action signing keys when VISA_ACTION_KEYS is unset.
func (c Config) ActionKeysFile() string { return filepath.Join(c.DataDir, "action.keys") }

// TemporalUsesTLS reports whether api and worker connect to Temporal over TLS.
func (c Config) TemporalUsesTLS() bool {
	return c.TemporalTLS || c.TemporalTLSCA != "" || c.TemporalTLSCert != "" || c.TemporalTLSKey != "" ||
		c.TemporalTLSServerName != "" || c.TemporalAPIKey != ""
}

// TemporalLogFile is where the embedded Temporal server writes its logs.
func (c Config) TemporalLogFile() string { return filepath.Join(c.DataDir, "temporal.log") }

// TemporalDatabaseFile is the embedded Temporal server's SQLite file.
func (c Config) TemporalDatabaseFile() string { return filepath.Join(c.DataDir, "temporal.db") }

// SealFiles reports whether the production seal PKI files are configured.
func (c Config) SealFiles() bool {
	return c.SealCACert != "" || c.SealSignerCert != "" || c.SealSignerKey != ""
}
