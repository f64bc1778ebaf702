package api

import (
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// JSON exchanged between systems must be UTF-8 (RFC 8259, section 8.1).
// Decoding anything else would silently turn each foreign byte into U+FFFD,
// so a Latin-1 "Müller" would be stored as "M\uFFFDller".

// charsetProblem refuses a declared charset other than UTF-8 (415).
func charsetProblem(params map[string]string) (Problem, bool) {
	cs, ok := params["charset"]
	if !ok || strings.EqualFold(strings.TrimSpace(cs), "utf-8") {
		return Problem{}, false
	}
	return Problem{Type: typeUnsupported, Status: http.StatusUnsupportedMediaType,
		Detail: "JSON must be encoded as UTF-8; send charset=utf-8 or no charset"}, true
}

// utf8Problem refuses a body that is not valid UTF-8 (400), naming the byte
// offset of the first invalid sequence but never the bytes themselves.
func utf8Problem(body []byte) (Problem, bool) {
	if utf8.Valid(body) {
		return Problem{}, false
	}
	offset := 0
	for offset < len(body) {
		r, size := utf8.DecodeRune(body[offset:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		offset += size
	}
	return Problem{Type: typeMalformed, Status: http.StatusBadRequest,
		Detail: fmt.Sprintf("the body is not valid UTF-8 (invalid byte at offset %d); JSON must be encoded as UTF-8",
			offset)}, true
}
