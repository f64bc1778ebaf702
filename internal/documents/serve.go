package documents

import (
	"mime"
	"net/http"
	"strconv"
)

// CSP keeps a document served from our origin from running anything: a
// sandbox without scripts, forms or same-origin, and nothing it may load.
const CSP = "sandbox; default-src 'none'"

// SetHeaders readies a stored document's response, the same wherever it is
// served (the API and the officers' console): its content type (decided by
// its bytes at upload) with nosniff, the sandboxing CSP, always as an
// attachment (PDFs too: never rendered inline from the service's origin),
// same-origin only, and never cached.
func SetHeaders(h http.Header, contentType, filename string, size int) {
	h.Set("Content-Type", contentType)
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	h.Set("Content-Length", strconv.Itoa(size))
}
