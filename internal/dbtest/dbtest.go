// Package dbtest gives tests a fresh, migrated application database on
// SQLite (always) or PostgreSQL (when VISA_TEST_POSTGRES_URL is set).
package dbtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/visad/visad/db"
	"github.com/visad/visad/internal/keys"
)

// PostgresURLEnv names the variable CI sets to a PostgreSQL server's URL.
const PostgresURLEnv = "VISA_TEST_POSTGRES_URL"

// SQLite returns a migrated store in a temporary file.
func SQLite(t testing.TB) *db.Store {
	t.Helper()
	return open(t, filepath.Join(t.TempDir(), "visad.db"))
}

// Postgres returns a migrated store in a schema of its own, dropped after the
// test. The test is skipped when no server URL is configured.
func Postgres(t testing.TB) *db.Store {
	t.Helper()
	return open(t, PostgresURL(t))
}

// PostgresURL creates an empty schema of the test's own on the server named by
// VISA_TEST_POSTGRES_URL, drops it after the test, and returns a URL whose
// search_path points at it, so tests (and whole stacks) on one server never see
// each other's rows. The test is skipped when no server URL is configured.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresURLEnv)
	if base == "" {
		t.Skip(PostgresURLEnv + " is not set; skipping the PostgreSQL run")
	}
	schema := "t_" + randomHex(8)
	admin, err := db.Open(context.Background(), base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	if _, err := admin.DB().Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.DB().Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func open(t testing.TB, dsn string) *db.Store {
	t.Helper()
	s, err := db.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open %s database: %v", "test", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	s.UseKeys(Keys(t))
	return s
}

// Keys is a keyring of fixed test keys, each under a key id of its own.
func Keys(t testing.TB) *keys.Keyring {
	t.Helper()
	k, err := keys.NewKeyring(keys.Config{
		Sealing: []keys.Key{{ID: "test-s1", Key: bytes.Repeat([]byte{1}, keys.KeySize)}},
		Index:   bytes.Repeat([]byte{2}, keys.KeySize),
		Tokens:  []keys.Key{{ID: "test-t1", Key: bytes.Repeat([]byte{3}, keys.KeySize)}},
		Audit:   []keys.Key{{ID: "test-a1", Key: bytes.Repeat([]byte{4}, keys.KeySize)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
