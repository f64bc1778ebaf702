package app

import (
	"errors"
	"fmt"
	"time"

	"github.com/visad/visad/internal/config"
	"github.com/visad/visad/internal/sealpki"
)

// LoadSealPKI returns the PKI that signs e-visa seals: the production files
// (VISA_SEAL_*) when configured, else the development PKI kept in the data
// directory (created on first use).
func LoadSealPKI(cfg config.Config, now time.Time) (*sealpki.PKI, error) {
	if cfg.SealFiles() {
		if cfg.SealCACert == "" || cfg.SealSignerCert == "" || cfg.SealSignerKey == "" {
			return nil, errors.New("e-visa seal PKI: set all of VISA_SEAL_CA_CERT, VISA_SEAL_SIGNER_CERT and " +
				"VISA_SEAL_SIGNER_KEY, or none of them (development PKI in VISA_DATA_DIR)")
		}
		pki, err := sealpki.Load(sealpki.Files{CACert: cfg.SealCACert, SignerCert: cfg.SealSignerCert,
			SignerKey: cfg.SealSignerKey, RetiredCerts: cfg.SealRetiredCerts})
		if err != nil {
			return nil, fmt.Errorf("e-visa seal PKI: %w", err)
		}
		return pki, nil
	}
	pki, err := sealpki.EnsureDev(cfg.DataDir, now)
	if err != nil {
		return nil, fmt.Errorf("e-visa seal PKI in %s: %w", cfg.DataDir, err)
	}
	return pki, nil
}
