// Package assets holds the stylesheet and script every server-rendered page
// of visad shares (the portal in package web, the e-visa check page in api),
// so there is one look and one set of GOV.UK patterns.
package assets

import "embed"

// FS holds visad.css and portal.js, the staff console's console.css and console.js, and the chamber
// portal's chamber.js.
//
//go:embed visad.css portal.js console.css console.js chamber.js
var FS embed.FS

// CSS is the shared stylesheet.
func CSS() []byte {
	b, err := FS.ReadFile("visad.css")
	if err != nil {
		panic(err) // embedded at build time
	}
	return b
}
