package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
)

// ProductView is one product of the catalogue with its document checklist
// and the rules each kind of document must meet.
type ProductView struct {
	Code          domain.Product         `json:"code"`
	Title         string                 `json:"title"`
	ValidityYears int                    `json:"validity_years"`
	Entries       string                 `json:"entries"`
	MaxStayDays   int                    `json:"max_stay_days"`
	Documents     []domain.ChecklistItem `json:"documents"`
}

// ProductsView is GET /v1/products.
type ProductsView struct {
	Products      []ProductView         `json:"products"`
	DocumentRules []domain.DocumentRule `json:"document_rules"`
}

func (s *Server) listProducts(c *gin.Context) {
	var v ProductsView
	for _, p := range domain.Products() {
		v.Products = append(v.Products, ProductView{Code: p.Code, Title: p.Title, ValidityYears: p.ValidityYears,
			Entries: p.Entries, MaxStayDays: p.MaxStayDays, Documents: domain.DocumentChecklist(p.Code)})
	}
	for _, k := range domain.DocumentKinds {
		rule, _ := domain.RuleFor(k)
		v.DocumentRules = append(v.DocumentRules, rule)
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.JSON(http.StatusOK, v)
}

// UploadView answers a stored upload.
type UploadView struct {
	ID        string              `json:"id"`
	Kind      domain.DocumentKind `json:"kind"`
	MediaType domain.MediaType    `json:"media_type"`
	SizeBytes int64               `json:"size_bytes"`
	Width     int                 `json:"width,omitempty"`
	Height    int                 `json:"height,omitempty"`
	// ExpiresAt: an upload no application names is deleted then.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// maxUploadBody is the largest multipart body: the largest file and room
// for the part headers and the kind field.
const maxUploadBody = domain.MaxUploadBytes + 64<<10

// uploadDocument is POST /v1/uploads (anonymous, or a chamber's with its token) and
// POST /v1/applications/{id}/uploads (the applicant, inside the case): a
// multipart form with the fields "kind" and "file". The file's type is
// decided by its bytes; its declared type and name are ignored.
func (s *Server) uploadDocument(c *gin.Context) {
	mt, params, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		writeProblem(c, Problem{Type: typeUnsupported, Status: http.StatusUnsupportedMediaType,
			Detail: "send the file as multipart/form-data with the fields kind and file"})
		return
	}
	kind, data, ok := readDocumentForm(c, params["boundary"])
	if !ok {
		return
	}
	var up casework.Upload
	if p := principal(c); p.ChamberID != "" {
		up, err = s.deps.Cases.StoreChamberUpload(c.Request.Context(), p.ChamberID, kind, data)
	} else {
		up, err = s.deps.Cases.StoreUpload(c.Request.Context(), kind, data, p.ApplicationID)
	}
	if err != nil {
		s.fail(c, "upload", err, "Invalid upload")
		return
	}
	v := UploadView{ID: up.ID, Kind: up.Kind, MediaType: up.MediaType, SizeBytes: up.SizeBytes,
		Width: up.Width, Height: up.Height}
	if !up.ExpiresAt.IsZero() {
		v.ExpiresAt = &up.ExpiresAt
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, v)
}

// readDocumentForm streams the multipart body: the "kind" field and the "file"
// part, at most domain.MaxUploadBytes of it; other parts are refused.
func readDocumentForm(c *gin.Context, boundary string) (domain.DocumentKind, []byte, bool) {
	body := http.MaxBytesReader(c.Writer, c.Request.Body, maxUploadBody)
	r := multipart.NewReader(body, boundary)
	var (
		kind    domain.DocumentKind
		data    []byte
		hasFile bool
	)
	tooLarge := func() (domain.DocumentKind, []byte, bool) {
		writeProblem(c, Problem{Type: typeTooLarge, Status: http.StatusRequestEntityTooLarge,
			Title: "Invalid upload", Detail: fmt.Sprintf("a document may be at most %d bytes", domain.MaxUploadBytes),
			Errors: []ProblemField{{Pointer: domain.PointerUploadFile, Code: domain.CodeFileTooLarge,
				Detail: "the file is too large"}}})
		return "", nil, false
	}
	malformed := func() (domain.DocumentKind, []byte, bool) {
		writeProblem(c, Problem{Type: typeMalformed, Status: http.StatusBadRequest,
			Detail: "the multipart body could not be read"})
		return "", nil, false
	}
	for {
		part, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge()
		}
		if err != nil {
			return malformed()
		}
		switch part.FormName() {
		case "kind":
			b, err := io.ReadAll(io.LimitReader(part, 64))
			if err != nil {
				return malformed()
			}
			kind = domain.DocumentKind(b)
		case "file":
			if hasFile {
				validationProblem(c, "Invalid upload", domain.FieldErrors{{Pointer: domain.PointerUploadFile,
					Code: domain.CodeOneOf, Detail: "send one file per upload"}})
				return "", nil, false
			}
			hasFile = true
			data, err = io.ReadAll(io.LimitReader(part, domain.MaxUploadBytes+1))
			if errors.As(err, &mbe) {
				return tooLarge()
			}
			if err != nil {
				return malformed()
			}
			if len(data) > domain.MaxUploadBytes {
				return tooLarge()
			}
		default:
			validationProblem(c, "Invalid upload", domain.FieldErrors{{Pointer: "/" + safePointerToken(part.FormName()),
				Code: "unknown_field", Detail: "the form takes the fields kind and file only"}})
			return "", nil, false
		}
		_ = part.Close()
	}
	var errs domain.FieldErrors
	if kind == "" {
		errs = append(errs, domain.FieldError{Pointer: domain.PointerUploadKind, Code: domain.CodeRequired,
			Detail: "is required"})
	}
	if !hasFile {
		errs = append(errs, domain.FieldError{Pointer: domain.PointerUploadFile, Code: domain.CodeRequired,
			Detail: "is required"})
	}
	if len(errs) > 0 {
		validationProblem(c, "Invalid upload", errs)
		return "", nil, false
	}
	return kind, data, true
}

// safePointerToken keeps an unknown field's name printable and short in a pointer.
func safePointerToken(name string) string {
	out := make([]rune, 0, len(name))
	for _, r := range name {
		if len(out) == 32 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			out = append(out, r)
		}
	}
	return string(out)
}
