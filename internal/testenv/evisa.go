package testenv

import "github.com/getkin/kin-openapi/openapi3filter"

// The e-visa routes answer text media types kin-openapi has no decoder for:
// the check page, its stylesheet and the PEM certificate set. All are plain
// text to the spec (type: string).
func init() {
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("text/css", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("application/pem-certificate-chain", openapi3filter.PlainBodyDecoder)
}
