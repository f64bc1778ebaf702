package activities

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/visad/visad/domain"
)

// Watchlist is the screening list, read from a CSV file with the header
// surname,given_names,date_of_birth (date optional: empty matches any birth
// date). The file is re-read when it changes, so operators can update it
// without a restart.
type Watchlist struct {
	path string

	mu      sync.Mutex
	modTime time.Time
	size    int64
	entries map[string][]string // normalised full name -> birth dates ("" = any)
}

// NewWatchlist loads the list at path. An empty path is an empty list.
func NewWatchlist(path string) (*Watchlist, error) {
	w := &Watchlist{path: path, entries: map[string][]string{}}
	if path == "" {
		return w, nil
	}
	if err := w.reloadIfChanged(); err != nil {
		return nil, err
	}
	return w, nil
}

// Match counts watchlist entries with the same normalised name and birth date.
func (w *Watchlist) Match(surname, givenNames, dateOfBirth string) (int, error) {
	if w.path != "" {
		if err := w.reloadIfChanged(); err != nil {
			return 0, err
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, dob := range w.entries[domain.NormalizeName(surname+" "+givenNames)] {
		if dob == "" || dob == dateOfBirth {
			n++
		}
	}
	return n, nil
}

// Len is the number of entries loaded.
func (w *Watchlist) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, dobs := range w.entries {
		n += len(dobs)
	}
	return n
}

func (w *Watchlist) reloadIfChanged() error {
	info, err := os.Stat(w.path)
	if err != nil {
		return fmt.Errorf("watchlist: %w", err)
	}
	w.mu.Lock()
	unchanged := info.ModTime().Equal(w.modTime) && info.Size() == w.size && w.entries != nil
	w.mu.Unlock()
	if unchanged {
		return nil
	}
	f, err := os.Open(w.path)
	if err != nil {
		return fmt.Errorf("watchlist: %w", err)
	}
	defer f.Close()
	entries, err := parseWatchlist(f)
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.entries, w.modTime, w.size = entries, info.ModTime(), info.Size()
	w.mu.Unlock()
	return nil
}

func parseWatchlist(r io.Reader) (map[string][]string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, errors.New("watchlist: missing header row")
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	si, ok1 := col["surname"]
	gi, ok2 := col["given_names"]
	di, hasDOB := col["date_of_birth"]
	if !ok1 || !ok2 {
		return nil, errors.New("watchlist: header must name surname and given_names")
	}
	entries := map[string][]string{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return entries, nil
		}
		if err != nil {
			// The csv error names a line and column, never the content.
			return nil, fmt.Errorf("watchlist: line %d: malformed", line)
		}
		field := func(i int) string {
			if i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		name := domain.NormalizeName(field(si) + " " + field(gi))
		if name == "" {
			continue
		}
		dob := ""
		if hasDOB {
			dob = field(di)
		}
		entries[name] = append(entries[name], dob)
	}
}
