package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWalkthrough runs the shell commands of the docs against a live `visad dev`, so the docs cannot rot
// silently: every ```sh block of docs/walkthrough.md (and of the README's taste), in order, in one bash session.
func TestWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds visad and starts the embedded Temporal server")
	}
	for _, tool := range []string{"bash", "curl", "jq", "sed", "date"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the walkthrough needs %s on PATH (Debian: apt-get install %s)", tool, tool)
		}
	}
	root := walkthroughRepoRoot(t)
	work := t.TempDir()
	walkthroughBuild(t, root, work)

	for _, doc := range []string{"docs/walkthrough.md", "README.md"} {
		t.Run(filepath.Base(doc), func(t *testing.T) {
			blocks := walkthroughShellBlocks(t, filepath.Join(root, doc))
			if len(blocks) == 0 {
				t.Fatalf("%s has no ```sh blocks", doc)
			}
			// A fresh server and data directory per document: each reads as if `make run` had just started.
			dataDir := filepath.Join(work, strings.TrimSuffix(filepath.Base(doc), ".md")+"-data")
			api := walkthroughStartDev(t, work, dataDir)
			walkthroughRun(t, work, dataDir, api, doc, blocks)
		})
	}
}

// walkthroughBlock is one fenced ```sh block and the line its code starts on.
type walkthroughBlock struct {
	line int
	code string
}

// walkthroughShellBlocks returns the ```sh blocks of a Markdown file in order.
func walkthroughShellBlocks(t *testing.T, path string) []walkthroughBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []walkthroughBlock
	var current *walkthroughBlock
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case current == nil && strings.TrimSpace(line) == "```sh":
			current = &walkthroughBlock{line: n + 1}
		case current != nil && strings.TrimSpace(line) == "```":
			blocks = append(blocks, *current)
			current = nil
		case current != nil:
			current.code += line + "\n"
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if current != nil {
		t.Fatalf("%s: the ```sh block from line %d is never closed", path, current.line)
	}
	return blocks
}

// walkthroughRun runs the blocks as one bash script from a directory holding bin/visad, as the docs run them
// from the repository root. VISA_DATA_DIR points the ./bin/visad commands at the server's database.
func walkthroughRun(t *testing.T, work, dataDir, api, doc string, blocks []walkthroughBlock) {
	t.Helper()
	var script strings.Builder
	script.WriteString("set -eo pipefail\n")
	for _, b := range blocks {
		fmt.Fprintf(&script, "printf '\\n--- %s:%d\\n'\n", doc, b.line)
		script.WriteString(b.code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir = work
	cmd.Env = append(walkthroughEnv(), "API=http://"+api, "VISA_DATA_DIR="+dataDir, "VISA_LOG_LEVEL=warn")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("a command of %s failed (%v); the output, with each block's line, is:\n%s", doc, err, out)
	}
	t.Logf("%s ran %d blocks:\n%s", doc, len(blocks), out)
}

// walkthroughEnv is the test's environment without VISA_* settings, so that a developer's own (a database URL,
// say) cannot point the walkthrough's server or commands elsewhere.
func walkthroughEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VISA_") {
			env = append(env, kv)
		}
	}
	return env
}

// walkthroughRepoRoot finds the module root from the test's directory.
func walkthroughRepoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// walkthroughBuild builds the binary to work/bin/visad, where the docs' ./bin/visad finds it.
func walkthroughBuild(t *testing.T, root, work string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", filepath.Join(work, "bin", "visad"), "./cmd/visad")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
}

var walkthroughAPILine = regexp.MustCompile(`API\s+http://(\S+)`)

// walkthroughStartDev starts `visad dev` on its own data directory and ports the OS picks (port 0, so no port is
// chosen, released and raced for) and returns the API's address once it is ready.
func walkthroughStartDev(t *testing.T, work, dataDir string) string {
	t.Helper()
	out := &walkthroughBuffer{}
	cmd := exec.Command(filepath.Join(work, "bin", "visad"), "dev", "--data-dir", dataDir,
		"--http-addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--temporal-address", "127.0.0.1:0",
		"--log-level", "warn", "--dev-ui-addr", "127.0.0.1:0")
	// The defaults, as after `make run`: documents required, so the docs upload them.
	cmd.Env = walkthroughEnv()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	timeout := time.After(3 * time.Minute)
	for {
		if m := walkthroughAPILine.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
		select {
		case <-exited:
			t.Fatalf("visad dev exited before it was ready:\n%s", out.String())
		case <-timeout:
			t.Fatalf("visad dev was not ready within 3 minutes:\n%s", out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// walkthroughBuffer collects a process's output while the test reads it.
type walkthroughBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *walkthroughBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *walkthroughBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
