package e2e_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/visad/visad/internal/sample"
	"github.com/visad/visad/internal/testenv"
)

// The chamber portal in a real Chromium with axe-core: a chamber user signs
// in, uploads its roster and a 1,000-row batch, and watches the batch's bar
// reach 100 % as straight-through processing decides every case; another
// chamber's session gets "page not found" for that batch.
func TestChamberPortalInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("real stack and browser")
	}
	chromium := browserPath(t)
	env := testenv.Start(t, testenv.Options{})
	chamberID, _ := env.Chamber("Almaty Chamber of Commerce")
	otherID, _ := env.Chamber("Astana Chamber of Commerce")

	dir := t.TempDir()
	people := sample.Generate(sample.Options{Rows: 1000, Seed: uint64(time.Now().UnixNano() % 1000)})
	var roster, batch bytes.Buffer
	if err := sample.WriteRosterCSV(&roster, people); err != nil {
		t.Fatal(err)
	}
	if err := sample.WriteBatchCSV(&batch, people); err != nil {
		t.Fatal(err)
	}
	rosterFile, batchFile := filepath.Join(dir, "roster.csv"), filepath.Join(dir, "batch.csv")
	badFile := filepath.Join(dir, "bad-roster.csv")
	if err := os.WriteFile(badFile, bytes.Replace(roster.Bytes(), []byte(",KAZ,"), []byte(",XXXX,"), 2),
		0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rosterFile, roster.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(batchFile, batch.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, chromium, env.HTTP.URL, "en", true)
	signInChamberInBrowser(t, env, b, chamberID)
	if code := b.open("/chamber/"); code != 200 {
		t.Fatalf("chamber home: %d", code)
	}
	b.check("chamber-batches")

	// The roster: first with two bad rows, listed by row; then as it should be.
	b.open("/chamber/roster/upload")
	b.check("chamber-roster-upload")
	b.do("choose bad roster file", chromedp.SetUploadFiles("#file", []string{badFile}))
	if code := b.submit("upload"); code != 422 {
		t.Fatalf("bad roster upload landed on %d", code)
	}
	if n := eval[int](b, `document.querySelectorAll("#row-errors tbody tr").length`); n < 2 {
		t.Fatalf("bad roster: %d problems listed", n)
	}
	b.check("chamber-roster-errors")
	b.do("choose roster file", chromedp.SetUploadFiles("#file", []string{rosterFile}))
	if code := b.submit("upload"); code != 200 {
		t.Fatalf("roster upload landed on %d", code)
	}
	if !strings.Contains(b.text(".notice"), "1000") {
		t.Fatalf("roster notice %q", b.text(".notice"))
	}
	b.check("chamber-roster")
	b.open("/chamber/roster?q=KZ-0099")
	if n := eval[int](b, `document.querySelectorAll("#roster tbody tr").length`); n != 10 {
		t.Fatalf("search KZ-0099 found %d members", n)
	}

	// The batch: its page follows the batch by itself until every case is decided.
	b.open("/chamber/batches/new")
	b.check("chamber-batch-new")
	b.fill("reference", "pak-kaz-forum-2026")
	b.do("choose batch file", chromedp.SetUploadFiles("#file", []string{batchFile}))
	if code := b.submit("upload-batch"); code != 200 {
		t.Fatalf("batch upload landed on %d", code)
	}
	batchPath := eval[string](b, `location.pathname`)
	if !strings.HasPrefix(batchPath, "/chamber/batches/bat_") {
		t.Fatalf("batch upload landed on %s", batchPath)
	}
	bar := func(id string) int { return eval[int](b, fmt.Sprintf(`document.getElementById(%q).value`, id)) }
	// In flight: started, not yet all decided (the screenshot for the docs).
	deadline := time.Now().Add(8 * time.Minute)
	for bar("bar-started") == 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if bar("bar-decided") < 100 {
		b.check("chamber-batch-progress")
	}
	for bar("bar-decided") < 100 {
		if time.Now().After(deadline) {
			t.Fatalf("the bar stopped at started %d %%, decided %d %%: %s", bar("bar-started"),
				bar("bar-decided"), b.text("#batch-progress"))
		}
		time.Sleep(time.Second)
	}
	if got := b.text("#batch-stage"); !strings.Contains(got, "Done") {
		t.Fatalf("stage %q at 100 %%", got)
	}
	if got := b.text("#count-decided"); got != "1000" {
		t.Fatalf("decided count %q", got)
	}
	b.check("chamber-batch-done")
	// Without JavaScript the refresh link shows the same.
	b.scripts(false)
	b.js = false
	if code := b.navigate("refresh", chromedp.Click(chromedp.CSS("#refresh"))); code != 200 {
		t.Fatalf("refresh: %d", code)
	}
	if v := eval[string](b, `document.getElementById("bar-decided").getAttribute("value")`); v != "100" {
		t.Fatalf("no-script bar at %s", v)
	}
	b.scripts(true)
	b.js = true
	b.open(batchPath + "?outcome=created&from=501")
	if n := eval[int](b, `document.querySelectorAll("#report tbody tr").length`); n != 50 {
		t.Fatalf("report page has %d rows", n)
	}
	b.check("chamber-batch-report")
	b.open("/chamber/applications?status=issued")
	b.check("chamber-applications")

	// Another chamber: the same batch is a page that does not exist.
	ob := newBrowser(t, chromium, env.HTTP.URL, "en", true)
	signInChamberInBrowser(t, env, ob, otherID)
	for _, path := range []string{batchPath, batchPath + "/progress", batchPath + "/report.csv"} {
		if code := ob.open(path); code != 404 {
			t.Errorf("another chamber: %s = %d", path, code)
		}
	}
	ob.open(batchPath)
	ob.check("chamber-not-found")
}
