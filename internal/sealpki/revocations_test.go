package sealpki

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestRevocationListSignVerify(t *testing.T) {
	now := time.Now()
	pki, err := EnsureDev(t.TempDir(), now)
	if err != nil {
		t.Fatal(err)
	}
	entries := []RevocationEntry{{VisaNumber: "PK2Y-26-7K3M9Q2X-4", MRZVisaNumber: "7K3M9Q2X4",
		RevokedAt: now.UTC().Truncate(time.Second), ReasonCode: "fraud_or_misrepresentation"}}
	body, sig, err := pki.SignRevocationList(entries, now)
	if err != nil {
		t.Fatal(err)
	}
	ref := certRef(pki.Active())
	list, err := VerifyRevocationList(body, sig, ref, pki.PublishedPEM())
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := list.Find("7K3M9Q2X4"); !ok || e.ReasonCode != "fraud_or_misrepresentation" ||
		!list.NextUpdate.Equal(list.IssuedAt.Add(RevocationListValidity)) || list.Issuer != "PAK" {
		t.Fatalf("list %+v", list)
	}

	flipped := bytes.Clone(body)
	flipped[len(flipped)/2] ^= 1
	if _, err := VerifyRevocationList(flipped, sig, ref, pki.PublishedPEM()); !errors.Is(err, ErrRevocationSignature) {
		t.Errorf("flipped bit: %v", err)
	}
	if _, err := VerifyRevocationList(body, sig, "ABCDEF01", pki.PublishedPEM()); !errors.Is(err, ErrRevocationSigner) {
		t.Errorf("unknown signer: %v", err)
	}
	other, err := EnsureDev(t.TempDir(), now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyRevocationList(body, sig, ref, other.PublishedPEM()); err == nil {
		t.Error("another PKI's certificates accepted the list")
	}
}
