package documents

import (
	"bytes"
	"errors"
)

// CheckPDF reports whether data is a PDF: a header and a trailer.
func CheckPDF(data []byte) error {
	if !bytes.HasPrefix(data, []byte("%PDF-")) || !bytes.Contains(data[max(0, len(data)-1024):], []byte("%%EOF")) {
		return errors.New("not a PDF")
	}
	return nil
}
