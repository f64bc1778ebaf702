package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one visad child process that the harness starts, kills and restarts.
// Its output goes to <dir>/<name>.log (appended across restarts).
type proc struct {
	name string
	bin  string
	args []string
	env  []string
	log  string

	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{} // closed when the current run has exited
	expected bool          // the current run is being stopped on purpose
	starts   int
	crashes  []crash // unexpected exits
}

// procs is every child, so that all of them are killed on exit.
type procs struct {
	mu   sync.Mutex
	list []*proc
}

func (ps *procs) add(p *proc) *proc {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.list = append(ps.list, p)
	return p
}

// killAll SIGKILLs every running child (and its process group) and waits briefly.
func (ps *procs) killAll() {
	ps.mu.Lock()
	list := append([]*proc(nil), ps.list...)
	ps.mu.Unlock()
	for _, p := range list {
		p.kill9()
	}
	for _, p := range list {
		p.wait(5 * time.Second)
	}
}

func (p *proc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		select {
		case <-p.done:
		default:
			return fmt.Errorf("%s is already running", p.name)
		}
	}
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "\n===== chaos: start %s at %s =====\n", p.name, time.Now().Format(time.TimeOnly))
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = f, f
	// Own process group, so a kill reaches anything the child starts; Pdeathsig so
	// a child never outlives the harness even if the harness itself is SIGKILLed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	started := time.Now()
	p.cmd, p.done, p.expected = cmd, done, false
	p.starts++
	go func() {
		err := cmd.Wait()
		f.Close()
		p.mu.Lock()
		if !p.expected {
			msg := "exited"
			if err != nil {
				msg = err.Error()
			}
			p.crashes = append(p.crashes, crash{name: p.name, msg: msg, started: started, at: time.Now()})
			logf("UNEXPECTED EXIT of %s: %s (see %s)", p.name, msg, p.log)
		}
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

// pid is the current run's process id (0 if never started).
func (p *proc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

func (p *proc) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *proc) signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	p.expected = true
	if sig == syscall.SIGKILL {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	} else {
		_ = p.cmd.Process.Signal(sig)
	}
}

func (p *proc) kill9() { p.signal(syscall.SIGKILL) }

// wait waits up to d for the current run to exit; true if it has.
func (p *proc) wait(d time.Duration) bool {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return true
	}
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// stop sends SIGTERM and escalates to SIGKILL after grace.
func (p *proc) stop(grace time.Duration) (graceful bool) {
	p.signal(syscall.SIGTERM)
	if p.wait(grace) {
		return true
	}
	p.kill9()
	p.wait(5 * time.Second)
	return false
}

// crash is an exit the harness did not cause.
type crash struct {
	name, msg   string
	started, at time.Time
}

func (c crash) String() string {
	return fmt.Sprintf("%s %s after %.0f s: %s", c.name, c.at.Format(time.TimeOnly), c.at.Sub(c.started).Seconds(), c.msg)
}

func (p *proc) crashList() []crash {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]crash(nil), p.crashes...)
}

// runOnce runs a visad command to completion (bounded) and returns its stdout.
func runOnce(ctx context.Context, bin string, env []string, logPath string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err := cmd.Run()
	if logPath != "" {
		if f, ferr := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); ferr == nil {
			fmt.Fprintf(f, "$ visad %s\n%s", strings.Join(args, " "), errb.String())
			f.Close()
		}
	}
	if err != nil {
		return out.String(), fmt.Errorf("visad %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// freePorts picks n distinct free loopback ports.
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

// pgCluster runs pg_ctlcluster for the Debian cluster that serves the chaos database.
type pgCluster struct {
	version, name string
	ctl           string // path of pg_ctlcluster, "" if unavailable
}

func (c pgCluster) String() string { return c.version + "/" + c.name }

// findPGCluster finds the cluster listening on the port of the admin URL, so R3
// stops the server the chaos database lives on and no other.
func findPGCluster(adminURL string) (pgCluster, error) {
	ctl, err := exec.LookPath("pg_ctlcluster")
	if err != nil {
		return pgCluster{}, errors.New("pg_ctlcluster is not installed: R3 cannot stop PostgreSQL")
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return pgCluster{}, fmt.Errorf("-pg: %w", err)
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	out, err := exec.Command("pg_lsclusters", "--no-header").Output()
	if err != nil {
		return pgCluster{}, fmt.Errorf("pg_lsclusters: %w: R3 cannot stop PostgreSQL", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line) // version, cluster, port, status, owner, data directory, log file
		if len(f) >= 3 && f[2] == port {
			return pgCluster{version: f[0], name: f[1], ctl: ctl}, nil
		}
	}
	return pgCluster{}, fmt.Errorf("no local cluster listens on port %s: R3 cannot stop PostgreSQL", port)
}

func (c pgCluster) run(action string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, c.ctl, "--skip-systemctl-redirect", c.version, c.name, action).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctlcluster %s %s %s: %w: %s", c.version, c.name, action, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// ensureRunning starts the cluster if it is down (idempotent).
func (c pgCluster) ensureRunning() error {
	if c.ctl == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if exec.CommandContext(ctx, c.ctl, "--skip-systemctl-redirect", c.version, c.name, "status").Run() == nil {
		return nil
	}
	return c.run("start")
}
