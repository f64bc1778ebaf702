package activities

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/visad/visad/domain"
)

// Watchlist is the screening list, read from a CSV file with the header
// surname,given_names,date_of_birth and an optional id column (the entry's
// reference shown to officers; "line N" when absent). The date may be empty
// (not listed) or a bare year. The file is re-read when it changes, so
// operators can update it without a restart. Matching is domain.ScreeningList.
type Watchlist struct {
	path string

	mu      sync.Mutex
	modTime time.Time
	size    int64
	list    *domain.ScreeningList
}

// NewWatchlist loads the list at path. An empty path is an empty list.
func NewWatchlist(path string) (*Watchlist, error) {
	w := &Watchlist{path: path, list: domain.NewScreeningList(nil)}
	if path == "" {
		return w, nil
	}
	if err := w.reloadIfChanged(); err != nil {
		return nil, err
	}
	return w, nil
}

// Match screens a person against the list and returns the hits, best first.
func (w *Watchlist) Match(surname, givenNames, dateOfBirth string) ([]domain.ScreeningMatch, error) {
	if w.path != "" {
		if err := w.reloadIfChanged(); err != nil {
			return nil, err
		}
	}
	w.mu.Lock()
	list := w.list
	w.mu.Unlock()
	return list.Screen(domain.ScreeningSubject{Surname: surname, GivenNames: givenNames, DateOfBirth: dateOfBirth}), nil
}

// Len is the number of entries loaded.
func (w *Watchlist) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.list.Len()
}

func (w *Watchlist) reloadIfChanged() error {
	info, err := os.Stat(w.path)
	if err != nil {
		return fmt.Errorf("watchlist: %w", err)
	}
	w.mu.Lock()
	unchanged := info.ModTime().Equal(w.modTime) && info.Size() == w.size && w.list != nil
	w.mu.Unlock()
	if unchanged {
		return nil
	}
	f, err := os.Open(w.path)
	if err != nil {
		return fmt.Errorf("watchlist: %w", err)
	}
	defer f.Close()
	people, err := parseWatchlist(f)
	if err != nil {
		return err
	}
	list := domain.NewScreeningList(people)
	w.mu.Lock()
	w.list, w.modTime, w.size = list, info.ModTime(), info.Size()
	w.mu.Unlock()
	return nil
}

func parseWatchlist(r io.Reader) ([]domain.ListedPerson, error) {
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
	ii, hasID := col["id"]
	if !ok1 || !ok2 {
		return nil, errors.New("watchlist: header must name surname and given_names")
	}
	var people []domain.ListedPerson
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return people, nil
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
		physical, _ := cr.FieldPos(0)
		p := domain.ListedPerson{Ref: "line " + strconv.Itoa(physical), Surname: field(si), GivenNames: field(gi)}
		if p.Surname == "" && p.GivenNames == "" {
			continue
		}
		if hasDOB {
			p.DateOfBirth = field(di)
		}
		if id := field(ii); hasID && id != "" {
			p.Ref = id
		}
		people = append(people, p)
	}
}
