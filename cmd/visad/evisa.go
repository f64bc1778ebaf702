package main

import (
	"errors"
	"flag"
	"os"

	"github.com/visad/visad/internal/config"
)

// requireSealPKI: every api and worker process must use the same e-visa seal
// PKI (workers sign with it, APIs publish and verify with it). Production
// names its files; without them a development PKI in the data directory is
// used, but only when that directory was chosen on purpose, never the
// default ./data of whatever directory the process started in.
func requireSealPKI(cfg config.Config, fs *flag.FlagSet) error {
	if cfg.SealFiles() {
		if cfg.SealCACert == "" || cfg.SealSignerCert == "" || cfg.SealSignerKey == "" {
			return errors.New("VISA_SEAL_CA_CERT, VISA_SEAL_SIGNER_CERT and VISA_SEAL_SIGNER_KEY go together: " +
				"set all three (the e-visa seal PKI's files) or none")
		}
		return nil
	}
	dataDirGiven := os.Getenv("VISA_DATA_DIR") != ""
	if fs != nil {
		fs.Visit(func(f *flag.Flag) { dataDirGiven = dataDirGiven || f.Name == "data-dir" })
	}
	if dataDirGiven {
		return nil
	}
	return errors.New("VISA_SEAL_CA_CERT, VISA_SEAL_SIGNER_CERT and VISA_SEAL_SIGNER_KEY are required: PEM files " +
		"of the e-visa seal PKI, the same on every api and worker process (docs/evisa.md); or set VISA_DATA_DIR " +
		"to a directory that keeps a development PKI (visad dev creates one for you)")
}
