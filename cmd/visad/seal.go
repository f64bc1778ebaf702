package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/visad/visad/internal/config"
	"github.com/visad/visad/internal/sealpki"
	"github.com/visad/visad/internal/vds"
)

const sealUsage = `Usage:
  visad seal decode [FILE|-]                 print a seal's fields as JSON (no verification)
  visad seal verify [--certs FILE] [--revocations FILE] [--data-dir DIR] [FILE|-]
                                             verify a seal offline; JSON on stdout, exit 1 when not valid
                                             or, with a revocation list, revoked
  visad seal init --out DIR --ca-key FILE [--rotate | --if-missing]
                                             create the production seal PKI (CA certificate, document signer)
                                             in DIR, the CA key in FILE outside DIR; --rotate issues a new
                                             signer; prints the VISA_SEAL_* settings

A seal is read from FILE or standard input as raw bytes, base64 or hex.
--certs is a PEM file of CA and document signer certificates (as published at
/.well-known/visad/seal-certificates); without it, the development PKI in the
data directory (--data-dir or VISA_DATA_DIR, default ./data) is used.
--revocations is the signed revocation list saved with its headers:
curl -si <api>/v1/seals/revocations > FILE.
`

// sealStdin is where "-" and a missing FILE read from (tests replace it).
var sealStdin io.Reader = os.Stdin

// errSealNotValid makes `visad seal verify` exit non-zero after its JSON.
var errSealNotValid = errors.New("seal is not valid")

// runSeal is `visad seal decode|verify|init`.
func runSeal(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, sealUsage)
		return errors.New("usage: visad seal decode|verify|init")
	}
	switch args[0] {
	case "decode":
		return runSealDecode(args[1:], stdout, stderr)
	case "verify":
		return runSealVerify(args[1:], stdout, stderr)
	case "init":
		return runSealInit(args[1:], stdout, stderr)
	default:
		fmt.Fprint(stderr, sealUsage)
		return fmt.Errorf("unknown seal command %q", args[0])
	}
}

// runSealDecode reads no settings: decoding needs no certificate.
func runSealDecode(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("visad seal decode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, sealUsage) }
	if err := fs.Parse(args); err != nil {
		return err
	}
	raw, err := sealArgument(fs)
	if err != nil {
		return err
	}
	s, err := vds.Decode(raw)
	if err != nil {
		return err
	}
	return jsonEncoder(stdout).Encode(newSealView(s))
}

func runSealVerify(args []string, stdout, stderr io.Writer) error {
	certsFile, revocationsFile := "", ""
	cfg, fs, err := config.Load("seal verify", args, func(fs *flag.FlagSet) {
		fs.StringVar(&certsFile, "certs", "", "PEM file of CA and document signer certificates "+
			"(default: the development PKI in the data directory)")
		fs.StringVar(&revocationsFile, "revocations", "", "signed revocation list saved with curl -si")
	})
	if err != nil {
		return err
	}
	raw, err := sealArgument(fs)
	if err != nil {
		return err
	}
	pemData, err := readCertSet(certsFile, cfg.DataDir)
	if err != nil {
		return err
	}
	verifier, err := vds.NewVerifier(pemData)
	if err != nil {
		return err
	}
	var list *sealpki.RevocationList
	if revocationsFile != "" {
		l, err := readRevocationList(revocationsFile, pemData)
		if err != nil {
			return err
		}
		list = &l
	}
	res, verr := verifier.Verify(raw)
	out := verifyView{Valid: verr == nil, ErrorCode: vds.ErrorCode(verr)}
	revoked := false
	if list != nil {
		var seal *vds.Seal
		if res != nil {
			seal = res.Seal
		}
		revoked = checkRevocations(&out, seal, *list, stderr)
	}
	if verr != nil {
		out.Error = verr.Error()
	}
	if res != nil {
		view := newSealView(res.Seal)
		out.Seal = &view
		if res.Signer.Serial != nil {
			out.Signer = &signerView{SignerID: res.Signer.SignerID, CertRef: res.Signer.CertRef(),
				Subject: res.Signer.Subject, NotBefore: res.Signer.NotBefore.UTC().Format(time.RFC3339),
				NotAfter: res.Signer.NotAfter.UTC().Format(time.RFC3339), Chained: res.Chained}
		}
	}
	if err := jsonEncoder(stdout).Encode(out); err != nil {
		return err
	}
	if verr != nil {
		return errSealNotValid
	}
	if revoked {
		return errSealRevoked
	}
	return nil
}

// sealArgument reads the seal named by the one optional argument.
func sealArgument(fs *flag.FlagSet) ([]byte, error) {
	if fs.NArg() > 1 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args()[1:])
	}
	return readSealInput(fs.Arg(0))
}

func jsonEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc
}

// readSealInput reads FILE or stdin and accepts raw bytes, base64 or hex.
func readSealInput(name string) ([]byte, error) {
	var data []byte
	var err error
	if name == "" || name == "-" {
		data, err = io.ReadAll(io.LimitReader(sealStdin, 1<<20))
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, err
	}
	if len(data) > 0 && data[0] == 0xDC { // the VDS magic byte: raw
		return data, nil
	}
	text := strings.Join(strings.Fields(string(data)), "")
	if b, err := hex.DecodeString(text); err == nil && len(b) > 0 {
		return b, nil
	}
	for _, e := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding,
		base64.RawURLEncoding} {
		if b, err := e.DecodeString(text); err == nil && len(b) > 0 {
			return b, nil
		}
	}
	return nil, errors.New("input is neither a raw seal (starting with 0xDC), nor hex, nor base64")
}

func readCertSet(certsFile, dataDir string) ([]byte, error) {
	if certsFile != "" {
		return os.ReadFile(certsFile)
	}
	pemData, err := sealpki.ReadDevPublished(dataDir)
	if err != nil {
		return nil, fmt.Errorf("no --certs given and no development PKI in %s: %w", dataDir, err)
	}
	return pemData, nil
}

type sealView struct {
	Header    headerView    `json:"header"`
	Visa      *vds.Visa     `json:"visa,omitempty"`
	VisaError string        `json:"visa_error,omitempty"`
	Features  []featureView `json:"features"`
	Signature string        `json:"signature"` // hex r‖s
}

type headerView struct {
	Version        int    `json:"version"`
	IssuingCountry string `json:"issuing_country"`
	SignerID       string `json:"signer_identifier"`
	CertRef        string `json:"certificate_reference"`
	IssueDate      string `json:"document_issue_date"`
	SignatureDate  string `json:"signature_creation_date"`
	FeatureRef     string `json:"document_feature_definition_reference"`
	TypeCategory   string `json:"document_type_category"`
}

type featureView struct {
	Tag   string `json:"tag"`
	Value string `json:"value"` // hex
}

type signerView struct {
	SignerID  string `json:"signer_identifier"`
	CertRef   string `json:"certificate_reference"`
	Subject   string `json:"subject"`
	NotBefore string `json:"not_before"`
	NotAfter  string `json:"not_after"`
	Chained   bool   `json:"chained_to_ca"`
}

type verifyView struct {
	Valid     bool        `json:"valid"`
	ErrorCode string      `json:"error_code,omitempty"`
	Error     string      `json:"error,omitempty"`
	Signer    *signerView `json:"signer,omitempty"`
	Seal      *sealView   `json:"seal,omitempty"`
	// With --revocations: whether the list names the visa.
	Revoked          *bool           `json:"revoked,omitempty"`
	Revocation       *revocationView `json:"revocation,omitempty"`
	RevocationsStale bool            `json:"revocations_stale,omitempty"`
}

func newSealView(s *vds.Seal) sealView {
	h := s.Header
	v := sealView{
		Header: headerView{Version: h.Version, IssuingCountry: h.IssuingCountry, SignerID: h.SignerID,
			CertRef: h.CertRef, IssueDate: h.IssueDate.Format(time.DateOnly),
			SignatureDate: h.SignatureDate.Format(time.DateOnly),
			FeatureRef:    fmt.Sprintf("0x%02X", h.FeatureRef), TypeCategory: fmt.Sprintf("0x%02X", h.TypeCategory)},
		Features:  []featureView{},
		Signature: hex.EncodeToString(s.Signature),
	}
	for _, f := range s.Features {
		v.Features = append(v.Features, featureView{Tag: fmt.Sprintf("0x%02X", f.Tag), Value: hex.EncodeToString(f.Value)})
	}
	if visa, err := vds.ParseVisa(s); err == nil {
		v.Visa = &visa
	} else {
		v.VisaError = err.Error()
	}
	return v
}
