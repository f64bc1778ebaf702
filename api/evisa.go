package api

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
	"github.com/visad/visad/internal/sealpki"
	"github.com/visad/visad/internal/vds"
)

// The e-visa routes: the PDF a traveller carries, the published seal
// certificates, online verification, revocation and the signed revocation
// list (docs/evisa.md).

// typeEVisaUnavailable: the case has no e-visa to give (not issued, its seal
// still being created, or revoked).
const typeEVisaUnavailable = "urn:visad:problem:evisa-unavailable"

// MaxSealBody bounds a seal sent for verification (a visa seal is < 300 bytes).
const MaxSealBody = 64 << 10

func (s *Server) routeEVisa(r *gin.Engine, v1 *gin.RouterGroup) {
	// Anonymous and public: limited by address whatever the request carries.
	r.GET("/.well-known/visad/seal-certificates", s.public, s.sealCertificates)
	r.GET("/check", s.public, s.checkPage)
	r.GET("/check.css", s.public, s.checkStyles)
	r.POST("/check", s.public, s.checkSeal)
	v1.POST("/seals/verify", s.public, s.verifySeal)
	v1.GET("/seals/revocations", s.public, s.revocationList)
	v1.GET("/applications/:id/evisa.pdf",
		s.authenticate(allowApplicant, domain.RoleOfficer, domain.RoleSupervisor, domain.RoleChamber), s.eVisaPDF)
	v1.POST("/visas/:number/revoke", s.authenticate(noApplicant, domain.RoleSupervisor), s.revokeVisa)
}

// RevocationView is why and when a visa was revoked.
type RevocationView struct {
	ReasonCode string    `json:"reason_code"`
	RevokedAt  time.Time `json:"revoked_at"`
}

func revocationView(r *casework.Revocation) *RevocationView {
	if r == nil {
		return nil
	}
	return &RevocationView{ReasonCode: r.ReasonCode, RevokedAt: r.RevokedAt}
}

// addEVisa puts the seal, its MRZ and the revocation state on a case's visa.
func addEVisa(v *VisaView, ev *casework.EVisa) {
	if v == nil || ev == nil {
		return
	}
	if ev.Seal != nil {
		v.Seal = base64.StdEncoding.EncodeToString(ev.Seal)
		v.MRZ = []string{ev.MRZ[0], ev.MRZ[1]}
	}
	v.Revoked = ev.Revocation != nil
	v.Revocation = revocationView(ev.Revocation)
}

func (s *Server) eVisaPDF(c *gin.Context) {
	id := c.Param("id")
	if !validID(id) {
		writeProblem(c, Problem{Type: typeNotFound, Status: http.StatusNotFound, Detail: "no such application"})
		return
	}
	chamber := ""
	p := principal(c)
	if p.Role == domain.RoleChamber {
		chamber = p.ChamberID // chambers see the applications they submitted, and nothing else exists for them
	}
	pdf, err := s.deps.EVisas.PDF(c.Request.Context(), id, chamber)
	if err == nil && p.Role.HandlesCases() {
		// The PDF shows the holder's name and passport: a staff download is a read of personal data.
		err = s.deps.Cases.AuditRead(c.Request.Context(), p.Actor(), "evisa.read", id)
	}
	switch {
	case errors.Is(err, casework.ErrNotFound):
		writeProblem(c, Problem{Type: typeNotFound, Status: http.StatusNotFound, Detail: "no such application"})
		return
	case errors.Is(err, casework.ErrSealPending):
		c.Header("Retry-After", "5")
		fallthrough
	case errors.Is(err, casework.ErrNotIssued), errors.Is(err, casework.ErrVisaRevoked):
		writeProblem(c, Problem{Type: typeEVisaUnavailable, Status: http.StatusConflict, Detail: err.Error()})
		return
	case err != nil:
		s.serverError(c, "e-visa pdf", err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="evisa.pdf"`)
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/pdf", pdf)
}

func (s *Server) sealCertificates(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/pem-certificate-chain", s.deps.EVisas.PublishedCertificates())
}

// SealVerifyBody is a seal sent as JSON.
type SealVerifyBody struct {
	Seal string `json:"seal"` // base64 (standard or URL alphabet, padding optional)
}

// SealVerificationView answers POST /v1/seals/verify.
type SealVerificationView struct {
	Valid      bool            `json:"valid"`
	ErrorCode  string          `json:"error_code,omitempty"`
	Error      string          `json:"error,omitempty"`
	Signer     *SealSignerView `json:"signer,omitempty"`
	Header     *SealHeaderView `json:"header,omitempty"`
	Visa       *SealVisaView   `json:"visa,omitempty"`
	Revoked    bool            `json:"revoked"`
	Revocation *RevocationView `json:"revocation,omitempty"`
}

// SealSignerView is the document signer certificate that verified a seal.
type SealSignerView struct {
	ID        string    `json:"id"`       // signer identifier, e.g. PKVD
	CertRef   string    `json:"cert_ref"` // certificate serial number, hex
	Subject   string    `json:"subject"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
}

// SealHeaderView is a seal's header.
type SealHeaderView struct {
	Version        int    `json:"version"`
	IssuingCountry string `json:"issuing_country"`
	SignerID       string `json:"signer_id"`
	CertRef        string `json:"cert_ref"`
	IssueDate      string `json:"issue_date"`
	SignatureDate  string `json:"signature_date"`
}

// SealVisaView is the visa a seal carries.
type SealVisaView struct {
	MRZType        string        `json:"mrz_type"`
	MRZ            []string      `json:"mrz"`
	VisaNumber     string        `json:"visa_number"` // the MRZ's document number
	PassportNumber string        `json:"passport_number,omitempty"`
	Entries        *int          `json:"entries,omitempty"` // 0 = multiple
	DurationOfStay *DurationView `json:"duration_of_stay,omitempty"`
}

// DurationView is the permitted stay per entry.
type DurationView struct {
	Days   int `json:"days"`
	Months int `json:"months"`
	Years  int `json:"years"`
}

func (s *Server) verifySeal(c *gin.Context) {
	raw, ok := readSeal(c)
	if !ok {
		return
	}
	out, err := s.sealVerification(c, raw)
	if err != nil {
		s.serverError(c, "verify seal", err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

// sealVerification verifies a seal and shapes the answer for JSON and for the check page.
func (s *Server) sealVerification(c *gin.Context, raw []byte) (SealVerificationView, error) {
	res, err := s.deps.EVisas.Verify(c.Request.Context(), raw)
	if err != nil {
		return SealVerificationView{}, err
	}
	out := SealVerificationView{Valid: res.Valid, ErrorCode: res.ErrorCode, Error: res.Error,
		Revoked: res.Revocation != nil, Revocation: revocationView(res.Revocation)}
	if sg := res.Signer; sg != nil {
		out.Signer = &SealSignerView{ID: sg.SignerID, CertRef: sg.CertRef(), Subject: sg.Subject,
			NotBefore: sg.NotBefore.UTC(), NotAfter: sg.NotAfter.UTC()}
	}
	if h := res.Seal; h != nil {
		out.Header = &SealHeaderView{Version: h.Header.Version, IssuingCountry: h.Header.IssuingCountry,
			SignerID: h.Header.SignerID, CertRef: h.Header.CertRef,
			IssueDate:     h.Header.IssueDate.Format(time.DateOnly),
			SignatureDate: h.Header.SignatureDate.Format(time.DateOnly)}
	}
	if v := res.Visa; v != nil {
		out.Visa = sealVisaView(*v)
	}
	return out, nil
}

func sealVisaView(v vds.Visa) *SealVisaView {
	view := &SealVisaView{MRZType: v.MRZType, MRZ: []string{v.MRZ[0], v.MRZ[1]}, PassportNumber: v.PassportNumber,
		Entries: v.Entries}
	if len(v.MRZ[1]) >= 9 {
		view.VisaNumber = strings.TrimRight(v.MRZ[1][:9], "<")
	}
	if d := v.DurationOfStay; d != nil {
		view.DurationOfStay = &DurationView{Days: d.Days, Months: d.Months, Years: d.Years}
	}
	return view
}

// readSeal reads the seal of a verify request: raw bytes
// (application/octet-stream) or JSON {"seal": "<base64>"}. It writes the
// problem and returns false when the request is unacceptable.
func readSeal(c *gin.Context) ([]byte, bool) {
	mt := "application/json"
	if ct := c.GetHeader("Content-Type"); ct != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			mt = ""
		}
	}
	if mt != "application/octet-stream" {
		if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
			writeProblem(c, Problem{Type: typeUnsupported, Status: http.StatusUnsupportedMediaType,
				Detail: "send the seal as application/octet-stream (raw bytes) or application/json {\"seal\": base64}"})
			return nil, false
		}
		var body SealVerifyBody
		if !decodeJSON(c, &body) {
			return nil, false
		}
		if body.Seal == "" {
			validationProblem(c, "Invalid request", domain.FieldErrors{{Pointer: "/seal", Code: "required",
				Detail: "the seal, base64-encoded"}})
			return nil, false
		}
		raw, err := decodeBase64(body.Seal)
		if err != nil || len(raw) > MaxSealBody {
			validationProblem(c, "Invalid request", domain.FieldErrors{{Pointer: "/seal", Code: "base64",
				Detail: fmt.Sprintf("must be base64 of at most %d bytes", MaxSealBody)}})
			return nil, false
		}
		return raw, true
	}
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxSealBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeProblem(c, Problem{Type: typeTooLarge, Status: http.StatusRequestEntityTooLarge,
			Detail: "the seal exceeds " + strconv.Itoa(MaxSealBody) + " bytes"})
		return nil, false
	case err != nil:
		writeProblem(c, Problem{Type: typeMalformed, Status: http.StatusBadRequest,
			Detail: "the request body could not be read"})
		return nil, false
	case len(raw) == 0:
		validationProblem(c, "Invalid request", domain.FieldErrors{{Pointer: "", Code: "required",
			Detail: "the body must be the seal's bytes"}})
		return nil, false
	}
	return raw, true
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.Join(strings.Fields(s), "")
	var lastErr error
	for _, e := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding,
		base64.RawURLEncoding} {
		b, err := e.DecodeString(s)
		if err == nil {
			return b, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func (s *Server) revocationList(c *gin.Context) {
	body, sig, signer, err := s.deps.EVisas.SignedRevocationList(c.Request.Context())
	if err != nil {
		s.serverError(c, "revocation list", err)
		return
	}
	c.Header(sealpki.RevocationSignatureHeader, base64.StdEncoding.EncodeToString(sig))
	c.Header(sealpki.RevocationSignerHeader, signer)
	c.Header("Cache-Control", "no-cache")
	c.Data(http.StatusOK, "application/json", body)
}

// RevokeBody is a supervisor's revocation.
type RevokeBody struct {
	ReasonCode string `json:"reason_code"`
}

// VisaRevocationView answers a revocation.
type VisaRevocationView struct {
	VisaNumber string         `json:"visa_number"`
	Revoked    bool           `json:"revoked"`
	Revocation RevocationView `json:"revocation"`
}

func (s *Server) revokeVisa(c *gin.Context) {
	number := c.Param("number")
	if _, ok := domain.VisaMRZNumber(number); !ok {
		writeProblem(c, Problem{Type: typeNotFound, Status: http.StatusNotFound, Detail: "no such visa"})
		return
	}
	var body RevokeBody
	if !decodeJSON(c, &body) {
		return
	}
	p := principal(c)
	rev, err := s.deps.EVisas.Revoke(c.Request.Context(), number, body.ReasonCode, p.Actor().Name())
	var fieldErrs domain.FieldErrors
	switch {
	case errors.As(err, &fieldErrs):
		validationProblem(c, "Invalid revocation", fieldErrs)
		return
	case errors.Is(err, casework.ErrVisaNotFound):
		writeProblem(c, Problem{Type: typeNotFound, Status: http.StatusNotFound, Detail: "no such visa"})
		return
	case err != nil:
		s.serverError(c, "revoke visa", err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, VisaRevocationView{VisaNumber: rev.VisaNumber, Revoked: true,
		Revocation: *revocationView(&rev)})
}

// checkPage is the public check page the e-visa's QR code opens: it names no
// visa and no person, and verifies a seal the reader pastes.
