package e2e_test

import (
	"bytes"
	"context"
	"image/jpeg"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
	"github.com/visad/visad/internal/documents/doctest"
	"github.com/visad/visad/internal/testenv"
)

type uploadView struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	MediaType string `json:"media_type"`
	SizeBytes int64  `json:"size_bytes"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	ExpiresAt string `json:"expires_at"`
}

// TestUploadsAreJudgedByTheirBytesAndCleaned is the issue's first "must
// show": a 2 MB geotagged JPEG declared as a PDF is stored as a JPEG,
// re-encoded without its metadata; a 400 KB photograph is refused with a
// pointer, and so is a program renamed .pdf. The blob on disk is ciphertext.
func TestUploadsAreJudgedByTheirBytesAndCleaned(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := context.Background()

	scan := doctest.GeotaggedJPEG(2_000_000)
	if len(scan) < 2_000_000 || !bytes.Contains(scan, []byte(doctest.CameraMake)) {
		t.Fatalf("fixture: %d bytes", len(scan))
	}
	r := env.Upload("/v1/uploads", "", domain.DocumentPassportDataPage, "scan.pdf", "application/pdf", scan)
	if r.Status != http.StatusCreated {
		t.Fatalf("geotagged scan: %d %s", r.Status, r.Body)
	}
	var up uploadView
	r.JSON(t, &up)
	if up.MediaType != string(domain.MediaJPEG) || up.ExpiresAt == "" || !domain.IsUploadID(up.ID) {
		t.Fatalf("upload %+v: want a JPEG (by its bytes, not the declared PDF) that expires", up)
	}

	// Refusals, each with a pointer.
	letterPDF := doctest.PDF("Invitation to the Lahore trade fair")
	truncatedPDF := letterPDF[:len(letterPDF)/2]
	for _, tc := range []struct {
		name     string
		kind     domain.DocumentKind
		file     string
		declared string
		data     []byte
		status   int
		pointer  string
		code     string
	}{
		{"400 KB photograph", domain.DocumentPhotograph, "me.jpg", "image/jpeg",
			doctest.PaddedTo(doctest.Photograph(), 400_000), 422, "/file", domain.CodeFileTooLarge},
		{"program renamed .pdf", domain.DocumentInvitationLetter, "letter.pdf", "application/pdf",
			doctest.Program(), 422, "/file", domain.CodeUnsupportedType},
		{"small photograph", domain.DocumentPhotograph, "me.png", "image/png",
			doctest.PNG(doctest.Plain(500, 700)), 422, "/file", domain.CodeImageTooSmall},
		{"PDF photograph", domain.DocumentPhotograph, "me.jpg", "image/jpeg",
			doctest.PDF("not a face"), 422, "/file", domain.CodeUnsupportedType},
		{"unknown kind", domain.DocumentKind("selfie"), "me.jpg", "image/jpeg",
			doctest.Photograph(), 422, "/kind", domain.CodeOneOf},
		{"truncated PDF", domain.DocumentInvitationLetter, "letter.pdf", "application/pdf",
			truncatedPDF, 422, "/file", domain.CodeInvalidPDF},
		{"broken JPEG", domain.DocumentPassportDataPage, "scan.jpg", "image/jpeg",
			doctest.Photograph()[:300], 422, "/file", domain.CodeUnreadableFile},
		{"over 5 MB", domain.DocumentPassportDataPage, "scan.jpg", "image/jpeg",
			doctest.PaddedTo(doctest.Photograph(), 5_030_000), 413, "/file", domain.CodeFileTooLarge},
	} {
		r := env.Upload("/v1/uploads", "", tc.kind, tc.file, tc.declared, tc.data)
		p := decodeProblem(t, r, tc.status)
		if !hasError(p, tc.pointer, tc.code) {
			t.Errorf("%s: want %s at %s, got %s", tc.name, tc.code, tc.pointer, r.Body)
		}
	}

	// An application names its uploads; they are attached to it.
	photo := env.UploadID(domain.DocumentPhotograph, "photo.png", "image/png", doctest.PNG(doctest.Plain(600, 600)))
	letter := env.UploadID(domain.DocumentInvitationLetter, "letter.pdf", "application/pdf",
		doctest.PDF("Invitation to Almaty Trading LLP"))
	form := testenv.ValidApplication(domain.ProductBusiness2Y)
	form.Documents = []domain.DocumentRef{
		{Kind: domain.DocumentPassportDataPage, UploadID: up.ID},
		{Kind: domain.DocumentPhotograph, UploadID: photo},
		{Kind: domain.DocumentInvitationLetter, UploadID: letter},
	}
	s := submit(t, env, form)
	docs, err := env.Services.Cases.CaseDocuments(ctx, s.ID)
	if err != nil || len(docs) != 3 {
		t.Fatalf("case documents: %v, %v", docs, err)
	}
	if missing := domain.MissingDocuments(form.Product, kindsOf(docs)); len(missing) != 0 {
		t.Fatalf("missing %v", missing)
	}
	doc, stored, err := env.Services.Cases.OpenDocument(ctx, s.ID, up.ID)
	if err != nil {
		t.Fatal(err)
	}
	if doc.MediaType != domain.MediaJPEG || bytes.Contains(stored, []byte("Exif")) ||
		bytes.Contains(stored, []byte(doctest.CameraMake)) || bytes.Contains(stored, []byte{0xFF, 0xE1}) {
		t.Fatal("the stored scan still carries its EXIF metadata")
	}
	img, err := jpeg.Decode(bytes.NewReader(stored))
	if err != nil {
		t.Fatalf("stored scan is no JPEG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != up.Width || b.Dy() != up.Height || int64(len(stored)) != up.SizeBytes {
		t.Fatalf("stored %v, %d bytes; upload said %+v", b, len(stored), up)
	}
	// At rest it is ciphertext: no file under the documents directory holds any of it.
	dir := env.Services.Config.DocumentsDir
	blobs := 0
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		blobs++
		if bytes.Contains(raw, stored[len(stored)/2:len(stored)/2+32]) || bytes.Contains(raw, []byte("%PDF")) {
			t.Errorf("%s holds plaintext", path)
		}
		return nil
	})
	if err != nil || blobs != 3 {
		t.Fatalf("%d blobs under %s (%v), want 3", blobs, dir, err)
	}

	// An upload serves one application: naming it again is refused, with a pointer.
	again := testenv.ValidApplication(domain.ProductBusiness2Y)
	again.Documents = []domain.DocumentRef{{Kind: domain.DocumentPhotograph, UploadID: photo}}
	p := decodeProblem(t, env.Do("POST", "/v1/applications", "", again), 422)
	if !hasError(p, "/documents/0/upload_id", domain.CodeUnknownUpload) {
		t.Fatalf("reused upload: %+v", p)
	}
	// Inside the case, the applicant's upload is attached at once.
	r = env.Upload("/v1/applications/"+s.ID+"/uploads", s.AccessToken, domain.DocumentCompanyRegistration,
		"reg.pdf", "application/pdf", doctest.PDF("Company registration 123"))
	if r.Status != http.StatusCreated {
		t.Fatalf("upload inside the case: %d %s", r.Status, r.Body)
	}
	if docs, _ := env.Services.Cases.CaseDocuments(ctx, s.ID); len(docs) != 4 {
		t.Fatalf("%d documents after the upload inside the case, want 4", len(docs))
	}
}

func kindsOf(docs []casework.Document) []domain.DocumentKind { return casework.DocumentKinds(docs) }
