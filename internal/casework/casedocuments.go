package casework

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/workflows"
)

// checkAnswerUploads checks the uploads of an answer before they reach the
// workflow: each exists, is unattached and unexpired (or already this
// case's), and at least one meets what the open request asks for.
func (s *Service) checkAnswerUploads(ctx context.Context, id string, uploads []string) error {
	if len(uploads) == 0 {
		return nil
	}
	now := s.now()
	var errs domain.FieldErrors
	var kinds []domain.DocumentKind
	for i, u := range uploads {
		d, err := s.Store.GetDocument(ctx, u)
		if err != nil && !errors.Is(err, db.ErrNotFound) {
			return err
		}
		// A chamber's upload serves its batch rows only.
		usable := err == nil && !d.DeletedAtMS.Valid && (d.ApplicationID.String == id ||
			!d.ApplicationID.Valid && !d.ChamberID.Valid && d.ExpiresAtMS.Int64 > now.UnixMilli())
		if !usable {
			errs = append(errs, domain.FieldError{Pointer: fmt.Sprintf("/uploads/%d", i),
				Code: domain.CodeUnknownUpload, Detail: "no such upload, or it expired or belongs to another case"})
			continue
		}
		kinds = append(kinds, domain.DocumentKind(d.Kind))
	}
	if len(errs) > 0 {
		return invalid(errs)
	}
	asked, err := s.requestedDocuments(ctx, id)
	if err != nil {
		return err
	}
	// A partial answer is taken: the case asks again for what is still missing.
	if unmet := domain.UnmetRequirements(asked, kinds); len(asked) > 0 && len(unmet) == len(asked) {
		return invalid(domain.FieldErrors{{Pointer: "/uploads", Code: domain.CodeDocumentRequired,
			Detail: "none of these uploads is a document the request asks for: " + strings.Join(unmet, ", ")}})
	}
	return nil
}

// requestedDocuments is what the case's open request for information asks
// to upload; none when it cannot be read (the workflow checks again).
func (s *Service) requestedDocuments(ctx context.Context, id string) ([]string, error) {
	qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	res, err := s.Temporal.QueryWorkflow(qctx, workflows.WorkflowID(id), "", workflows.QueryState)
	if err != nil {
		return nil, nil
	}
	var st workflows.CaseState
	if res.Get(&st) != nil || st.InformationRequest == nil {
		return nil, nil
	}
	return st.InformationRequest.Documents, nil
}

// Content types of stored documents (decided by their bytes at upload).
const ContentTypePDF = string(domain.MediaPDF)

// DocumentExtension is the file name extension of a content type.
func DocumentExtension(contentType string) string {
	switch domain.MediaType(contentType) {
	case domain.MediaPDF:
		return ".pdf"
	case domain.MediaJPEG:
		return ".jpg"
	case domain.MediaPNG:
		return ".png"
	}
	return ".bin"
}

// DocumentInfo is one document of a case: what officers list, never its bytes.
type DocumentInfo struct {
	ID          string
	Kind        domain.DocumentKind
	ContentType string
	Size        int64
	UploadedAt  time.Time
}

func documentInfo(d Document) DocumentInfo {
	return DocumentInfo{ID: d.ID, Kind: d.Kind, ContentType: string(d.MediaType), Size: d.SizeBytes,
		UploadedAt: d.UploadedAt}
}

// StaffDocuments lists a case's documents for a member of staff, and audits the
// view (documents.list).
func (s *Service) StaffDocuments(ctx context.Context, reader domain.Actor, id string) ([]DocumentInfo, error) {
	if _, err := s.Store.GetApplication(ctx, id); errors.Is(err, db.ErrNotFound) {
		return nil, notFound("no such application")
	} else if err != nil {
		return nil, err
	}
	docs, err := s.CaseDocuments(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.auditDocuments(ctx, reader, "documents.list", id, ""); err != nil {
		return nil, err
	}
	out := make([]DocumentInfo, len(docs))
	for i, d := range docs {
		out[i] = documentInfo(d)
	}
	return out, nil
}

// DocumentContent opens one document of a case for a member of staff and
// audits the view (document.read, naming the document) before a byte of it
// is served.
func (s *Service) DocumentContent(ctx context.Context, reader domain.Actor, id, docID string) (DocumentInfo, []byte,
	error) {
	d, content, err := s.OpenDocument(ctx, id, docID)
	if err != nil {
		return DocumentInfo{}, nil, err
	}
	if err := s.auditDocuments(ctx, reader, "document.read", id, "document "+d.ID+" ("+string(d.Kind)+")"); err != nil {
		return DocumentInfo{}, nil, err
	}
	return documentInfo(d), content, nil
}

// Photograph is the case's latest photograph, for the e-visa; nil when it has none.
func (s *Service) Photograph(ctx context.Context, id string) ([]byte, error) {
	if s.Documents == nil {
		return nil, nil
	}
	docs, err := s.CaseDocuments(ctx, id)
	if err != nil {
		return nil, err
	}
	for i := len(docs) - 1; i >= 0; i-- {
		if docs[i].Kind == domain.DocumentPhotograph {
			_, data, err := s.OpenDocument(ctx, id, docs[i].ID)
			return data, err
		}
	}
	return nil, nil
}

// auditDocuments records a member of staff's view of a case's documents:
// who, which case, which document (ids and kinds only).
func (s *Service) auditDocuments(ctx context.Context, reader domain.Actor, action, applicationID,
	detail string) error {
	if _, err := s.Store.AppendAudit(ctx, db.AuditEntry{Actor: reader.Name(), Action: action,
		Subject: applicationID, Detail: detail, At: s.now()}); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}
