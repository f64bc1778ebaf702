package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/testenv"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var (
	apiLine      = regexp.MustCompile(`API\s+http://(\S+)`)
	temporalLine = regexp.MustCompile(`Temporal\s+(\S+:\d+)\s`)
	uiLine       = regexp.MustCompile(`Temporal UI\s+(http://\S+)\s+\(decrypted payloads: open (\S+)\)`)
)

// The test binary doubles as the visad binary: run with this variable set, it
// is `visad` itself, so the restart test can start real processes and kill
// them the hard way without a separate build.
const runAsVisad = "VISAD_TEST_RUN_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runAsVisad) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// devProcess is a running `visad dev` and the addresses it reported.
type devProcess struct {
	cmd          *exec.Cmd
	api          string // host:port
	temporalAddr string // host:port
	ui, unlock   string // the Temporal Web UI's URL and its unlock link
}

// startDev starts `visad dev` (as `make run` does) with extra VISA_*
// variables. temporalAddr may end in :0; the process picks a port and says which.
func startDev(t *testing.T, dataDir, temporalAddr string, env ...string) devProcess {
	t.Helper()
	out := &lockedBuffer{}
	cmd := exec.Command(os.Args[0], "dev", "--data-dir", dataDir, "--http-addr", "127.0.0.1:0",
		"--metrics-addr", "127.0.0.1:0", "--temporal-address", temporalAddr, "--log-level", "warn",
		"--dev-ui-addr", "127.0.0.1:0")
	cmd.Env = append(append(os.Environ(), runAsVisad+"=1"), env...)
	cmd.Stdout, cmd.Stderr = out, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if m := apiLine.FindStringSubmatch(out.String()); m != nil {
			tm := temporalLine.FindStringSubmatch(out.String())
			if tm == nil {
				t.Fatalf("visad dev did not report its Temporal address:\n%s", out.String())
			}
			um := uiLine.FindStringSubmatch(out.String())
			if um == nil {
				t.Fatalf("visad dev did not report its Temporal Web UI:\n%s", out.String())
			}
			return devProcess{cmd: cmd, api: m[1], temporalAddr: tm[1], ui: um[1], unlock: um[2]}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("visad dev did not start:\n%s", out.String())
	return devProcess{}
}

func call(t *testing.T, method, url, token string, body any) (int, map[string]any) {
	t.Helper()
	var rdr io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rdr = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rdr)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func waitStatus(t *testing.T, base, id, token, status string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	var last map[string]any
	for time.Now().Before(deadline) {
		code, v := call(t, "GET", base+"/v1/applications/"+id, token, nil)
		if code == 200 && v["status"] == status {
			return
		}
		last = v
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never reached %s: %v", id, status, last)
}

// A case in flight when `visad dev` is killed (SIGKILL, no chance to clean
// up) proceeds and is decided after a restart: the workflow and the read
// model live in files under the data dir, and the accepted application is not
// lost or duplicated.
func TestDevRestartKeepsCasesMoving(t *testing.T) {
	dir := t.TempDir()
	// Screening fails while the watchlist file is missing and retries until it
	// is back: that holds the case mid-flight, so the kill cannot come too late.
	watchlist := filepath.Join(dir, "watchlist.csv")
	const watchlistCSV = "surname,given_names,date_of_birth\nNobody,Matches,1900-01-01\n"
	if err := os.WriteFile(watchlist, []byte(watchlistCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	withWatchlist := "VISA_WATCHLIST=" + watchlist
	// The case carries no documents; this test is about the restart, not the checklist.
	noDocuments := "VISA_DOCUMENTS_REQUIRED=false"
	// The embedded Temporal server picks its port; the restart binds the same one.
	dev := startDev(t, dir, "127.0.0.1:0", withWatchlist, noDocuments)
	base := "http://" + dev.api

	var tokenOut bytes.Buffer
	args := []string{"users", "create", "--role", "officer", "--name", "Officer Bilal", "--data-dir", dir}
	if err := run(context.Background(), args, &tokenOut, io.Discard); err != nil {
		t.Fatal(err)
	}
	officer := strings.TrimSpace(tokenOut.String())
	if !strings.HasPrefix(officer, "vst_") || strings.Contains(officer, "\n") {
		t.Fatalf("users create printed %q; want only the token", tokenOut.String())
	}

	if err := os.Remove(watchlist); err != nil {
		t.Fatal(err)
	}
	code, sub := call(t, "POST", base+"/v1/applications", "", testenv.ValidApplication(domain.ProductBusiness2Y))
	if code != http.StatusAccepted {
		t.Fatalf("submit: %d %v", code, sub)
	}
	id, token := sub["id"].(string), sub["access_token"].(string)
	waitStatus(t, base, id, token, "screening")
	// Kill it mid-flight: the workflow is screening, its activity retrying.
	if err := dev.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = dev.cmd.Wait()
	if ws, ok := dev.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("visad dev ended with %v, not killed by SIGKILL", dev.cmd.ProcessState)
	}
	if err := os.WriteFile(watchlist, []byte(watchlistCSV), 0o600); err != nil {
		t.Fatal(err)
	}

	dev = startDev(t, dir, dev.temporalAddr, withWatchlist, noDocuments)
	base = "http://" + dev.api
	waitStatus(t, base, id, token, "awaiting_review")
	code, res := call(t, "POST", base+"/v1/cases/"+id+"/decision", officer, map[string]string{"decision": "approve"})
	if code != http.StatusOK || res["status"] != "issued" {
		t.Fatalf("decision after restart: %d %v", code, res)
	}
	code, view := call(t, "GET", base+"/v1/applications/"+id, token, nil)
	visa, _ := view["visa"].(map[string]any)
	number, _ := visa["visa_number"].(string)
	if code != 200 || view["status"] != "issued" || number == "" {
		t.Fatalf("view after restart: %d %v", code, view)
	}
	// Exactly one application exists, with one "submitted" event.
	code, queue := call(t, "GET", base+"/v1/cases", officer, nil)
	items, _ := queue["items"].([]any)
	if code != 200 || len(items) != 1 {
		t.Fatalf("queue after restart: %d %v", code, queue)
	}
	timeline, _ := view["timeline"].([]any)
	submittedEvents := 0
	for _, e := range timeline {
		if e.(map[string]any)["event"] == "submitted" {
			submittedEvents++
		}
	}
	if submittedEvents != 1 {
		t.Fatalf("timeline %v", timeline)
	}
}
