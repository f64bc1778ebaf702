package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
	"github.com/visad/visad/internal/documents"
)

// DocumentView is one supporting document of a case, as staff list it.
type DocumentView struct {
	ID          string              `json:"id"`
	Kind        domain.DocumentKind `json:"kind"`
	ContentType string              `json:"content_type"`
	Size        int64               `json:"size"`
	UploadedAt  time.Time           `json:"uploaded_at"`
}

// DocumentListView is a case's documents.
type DocumentListView struct {
	Items []DocumentView `json:"items"`
}

// listDocuments lists a case's documents (staff only; audited).
func (s *Server) listDocuments(c *gin.Context) {
	id := c.Param("id")
	if !validID(id) {
		writeProblem(c, Problem{Type: typeNotFound, Status: http.StatusNotFound, Detail: "no such application"})
		return
	}
	docs, err := s.deps.Cases.StaffDocuments(c.Request.Context(), principal(c).Actor(), id)
	if err != nil {
		s.fail(c, "list documents", err, "")
		return
	}
	out := DocumentListView{Items: []DocumentView{}}
	for _, d := range docs {
		out.Items = append(out.Items, DocumentView{ID: d.ID, Kind: d.Kind, ContentType: d.ContentType, Size: d.Size,
			UploadedAt: d.UploadedAt})
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

// getDocument serves one document's content (staff only; every view
// audited) so that a browser neither runs nor sniffs it: a sandboxing CSP,
// nosniff, and always as an attachment (PDFs too: never inline from our origin).
func (s *Server) getDocument(c *gin.Context) {
	id := c.Param("id")
	if !validID(id) {
		writeProblem(c, Problem{Type: typeNotFound, Status: http.StatusNotFound, Detail: "no such application"})
		return
	}
	doc, content, err := s.deps.Cases.DocumentContent(c.Request.Context(), principal(c).Actor(), id, c.Param("doc"))
	if err != nil {
		s.fail(c, "read document", err, "")
		return
	}
	documents.SetHeaders(c.Writer.Header(), doc.ContentType,
		string(doc.Kind)+casework.DocumentExtension(doc.ContentType), len(content))
	c.Data(http.StatusOK, doc.ContentType, content)
}
