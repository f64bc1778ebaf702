package documents

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

// Why a PDF is refused.
var (
	// ErrNotPDF: the bytes do not parse as a PDF (no header, a broken or
	// truncated cross-reference table, objects that do not validate).
	ErrNotPDF = errors.New("not a valid PDF")
	// ErrEncryptedPDF: the PDF is encrypted (with a password to open it, or
	// an owner password restricting it). Refused on purpose: an officer must
	// be able to open every document, and the service cannot check what it
	// cannot read.
	ErrEncryptedPDF = errors.New("the PDF is encrypted")
)

// pdfcpu reads a configuration directory under $HOME unless told not to;
// nothing is to be written there by a server.
var disableConfigDir sync.Once

// pdfConfig is what CheckPDF validates with: pdfcpu's relaxed mode (the
// frequent, harmless deviations real PDF writers make are accepted),
// offline (no URL or certificate is fetched), not optimising, and limits
// fit for a 5 MB upload.
func pdfConfig() *model.Configuration {
	disableConfigDir.Do(api.DisableConfigDir)
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	conf.Offline = true
	conf.Optimize = false
	conf.ValidateLinks = false
	conf.DecodeAllStreams = false
	const mb = 1 << 20
	conf.Limits.MaxStreamBytes = 64 * mb
	conf.Limits.MaxDecodeBytes = 64 * mb
	conf.Limits.MaxImageBytes = 64 * mb
	conf.Limits.MaxImagePixels = 64 * mb
	conf.Limits.MaxObjectCount = 1_000_000
	conf.Limits.MaxObjectStreamCount = 100_000
	conf.Limits.MaxXRefEntries = 1_000_000
	return conf
}

// CheckPDF parses data with pdfcpu, in memory, and validates its structure:
// the header, the cross-reference table or streams, the trailer and the
// object graph (catalogue, page tree). A broken, truncated or disguised file
// is ErrNotPDF; an encrypted one ErrEncryptedPDF.
func CheckPDF(data []byte) (err error) {
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		return ErrNotPDF
	}
	defer func() {
		// pdfcpu reports most faults as errors; a panic on hostile input is one too.
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrNotPDF, r)
		}
	}()
	ctx, err := api.ReadContext(bytes.NewReader(data), pdfConfig())
	if err != nil {
		if isPasswordError(err) {
			return ErrEncryptedPDF
		}
		return fmt.Errorf("%w: %v", ErrNotPDF, err)
	}
	if ctx.Encrypt != nil || ctx.E != nil {
		return ErrEncryptedPDF
	}
	if err := api.ValidateContext(ctx); err != nil {
		return fmt.Errorf("%w: %v", ErrNotPDF, err)
	}
	return nil
}

func isPasswordError(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "password") || strings.Contains(msg, "encrypt")
}
