package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/visad/visad/internal/sealpki"
	"github.com/visad/visad/internal/vds"
)

type sealFixture struct {
	dir, certs, seal string
	raw              []byte
}

func newSealFixture(t *testing.T) sealFixture {
	t.Helper()
	dir := t.TempDir()
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	p, err := sealpki.EnsureDev(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	entries := 0
	day := now.Truncate(24 * time.Hour)
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
	f := sealFixture{dir: dir, certs: filepath.Join(dir, "certs.pem"), seal: filepath.Join(dir, "seal.bin"), raw: raw}
	if err := os.WriteFile(f.certs, p.PublishedPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.seal, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func runSealCmd(t *testing.T, stdin []byte, args ...string) (map[string]any, error) {
	t.Helper()
	if stdin != nil {
		old := sealStdin
		sealStdin = bytes.NewReader(stdin)
		defer func() { sealStdin = old }()
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"seal"}, args...), &stdout, &stderr)
	var out map[string]any
	if stdout.Len() > 0 {
		if jerr := json.Unmarshal(stdout.Bytes(), &out); jerr != nil {
			t.Fatalf("stdout is not JSON: %v\n%s", jerr, stdout.String())
		}
	}
	return out, err
}

func TestSealVerifyCommand(t *testing.T) {
	f := newSealFixture(t)
	out, err := runSealCmd(t, nil, "verify", "--certs", f.certs, f.seal)
	if err != nil {
		t.Fatalf("valid seal: %v (%v)", err, out)
	}
	if out["valid"] != true || out["signer"].(map[string]any)["signer_identifier"] != "PKVD" {
		t.Errorf("output = %v", out)
	}
	visa := out["seal"].(map[string]any)["visa"].(map[string]any)
	if visa["passport_number"] != "N1234567" {
		t.Errorf("visa = %v", visa)
	}

	// Base64 on stdin, and the development PKI found through --data-dir or VISA_DATA_DIR.
	b64 := []byte(base64.StdEncoding.EncodeToString(f.raw) + "\n")
	if out, err := runSealCmd(t, b64, "verify", "--data-dir", f.dir); err != nil {
		t.Errorf("base64 on stdin, --data-dir: %v (%v)", err, out)
	}
	t.Setenv("VISA_DATA_DIR", f.dir)
	if out, err := runSealCmd(t, b64, "verify"); err != nil {
		t.Errorf("base64 on stdin, VISA_DATA_DIR: %v (%v)", err, out)
	}
	if _, err := runSealCmd(t, b64, "verify", "--data-dir", t.TempDir()); err == nil {
		t.Error("--data-dir without a development PKI: verified anyway (the flag is ignored)")
	}

	flipped := bytes.Clone(f.raw)
	flipped[25] ^= 0x04
	other := newSealFixture(t)
	tests := []struct {
		name, code string
		input      []byte
		certs      string
	}{
		{"flipped bit", "bad_signature", flipped, f.certs},
		{"truncated", "truncated", f.raw[:len(f.raw)-10], f.certs},
		{"unknown signer", "unknown_signer", other.raw, f.certs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runSealCmd(t, tt.input, "verify", "--certs", tt.certs, "-")
			if !errors.Is(err, errSealNotValid) {
				t.Fatalf("error = %v, want errSealNotValid", err)
			}
			if out["valid"] != false || out["error_code"] != tt.code {
				t.Errorf("output = %v, want error_code %s", out, tt.code)
			}
		})
	}
}

func TestSealDecodeCommandPublishedVector(t *testing.T) {
	hexSeal, err := os.ReadFile("../../internal/vds/testdata/visa-uto-utts5b.hex")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(hexSeal), "\n") {
		if !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	out, err := runSealCmd(t, []byte(strings.Join(lines, "\n")), "decode", "-")
	if err != nil {
		t.Fatal(err)
	}
	visa := out["visa"].(map[string]any)
	mrz := visa["mrz"].([]any)
	if mrz[0] != "VCD<<DENT<<ARTHUR<PHILIP<<<<<<<<<<<<" || visa["passport_number"] != "47110815P" {
		t.Errorf("visa = %v", visa)
	}
	if h := out["header"].(map[string]any); h["signer_identifier"] != "UTTS" ||
		h["signature_creation_date"] != "2025-12-07" {
		t.Errorf("header = %v", h)
	}
}

func TestSealCommandUsage(t *testing.T) {
	if _, err := runSealCmd(t, nil, "sign"); err == nil {
		t.Error("unknown seal command accepted")
	}
	if _, err := runSealCmd(t, []byte("not a seal!"), "decode"); err == nil {
		t.Error("garbage decoded")
	}
}
