package sample

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/visad/visad/domain"
)

// Document is a specimen supporting document: a file name and its content.
type Document struct {
	Kind domain.DocumentKind
	Name string
	Data []byte
}

// Documents are specimen files of every kind a product's checklist
// requires, which the upload rules take: the passport's data page and the
// letters as one-page PDFs, the photograph as a 600×800 JPEG well under
// 350 KB. For demos (`visad sample-documents`) and the docs' walkthrough.
func Documents() []Document {
	return []Document{
		{domain.DocumentPassportDataPage, "passport.pdf",
			letter("SPECIMEN - passport data page", "Republic of Kazakhstan. Passport. Abenov Nurlan.")},
		{domain.DocumentPhotograph, "photo.jpg", Photograph()},
		{domain.DocumentInvitationLetter, "invitation.pdf",
			letter("SPECIMEN - invitation letter", "Lahore Textiles Ltd invites Mr Nurlan Abenov to Lahore.")},
		{domain.DocumentChamberRecommendation, "recommendation.pdf",
			letter("SPECIMEN - recommendation letter", "The chamber of commerce recommends its member.")},
	}
}

// Photograph is a 600×800 JPEG of soft gradients (about 25 KB).
func Photograph() []byte {
	const w, h = 600, 800
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(200 - x*60/w), uint8(190 - y*60/h), 170, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// fixedDate keeps the specimen PDFs the same from run to run.
var fixedDate = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func letter(title, body string) []byte {
	doc := fpdf.New("P", "mm", "A4", "")
	doc.SetCreationDate(fixedDate)
	doc.SetModificationDate(fixedDate)
	doc.SetCatalogSort(true)
	doc.SetProducer("visad sample-documents", true)
	doc.AddPage()
	doc.SetFont("Helvetica", "B", 14)
	doc.Cell(0, 10, title)
	doc.Ln(14)
	doc.SetFont("Helvetica", "", 12)
	doc.MultiCell(0, 6, body, "", "L", false)
	var b bytes.Buffer
	if err := doc.Output(&b); err != nil {
		panic(err)
	}
	return b.Bytes()
}
