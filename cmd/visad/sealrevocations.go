package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"os"
	"strings"
	"time"

	"github.com/visad/visad/internal/sealpki"
	"github.com/visad/visad/internal/vds"
)

// revocationView is a revocation as `visad seal verify --revocations` shows it.
type revocationView struct {
	VisaNumber string    `json:"visa_number"`
	ReasonCode string    `json:"reason_code"`
	RevokedAt  time.Time `json:"revoked_at"`
}

// sealNow is the clock that decides whether a revocation list is stale (tests replace it).
var sealNow = time.Now

// readRevocationList reads a revocation list saved with its headers
// (`curl -si URL > FILE`) and checks its signature against the certificate set.
func readRevocationList(name string, pemSet []byte) (sealpki.RevocationList, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return sealpki.RevocationList{}, err
	}
	if !bytes.HasPrefix(data, []byte("HTTP/")) {
		return sealpki.RevocationList{}, fmt.Errorf("%s: want the response with its headers, which carry the "+
			"signature: curl -si <api>/v1/seals/revocations > %s", name, name)
	}
	head, body, ok := bytes.Cut(data, []byte("\r\n\r\n"))
	if !ok {
		head, body, ok = bytes.Cut(data, []byte("\n\n"))
	}
	if !ok {
		return sealpki.RevocationList{}, fmt.Errorf("%s: no blank line after the headers", name)
	}
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(head, "\r\n\r\n"...))))
	if _, err := r.ReadLine(); err != nil { // the status line
		return sealpki.RevocationList{}, fmt.Errorf("%s: %w", name, err)
	}
	header, err := r.ReadMIMEHeader()
	if err != nil {
		return sealpki.RevocationList{}, fmt.Errorf("%s: headers: %w", name, err)
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(header.Get(sealpki.RevocationSignatureHeader)))
	if err != nil || len(sig) == 0 {
		return sealpki.RevocationList{}, fmt.Errorf("%s: no %s header with a base64 signature", name,
			sealpki.RevocationSignatureHeader)
	}
	signer := strings.TrimSpace(header.Get(sealpki.RevocationSignerHeader))
	return sealpki.VerifyRevocationList(body, sig, signer, pemSet)
}

// checkRevocations marks out as revoked when the list names the seal's visa.
// It reports whether the visa is revoked.
func checkRevocations(out *verifyView, seal *vds.Seal, list sealpki.RevocationList, stderr io.Writer) bool {
	revoked := false
	out.Revoked = &revoked
	if sealNow().After(list.NextUpdate) {
		out.RevocationsStale = true
		if stderr != nil {
			fmt.Fprintf(stderr, "visad: the revocation list is past its next_update (%s); fetch a new one\n",
				list.NextUpdate.Format(time.RFC3339))
		}
	}
	if seal == nil || seal.Header.IssuingCountry != list.Issuer {
		return false
	}
	visa, err := vds.ParseVisa(seal)
	if err != nil || len(visa.MRZ[1]) < 9 {
		return false
	}
	entry, found := list.Find(visa.MRZ[1][:9])
	if !found {
		return false
	}
	revoked = true
	out.Revocation = &revocationView{VisaNumber: entry.VisaNumber, ReasonCode: entry.ReasonCode,
		RevokedAt: entry.RevokedAt}
	return true
}

// errSealRevoked makes `visad seal verify --revocations` exit non-zero for a revoked visa.
var errSealRevoked = errors.New("the visa is revoked")
