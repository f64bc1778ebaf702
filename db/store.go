// Package db is visad's application database: the read model for lists and
// queues, the durable record of accepted applications, visas and accounts.
// It speaks SQLite (modernc.org/sqlite, no cgo) and PostgreSQL (pgx) with one
// set of goose migrations and one set of queries.
package db

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/visad/visad/internal/keys"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect names the SQL engine behind a Store.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// Store is the application database.
type Store struct {
	db      *sqlx.DB
	dialect Dialect
	// keys seal personal data the store writes (timeline details, rosters,
	// decision notes) and key the audit chain; see UseKeys.
	keys *keys.Keyring
}

var errNoKeys = errors.New("the app database was opened without keys (Store.UseKeys)")

// UseKeys gives the store the keys it seals personal data and keys the audit
// trail with. Writes that need them fail until it is called.
func (s *Store) UseKeys(k *keys.Keyring) { s.keys = k }

// seal encrypts text bound to additional data; empty text stays empty.
func (s *Store) seal(text, additional string) (string, error) {
	if text == "" {
		return "", nil
	}
	if s.keys == nil {
		return "", errNoKeys
	}
	return s.keys.Seal([]byte(text), additional)
}

// open decrypts what seal wrote.
func (s *Store) open(sealed, additional string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	if s.keys == nil {
		return "", errNoKeys
	}
	b, err := s.keys.Open(sealed, additional)
	return string(b), err
}

func init() {
	// sqlx does not know modernc's driver name; it uses '?' placeholders.
	sqlx.BindDriver("sqlite", sqlx.QUESTION)
}

// Open connects to databaseURL: a postgres:// URL, or a SQLite file path
// (optionally prefixed with sqlite:// or file:).
func Open(ctx context.Context, databaseURL string) (*Store, error) {
	if databaseURL == "" {
		return nil, errors.New("database URL is empty")
	}
	var (
		conn *sqlx.DB
		err  error
		d    Dialect
	)
	if strings.HasPrefix(databaseURL, "postgres://") || strings.HasPrefix(databaseURL, "postgresql://") {
		d = Postgres
		conn, err = sqlx.Open("pgx", databaseURL)
		if err == nil {
			conn.SetMaxOpenConns(20)
			conn.SetMaxIdleConns(20)
		}
	} else {
		d = SQLite
		path := strings.TrimPrefix(strings.TrimPrefix(databaseURL, "sqlite://"), "file:")
		if dir := filepath.Dir(path); dir != "" {
			if mkErr := os.MkdirAll(dir, 0o750); mkErr != nil {
				return nil, fmt.Errorf("database directory: %w", mkErr)
			}
		}
		conn, err = sqlx.Open("sqlite", sqliteDSN(path))
		if err == nil {
			// One writer at a time is SQLite's model; a small pool keeps WAL readers concurrent
			// while busy_timeout and immediate transactions serialise writers without errors.
			conn.SetMaxOpenConns(8)
			conn.SetMaxIdleConns(8)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	s := &Store{db: conn, dialect: d}
	if err := s.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("connect database: %w", err)
	}
	return s, nil
}

func sqliteDSN(path string) string {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	// Escape what a URI would read as a query or fragment, so the pragmas always apply.
	escaped := strings.NewReplacer("%", "%25", "#", "%23", "?", "%3F").Replace(path)
	return "file:" + escaped + "?" + q.Encode()
}

// Dialect reports which engine this store runs on.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB exposes the connection for tests and benchmarks that seed data in bulk.
func (s *Store) DB() *sqlx.DB { return s.db }

// Close releases the connections.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return s.db.PingContext(ctx)
}

// Migrate brings the schema up to date. It is safe to run from several
// processes: goose records applied versions in its own table.
func (s *Store) Migrate(ctx context.Context) error {
	dialect := goose.DialectSQLite3
	if s.dialect == Postgres {
		dialect = goose.DialectPostgres
	}
	dir, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	provider, err := goose.NewProvider(dialect, s.db.DB, dir)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// inTx runs fn in a transaction, committing on success.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }
