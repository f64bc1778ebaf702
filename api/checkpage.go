package api

import (
	"bytes"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/visad/visad/web/assets"
)

// The public check page the e-visa's QR code opens: a server-rendered form
// that works without JavaScript, under a CSP that allows no script at all.

//go:embed web/check.html
var checkAssets embed.FS

var checkTemplate = template.Must(template.ParseFS(checkAssets, "web/check.html"))

const checkPageCSP = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; " +
	"base-uri 'none'"

// checkReasons says in words why a seal is not valid (vds.ErrorCode values).
var checkReasons = map[string]string{
	"bad_signature":    "The signature does not match the content: the seal was altered or forged.",
	"unknown_signer":   "The seal names a signer whose certificate the issuing state has not published.",
	"signer_not_valid": "The signer's certificate was not valid on the day the seal was signed.",
	"untrusted_signer": "The signer's certificate was not issued by the country signing authority.",
	"truncated":        "The seal is incomplete: part of it is missing.",
	"malformed":        "This is not a visible digital seal.",
	"not_a_visa":       "The seal is genuine but not a visa.",
}

type checkPageData struct {
	Title   string
	Input   string
	Errors  []string
	Checked bool
	Reason  string
	Result  SealVerificationView
}

func (s *Server) checkPage(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	s.renderCheck(c, http.StatusOK, checkPageData{})
}

func (s *Server) checkStyles(c *gin.Context) {
	// The stylesheet every page shares (the portal serves it as /assets/visad.css).
	c.Header("Cache-Control", "public, max-age=3600")
	c.Data(http.StatusOK, "text/css; charset=utf-8", assets.CSS())
}

// checkSeal answers the check page's form. The seal travels in the body,
// never in the URL, and the answer is not cached.
func (s *Server) checkSeal(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxSealBody)
	c.Header("Cache-Control", "no-store")
	input := strings.TrimSpace(c.PostForm("seal"))
	data := checkPageData{Input: input}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(input), ""))
	switch {
	case input == "":
		data.Errors = []string{"Enter the seal's content"}
	case err != nil || len(raw) == 0:
		data.Errors = []string{"Enter the seal's content as base64 (letters, digits, + and /)"}
	}
	if data.Errors != nil {
		// The form with its error summary, as a browser expects it; the title starts "Error:".
		s.renderCheck(c, http.StatusOK, data)
		return
	}
	if data.Result, err = s.sealVerification(c, raw); err != nil {
		s.serverError(c, "check seal", err)
		return
	}
	data.Checked = true
	data.Reason = checkReasons[data.Result.ErrorCode]
	if data.Reason == "" && !data.Result.Valid {
		data.Reason = "The seal could not be verified."
	}
	s.renderCheck(c, http.StatusOK, data)
}

func (s *Server) renderCheck(c *gin.Context, status int, data checkPageData) {
	data.Title = "Check an e-visa – visad"
	switch {
	case data.Errors != nil:
		data.Title = "Error: " + data.Title
	case data.Checked && data.Result.Valid && !data.Result.Revoked:
		data.Title = "Genuine seal – " + data.Title
	case data.Checked:
		data.Title = "Seal not valid – " + data.Title
	}
	var b bytes.Buffer
	if err := checkTemplate.Execute(&b, data); err != nil {
		s.serverError(c, "render check page", err)
		return
	}
	c.Header("Content-Security-Policy", checkPageCSP)
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(status, "text/html; charset=utf-8", b.Bytes())
}
