package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// `visad users create` prints only the API token on stdout (scripts capture
// it) and the one-time console enrolment link on stderr, for staff and for
// the people of a chamber.
func TestUsersCreatePrintsAnEnrolmentLink(t *testing.T) {
	t.Setenv("VISA_DATABASE_URL", "")
	t.Setenv("VISA_PUBLIC_URL", "https://visa.example.org/")
	ctx := context.Background()
	dir := t.TempDir()
	visad := func(args ...string) (string, string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(ctx, append(args, "--data-dir", dir), &out, &errOut)
		return out.String(), errOut.String(), err
	}
	link := regexp.MustCompile(`(?m)^  https://visa\.example\.org/staff/enrol/ven_[A-Za-z0-9_-]{43}$`)
	out, errOut, err := visad("users", "create", "--role", "officer", "--name", "Officer Bilal", "--login", "bilal")
	if err != nil {
		t.Fatalf("users create: %v\n%s", err, errOut)
	}
	if token := strings.TrimSpace(out); !strings.HasPrefix(token, "vst_") || strings.ContainsAny(token, "\n ") {
		t.Errorf("stdout %q: want only the token", out)
	}
	if !link.MatchString(errOut) || !strings.Contains(errOut, "sign-in name bilal") {
		t.Errorf("stderr %q: want the sign-in name and an enrolment link", errOut)
	}
	_, errOut, err = visad("users", "create", "--role", "officer", "--name", "Another", "--login", "bilal")
	if err == nil || !strings.Contains(err.Error(), "--login") {
		t.Errorf("a taken sign-in name: %v %s", err, errOut)
	}

	if _, _, err := visad("users", "create", "--role", "chamber", "--name", "Aigerim"); err == nil ||
		!strings.Contains(err.Error(), "--chamber") {
		t.Errorf("a chamber account without --chamber: %v", err)
	}
	var chamberOut bytes.Buffer
	if err := run(ctx, []string{"chambers", "create", "--name", "Almaty Chamber", "--data-dir", dir}, &chamberOut,
		&bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var chamber struct {
		ID string `json:"chamber_id"`
	}
	if err := json.Unmarshal(chamberOut.Bytes(), &chamber); err != nil || chamber.ID == "" {
		t.Fatalf("chambers create: %q %v", chamberOut.String(), err)
	}
	id := chamber.ID
	out, errOut, err = visad("users", "create", "--role", "chamber", "--chamber", id, "--name", "Aigerim Sadykova")
	if err != nil || !strings.HasPrefix(strings.TrimSpace(out), "vst_") || !link.MatchString(errOut) {
		t.Fatalf("chamber account: %v\nstdout %q\nstderr %q", err, out, errOut)
	}
	if _, _, err := visad("users", "create", "--role", "chamber", "--chamber", "chb_NOSUCH", "--name", "X Y"); err == nil {
		t.Error("a chamber account of an unknown chamber was created")
	}
}
