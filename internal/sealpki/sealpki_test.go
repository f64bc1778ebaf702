package sealpki

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/visad/visad/internal/vds"
)

var t0 = time.Date(2026, 6, 1, 9, 30, 0, 0, time.UTC)

func day(t time.Time) time.Time { return t.Truncate(24 * time.Hour) }

func sampleVisa() vds.Visa {
	entries := 0
	return vds.Visa{
		MRZ: [2]string{
			"VBPAKABENOV<<NURLAN<<<<<<<<<<<<<<<<<<<<<<<<<",
			"7K3M9Q2X44KAZ8503124M2906308<<<<<<<<<<<<<<<<",
		},
		Entries: &entries, DurationOfStay: &vds.DurationOfStay{Days: 90}, PassportNumber: "N1234567",
	}
}

func TestEnsureDevCreatesThenReloads(t *testing.T) {
	dir := t.TempDir()
	p, err := EnsureDev(dir, t0)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{caKeyFile, signerPrefix + certRef(p.Active()) + keySuffix} {
		fi, err := os.Stat(filepath.Join(dir, devDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
	h := p.Header(day(t0), day(t0))
	if h.SignerID != "PKVD" || len(h.CertRef) != 8 || h.IssuingCountry != "PAK" {
		t.Errorf("header = %+v", h)
	}
	again, err := EnsureDev(dir, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !again.Active().Equal(p.Active()) || !bytes.Equal(again.PublishedPEM(), p.PublishedPEM()) {
		t.Error("a second start did not reload the same CA and signer")
	}
	if n := strings.Count(string(p.PublishedPEM()), "BEGIN CERTIFICATE"); n != 2 {
		t.Errorf("published set has %d certificates, want CA + signer", n)
	}
}

func TestSignedSealVerifiesAndIsDeterministic(t *testing.T) {
	p, err := EnsureDev(t.TempDir(), t0)
	if err != nil {
		t.Fatal(err)
	}
	seal, err := p.SignVisa(day(t0), day(t0), sampleVisa())
	if err != nil {
		t.Fatal(err)
	}
	again, _ := p.SignVisa(day(t0), day(t0), sampleVisa())
	if !bytes.Equal(seal, again) {
		t.Error("the same visa signed twice gave different seals")
	}
	v, err := p.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(seal)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Chained || !bytes.Equal(res.Signer.Raw, p.Active().Raw) {
		t.Errorf("verified by %s (chained %v), want the active signer", res.Signer.Subject, res.Chained)
	}
}

func TestRotationKeepsOldSealsValid(t *testing.T) {
	dir := t.TempDir()
	p1, err := EnsureDev(dir, t0)
	if err != nil {
		t.Fatal(err)
	}
	old, err := p1.SignVisa(day(t0), day(t0), sampleVisa())
	if err != nil {
		t.Fatal(err)
	}
	later := t0.Add(30 * 24 * time.Hour)
	p2, err := RotateDev(dir, later)
	if err != nil {
		t.Fatal(err)
	}
	if p2.Active().Equal(p1.Active()) {
		t.Fatal("rotation kept the same signer")
	}
	fresh, err := p2.SignVisa(day(later), day(later), sampleVisa())
	if err != nil {
		t.Fatal(err)
	}
	reloaded, err := EnsureDev(dir, later.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !reloaded.Active().Equal(p2.Active()) {
		t.Error("a restart after rotation went back to the old signer")
	}
	v, err := reloaded.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	for name, seal := range map[string][]byte{"old": old, "new": fresh} {
		if _, err := v.Verify(seal); err != nil {
			t.Errorf("%s seal: %v", name, err)
		}
	}
	if d1, _ := vds.Decode(old); d1.Header.CertRef == p2.Header(later, later).CertRef {
		t.Error("old and new seals name the same certificate")
	}
	// The key usage period ends: the next start issues a new signer by itself.
	p3, err := EnsureDev(dir, later.Add(KeyUsagePeriod+time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if p3.Active().Equal(p2.Active()) {
		t.Error("no new signer after the key usage period")
	}
	if n := strings.Count(string(p3.PublishedPEM()), "BEGIN CERTIFICATE"); n != 4 {
		t.Errorf("published set has %d certificates, want CA + 3 signers", n)
	}
}

func TestLoadFromFiles(t *testing.T) {
	dir := t.TempDir()
	p1, _ := EnsureDev(dir, t0)
	old, _ := p1.SignVisa(day(t0), day(t0), sampleVisa())
	p2, _ := RotateDev(dir, t0.Add(24*time.Hour))
	seal := filepath.Join(dir, devDir)
	files := Files{
		CACert:       filepath.Join(seal, caCertFile),
		SignerCert:   filepath.Join(seal, signerPrefix+certRef(p2.Active())+certSuffix),
		SignerKey:    filepath.Join(seal, signerPrefix+certRef(p2.Active())+keySuffix),
		RetiredCerts: []string{filepath.Join(seal, signerPrefix+certRef(p1.Active())+certSuffix)},
	}
	p, err := Load(files)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Active().Equal(p2.Active()) || !bytes.Equal(p.PublishedPEM(), p2.PublishedPEM()) {
		t.Error("Load gave another PKI than the one on disk")
	}
	v, _ := p.Verifier()
	if _, err := v.Verify(old); err != nil {
		t.Errorf("seal of the retired signer: %v", err)
	}

	// Without the retired certificate, the old seal's signer is unknown.
	files.RetiredCerts = nil
	p, err = Load(files)
	if err != nil {
		t.Fatal(err)
	}
	v, _ = p.Verifier()
	if _, err := v.Verify(old); !errors.Is(err, vds.ErrUnknownSigner) {
		t.Errorf("old seal without its certificate: error = %v, want ErrUnknownSigner", err)
	}

	// The key of another signer is refused.
	files.SignerKey = filepath.Join(seal, signerPrefix+certRef(p1.Active())+keySuffix)
	if _, err := Load(files); err == nil {
		t.Error("Load accepted a key that does not belong to the signer certificate")
	}
	// A signer from another CA is refused.
	other := t.TempDir()
	po, _ := EnsureDev(other, t0)
	files.SignerCert = filepath.Join(other, devDir, signerPrefix+certRef(po.Active())+certSuffix)
	files.SignerKey = filepath.Join(other, devDir, signerPrefix+certRef(po.Active())+keySuffix)
	if _, err := Load(files); err == nil {
		t.Error("Load accepted a signer certificate issued by another CA")
	}
}

func TestReadDevPublished(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadDevPublished(dir); err == nil {
		t.Error("ReadDevPublished of an empty data directory succeeded")
	}
	if _, err := EnsureDev(dir, t0); err != nil {
		t.Fatal(err)
	}
	p, err := RotateDev(dir, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadDevPublished(dir)
	if err != nil {
		t.Fatal(err)
	}
	v1, _ := p.Verifier()
	v2, err := vds.NewVerifier(got)
	if err != nil {
		t.Fatal(err)
	}
	if len(v1.Signers()) != 2 || len(v2.Signers()) != 2 {
		t.Errorf("published signers: %d and %d, want 2", len(v1.Signers()), len(v2.Signers()))
	}
}

// A retired-certificates file with no PEM block is an empty list (written
// before the first rotation); one whose blocks hold no certificate is refused.
func TestLoadRetiredFiles(t *testing.T) {
	dir := t.TempDir()
	p, _ := EnsureDev(dir, t0)
	seal := filepath.Join(dir, devDir)
	ref := certRef(p.Active())
	files := Files{CACert: filepath.Join(seal, caCertFile),
		SignerCert: filepath.Join(seal, signerPrefix+ref+certSuffix),
		SignerKey:  filepath.Join(seal, signerPrefix+ref+keySuffix)}

	none := filepath.Join(dir, "retired.pem")
	if err := os.WriteFile(none, []byte("# no signer retired yet\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	files.RetiredCerts = []string{none}
	if _, err := Load(files); err != nil {
		t.Errorf("retired file without certificates: %v", err)
	}
	files.RetiredCerts = []string{files.SignerKey}
	if _, err := Load(files); err == nil {
		t.Error("Load accepted a key file as retired certificates")
	}
	files.RetiredCerts = []string{filepath.Join(dir, "missing.pem")}
	if _, err := Load(files); err == nil {
		t.Error("Load accepted a missing retired certificates file")
	}
}
