package documents

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"net/http"

	"github.com/visad/visad/domain"
)

// MaxPixels bounds the images decoded, so a small file that claims to be a
// huge image (a decompression bomb) is refused before it is decoded.
const MaxPixels = 40_000_000

// jpegQuality is the quality of re-encoded JPEGs.
const jpegQuality = 90

// Sniff decides a file's type by its bytes (the declared type and the file
// name are never consulted): JPEG, PNG or PDF, or "" for anything else.
func Sniff(data []byte) domain.MediaType {
	switch http.DetectContentType(data) {
	case string(domain.MediaJPEG):
		return domain.MediaJPEG
	case string(domain.MediaPNG):
		return domain.MediaPNG
	case string(domain.MediaPDF):
		return domain.MediaPDF
	}
	return ""
}

// Inspect checks an upload of the given kind and returns what is to be
// stored: images decoded and re-encoded (which drops EXIF, GPS positions,
// camera makes and any bytes appended to the image; a JPEG is turned upright
// first as its EXIF orientation says), PDFs checked to be
// parsed and validated as PDFs (pdfcpu; encrypted ones refused) and kept as sent. Problems are field errors pointing at
// the multipart fields ("/kind", "/file").
func Inspect(kind domain.DocumentKind, data []byte) ([]byte, domain.UploadFacts, domain.FieldErrors) {
	facts := domain.UploadFacts{Type: Sniff(data), Size: int64(len(data))}
	if errs := domain.CheckUpload(kind, facts); len(errs) > 0 {
		return nil, facts, errs
	}
	unreadable := func(what string) domain.FieldErrors {
		return domain.FieldErrors{{Pointer: domain.PointerUploadFile, Code: domain.CodeUnreadableFile,
			Detail: "the file could not be read as a " + what}}
	}
	switch facts.Type {
	case domain.MediaPDF:
		switch err := CheckPDF(data); {
		case errors.Is(err, ErrEncryptedPDF):
			return nil, facts, domain.FieldErrors{{Pointer: domain.PointerUploadFile, Code: domain.CodeEncryptedPDF,
				Detail: "the PDF is encrypted or protected by a password: send it without protection"}}
		case err != nil:
			return nil, facts, domain.FieldErrors{{Pointer: domain.PointerUploadFile, Code: domain.CodeInvalidPDF,
				Detail: "the file could not be read as a PDF: it may be damaged or incomplete"}}
		}
		return data, facts, nil
	case domain.MediaJPEG, domain.MediaPNG:
		cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil || cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
			return nil, facts, unreadable("picture")
		}
		// A JPEG whose EXIF says to turn it is stored upright: its pixels are
		// those it shows, once turned.
		orientation := 1
		if facts.Type == domain.MediaJPEG {
			orientation = jpegOrientation(data)
		}
		facts.Width, facts.Height = cfg.Width, cfg.Height
		if orientation >= 5 {
			facts.Width, facts.Height = cfg.Height, cfg.Width
		}
		if errs := domain.CheckUpload(kind, facts); len(errs) > 0 {
			return nil, facts, errs
		}
		clean, err := reencode(facts.Type, data, orientation)
		if err != nil {
			return nil, facts, unreadable("picture")
		}
		return clean, facts, nil
	}
	return nil, facts, unreadable("document")
}

// reencode decodes a picture and encodes it again, turned upright from its
// EXIF orientation (JPEG only; 1: as it is).
func reencode(t domain.MediaType, data []byte, orientation int) ([]byte, error) {
	var buf bytes.Buffer
	switch t {
	case domain.MediaJPEG:
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		err = jpeg.Encode(&buf, upright(img, orientation), &jpeg.Options{Quality: jpegQuality})
		return buf.Bytes(), err
	case domain.MediaPNG:
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, img)
		return buf.Bytes(), err
	}
	return nil, errors.New("not an image")
}
