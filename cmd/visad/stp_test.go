package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Finding 3 of issue 11: with straight-through processing on and no watchlist every screening was clear, so
// visas were issued to people nobody screened. The worker now refuses to start, before it connects to anything.
func TestWorkerRefusesSTPWithoutWatchlist(t *testing.T) {
	headerOnly := filepath.Join(t.TempDir(), "empty.csv")
	if err := os.WriteFile(headerOnly, []byte("surname,given_names,date_of_birth\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		env       map[string]string
		wantError string // "" : the check passes (the worker then fails to reach Temporal)
	}{
		{"no watchlist", nil, "no watchlist is configured"},
		{"a watchlist without entries", map[string]string{"VISA_WATCHLIST": headerOnly}, "has no entries"},
		{"straight-through processing off", map[string]string{"VISA_STP_ENABLED": "false"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("VISA_TEMPORAL_ADDRESS", "127.0.0.1:1")
			t.Setenv("VISA_SECRET_KEY", strings.Repeat("ab", 32))
			t.Setenv("VISA_PAYLOAD_KEYS", "k1:"+strings.Repeat("cd", 32))
			t.Setenv("VISA_ACTION_KEYS", "a1:"+strings.Repeat("ef", 32))
			t.Setenv("VISA_WATCHLIST", "")
			t.Setenv("VISA_STP_ENABLED", "")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			err := run(ctx, []string{"worker", "--data-dir", t.TempDir()}, io.Discard, io.Discard)
			if tc.wantError == "" {
				if err != nil && strings.Contains(err.Error(), "watchlist") {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantError) ||
				!strings.Contains(err.Error(), "VISA_WATCHLIST") {
				t.Fatalf("err %v, want a refusal containing %q that names VISA_WATCHLIST", err, tc.wantError)
			}
		})
	}
}
