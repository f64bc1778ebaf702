package evisapdf

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/visad/visad/internal/vds"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

var mrz = [2]string{
	"VBPAKABENOV<<NURLAN<<<<<<<<<<<<<<<<<<<<<<<<<",
	"7K3M9Q2X44KAZ8503124M2906308<<<<<<<<<<<<<<<<",
}

func sampleSeal(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	entries := 0
	seal, err := vds.SignVisa(key, nil, vds.Header{Version: 4, IssuingCountry: "PAK", SignerID: "PKVD",
		CertRef: "1A2B3C4D", IssueDate: day("2026-06-01"), SignatureDate: day("2026-06-01")},
		vds.Visa{MRZ: mrz, Entries: &entries, DurationOfStay: &vds.DurationOfStay{Days: 90}, PassportNumber: "N1234567"})
	if err != nil {
		t.Fatal(err)
	}
	return seal
}

func sampleDocument(seal []byte) Document {
	return Document{
		IssuingState: "Islamic Republic of Pakistan", HolderName: "ABENOV Nurlan", Nationality: "KAZ",
		BirthDate: day("1985-03-12"), PassportNumber: "N1234567", VisaNumber: "PK5Y-26-7K3M9Q2X-4",
		Product: "Business visa, 5 years", ValidFrom: day("2026-06-01"), ValidUntil: day("2029-06-30"),
		Entries: "multiple", MaxStayDays: 90, IssueDate: day("2026-06-01"), MRZ: mrz, Seal: seal,
		CheckURL: "https://visa.example.org/check/PK5Y-26-7K3M9Q2X-4",
	}
}

func render(t *testing.T, d Document) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, d); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRenderIsDeterministic(t *testing.T) {
	d := sampleDocument(sampleSeal(t))
	first := render(t, d)
	if !bytes.HasPrefix(first, []byte("%PDF-")) {
		t.Fatalf("output does not start like a PDF: %q", first[:8])
	}
	if second := render(t, d); !bytes.Equal(first, second) {
		t.Error("rendering the same document twice gave different bytes")
	}
}

// Every byte value survives the DataMatrix, read back by dmtxread (libdmtx,
// independent of the encoder).
func TestDataMatrixCarriesBinaryExactly(t *testing.T) {
	needTool(t, "dmtxread", "dmtx-utils")
	var all []byte
	for i := range 256 {
		all = append(all, byte(255-i))
	}
	dir := t.TempDir()
	for i, payload := range [][]byte{all, sampleSeal(t), {0xDC}, {0xDC, 0x03}, []byte("0123456789"), {0, 0xFF, 0xFE}} {
		pngBytes, err := dataMatrixPNG(payload)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, fmt.Sprintf("dm%d.png", i))
		if err := os.WriteFile(path, pngBytes, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := exec.Command("dmtxread", "--stop-after=1", path).Output()
		if err != nil {
			t.Fatalf("dmtxread of %d bytes: %v", len(payload), err)
		}
		if !bytes.Equal(got, payload) {
			t.Errorf("DataMatrix round trip of %x gave %x", payload, got)
		}
	}
}

func needTool(t *testing.T, tool, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Skipf("%s not installed (Debian package %s): external check skipped", tool, pkg)
	}
}

func writePDF(t *testing.T, pdf []byte) (dir, path string) {
	dir = t.TempDir()
	path = filepath.Join(dir, "evisa.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

func TestPDFTextShowsFieldsAndMRZ(t *testing.T) {
	needTool(t, "pdftotext", "poppler-utils")
	_, path := writePDF(t, render(t, sampleDocument(sampleSeal(t))))
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, want := range []string{
		"ELECTRONIC VISA", "ЭЛЕКТРОННАЯ ВИЗА", "ABENOV Nurlan", "KAZ", "12.03.1985", "N1234567",
		"PK5Y-26-7K3M9Q2X-4", "Business visa, 5 years", "01.06.2026", "30.06.2029", "Multiple · Многократная",
		"90 days · 90 дней", "Номер паспорта", "Действительна до", "https://visa.example.org/check/PK5Y-26-7K3M9Q2X-4",
		mrz[0], mrz[1],
	} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("pdftotext:\n%s", text)
	}
}

// The DataMatrix image extracted from the PDF decodes, with dmtxread (an
// independent decoder), to the exact seal bytes; zbarimg reads the QR code.
func TestSealDataMatrixDecodesWithDmtxread(t *testing.T) {
	needTool(t, "pdfimages", "poppler-utils")
	needTool(t, "dmtxread", "dmtx-utils")
	seal := sampleSeal(t)
	dir, path := writePDF(t, render(t, sampleDocument(seal)))
	if out, err := exec.Command("pdfimages", "-png", path, filepath.Join(dir, "img")).CombinedOutput(); err != nil {
		t.Fatalf("pdfimages: %v\n%s", err, out)
	}
	images, _ := filepath.Glob(filepath.Join(dir, "img-*.png"))
	sort.Strings(images)
	if len(images) != 2 {
		t.Fatalf("pdfimages found %d images, want the seal and the QR code", len(images))
	}
	got, err := exec.Command("dmtxread", "--stop-after=1", images[0]).Output()
	if err != nil {
		t.Fatalf("dmtxread: %v", err)
	}
	if !bytes.Equal(got, seal) {
		t.Errorf("dmtxread decoded\n%x\nwant the seal\n%x", got, seal)
	}
	if _, err := exec.LookPath("zbarimg"); err != nil {
		t.Log("zbarimg not installed (Debian package zbar-tools): QR check skipped")
		return
	}
	out, err := exec.Command("zbarimg", "--quiet", "--raw", images[1]).Output()
	if err != nil {
		t.Fatalf("zbarimg: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != "https://visa.example.org/check/PK5Y-26-7K3M9Q2X-4" {
		t.Errorf("QR code reads %q", got)
	}
}

func TestStayText(t *testing.T) {
	for days, want := range map[int]string{
		1: "1 day · 1 день", 3: "3 days · 3 дня", 11: "11 days · 11 дней", 21: "21 days · 21 день",
		90: "90 days · 90 дней", 0: "—",
	} {
		if got := stayText(days); got != want {
			t.Errorf("stayText(%d) = %q, want %q", days, got, want)
		}
	}
}

func TestRenderRejectsMissingSeal(t *testing.T) {
	d := sampleDocument(nil)
	if err := Render(&bytes.Buffer{}, d); err == nil {
		t.Error("Render without a seal succeeded")
	}
}

// samplePhoto is a 640×800 JPEG, a size no barcode image on the page has.
func samplePhoto(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 640, 800))
	for y := range 800 {
		for x := range 640 {
			img.Set(x, y, color.RGBA{R: uint8(x / 3), G: uint8(y / 4), B: 160, A: 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The photograph is embedded as an image of its own size when the case has
// one, and the page has no such image when it has none.
func TestRenderShowsThePhotograph(t *testing.T) {
	seal := sampleSeal(t)
	withPhoto := sampleDocument(seal)
	withPhoto.Photo = samplePhoto(t)
	photoDict := regexp.MustCompile(`/Width 640\s*/Height 800`)
	if got := render(t, withPhoto); !photoDict.Match(got) {
		t.Error("the PDF holds no 640×800 image: the photograph is missing")
	}
	if photoDict.Match(render(t, sampleDocument(seal))) {
		t.Error("a PDF without a photograph holds a 640×800 image")
	}
	first, second := render(t, withPhoto), render(t, withPhoto)
	if !bytes.Equal(first, second) {
		t.Error("rendering the same document with a photograph twice gave different bytes")
	}
	if _, err := exec.LookPath("pdfimages"); err == nil {
		_, path := writePDF(t, first)
		out, err := exec.Command("pdfimages", "-list", path).Output()
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`\s640\s+800\s+rgb`).Match(out) {
			t.Errorf("pdfimages -list shows no 640×800 colour image:\n%s", out)
		}
	}
}

func TestRenderRefusesAPhotographThatIsNoImage(t *testing.T) {
	d := sampleDocument(sampleSeal(t))
	d.Photo = []byte("MZ\x90\x00 not an image")
	if err := Render(&bytes.Buffer{}, d); !errors.Is(err, ErrDocument) {
		t.Errorf("Render with a photograph that is no image: %v, want ErrDocument", err)
	}
}
