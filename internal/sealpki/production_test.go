package sealpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestInitWritesALoadablePKIOnce(t *testing.T) {
	dir, caKey := filepath.Join(t.TempDir(), "seal"), filepath.Join(t.TempDir(), "offline", "ca-key.pem")
	p, err := Init(dir, caKey, t0)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(FilesIn(dir))
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.Active().Equal(p.Active()) || !loaded.CA().Equal(p.CA()) {
		t.Error("Load gave another PKI than Init made")
	}
	for _, key := range []string{FilesIn(dir).SignerKey, caKey} {
		st, err := os.Stat(key)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", key, st.Mode().Perm())
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		if strings.Contains(string(data), "PRIVATE KEY") && e.Name() != prodSignerKeyFile {
			t.Errorf("%s holds a private key; only the signer's belongs there", e.Name())
		}
	}

	if _, err := Init(dir, filepath.Join(t.TempDir(), "ca-key.pem"), t0); !errors.Is(err, ErrExists) {
		t.Errorf("second Init: error = %v, want ErrExists", err)
	}
	if _, err := Init(t.TempDir(), caKey, t0); !errors.Is(err, ErrExists) {
		t.Errorf("Init over an existing CA key: error = %v, want ErrExists", err)
	}
	inside := t.TempDir()
	if _, err := Init(inside, filepath.Join(inside, "ca-key.pem"), t0); err == nil {
		t.Error("Init put the CA key in the directory the servers read")
	}
	if _, err := Init(t.TempDir(), "", t0); err == nil {
		t.Error("Init without a CA key path")
	}
}

func TestRotateKeepsOldSealsValid(t *testing.T) {
	dir, caKey := t.TempDir(), filepath.Join(t.TempDir(), "ca-key.pem")
	p1, err := Init(dir, caKey, t0)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := p1.SignVisa(day(t0), day(t0), sampleVisa())
	later := t0.Add(200 * 24 * time.Hour)
	p2, err := Rotate(dir, caKey, later)
	if err != nil {
		t.Fatal(err)
	}
	if p2.Active().Equal(p1.Active()) || !p2.CA().Equal(p1.CA()) {
		t.Fatal("rotation must issue a new signer from the same CA")
	}
	fresh, _ := p2.SignVisa(day(later), day(later), sampleVisa())
	loaded, err := Load(FilesIn(dir))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := loaded.Verifier()
	for name, seal := range map[string][]byte{"old": old, "new": fresh} {
		if _, err := v.Verify(seal); err != nil {
			t.Errorf("%s seal after rotation: %v", name, err)
		}
	}

	// A rotation cut short between the new key and its certificate: Load
	// refuses the pair, and rotating again finishes without listing a
	// signer twice.
	stray, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err := writeKey(FilesIn(dir).SignerKey, stray); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(FilesIn(dir)); err == nil {
		t.Fatal("Load accepted a key of another signer")
	}
	if err := writeRetired(FilesIn(dir).RetiredCerts[0], append(retiredOf(t, dir), p2.Active())); err != nil {
		t.Fatal(err)
	}
	p3, err := Rotate(dir, caKey, later.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(retiredOf(t, dir)); n != 2 {
		t.Errorf("%d retired signers, want 2", n)
	}
	v, _ = p3.Verifier()
	for name, seal := range map[string][]byte{"first": old, "second": fresh} {
		if _, err := v.Verify(seal); err != nil {
			t.Errorf("%s signer's seal after two rotations: %v", name, err)
		}
	}

	other := filepath.Join(t.TempDir(), "other-ca-key.pem")
	if _, err := Init(t.TempDir(), other, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := Rotate(dir, other, later); err == nil {
		t.Error("Rotate accepted the key of another CA")
	}
}

func retiredOf(t *testing.T, dir string) []*x509.Certificate {
	t.Helper()
	certs, err := readCertsOrNone(FilesIn(dir).RetiredCerts[0])
	if err != nil {
		t.Fatal(err)
	}
	return certs
}
