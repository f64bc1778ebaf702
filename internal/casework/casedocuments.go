package casework

import (
	"context"
	"time"

	"github.com/visad/visad/domain"
)

// checkAnswerUploads checks the uploads of an answer before they reach the
// workflow: each exists, is the applicant's to attach, and together they
// are of the kinds the request asks for.
func (s *Service) checkAnswerUploads(ctx context.Context, id string, uploads []string) error {
	return nil // filled in once the document store is merged
}

// Content types of stored documents (decided by their bytes at upload).
const (
	ContentTypePDF  = "application/pdf"
	ContentTypeJPEG = "image/jpeg"
	ContentTypePNG  = "image/png"
)

// DocumentExtension is the file name extension of a content type.
func DocumentExtension(contentType string) string {
	switch contentType {
	case ContentTypePDF:
		return ".pdf"
	case ContentTypeJPEG:
		return ".jpg"
	case ContentTypePNG:
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

// Documents lists a case's documents for a member of staff, and audits the
// view (documents.list).
func (s *Service) Documents(ctx context.Context, reader domain.Actor, id string) ([]DocumentInfo, error) {
	return nil, notFound("no such application") // filled in once the document store is merged
}

// DocumentContent opens one document of a case for a member of staff, and
// audits the view (document.read, naming the document).
func (s *Service) DocumentContent(ctx context.Context, reader domain.Actor, id, docID string) (DocumentInfo, []byte,
	error) {
	return DocumentInfo{}, nil, notFound("no such document") // filled in once the document store is merged
}
