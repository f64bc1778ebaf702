package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
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

var apiLine = regexp.MustCompile(`API\s+http://(\S+)`)

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

// startDev starts `visad dev` (as `make run` does) and returns the API address
// and the process.
func startDev(t *testing.T, dataDir, temporalAddr string) (string, *exec.Cmd) {
	t.Helper()
	out := &lockedBuffer{}
	cmd := exec.Command(os.Args[0], "dev", "--data-dir", dataDir, "--http-addr", "127.0.0.1:0",
		"--temporal-address", temporalAddr, "--log-level", "warn")
	cmd.Env = append(os.Environ(), runAsVisad+"=1")
	cmd.Stdout, cmd.Stderr = out, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if m := apiLine.FindStringSubmatch(out.String()); m != nil {
			return m[1], cmd
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("visad dev did not start:\n%s", out.String())
	return "", nil
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
	deadline := time.Now().Add(60 * time.Second)
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

// A case submitted just before `visad dev` is killed (SIGKILL, no chance to
// clean up) proceeds and is decided after a restart: the workflow and the read
// model live in files under the data dir, and the accepted application is not
// lost or duplicated.
func TestDevRestartKeepsCasesMoving(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	temporalAddr := l.Addr().String()
	l.Close()

	addr, proc := startDev(t, dir, temporalAddr)
	base := "http://" + addr

	var tokenOut bytes.Buffer
	if err := run(context.Background(), []string{"users", "create", "--role", "officer", "--name", "Officer Bilal", "--data-dir", dir}, &tokenOut, io.Discard); err != nil {
		t.Fatal(err)
	}
	officer := strings.TrimSpace(tokenOut.String())
	if !strings.HasPrefix(officer, "vst_") || strings.Contains(officer, "\n") {
		t.Fatalf("users create printed %q; want only the token", tokenOut.String())
	}

	code, sub := call(t, "POST", base+"/v1/applications", "", testenv.ValidApplication(domain.ProductBusiness2Y))
	if code != http.StatusAccepted {
		t.Fatalf("submit: %d %v", code, sub)
	}
	id, token := sub["id"].(string), sub["access_token"].(string)
	// Kill it mid-flight: the workflow has just started validating.
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = proc.Wait()

	addr, _ = startDev(t, dir, temporalAddr)
	base = "http://" + addr
	waitStatus(t, base, id, token, "awaiting_review")
	code, res := call(t, "POST", base+"/v1/cases/"+id+"/decision", officer, map[string]string{"decision": "approve"})
	if code != http.StatusOK || res["status"] != "issued" {
		t.Fatalf("decision after restart: %d %v", code, res)
	}
	code, view := call(t, "GET", base+"/v1/applications/"+id, token, nil)
	visa, _ := view["visa"].(map[string]any)
	if code != 200 || view["status"] != "issued" || visa["visa_number"] == "" {
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
