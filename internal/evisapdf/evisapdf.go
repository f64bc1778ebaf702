// Package evisapdf renders the e-visa a traveller carries: one A4 page with
// the grant's fields in English and Russian, the visa MRZ, the signed visible
// digital seal as a DataMatrix (ECC 200) and a QR code linking to the public
// check page. Rendering is deterministic: the same document gives the same
// bytes, so a re-rendered PDF never differs from one sent earlier.
package evisapdf

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // photographs
	"image/png"
	"io"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/datamatrix"
	dmencoder "github.com/makiuchi-d/gozxing/datamatrix/encoder"
	"github.com/makiuchi-d/gozxing/qrcode"
)

var (
	//go:embed fonts/DejaVuSans.ttf
	fontRegular []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	fontBold []byte
	//go:embed fonts/DejaVuSansMono.ttf
	fontMono []byte
)

// Document is what the e-visa shows. Dates are calendar dates.
type Document struct {
	IssuingState   string // e.g. "Islamic Republic of Pakistan"
	HolderName     string // as in the passport, e.g. "ABENOV Nurlan"
	Nationality    string // e.g. "KAZ"
	BirthDate      time.Time
	PassportNumber string
	VisaNumber     string
	Product        string // e.g. "Business visa, 5 years"
	ValidFrom      time.Time
	ValidUntil     time.Time
	Entries        string // "single", "double" or "multiple"
	MaxStayDays    int    // per visit
	IssueDate      time.Time
	MRZ            [2]string
	Seal           []byte // the signed VDS, printed byte for byte as a DataMatrix
	CheckURL       string // printed as a QR code and as text
	// Photo is the holder's photograph (JPEG or PNG, as stored), printed
	// under the codes when the case has one; nil prints none.
	Photo []byte
}

// ErrDocument is wrapped by errors about the document's content.
var ErrDocument = errors.New("e-visa document")

const (
	pageW, pageH = 210.0, 297.0 // A4, mm
	margin       = 18.0
	modulePixels = 6 // barcode image pixels per module; the PDF scales the image
	quietModules = 2 // DataMatrix quiet zone (ISO/IEC 16022 asks for one module)
)

// Render writes the e-visa PDF to w.
func Render(w io.Writer, d Document) error {
	if len(d.Seal) == 0 || d.CheckURL == "" || d.MRZ[0] == "" || d.MRZ[1] == "" {
		return fmt.Errorf("%w: seal, check URL and MRZ are required", ErrDocument)
	}
	sealPNG, err := dataMatrixPNG(d.Seal)
	if err != nil {
		return err
	}
	qrPNG, err := qrPNG(d.CheckURL)
	if err != nil {
		return err
	}
	photo, err := photoImage(d.Photo)
	if err != nil {
		return err
	}

	pdf := fpdf.New("P", "mm", "A4", "")
	// Fixed metadata and sorted catalog: identical input, identical bytes.
	fixed := d.IssueDate.UTC()
	pdf.SetCreationDate(fixed)
	pdf.SetModificationDate(fixed)
	pdf.SetCatalogSort(true)
	pdf.SetCompression(true)
	pdf.SetTitle("e-Visa "+d.VisaNumber, true)
	pdf.SetCreator("visad", true)
	pdf.SetProducer("visad", true)
	pdf.SetLang("en")
	pdf.AddUTF8FontFromBytes("sans", "", fontRegular)
	pdf.AddUTF8FontFromBytes("sans", "B", fontBold)
	pdf.AddUTF8FontFromBytes("mono", "", fontMono)
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(false, 0)
	pdf.AddPage()

	// Title band.
	pdf.SetFillColor(0, 84, 64)
	pdf.Rect(0, 0, pageW, 34, "F")
	pdf.SetTextColor(255, 255, 255)
	pdf.SetXY(margin, 8)
	pdf.SetFont("sans", "B", 20)
	pdf.CellFormat(0, 9, "ELECTRONIC VISA · ЭЛЕКТРОННАЯ ВИЗА", "", 1, "L", false, 0, "")
	pdf.SetX(margin)
	pdf.SetFont("sans", "", 11)
	pdf.CellFormat(0, 6, d.IssuingState, "", 1, "L", false, 0, "")
	pdf.SetX(margin)
	pdf.CellFormat(0, 6, "Visa grant notice · Уведомление о выдаче визы", "", 1, "L", false, 0, "")
	pdf.SetTextColor(0, 0, 0)

	// Fields, two label lines (English, Russian) and the value.
	rows := []struct{ en, ru, value string }{
		{"Holder", "Владелец", d.HolderName},
		{"Nationality", "Гражданство", d.Nationality},
		{"Date of birth", "Дата рождения", formatDate(d.BirthDate)},
		{"Passport number", "Номер паспорта", d.PassportNumber},
		{"Visa number", "Номер визы", d.VisaNumber},
		{"Visa type", "Вид визы", d.Product},
		{"Valid from", "Действительна с", formatDate(d.ValidFrom)},
		{"Valid until", "Действительна до", formatDate(d.ValidUntil)},
		{"Entries", "Количество въездов", entriesText(d.Entries)},
		{"Maximum stay per visit", "Макс. срок пребывания", stayText(d.MaxStayDays)},
		{"Date of issue", "Дата выдачи", formatDate(d.IssueDate)},
	}
	y := 44.0
	const labelW, rowH = 50.0, 12.0
	for _, r := range rows {
		pdf.SetXY(margin, y)
		pdf.SetFont("sans", "", 9)
		pdf.SetTextColor(70, 70, 70)
		pdf.CellFormat(labelW, 4.5, r.en, "", 2, "L", false, 0, "")
		pdf.SetX(margin)
		pdf.CellFormat(labelW, 4.5, r.ru, "", 0, "L", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
		pdf.SetFont("sans", "B", 11.5)
		pdf.SetXY(margin+labelW, y+1.5)
		pdf.CellFormat(pageW-2*margin-labelW-62, 6, r.value, "", 0, "L", false, 0, "")
		pdf.SetDrawColor(210, 210, 210)
		pdf.Line(margin, y+rowH-1.5, pageW-margin-62, y+rowH-1.5)
		y += rowH
	}

	// Seal (DataMatrix) and check link (QR) in the right column.
	const codeX, codeW = pageW - margin - 52, 52.0
	pdf.RegisterImageOptionsReader("seal", fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(sealPNG))
	pdf.ImageOptions("seal", codeX, 44, codeW, codeW, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
	pdf.SetXY(codeX, 97)
	pdf.SetFont("sans", "", 7.5)
	pdf.MultiCell(codeW, 3.6, "Digital seal (ICAO 9303-13)\nЦифровая печать (ИКАО 9303-13)", "", "C", false)
	pdf.RegisterImageOptionsReader("check", fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(qrPNG))
	pdf.ImageOptions("check", codeX+6, 110, codeW-12, codeW-12, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
	pdf.SetXY(codeX, 151)
	pdf.MultiCell(codeW, 3.6, "Check online · Проверить онлайн", "", "C", false)
	if photo != nil {
		// The photograph under the codes, fitted in its box; the text below starts after it.
		w, h := photo.fit(photoBoxW, photoBoxH)
		x := codeX + (codeW-w)/2
		opts := fpdf.ImageOptions{ImageType: photo.kind}
		pdf.RegisterImageOptionsReader("photo", opts, bytes.NewReader(photo.raw))
		pdf.ImageOptions("photo", x, photoTop, w, h, false, opts, 0, "")
		pdf.SetDrawColor(120, 120, 120)
		pdf.Rect(x, photoTop, w, h, "D")
		pdf.SetXY(codeX, photoTop+h+1)
		pdf.MultiCell(codeW, 3.6, "Photograph · Фотография", "", "C", false)
		y = max(y, photoTop+h+6)
	}

	// Check URL and how to verify, full width.
	y += 4
	pdf.SetXY(margin, y)
	pdf.SetFont("sans", "", 9)
	pdf.MultiCell(pageW-2*margin, 4.5,
		"Verify this visa at "+d.CheckURL+" or offline: the DataMatrix code holds a visible digital seal signed "+
			"by the issuing state (ICAO Doc 9303 Part 13), readable with any compliant seal reader.\n"+
			"Проверить визу можно по адресу "+d.CheckURL+" или без подключения к сети: код DataMatrix содержит "+
			"видимую цифровую печать, подписанную государством выдачи (ICAO Doc 9303, часть 13).", "", "L", false)

	// Machine readable zone at the foot of the page.
	pdf.SetFillColor(245, 245, 245)
	pdf.Rect(margin-4, pageH-48, pageW-2*margin+8, 24, "F")
	pdf.SetFont("mono", "", 15)
	for i, line := range d.MRZ {
		pdf.SetXY(margin, pageH-45+float64(i)*9)
		pdf.CellFormat(pageW-2*margin, 8, line, "", 0, "L", false, 0, "")
	}
	pdf.SetFont("sans", "", 7.5)
	pdf.SetTextColor(90, 90, 90)
	pdf.SetXY(margin, pageH-18)
	pdf.CellFormat(pageW-2*margin, 4, "Print on A4 paper. Keep with your passport. · Распечатайте на бумаге A4 "+
		"и храните вместе с паспортом.", "", 0, "C", false, 0, "")

	if err := pdf.Error(); err != nil {
		return fmt.Errorf("evisapdf: %w", err)
	}
	return pdf.Output(w)
}

// Where the photograph goes: a box under the check code in the right column.
const (
	photoTop             = 158.0
	photoBoxW, photoBoxH = 36.0, 44.0
)

// photo is a photograph fpdf can embed, as decided by its bytes.
type photo struct {
	raw           []byte
	kind          string // "JPG" or "PNG"
	width, height int    // pixels
}

// photoImage checks the photograph's bytes: a JPEG or PNG whose header
// decodes; nil when there is none.
func photoImage(raw []byte) (*photo, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%w: the photograph is not a readable JPEG or PNG", ErrDocument)
	}
	kinds := map[string]string{"jpeg": "JPG", "png": "PNG"}
	kind, ok := kinds[format]
	if !ok {
		return nil, fmt.Errorf("%w: the photograph is %s, not a JPEG or PNG", ErrDocument, format)
	}
	return &photo{raw: raw, kind: kind, width: cfg.Width, height: cfg.Height}, nil
}

// fit is the photograph's size in mm within a w×h box, keeping its aspect ratio.
func (p *photo) fit(w, h float64) (float64, float64) {
	ratio := float64(p.width) / float64(p.height)
	if w/h > ratio {
		return h * ratio, h
	}
	return w, w / ratio
}

func formatDate(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Format("02.01.2006")
}

func entriesText(e string) string {
	switch strings.ToLower(e) {
	case "single":
		return "Single · Однократная"
	case "double":
		return "Double · Двукратная"
	case "multiple":
		return "Multiple · Многократная"
	}
	return e
}

// stayText gives "90 days · 90 дней" with the Russian plural form.
func stayText(days int) string {
	if days <= 0 {
		return "—"
	}
	ru := "дней"
	switch n := days % 100; {
	case n >= 11 && n <= 14:
	case n%10 == 1:
		ru = "день"
	case n%10 >= 2 && n%10 <= 4:
		ru = "дня"
	}
	en := "days"
	if days == 1 {
		en = "day"
	}
	return fmt.Sprintf("%d %s · %d %s", days, en, days, ru)
}

// dataMatrixPNG draws seal as a square ECC 200 DataMatrix. The encoder gets
// each byte as one ISO-8859-1 character, so binary bytes pass unchanged
// (base-256 and ASCII upper-shift codewords carry them).
func dataMatrixPNG(seal []byte) ([]byte, error) {
	latin1 := make([]rune, len(seal))
	for i, b := range seal {
		latin1[i] = rune(b)
	}
	hints := map[gozxing.EncodeHintType]any{
		gozxing.EncodeHintType_DATA_MATRIX_SHAPE: dmencoder.SymbolShapeHint_FORCE_SQUARE,
	}
	m, err := datamatrix.NewDataMatrixWriter().Encode(string(latin1), gozxing.BarcodeFormat_DATA_MATRIX, 0, 0, hints)
	if err != nil {
		return nil, fmt.Errorf("evisapdf: DataMatrix: %w", err)
	}
	return matrixPNG(m, quietModules)
}

// qrPNG draws url as a QR code (error correction M, 4-module quiet zone).
func qrPNG(url string) ([]byte, error) {
	hints := map[gozxing.EncodeHintType]any{
		gozxing.EncodeHintType_ERROR_CORRECTION: "M",
		gozxing.EncodeHintType_MARGIN:           0,
	}
	m, err := qrcode.NewQRCodeWriter().Encode(url, gozxing.BarcodeFormat_QR_CODE, 0, 0, hints)
	if err != nil {
		return nil, fmt.Errorf("evisapdf: QR code: %w", err)
	}
	return matrixPNG(m, 4)
}

// matrixPNG renders a module matrix as a black-on-white PNG with a quiet zone.
func matrixPNG(m *gozxing.BitMatrix, quiet int) ([]byte, error) {
	w, h := m.GetWidth(), m.GetHeight()
	img := image.NewGray(image.Rect(0, 0, (w+2*quiet)*modulePixels, (h+2*quiet)*modulePixels))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if !m.Get(x, y) {
				continue
			}
			for dy := 0; dy < modulePixels; dy++ {
				for dx := 0; dx < modulePixels; dx++ {
					img.SetGray((x+quiet)*modulePixels+dx, (y+quiet)*modulePixels+dy, color.Gray{})
				}
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
