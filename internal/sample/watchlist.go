package sample

import (
	_ "embed"
	"os"
	"path/filepath"
)

// WatchlistCSV is a small, invented screening list for `visad dev` and tests:
// straight-through processing needs a configured watchlist, and dev mode has
// none of its own. No real person is on it; none of Generate's names matches it.
//
//go:embed watchlist.csv
var WatchlistCSV []byte

// WriteWatchlist writes WatchlistCSV to dir/sample-watchlist.csv (rewriting it,
// so the file is always the sample) and returns its path.
func WriteWatchlist(dir string) (string, error) {
	path := filepath.Join(dir, "sample-watchlist.csv")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, WatchlistCSV, 0o600)
}
