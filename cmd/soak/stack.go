package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/codec"
	"github.com/visad/visad/internal/keys"
)

// stack is one `visad dev` process (embedded Temporal server on a SQLite
// file, app database on SQLite, worker and API) run from the built binary,
// so that its resident memory is the process's own, read from /proc.
type stack struct {
	dir, bin string
	env      []string
	base     string // http://127.0.0.1:port
	dbFile   string
	cmd      *exec.Cmd
	exited   chan struct{}

	officer, chamberID, chamberToken string
}

func startStack(ctx context.Context, bin, dir string) (*stack, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	payloadKeys, err := codec.GenerateKeys("soak1")
	if err != nil {
		return nil, err
	}
	actionKeys, err := keys.GenerateActionKeys("soak1")
	if err != nil {
		return nil, err
	}
	s := &stack{dir: dir, bin: bin, base: fmt.Sprintf("http://127.0.0.1:%d", ports[0]),
		dbFile: filepath.Join(dir, "visad.db"), exited: make(chan struct{})}
	for _, kv := range os.Environ() { // no VISA_* setting of the caller leaks in
		if !strings.HasPrefix(kv, "VISA_") {
			s.env = append(s.env, kv)
		}
	}
	s.env = append(s.env,
		"VISA_DATA_DIR="+dir,
		"VISA_DATABASE_URL="+s.dbFile,
		fmt.Sprintf("VISA_HTTP_ADDR=127.0.0.1:%d", ports[0]),
		fmt.Sprintf("VISA_TEMPORAL_ADDRESS=127.0.0.1:%d", ports[1]),
		"VISA_METRICS_ADDR=127.0.0.1:0",
		"VISA_SECRET_KEY="+hex.EncodeToString(secret),
		"VISA_PAYLOAD_KEYS="+payloadKeys,
		"VISA_ACTION_KEYS="+actionKeys,
		// One client address sends everything: no per-client limits.
		"VISA_RATE_LIMIT_RPS=0",
		"VISA_STATUS_LOOKUPS_PER_MINUTE=1000000",
		// The soak's applicants send no documents; make chaos exercises uploads.
		"VISA_DOCUMENTS_REQUIRED=false",
		"VISA_LOG_LEVEL=warn",
		"VISA_TEMPORAL_LOG_LEVEL=error",
	)
	logFile, err := os.Create(filepath.Join(dir, "visad.log"))
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, "dev")
	s.cmd.Env = s.env
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	// Own process group; Pdeathsig so the stack never outlives the harness.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	go func() { _ = s.cmd.Wait(); logFile.Close(); close(s.exited) }()
	if err := s.waitReady(ctx, 3*time.Minute); err != nil {
		s.stop()
		return nil, err
	}
	if err := s.accounts(ctx); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *stack) pid() int { return s.cmd.Process.Pid }

// alive reports whether the stack's process is still running.
func (s *stack) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

func (s *stack) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil && s.alive() {
		resp, err := http.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	return fmt.Errorf("visad dev not ready within %s (see %s)", limit, filepath.Join(s.dir, "visad.log"))
}

// accounts creates an officer and a chamber with the command-line tools, as an operator would.
func (s *stack) accounts(ctx context.Context) error {
	out, err := s.run(ctx, "users", "create", "--role", string(domain.RoleOfficer), "--name", "Soak Officer")
	if err != nil {
		return err
	}
	s.officer = strings.TrimSpace(out)
	if out, err = s.run(ctx, "chambers", "create", "--name", "Soak Chamber of Commerce"); err != nil {
		return err
	}
	var ch struct {
		ChamberID string `json:"chamber_id"`
		Token     string `json:"token"`
	}
	if err := json.Unmarshal([]byte(out), &ch); err != nil || ch.ChamberID == "" {
		return fmt.Errorf("chambers create printed %q", out)
	}
	s.chamberID, s.chamberToken = ch.ChamberID, ch.Token
	return nil
}

func (s *stack) run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Env = s.env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("visad %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// stop ends the stack with SIGTERM (it drains), then SIGKILL after 30 s.
func (s *stack) stop() {
	if !s.alive() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-s.pid(), syscall.SIGKILL)
		<-s.exited
	}
}

// rssMB reads a process's resident set (VmRSS) in MiB.
func rssMB(pid int) (float64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) < 2 {
				break
			}
			kb, err := strconv.ParseFloat(f[1], 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
