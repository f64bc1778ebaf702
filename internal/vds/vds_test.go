package vds

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"
)

func readHex(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var h strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "#") {
			h.WriteString(strings.TrimSpace(line))
		}
	}
	b, err := hex.DecodeString(h.String())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestC40(t *testing.T) {
	tests := []struct {
		text    string
		hex     string
		decoded string // when decoding does not give text back ('<' for space)
	}{
		{"UTO", "d9c5", ""},
		{"D<<", "6abc", ""},
		{"UTTS025B", "d9cac8a73a99", ""}, // two characters left: shift padding
		{"ABCD", "59e9fe45", ""},         // one character left: 0xFE, ASCII+1
		{"A B", "5808", "A<B"},
		{"", "", ""},
	}
	for _, tt := range tests {
		got, err := EncodeC40(tt.text)
		if err != nil || hex.EncodeToString(got) != tt.hex {
			t.Errorf("EncodeC40(%q) = %x, %v; want %s", tt.text, got, err, tt.hex)
		}
		want := tt.text
		if tt.decoded != "" {
			want = tt.decoded
		}
		b, _ := hex.DecodeString(tt.hex)
		if s, err := DecodeC40(b); err != nil || s != want {
			t.Errorf("DecodeC40(%s) = %q, %v; want %q", tt.hex, s, err, want)
		}
	}
}

func TestC40Errors(t *testing.T) {
	if _, err := EncodeC40("abc"); !errors.Is(err, ErrC40) {
		t.Errorf("EncodeC40(lower case) error = %v", err)
	}
	for _, h := range []string{
		"d9",       // odd
		"0000",     // zero value
		"fa01",     // above 64000
		"fe45d9c5", // 0xFE before the end
		"fe00",     // single character 0xFF-1 ... underflow
		"fe2e",     // single '-' is not C40
		"0002",     // shift value in first position
		"00010000", // shift padding in a pair that is not the last
	} {
		b, _ := hex.DecodeString(h)
		if _, err := DecodeC40(b); !errors.Is(err, ErrC40) {
			t.Errorf("DecodeC40(%s) error = %v, want ErrC40", h, err)
		}
	}
}

func TestDate(t *testing.T) {
	tests := []struct {
		date string
		hex  string
	}{
		{"2020-01-01", "0f7134"},
		{"2025-12-07", "b83459"},
		{"2023-08-19", "7d0017"},
	}
	for _, tt := range tests {
		b, err := EncodeDate(date(tt.date))
		if err != nil || hex.EncodeToString(b[:]) != tt.hex {
			t.Errorf("EncodeDate(%s) = %x, %v; want %s", tt.date, b, err, tt.hex)
		}
		if d, err := DecodeDate(b); err != nil || !d.Equal(date(tt.date)) {
			t.Errorf("DecodeDate(%s) = %v, %v", tt.hex, d, err)
		}
	}
	for _, n := range []int{13012020, 2302020, 4312020, 1010000, 0} { // month 13, 30 Feb, 31 Apr, year 0
		if _, err := DecodeDate([3]byte{byte(n >> 16), byte(n >> 8), byte(n)}); !errors.Is(err, ErrDate) {
			t.Errorf("DecodeDate(%08d) error = %v, want ErrDate", n, err)
		}
	}
}

// A published visa seal (li0ard/vds test data, Sealgen test signer UTTS 5B).
func TestGoldenVisaUTTS5B(t *testing.T) {
	raw := readHex(t, "visa-uto-utts5b.hex")
	s, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := Header{Version: 4, IssuingCountry: "UTO", SignerID: "UTTS", CertRef: "5B",
		IssueDate: date("2020-01-01"), SignatureDate: date("2025-12-07"), FeatureRef: 0x5D, TypeCategory: 0x01}
	if s.Header != wantHeader {
		t.Errorf("header = %+v\nwant %+v", s.Header, wantHeader)
	}
	v, err := ParseVisa(s)
	if err != nil {
		t.Fatal(err)
	}
	if v.MRZType != MRVB || v.MRZ != [2]string{
		"VCD<<DENT<<ARTHUR<PHILIP<<<<<<<<<<<<",
		"1234567XY7GBR5203116M2005250<<<<<<<<",
	} {
		t.Errorf("MRZ = %s %q", v.MRZType, v.MRZ)
	}
	if v.PassportNumber != "47110815P" {
		t.Errorf("passport number = %q", v.PassportNumber)
	}
	if v.DurationOfStay == nil || *v.DurationOfStay != (DurationOfStay{Days: 160}) {
		t.Errorf("duration of stay = %+v", v.DurationOfStay)
	}
	if v.Entries == nil || *v.Entries != 12 {
		t.Errorf("entries = %v", v.Entries)
	}
	if !bytes.Equal(v.VisaType, []byte{0xAA}) || !bytes.Equal(v.AdditionalFeature, []byte{0xBB}) {
		t.Errorf("visa type %x, additional feature %x", v.VisaType, v.AdditionalFeature)
	}

	pub, err := BrainpoolP256r1PublicKey(readHex(t, "utts5b-brainpoolP256r1.hex"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.VerifySignature(pub); err != nil {
		t.Errorf("published signature does not verify: %v", err)
	}
	flipped := bytes.Clone(raw)
	flipped[40] ^= 0x01
	fs, err := Decode(flipped)
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.VerifySignature(pub); !errors.Is(err, ErrBadSignature) {
		t.Errorf("flipped bit: error = %v, want ErrBadSignature", err)
	}

	// Re-encoding the decoded message zone gives the signed bytes back.
	again, err := EncodeUnsigned(s.Header, s.Features)
	if err != nil || !bytes.Equal(again, s.SignedData) {
		t.Errorf("re-encoded %x, %v\nwant %x", again, err, s.SignedData)
	}
}

// A version 3 header (five-character certificate reference), same signer.
func TestGoldenV3HeaderUTTS0005B(t *testing.T) {
	s, err := Decode(readHex(t, "arrival-v3-uto-utts0005b.hex"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Header.Version != 3 || s.Header.SignerID != "UTTS" || s.Header.CertRef != "0005B" || s.Header.FeatureRef != 0xFD {
		t.Errorf("header = %+v", s.Header)
	}
	if _, err := ParseVisa(s); !errors.Is(err, ErrNotVisa) {
		t.Errorf("ParseVisa(arrival attestation) error = %v, want ErrNotVisa", err)
	}
	pub, _ := BrainpoolP256r1PublicKey(readHex(t, "utts5b-brainpoolP256r1.hex"))
	if err := s.VerifySignature(pub); err != nil {
		t.Errorf("published v3 signature does not verify: %v", err)
	}
	again, err := EncodeUnsigned(s.Header, s.Features)
	if err != nil || !bytes.Equal(again, s.SignedData) {
		t.Errorf("v3 re-encoded %x, %v\nwant %x", again, err, s.SignedData)
	}
}

// A published visa seal with a 224-bit signature (tsenger/vdstools test data).
func TestGoldenVisaDETS32(t *testing.T) {
	s, err := Decode(readHex(t, "visa-uto-dets32-224bit.hex"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Header.SignerID != "DETS" || s.Header.CertRef != "32" || !s.Header.SignatureDate.Equal(date("2023-08-19")) {
		t.Errorf("header = %+v", s.Header)
	}
	if len(s.Signature) != 56 {
		t.Errorf("signature has %d bytes, want 56", len(s.Signature))
	}
	v, err := ParseVisa(s)
	if err != nil {
		t.Fatal(err)
	}
	if v.MRZ[0] != "VCD<<DENT<<ARTHUR<PHILIP<<<<<<<<<<<<" || v.MRZ[1] != "1234567XY7GBR5203116M2005250<<<<<<<<" {
		t.Errorf("MRZ = %q", v.MRZ)
	}
	if v.PassportNumber != "47110815P" || v.Entries != nil || *v.DurationOfStay != (DurationOfStay{Days: 160}) {
		t.Errorf("visa = %+v", v)
	}
}

// testPKI is a CA and a document signer certificate "PKVD", serial 0x1A2B.
type testPKI struct {
	caCert, signerCert *x509.Certificate
	caKey, signerKey   *ecdsa.PrivateKey
	pem                []byte
}

func newTestPKI(t testing.TB, curve elliptic.Curve) testPKI {
	t.Helper()
	var p testPKI
	p.caKey, _ = ecdsa.GenerateKey(curve, rand.Reader)
	p.signerKey, _ = ecdsa.GenerateKey(curve, rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Country: []string{"PK"}, CommonName: "CSCA"},
		NotBefore:             date("2025-01-01"),
		NotAfter:              date("2040-01-01"),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &p.caKey.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	p.caCert, _ = x509.ParseCertificate(caDER)
	dsTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(0x1A2B),
		Subject:      pkix.Name{Country: []string{"PK"}, CommonName: "VD"},
		NotBefore:    date("2026-01-01"),
		NotAfter:     date("2029-01-01"),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	dsDER, err := x509.CreateCertificate(rand.Reader, dsTmpl, p.caCert, &p.signerKey.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	p.signerCert, _ = x509.ParseCertificate(dsDER)
	p.pem = append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: dsDER})...)
	return p
}

func sampleVisa() Visa {
	entries := 0
	return Visa{
		MRZ: [2]string{
			"VDPAKABENOV<<NURLAN<<<<<<<<<<<<<<<<<<<<<<<<<",
			"7K3M9Q2X44KAZ8503124M2906308<<<<<<<<<<<<<<<<",
		},
		Entries:        &entries,
		DurationOfStay: &DurationOfStay{Days: 90},
		PassportNumber: "N1234567",
	}
}

func sampleHeader() Header {
	return Header{Version: 4, IssuingCountry: "PAK", SignerID: "PKVD", CertRef: "1A2B",
		IssueDate: date("2026-06-01"), SignatureDate: date("2026-06-01")}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	for _, curve := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		t.Run(curve.Params().Name, func(t *testing.T) {
			p := newTestPKI(t, curve)
			raw, err := SignVisa(p.signerKey, nil, sampleHeader(), sampleVisa())
			if err != nil {
				t.Fatal(err)
			}
			again, _ := SignVisa(p.signerKey, nil, sampleHeader(), sampleVisa())
			if !bytes.Equal(raw, again) {
				t.Error("signing the same visa twice with a nil random source gave different seals")
			}
			v, err := NewVerifier(p.pem)
			if err != nil {
				t.Fatal(err)
			}
			res, err := v.Verify(raw)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Chained || res.Signer.SignerID != "PKVD" || res.Signer.CertRef() != "1A2B" {
				t.Errorf("result = chained %v, signer %s %s", res.Chained, res.Signer.SignerID, res.Signer.CertRef())
			}
			got, err := ParseVisa(res.Seal)
			if err != nil {
				t.Fatal(err)
			}
			want := sampleVisa()
			if got.MRZ != want.MRZ || got.PassportNumber != want.PassportNumber || *got.Entries != 0 ||
				*got.DurationOfStay != *want.DurationOfStay || got.MRZType != MRVA {
				t.Errorf("decoded visa %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	p := newTestPKI(t, elliptic.P256())
	raw, err := SignVisa(p.signerKey, rand.Reader, sampleHeader(), sampleVisa())
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(p.pem)
	if err != nil {
		t.Fatal(err)
	}
	other := newTestPKI(t, elliptic.P256())
	foreignCA, _ := NewVerifier(append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: other.caCert.Raw}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.signerCert.Raw})...))
	signerOnly, _ := NewVerifier(
		other.pem[len(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: other.caCert.Raw})):],
	)
	lateHeader := sampleHeader()
	lateHeader.SignatureDate = date("2030-01-01")
	late, _ := SignVisa(p.signerKey, nil, lateHeader, sampleVisa())
	unknownRef := sampleHeader()
	unknownRef.CertRef = "1A2C"
	unknown, _ := SignVisa(p.signerKey, nil, unknownRef, sampleVisa())

	tests := []struct {
		name string
		v    *Verifier
		raw  []byte
		want error
	}{
		{"flipped bit in the MRZ", v, flip(raw, 30), ErrBadSignature},
		{"flipped bit in the signature", v, flip(raw, len(raw)-1), ErrBadSignature},
		{"truncated", v, raw[:len(raw)-1], ErrTruncated},
		{"truncated to the header", v, raw[:12], ErrTruncated},
		{"unknown certificate reference", v, unknown, ErrUnknownSigner},
		{"signer not issued by the CA of the set", foreignCA, raw, ErrUntrustedSigner},
		{"same signer name and serial, other key", signerOnly, raw, ErrBadSignature},
		{"signed after the certificate expired", v, late, ErrSignerNotValid},
		{"trailing byte", v, append(bytes.Clone(raw), 0), ErrTrailingData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.v.Verify(tt.raw); !errors.Is(err, tt.want) {
				t.Errorf("Verify error = %v, want %v", err, tt.want)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

func TestDecodeErrors(t *testing.T) {
	good := readHex(t, "visa-uto-utts5b.hex")
	tests := []struct {
		name string
		raw  []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"wrong magic", append([]byte{0xDD}, good[1:]...), ErrNotASeal},
		{"version 5", append([]byte{0xDC, 0x04}, good[2:]...), ErrUnsupportedVersion},
		{"no signature zone", good[:len(good)-66], ErrNoSignature},
		{"feature length past the end", []byte(string(good[:18]) + "\x01\x82\xff\xff"), ErrTruncated},
		{"indefinite length", []byte(string(good[:18]) + "\x01\x80"), ErrLength},
		{"bad date", append(append(bytes.Clone(good[:10]), 0xFF, 0xFF, 0xFF), good[13:]...), ErrDate},
		{"odd signature length", []byte(string(good[:18]) + "\xff\x03abc"), ErrLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.raw)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode error = %v, want %v", err, tt.want)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Errorf("error %T is not a *DecodeError", err)
			}
		})
	}
	for n := range good {
		if _, err := Decode(good[:n]); err == nil {
			t.Errorf("Decode of the first %d bytes succeeded", n)
		}
	}
}

func TestVisaFeaturesRejects(t *testing.T) {
	v := sampleVisa()
	v.MRZ[1] = v.MRZ[1][:28] + "OPTIONALDATA<<<<"
	if _, err := v.Features(); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("optional data: error = %v", err)
	}
	v = sampleVisa()
	v.MRZ[0] = v.MRZ[0][:40]
	if _, err := v.Features(); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("short line: error = %v", err)
	}
	v = sampleVisa()
	v.PassportNumber = "N12345678X"
	if _, err := v.Features(); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("long passport number: error = %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, name := range []string{"visa-uto-utts5b.hex", "arrival-v3-uto-utts0005b.hex", "visa-uto-dets32-224bit.hex"} {
		f.Add(readHex(f, name))
	}
	f.Add([]byte{0xDC, 0x03})
	f.Add([]byte{0xDC, 0x02, 0xD9, 0xC5, 0xFE})
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := Decode(raw)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *DecodeError", err)
			}
			return
		}
		if _, err := ParseVisa(s); err != nil && !errors.Is(err, ErrNotVisa) && !errors.Is(err, ErrFeature) {
			t.Fatalf("ParseVisa error %v has no sentinel", err)
		}
		if !bytes.HasPrefix(raw, s.SignedData) {
			t.Fatal("signed data is not a prefix of the seal")
		}
	})
}

func TestErrorCode(t *testing.T) {
	for err, want := range map[error]string{
		nil:                             "",
		ErrBadSignature:                 "bad_signature",
		&DecodeError{Err: ErrTruncated}: "truncated",
		&DecodeError{Err: ErrC40}:       "malformed",
		errors.Join(ErrUnknownSigner):   "unknown_signer",
		ErrSignerNotValid:               "signer_not_valid",
		ErrUntrustedSigner:              "untrusted_signer",
		ErrNotVisa:                      "not_a_visa",
	} {
		if got := ErrorCode(err); got != want {
			t.Errorf("ErrorCode(%v) = %q, want %q", err, got, want)
		}
	}
}
