package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Invalid settings stop a command before it opens the database or dials
// Temporal, naming the variable or flag and never a secret's value.
func TestInvalidSettingsFailAtStart(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		env      map[string]string
		want     string
		notShown string
	}{
		{[]string{"api"}, map[string]string{"VISA_TRUSTED_PROXIES": "10.0.0.1,10.0.0.0/33"},
			`VISA_TRUSTED_PROXIES="10.0.0.1,10.0.0.0/33": want comma-separated IP addresses or CIDR prefixes`, ""},
		{[]string{"api", "--trusted-proxies", "proxy.internal"}, nil, `--trusted-proxies="proxy.internal"`, ""},
		{[]string{"worker", "--sla-business-2y", "tomorrow"}, nil,
			`--sla-business-2y="tomorrow": want a positive duration`, ""},
		{[]string{"worker"}, map[string]string{"VISA_SMTP_URL": "smtp://ops:hunter2@mail"},
			"VISA_SMTP_URL (value not shown): want smtp://", "hunter2"},
		{[]string{"dev"}, map[string]string{"VISA_LOG_LEVEL": "loud"},
			`VISA_LOG_LEVEL="loud": want debug, info, warn or error`, ""},
		{[]string{"codec-server"}, map[string]string{"VISA_CODEC_CORS_ORIGIN": "localhost:8233"},
			`VISA_CODEC_CORS_ORIGIN="localhost:8233"`, ""},
		{[]string{"migrate", "--database-url", "mysql://ops:hunter2@db/visad"}, nil,
			"--database-url (value not shown)", "hunter2"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("VISA_DATA_DIR", dir)
			t.Setenv("VISA_TEMPORAL_ADDRESS", "127.0.0.1:1") // nothing listens: a command that got this far would hang
			t.Setenv("VISA_SECRET_KEY", strings.Repeat("ab", 32))
			t.Setenv("VISA_PAYLOAD_KEYS", "k1:"+strings.Repeat("cd", 32))
			t.Setenv("VISA_ACTION_KEYS", "a1:"+strings.Repeat("ef", 32))
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := run(ctx, tc.args, io.Discard, io.Discard)
			if err == nil || errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one containing %q", err, tc.want)
			}
			if tc.notShown != "" && strings.Contains(err.Error(), tc.notShown) {
				t.Errorf("the error shows a secret: %v", err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) > 0 {
				t.Errorf("the data dir has %v: the command got past its configuration", entries)
			}
		})
	}
}

// The visad binary exits non-zero with the message on stderr.
func TestInvalidSettingExitStatus(t *testing.T) {
	cmd := exec.Command(os.Args[0], "api", "--data-dir", filepath.Join(t.TempDir(), "data"))
	cmd.Env = append(os.Environ(), runAsVisad+"=1", "VISA_TRUSTED_PROXIES=10.0.0.0/33")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("visad api with a bad VISA_TRUSTED_PROXIES: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `visad: VISA_TRUSTED_PROXIES="10.0.0.0/33": want`) {
		t.Errorf("stderr:\n%s", out)
	}
}
