package documents

import (
	"bytes"
	"errors"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/documents/doctest"
)

// encrypted is letter encrypted by pdfcpu with AES-256: with a password to
// open it (user), or with only an owner password restricting it.
func encrypted(t *testing.T, letter []byte, userPW string) []byte {
	t.Helper()
	disableConfigDir.Do(api.DisableConfigDir)
	conf := model.NewAESConfiguration(userPW, "owner-secret", 256)
	var out bytes.Buffer
	if err := api.Encrypt(bytes.NewReader(letter), &out, conf); err != nil {
		t.Fatalf("encrypt fixture: %v", err)
	}
	return out.Bytes()
}

// shiftedXRef moves every offset of the cross-reference table and where
// startxref points, as a file edited by hand would have them: pdfcpu
// rebuilds the table by scanning the objects, as PDF viewers do.
func shiftedXRef(t *testing.T, letter []byte) []byte {
	t.Helper()
	entry := regexp.MustCompile(`(?m)^(\d{10}) (\d{5}) n`)
	out := entry.ReplaceAllFunc(letter, func(m []byte) []byte {
		off, _ := strconv.Atoi(string(m[:10]))
		return []byte(strconvPad(off+7) + string(m[10:]))
	})
	out = regexp.MustCompile(`startxref\s+(\d+)`).ReplaceAll(out, []byte("startxref\n17"))
	if bytes.Equal(out, letter) {
		t.Fatal("fixture: no cross-reference table to damage")
	}
	return out
}

// badXRef breaks the cross-reference table itself: a line that is no
// entry in its first section. pdfcpu refuses it.
func badXRef(t *testing.T, letter []byte) []byte {
	t.Helper()
	out := bytes.Replace(letter, []byte("\nxref\n"), []byte("\nxref\n0 8 q\x00\x01\n"), 1)
	if bytes.Equal(out, letter) {
		t.Fatal("fixture: no cross-reference table to damage")
	}
	return out
}

func strconvPad(n int) string {
	s := strconv.Itoa(n)
	for len(s) < 10 {
		s = "0" + s
	}
	return s
}

func TestCheckPDF(t *testing.T) {
	letter := doctest.PDF("Invitation to the Lahore trade fair for Mr Chaosov")
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"a real letter", letter, nil},
		{"truncated to half", letter[:len(letter)/2], ErrNotPDF},
		{"a bad cross-reference table", badXRef(t, letter), ErrNotPDF},
		{"objects that are no objects", bytes.ReplaceAll(letter, []byte(" 0 obj"), []byte(" 0 jbo")), ErrNotPDF},
		{"no catalogue", bytes.Replace(letter, []byte("/Type /Catalog"), []byte("/Type /Catalug"), 1), ErrNotPDF},
		// Damage that viewers repair is repaired, and the PDF accepted as sent.
		{"wrong offsets in the cross-reference table", shiftedXRef(t, letter), nil},
		{"startxref and %%EOF cut off", letter[:len(letter)-40], nil},
		{"a program renamed .pdf", doctest.Program(), ErrNotPDF},
		{"a program behind a PDF header", append([]byte("%PDF-1.7\n"), doctest.Program()...), ErrNotPDF},
		{"only a header and a trailer", []byte("%PDF-1.4\n%%EOF\n"), ErrNotPDF},
		{"encrypted with a password to open it", encrypted(t, letter, "open-sesame"), ErrEncryptedPDF},
		{"encrypted with an owner password only", encrypted(t, letter, ""), ErrEncryptedPDF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPDF(tc.data)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("CheckPDF: %v, want %v", err, tc.want)
			}
		})
	}
}

// Inspect answers each refused PDF with a problem at /file and its own code.
func TestInspectRefusesBrokenAndEncryptedPDFs(t *testing.T) {
	letter := doctest.PDF("Recommendation of the Chaos Chamber of Commerce")
	for _, tc := range []struct {
		name string
		data []byte
		code string
	}{
		{"truncated", letter[:len(letter)*2/3], domain.CodeInvalidPDF},
		{"bad xref", badXRef(t, letter), domain.CodeInvalidPDF},
		{"encrypted", encrypted(t, letter, "open-sesame"), domain.CodeEncryptedPDF},
		{"exe renamed", doctest.Program(), domain.CodeUnsupportedType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, errs := Inspect(domain.DocumentChamberRecommendation, tc.data)
			if out != nil || len(errs) != 1 || errs[0].Pointer != domain.PointerUploadFile || errs[0].Code != tc.code {
				t.Fatalf("errors %+v, want %s at /file", errs, tc.code)
			}
		})
	}
	out, facts, errs := Inspect(domain.DocumentChamberRecommendation, letter)
	if len(errs) != 0 || facts.Type != domain.MediaPDF || !bytes.Equal(out, letter) {
		t.Fatalf("a real letter: %+v %+v", errs, facts)
	}
}

// Checking a PDF writes nothing under $HOME: pdfcpu's configuration
// directory is disabled.
func TestCheckPDFWritesNoConfigDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", home+"/.config")
	if err := CheckPDF(doctest.PDF("a letter")); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(home)
	if err != nil || len(entries) != 0 {
		t.Fatalf("HOME holds %v (%v) after a PDF check", entries, err)
	}
}
