package sealpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Dev PKI layout under <data-dir>/seal/.
const (
	devDir          = "seal"
	caCertFile      = "ca.pem"
	caKeyFile       = "ca-key.pem"
	signerPrefix    = "signer-"
	keySuffix       = "-key.pem"
	certSuffix      = ".pem"
	devCACommonName = "visad development CSCA"
)

// EnsureDev returns the development PKI kept in dataDir/seal: on first start
// it creates the CA and a document signer; later starts reload them. When the
// active signer's key usage period is over, a new signer is issued and the old
// certificate stays published. Keys are PKCS#8 PEM files of mode 0600.
func EnsureDev(dataDir string, now time.Time) (*PKI, error) {
	return ensureDev(dataDir, now, false)
}

// RotateDev issues a new document signer in the development PKI and makes it
// the active one; earlier signers stay published.
func RotateDev(dataDir string, now time.Time) (*PKI, error) {
	return ensureDev(dataDir, now, true)
}

func ensureDev(dataDir string, now time.Time, rotate bool) (*PKI, error) {
	dir := filepath.Join(dataDir, devDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sealpki: %w", err)
	}
	ca, caKey, err := loadOrCreateCA(dir, now)
	if err != nil {
		return nil, err
	}
	signers, keys, err := loadDevSigners(dir)
	if err != nil {
		return nil, err
	}
	var active *x509.Certificate
	var key crypto.Signer
	for i, c := range signers { // newest usable signer with a key
		if keys[i] != nil && now.Before(c.NotBefore.Add(KeyUsagePeriod)) &&
			(active == nil || c.NotBefore.After(active.NotBefore)) {
			active, key = c, keys[i]
		}
	}
	if active == nil || rotate {
		cert, k, err := NewSigner(ca, caKey, now)
		if err != nil {
			return nil, fmt.Errorf("sealpki: new signer: %w", err)
		}
		base := filepath.Join(dir, signerPrefix+certRef(cert))
		if err := writeKey(base+keySuffix, k); err != nil {
			return nil, err
		}
		if err := writePEM(base+certSuffix, "CERTIFICATE", cert.Raw, 0o644); err != nil {
			return nil, err
		}
		signers, active, key = append(signers, cert), cert, k
	}
	return New(ca, signers, active, key)
}

func loadOrCreateCA(dir string, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	certPath, keyPath := filepath.Join(dir, caCertFile), filepath.Join(dir, caKeyFile)
	if _, err := os.Stat(certPath); errors.Is(err, fs.ErrNotExist) {
		cert, key, err := NewCA(devCACommonName, now)
		if err != nil {
			return nil, nil, fmt.Errorf("sealpki: new CA: %w", err)
		}
		// Key first: a certificate without its key would block later starts.
		if err := writeKey(keyPath, key); err != nil {
			return nil, nil, err
		}
		if err := writePEM(certPath, "CERTIFICATE", cert.Raw, 0o644); err != nil {
			return nil, nil, err
		}
		return cert, key, nil
	}
	cert, err := readCert(certPath)
	if err != nil {
		return nil, nil, err
	}
	key, err := readKey(keyPath)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// loadDevSigners reads every signer-<ref>.pem and its key if present.
func loadDevSigners(dir string) ([]*x509.Certificate, []crypto.Signer, error) {
	names, err := filepath.Glob(filepath.Join(dir, signerPrefix+"*"+certSuffix))
	if err != nil {
		return nil, nil, err
	}
	var certs []*x509.Certificate
	var keys []crypto.Signer
	for _, name := range names {
		if strings.HasSuffix(name, keySuffix) {
			continue
		}
		cert, err := readCert(name)
		if err != nil {
			return nil, nil, err
		}
		var key crypto.Signer
		keyPath := strings.TrimSuffix(name, certSuffix) + keySuffix
		if _, err := os.Stat(keyPath); err == nil {
			if key, err = readKey(keyPath); err != nil {
				return nil, nil, err
			}
		}
		certs, keys = append(certs, cert), append(keys, key)
	}
	return certs, keys, nil
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("sealpki: %w", err)
	}
	return writePEM(path, "PRIVATE KEY", der, 0o600)
}

func writePEM(path, blockType string, der []byte, mode os.FileMode) error {
	return writeFile(path, pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der}), mode)
}

// writeFile writes atomically: a crash leaves the old file or the new one.
func writeFile(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("sealpki: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("sealpki: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("sealpki: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sealpki: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("sealpki: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("sealpki: %w", err)
	}
	return nil
}

// ReadDevPublished returns the published certificate set of the development
// PKI in dataDir (CA, then signers) without creating or loading any key.
func ReadDevPublished(dataDir string) ([]byte, error) {
	dir := filepath.Join(dataDir, devDir)
	ca, err := readCert(filepath.Join(dir, caCertFile))
	if err != nil {
		return nil, err
	}
	names, err := filepath.Glob(filepath.Join(dir, signerPrefix+"*"+certSuffix))
	if err != nil {
		return nil, err
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})
	for _, name := range names {
		if strings.HasSuffix(name, keySuffix) {
			continue
		}
		c, err := readCert(name)
		if err != nil {
			return nil, err
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out, nil
}
