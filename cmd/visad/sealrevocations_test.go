package main

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/visad/visad/internal/sealpki"
)

// writeRevocations signs a list with the fixture's PKI and saves it as
// `curl -si` does.
func writeRevocations(t *testing.T, f sealFixture, entries []sealpki.RevocationEntry, tamper bool) string {
	t.Helper()
	p, err := sealpki.EnsureDev(f.dir, time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	body, sig, err := p.SignRevocationList(entries, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if tamper {
		body = []byte(strings.Replace(string(body), "fraud", "frauD", 1))
	}
	ref := p.Header(time.Now(), time.Now()).CertRef
	resp := "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" +
		sealpki.RevocationSignatureHeader + ": " + base64.StdEncoding.EncodeToString(sig) + "\r\n" +
		sealpki.RevocationSignerHeader + ": " + ref + "\r\n\r\n" + string(body)
	name := filepath.Join(t.TempDir(), "revocations.http")
	if err := os.WriteFile(name, []byte(resp), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestSealVerifyWithRevocations(t *testing.T) {
	f := newSealFixture(t)
	revokedAt := time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)
	listed := []sealpki.RevocationEntry{{VisaNumber: "PK5Y-26-7K3M9Q2X-4", MRZVisaNumber: "7K3M9Q2X4",
		RevokedAt: revokedAt, ReasonCode: "fraud_or_misrepresentation"}}

	out, err := runSealCmd(t, nil, "verify", "--certs", f.certs,
		"--revocations", writeRevocations(t, f, listed, false), f.seal)
	if !errors.Is(err, errSealRevoked) {
		t.Fatalf("revoked visa: error %v, want errSealRevoked (%v)", err, out)
	}
	rev, _ := out["revocation"].(map[string]any)
	if out["valid"] != true || out["revoked"] != true || rev["reason_code"] != "fraud_or_misrepresentation" {
		t.Errorf("output = %v", out)
	}

	other := []sealpki.RevocationEntry{{VisaNumber: "PK5Y-26-AAAAAAAA-1", MRZVisaNumber: "AAAAAAAA1",
		RevokedAt: revokedAt, ReasonCode: "holder_request"}}
	out, err = runSealCmd(t, nil, "verify", "--certs", f.certs,
		"--revocations", writeRevocations(t, f, other, false), f.seal)
	if err != nil || out["revoked"] != false {
		t.Fatalf("visa not on the list: %v, %v", err, out)
	}

	if _, err := runSealCmd(t, nil, "verify", "--certs", f.certs, "--revocations",
		writeRevocations(t, f, listed, true), f.seal); !errors.Is(err, sealpki.ErrRevocationSignature) {
		t.Fatalf("tampered list: %v, want ErrRevocationSignature", err)
	}

	bodyOnly := filepath.Join(t.TempDir(), "revocations.json")
	if err := os.WriteFile(bodyOnly, []byte(`{"entries":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := runSealCmd(t, nil, "verify", "--certs", f.certs, "--revocations", bodyOnly, f.seal); err == nil ||
		!strings.Contains(err.Error(), "curl -si") {
		t.Fatalf("a list without its signature: %v", err)
	}
}
