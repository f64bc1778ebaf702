package main

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// api and worker without the seal PKI's files and without a chosen data
// directory stop at start, before touching anything.
func TestSealPKIRequiredAtStart(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"api"}, nil, "VISA_SEAL_CA_CERT, VISA_SEAL_SIGNER_CERT and VISA_SEAL_SIGNER_KEY are required"},
		{[]string{"worker"}, nil, "VISA_SEAL_CA_CERT, VISA_SEAL_SIGNER_CERT and VISA_SEAL_SIGNER_KEY are required"},
		{[]string{"worker"}, map[string]string{"VISA_SEAL_CA_CERT": "/nonexistent/ca.pem"}, "go together"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)                  // the default ./data would land here
			t.Setenv("VISA_DATA_DIR", "") // empty counts as unset
			t.Setenv("VISA_TEMPORAL_ADDRESS", "127.0.0.1:1")
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
			if entries, _ := os.ReadDir(dir); len(entries) > 0 {
				t.Errorf("%v appeared: the command got past its configuration", entries)
			}
		})
	}
}
