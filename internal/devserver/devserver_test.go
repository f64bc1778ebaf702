package devserver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/server/common/config"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	sqliteschema "go.temporal.io/server/schema/sqlite"
)

// startAndCount starts the server on file, starts one workflow with a fresh
// id (no worker: it stays running), and waits until visibility counts want
// running workflows.
func startAndCount(t *testing.T, file string, want int64) {
	t.Helper()
	ctx := context.Background()
	srv, err := Start(ctx, Config{DatabaseFile: file, Namespaces: []string{"default"}, LogLevel: "off"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			t.Error(err)
		}
	}()
	c, err := client.Dial(client.Options{HostPort: srv.HostPort(), Logger: quietSDKLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: fmt.Sprintf("visibility-%d", want), TaskQueue: "nobody-polls",
	}, "SomeWorkflow"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := c.CountWorkflow(
			ctx,
			&workflowservice.CountWorkflowExecutionsRequest{Query: "ExecutionStatus = 'Running'"},
		)
		if err == nil && resp.GetCount() == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("visibility counts %d running (err %v), want %d", resp.GetCount(), err, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Visibility lives in a file of its own, and survives a restart with the rest.
func TestVisibilityHasItsOwnFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "temporal.db")
	startAndCount(t, file, 1)
	if _, err := os.Stat(VisibilityFile(file)); err != nil {
		t.Fatalf("visibility file: %v", err)
	}
	startAndCount(t, file, 2) // the first workflow is still listed after the restart
}

// A data directory from before the split keeps visibility in its one file.
func TestSingleFileDataDirectoryKeepsItsLayout(t *testing.T) {
	file := filepath.Join(t.TempDir(), "temporal.db")
	legacy := &config.SQL{PluginName: sqliteplugin.PluginName, DatabaseName: file,
		ConnectAttributes: map[string]string{"mode": "rwc", "journal_mode": "wal"}}
	if err := sqliteschema.SetupSchema(legacy); err != nil {
		t.Fatal(err)
	}
	startAndCount(t, file, 1)
	if _, err := os.Stat(VisibilityFile(file)); !os.IsNotExist(err) {
		t.Fatalf("a visibility file appeared in a single-file data directory (stat: %v)", err)
	}
}

func TestVisibilityFileName(t *testing.T) {
	if got := VisibilityFile("/data/temporal.db"); got != "/data/temporal-visibility.db" {
		t.Fatalf("VisibilityFile = %q", got)
	}
}
