package activities

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeWatchlist(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "watchlist.csv")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestWatchlistCatchesDisguisedNames: invisible characters, look-alike
// letters and other transliterations of a listed name still hit (issue #12).
func TestWatchlistCatchesDisguisedNames(t *testing.T) {
	wl, err := NewWatchlist(writeWatchlist(t, "surname,given_names,date_of_birth\n"+
		"BADGUY,OSKAR,1970-01-01\nAbenov,Nurlan,1985-03-14\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, surname, given, dob string }{
		{"soft hyphen", "Bad\u00ADguy", "Oskar", "1970-01-01"},
		{"zero-width space", "Bad\u200Bguy", "Oskar", "1970-01-01"},
		{"zero-width joiner", "Bad\u200Dguy", "Oskar", "1970-01-01"},
		{"word joiner", "Bad\u2060guy", "Oskar", "1970-01-01"},
		{"Cyrillic a", "B\u0430dguy", "Oskar", "1970-01-01"},
		{"fullwidth", "ＢＡＤＧＵＹ", "Oskar", "1970-01-01"},
		{"right-to-left override", "\u202EBadguy\u202C", "Oskar", "1970-01-01"},
		{"Cyrillic script", "Абенов", "Нурлан", "1985-03-14"},
		{"-off ending", "Abenoff", "Nurlan", "1985-03-14"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hits, err := wl.Match(tt.surname, tt.given, tt.dob)
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) == 0 {
				t.Errorf("%+q %+q: no hit", tt.surname, tt.given)
			}
		})
	}
}

// TestWatchlistNearMissesAndReload: a different person or birth year does
// not hit; a hit names its entry by reference only; an edited file is re-read.
func TestWatchlistNearMissesAndReload(t *testing.T) {
	path := writeWatchlist(t, "id,surname,given_names,date_of_birth\nSAN-7,BADGUY,OSKAR,1970-01-01\n")
	wl, err := NewWatchlist(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, miss := range [][3]string{{"Badguy", "Oskar", "1971-01-01"}, {"Goodguy", "Oskar", "1970-01-01"}} {
		if hits, _ := wl.Match(miss[0], miss[1], miss[2]); len(hits) != 0 {
			t.Errorf("%v: unexpected hit %+v", miss, hits)
		}
	}
	hits, _ := wl.Match("Bad\u00ADguy", "Oskar", "1970-01-01")
	if len(hits) != 1 || hits[0].Ref != "SAN-7" || hits[0].Score < 0.9 {
		t.Fatalf("hits = %+v, want SAN-7", hits)
	}
	if strings.Contains(hits[0].Reason, "BADGUY") || strings.Contains(strings.ToUpper(hits[0].Reason), "OSKAR") {
		t.Errorf("reason repeats the name: %q", hits[0].Reason)
	}

	later := time.Now().Add(2 * time.Second)
	if err := os.WriteFile(path, []byte("surname,given_names,date_of_birth\nAbenov,Nurlan,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	if hits, _ := wl.Match("Абенов", "Нурлан", "1985-03-14"); len(hits) != 1 || hits[0].Ref != "line 2" {
		t.Fatalf("after reload: %+v", hits)
	}
	if wl.Len() != 1 {
		t.Errorf("Len = %d after reload", wl.Len())
	}
}
