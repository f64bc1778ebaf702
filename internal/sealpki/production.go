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
	"slices"
	"strings"
	"time"
)

// The production PKI's files as `visad seal init` writes them in one
// directory, which every api and worker process reads (VISA_SEAL_*). The names
// stay the same across rotations, so the settings never change.
const (
	prodSignerCertFile  = "signer.pem"
	prodSignerKeyFile   = "signer-key.pem"
	prodRetiredFile     = "retired.pem"
	prodCACommonName    = "visad CSCA"
	retiredFileHeadline = "# Retired e-visa seal document signers, oldest first (visad seal init --rotate appends).\n"
)

// ErrExists is returned by Init when it would overwrite a PKI file.
var ErrExists = errors.New("sealpki: PKI files exist already")

// FilesIn names the production PKI files Init writes in dir.
func FilesIn(dir string) Files {
	return Files{
		CACert:       filepath.Join(dir, caCertFile),
		SignerCert:   filepath.Join(dir, prodSignerCertFile),
		SignerKey:    filepath.Join(dir, prodSignerKeyFile),
		RetiredCerts: []string{filepath.Join(dir, prodRetiredFile)},
	}
}

// Existing reports which of the production PKI files in dir exist.
func Existing(dir string) ([]string, error) {
	f := FilesIn(dir)
	var found []string
	for _, name := range append([]string{f.CACert, f.SignerCert, f.SignerKey}, f.RetiredCerts...) {
		if _, err := os.Stat(name); err == nil {
			found = append(found, name)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("sealpki: %w", err)
		}
	}
	return found, nil
}

// Init creates a production PKI: a new country signing CA and its first
// document signer, in dir (the CA certificate, the signer's certificate and
// key, an empty list of retired signers). The CA key goes to caKeyPath, which
// must lie outside dir: dir is what the servers mount, and the CA key belongs
// offline. Init overwrites nothing; if any file exists it fails with ErrExists.
func Init(dir, caKeyPath string, now time.Time) (*PKI, error) {
	if err := checkCAKeyPath(dir, caKeyPath); err != nil {
		return nil, err
	}
	found, err := Existing(dir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(caKeyPath); err == nil {
		found = append(found, caKeyPath)
	}
	if len(found) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrExists, strings.Join(found, ", "))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sealpki: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(caKeyPath), 0o700); err != nil {
		return nil, fmt.Errorf("sealpki: %w", err)
	}
	ca, caKey, err := NewCA(prodCACommonName, now)
	if err != nil {
		return nil, fmt.Errorf("sealpki: new CA: %w", err)
	}
	// The CA key first: a CA certificate whose key is lost can issue no signer.
	if err := writeKey(caKeyPath, caKey); err != nil {
		return nil, err
	}
	f := FilesIn(dir)
	if err := writePEM(f.CACert, "CERTIFICATE", ca.Raw, 0o644); err != nil {
		return nil, err
	}
	if err := writeRetired(f.RetiredCerts[0], nil); err != nil {
		return nil, err
	}
	if err := issueSigner(f, ca, caKey, now); err != nil {
		return nil, err
	}
	return Load(f)
}

// Rotate issues a new document signer in dir with the CA key in caKeyPath
// and makes it the active one; the previous signer's certificate moves to the
// retired list, so its seals keep verifying. A rotation cut short (a crash)
// is finished by running Rotate again.
func Rotate(dir, caKeyPath string, now time.Time) (*PKI, error) {
	f := FilesIn(dir)
	ca, err := readCert(f.CACert)
	if err != nil {
		return nil, err
	}
	caKey, err := readKey(caKeyPath)
	if err != nil {
		return nil, err
	}
	if pub, ok := caKey.Public().(*ecdsa.PublicKey); !ok || !pub.Equal(ca.PublicKey) {
		return nil, fmt.Errorf("sealpki: %s is not the key of the CA certificate %s", caKeyPath, f.CACert)
	}
	previous, err := readCert(f.SignerCert)
	if err != nil {
		return nil, err
	}
	retired, err := readCertsOrNone(f.RetiredCerts[0])
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(retired, previous.Equal) { // present already when a cut-short rotation is run again
		if err := writeRetired(f.RetiredCerts[0], append(retired, previous)); err != nil {
			return nil, err
		}
	}
	if err := issueSigner(f, ca, caKey, now); err != nil {
		return nil, err
	}
	return Load(f)
}

// issueSigner writes a new signer's key, then its certificate. Between the
// two the files disagree, which Load refuses: never a silently wrong signer.
func issueSigner(f Files, ca *x509.Certificate, caKey crypto.Signer, now time.Time) error {
	cert, key, err := NewSigner(ca, caKey, now)
	if err != nil {
		return fmt.Errorf("sealpki: new signer: %w", err)
	}
	if err := writeKey(f.SignerKey, key); err != nil {
		return err
	}
	return writePEM(f.SignerCert, "CERTIFICATE", cert.Raw, 0o644)
}

func writeRetired(path string, certs []*x509.Certificate) error {
	data := []byte(retiredFileHeadline)
	for _, c := range certs {
		data = append(data, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return writeFile(path, data, 0o644)
}

// checkCAKeyPath refuses a CA key inside the directory the servers mount.
func checkCAKeyPath(dir, caKeyPath string) error {
	if caKeyPath == "" {
		return errors.New("sealpki: a path for the CA key is required (outside the PKI directory, kept offline)")
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("sealpki: %w", err)
	}
	absKey, err := filepath.Abs(caKeyPath)
	if err != nil {
		return fmt.Errorf("sealpki: %w", err)
	}
	if rel, err := filepath.Rel(absDir, absKey); err == nil && rel != ".." &&
		!strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("sealpki: the CA key %s must not lie in %s, which the servers read", caKeyPath, dir)
	}
	return nil
}
