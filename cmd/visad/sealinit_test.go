package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/visad/visad/internal/sealpki"
	"github.com/visad/visad/internal/vds"
)

// sealInit runs `visad seal init` at now and returns the VISA_SEAL_* settings it printed.
func sealInit(t *testing.T, now time.Time, args ...string) (map[string]string, error) {
	t.Helper()
	old := sealInitNow
	sealInitNow = func() time.Time { return now }
	defer func() { sealInitNow = old }()
	var stdout bytes.Buffer
	err := run(context.Background(), append([]string{"seal", "init"}, args...), &stdout, &bytes.Buffer{})
	settings := map[string]string{}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			settings[k] = v
		}
	}
	return settings, err
}

func loadPrinted(t *testing.T, settings map[string]string) *sealpki.PKI {
	t.Helper()
	p, err := sealpki.Load(sealpki.Files{CACert: settings["VISA_SEAL_CA_CERT"],
		SignerCert: settings["VISA_SEAL_SIGNER_CERT"], SignerKey: settings["VISA_SEAL_SIGNER_KEY"],
		RetiredCerts: []string{settings["VISA_SEAL_RETIRED_CERTS"]}})
	if err != nil {
		t.Fatalf("the printed settings do not load: %v (%v)", err, settings)
	}
	return p
}

func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		out[e.Name()] = string(data)
	}
	return out
}

func TestSealInitCreatesOnce(t *testing.T) {
	dir, caKey := filepath.Join(t.TempDir(), "seal"), filepath.Join(t.TempDir(), "ca-key.pem")
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	settings, err := sealInit(t, now, "--out", dir, "--ca-key", caKey)
	if err != nil {
		t.Fatal(err)
	}
	loadPrinted(t, settings)
	if st, err := os.Stat(settings["VISA_SEAL_SIGNER_KEY"]); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("signer key: %v %v, want mode 0600", err, st)
	}
	before := snapshot(t, dir)

	if _, err := sealInit(t, now, "--out", dir, "--ca-key", filepath.Join(t.TempDir(), "k.pem")); err == nil ||
		!strings.Contains(err.Error(), "exist") {
		t.Errorf("second init: error = %v, want a refusal to overwrite", err)
	}
	again, err := sealInit(t, now.Add(time.Hour), "--out", dir, "--ca-key", caKey, "--if-missing")
	if err != nil {
		t.Fatalf("init --if-missing over a complete PKI: %v", err)
	}
	if again["VISA_SEAL_SIGNER_KEY"] != settings["VISA_SEAL_SIGNER_KEY"] {
		t.Errorf("--if-missing printed other files: %v", again)
	}
	if after := snapshot(t, dir); len(after) != len(before) {
		t.Errorf("files changed: %d before, %d after", len(before), len(after))
	} else {
		for name, data := range before {
			if after[name] != data {
				t.Errorf("%s was overwritten", name)
			}
		}
	}

	fresh := t.TempDir()
	for _, args := range [][]string{
		{"--out", dir},      // no CA key path
		{"--ca-key", caKey}, // no directory
		{"--out", fresh, "--ca-key", filepath.Join(fresh, "keys", "ca-key.pem")}, // the CA key among the servers' files
		{"--out", dir, "--ca-key", caKey, "--rotate", "--if-missing"},
	} {
		if _, err := sealInit(t, now, args...); err == nil {
			t.Errorf("seal init %v succeeded", args)
		}
	}
}

func TestSealInitRotateKeepsOldSealsValid(t *testing.T) {
	dir, caKey := t.TempDir(), filepath.Join(t.TempDir(), "ca-key.pem")
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	settings, err := sealInit(t, now, "--out", dir, "--ca-key", caKey)
	if err != nil {
		t.Fatal(err)
	}
	first := loadPrinted(t, settings)
	oldSeal := signSample(t, first, now)

	later := now.AddDate(0, 9, 0)
	rotated, err := sealInit(t, later, "--out", dir, "--ca-key", caKey, "--rotate")
	if err != nil {
		t.Fatal(err)
	}
	if rotated["VISA_SEAL_SIGNER_CERT"] != settings["VISA_SEAL_SIGNER_CERT"] {
		t.Errorf("rotation moved the signer certificate: the settings would have to change (%v)", rotated)
	}
	second := loadPrinted(t, rotated)
	if second.Active().Equal(first.Active()) {
		t.Fatal("rotation kept the signer")
	}
	newSeal := signSample(t, second, later)

	// What the APIs publish after the restart verifies both, offline.
	certs := filepath.Join(t.TempDir(), "seal-certificates.pem")
	if err := os.WriteFile(certs, second.PublishedPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, raw := range map[string][]byte{"old": oldSeal, "new": newSeal} {
		if out, err := runSealCmd(t, raw, "verify", "--certs", certs, "-"); err != nil || out["valid"] != true {
			t.Errorf("%s seal after rotation: %v %v", name, err, out)
		}
	}
	// Without the CA key there is no rotation.
	if _, err := sealInit(t, later, "--out", dir, "--ca-key", filepath.Join(t.TempDir(), "none.pem"),
		"--rotate"); err == nil {
		t.Error("rotation without the CA key succeeded")
	}
}

func signSample(t *testing.T, p *sealpki.PKI, now time.Time) []byte {
	t.Helper()
	entries, day := 0, now.Truncate(24*time.Hour)
	raw, err := p.SignVisa(day, day, vds.Visa{
		MRZ: [2]string{
			"VBPAKABENOV<<NURLAN<<<<<<<<<<<<<<<<<<<<<<<<<",
			"7K3M9Q2X44KAZ8503124M2906308<<<<<<<<<<<<<<<<",
		},
		Entries: &entries, DurationOfStay: &vds.DurationOfStay{Days: 90}, PassportNumber: "N1234567",
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
