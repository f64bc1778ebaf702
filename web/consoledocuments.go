package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
	"github.com/visad/visad/internal/documents"
)

// A case's supporting documents on the console: listed on the case page,
// each opened through a staff-only route that reads it the way the API does
// (casework.DocumentContent: the view is audited as document.read) and
// serves it with the API's headers (documents.SetHeaders). A picture may be
// looked at on a page of its own, as an <img> of that route: same origin, so
// the strict CSP's img-src 'self' admits it, and sent under its sniffed type
// with nosniff.

type documentView struct {
	ID, Kind, Type, Size, UploadedAt string
	Noun                             string // the kind in a sentence ("the photograph")
	// Open is the route that serves the file; Preview the page that shows a picture (images only).
	Open, Preview string
}

func documentViews(pg *officerPage, caseID string, docs []casework.DocumentInfo) []documentView {
	out := make([]documentView, 0, len(docs))
	for _, d := range docs {
		v := documentView{ID: d.ID, Kind: kindWords(d.Kind), Noun: d.Kind.Title(), Type: typeWords(d.ContentType),
			Size: sizeWords(d.Size), UploadedAt: pg.DateTime(d.UploadedAt), Open: documentPath(caseID, d.ID)}
		if domain.MediaType(d.ContentType).IsImage() {
			v.Preview = v.Open + "/preview"
		}
		out = append(out, v)
	}
	return out
}

func documentPath(caseID, docID string) string {
	return "/staff/cases/" + url.PathEscape(caseID) + "/documents/" + url.PathEscape(docID)
}

// kindWords is a kind of document in words, starting with a capital.
func kindWords(k domain.DocumentKind) string {
	s := k.Title()
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// requirementWords is a checklist item in words: its kinds, joined by "or".
func requirementWords(requirement string) string {
	kinds := domain.RequirementKinds(requirement)
	words := make([]string, len(kinds))
	for i, k := range kinds {
		words[i] = k.Title()
		if i == 0 {
			words[i] = kindWords(k)
		}
	}
	return strings.Join(words, " or ")
}

func typeWords(contentType string) string {
	switch domain.MediaType(contentType) {
	case domain.MediaPDF:
		return "PDF"
	case domain.MediaJPEG:
		return "JPEG picture"
	case domain.MediaPNG:
		return "PNG picture"
	}
	return contentType
}

func sizeWords(n int64) string {
	switch {
	case n >= 1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/(1000*1000))
	case n >= 1000:
		return fmt.Sprintf("%d KB", n/1000)
	}
	return fmt.Sprintf("%d bytes", n)
}

// documentChoices are the kinds of document a request for information may
// ask for, ticked as the form last had them.
func documentChoices(ticked []string) []choice {
	out := make([]choice, 0, len(domain.DocumentKinds))
	for _, k := range domain.DocumentKinds {
		out = append(out, choice{Value: string(k), Label: kindWords(k), Selected: containsString(ticked, string(k))})
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// openDocument serves one of a case's documents (audited, as the API's).
func (c *CaseConsole) openDocument(w http.ResponseWriter, r *http.Request, me staffMember) {
	id := r.PathValue("id")
	if !domain.IsApplicationID(id) || !domain.IsUploadID(r.PathValue("doc")) {
		c.notFound(w, r, me)
		return
	}
	doc, content, err := c.cases.DocumentContent(r.Context(), me.Actor(), id, r.PathValue("doc"))
	if casework.KindOf(err) == casework.NotFound {
		c.notFound(w, r, me)
		return
	}
	if err != nil {
		c.serverError(w, r, me, "open document", err)
		return
	}
	documents.SetHeaders(w.Header(), doc.ContentType, string(doc.Kind)+casework.DocumentExtension(doc.ContentType),
		len(content))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(content)
	}
}

type previewView struct {
	CaseID, Reference string
	Document          documentView
}

// previewDocument is a page that shows a picture of the case (its <img> is
// the audited route above); a PDF has no preview: it is downloaded.
func (c *CaseConsole) previewDocument(w http.ResponseWriter, r *http.Request, me staffMember) {
	cs, ok := c.loadCase(w, r, me)
	if !ok {
		return
	}
	docs, err := c.cases.StaffDocuments(r.Context(), me.Actor(), cs.ID)
	if err != nil {
		c.serverError(w, r, me, "list documents", err)
		return
	}
	pg := c.newPage(w, r, me, "Case "+cs.Reference)
	pg.Nav = "queue"
	for _, d := range documentViews(pg, cs.ID, docs) {
		if d.ID == r.PathValue("doc") && d.Preview != "" {
			pg.Title = d.Kind + " – case " + cs.Reference
			pg.Data = previewView{CaseID: cs.ID, Reference: cs.Reference, Document: d}
			c.render(w, http.StatusOK, "document", pg)
			return
		}
	}
	c.notFound(w, r, me)
}
