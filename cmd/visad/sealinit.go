package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/visad/visad/internal/sealpki"
)

// sealInitNow is the clock `visad seal init` issues certificates at (tests replace it).
var sealInitNow = time.Now

// runSealInit is `visad seal init`: it creates the production seal PKI once
// (or rotates its document signer) and prints the VISA_SEAL_* settings that
// name its files.
func runSealInit(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("visad seal init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "directory for the CA certificate and the document signer's certificate and key "+
		"(what every api and worker reads)")
	caKey := fs.String("ca-key", "", "the CA's private key file: written by init, read by --rotate; "+
		"outside --out, kept offline")
	rotate := fs.Bool("rotate", false, "issue a new document signer; the old certificate stays published as retired")
	ifMissing := fs.Bool("if-missing", false, "succeed without writing when the PKI in --out exists already")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	case *out == "" || *caKey == "":
		return errors.New("usage: visad seal init --out DIR --ca-key FILE [--rotate | --if-missing]")
	case *rotate && *ifMissing:
		return errors.New("--rotate and --if-missing exclude each other")
	}
	files := sealpki.FilesIn(*out)

	var pki *sealpki.PKI
	var err error
	what := "created"
	switch {
	case *rotate:
		pki, err = sealpki.Rotate(*out, *caKey, sealInitNow())
		what = "rotated: new document signer"
	case *ifMissing && complete(*out):
		pki, err = sealpki.Load(files)
		what = "exists, nothing written"
	default:
		pki, err = sealpki.Init(*out, *caKey, sealInitNow())
		if errors.Is(err, sealpki.ErrExists) {
			err = fmt.Errorf("%w; to issue a new document signer use --rotate", err)
		}
	}
	if err != nil {
		return err
	}
	active := pki.Active()
	fmt.Fprintf(stdout, "# e-visa seal PKI in %s %s\n", abs(*out), what)
	fmt.Fprintf(stdout, "# active signer: serial %s, key to be used until %s, certificate valid until %s\n",
		strings.ToUpper(active.SerialNumber.Text(16)), active.NotBefore.Add(sealpki.KeyUsagePeriod).Format(time.DateOnly),
		active.NotAfter.Format(time.DateOnly))
	fmt.Fprintf(stdout, "# CA key: %s (keep it offline; --rotate needs it)\n", abs(*caKey))
	for _, setting := range [][2]string{{"VISA_SEAL_CA_CERT", files.CACert}, {"VISA_SEAL_SIGNER_CERT", files.SignerCert},
		{"VISA_SEAL_SIGNER_KEY", files.SignerKey}, {"VISA_SEAL_RETIRED_CERTS", files.RetiredCerts[0]}} {
		fmt.Fprintf(stdout, "%s=%s\n", setting[0], abs(setting[1]))
	}
	return nil
}

// complete reports whether every PKI file exists in dir; some but not all is
// for Init to refuse, naming them.
func complete(dir string) bool {
	found, err := sealpki.Existing(dir)
	return err == nil && len(found) == 3+len(sealpki.FilesIn(dir).RetiredCerts)
}

func abs(path string) string {
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return path
}
