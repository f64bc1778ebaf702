package activities

import (
	"context"

	"go.temporal.io/sdk/temporal"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
)

// DocumentIndex is what the activities need of the document store: which
// kinds of document a case holds, and attaching uploads to it. Only
// references cross it; the bytes stay in the blob store.
type DocumentIndex interface {
	// DocumentKinds lists the kinds of the documents attached to the application.
	DocumentKinds(ctx context.Context, applicationID string) ([]domain.DocumentKind, error)
	// AttachUploads attaches uploads to the application; attaching one again is a no-op.
	AttachUploads(ctx context.Context, applicationID string, uploadIDs []string) error
}

// ErrTypeUploadUnusable marks an upload that cannot be attached (gone,
// expired or another case's): no retry mends it.
const ErrTypeUploadUnusable = "UploadUnusable"

// missingDocuments is what the application's checklist still lacks; none
// while documents are not required (VISA_DOCUMENTS_REQUIRED=false) or no
// document store is configured.
func (a *Activities) missingDocuments(ctx context.Context, app db.Application) ([]string, error) {
	if !a.DocumentsRequired || a.Documents == nil {
		return nil, nil
	}
	have, err := a.Documents.DocumentKinds(ctx, app.ID)
	if err != nil {
		return nil, err
	}
	return domain.MissingRequirements(domain.Product(app.Product), have), nil
}

// AttachInput attaches an answer's uploads to a case: ids only.
type AttachInput struct {
	ApplicationID string
	Uploads       []string
}

// AttachResult is what the checklist still lacks once they are attached.
type AttachResult struct {
	Missing []string `json:",omitempty"` // requirement codes
}

// AttachDocuments attaches the uploads of an answer to a request for
// information to the case and says what the checklist still lacks.
// Idempotent: an upload already attached to this case stays attached.
func (a *Activities) AttachDocuments(ctx context.Context, in AttachInput) (AttachResult, error) {
	app, err := a.Store.GetApplication(ctx, in.ApplicationID)
	if err != nil {
		return AttachResult{}, err
	}
	if a.Documents == nil {
		return AttachResult{}, temporal.NewNonRetryableApplicationError("no document store is configured",
			ErrTypeUploadUnusable, nil)
	}
	if err := a.Documents.AttachUploads(ctx, in.ApplicationID, in.Uploads); err != nil {
		return AttachResult{}, err
	}
	missing, err := a.missingDocuments(ctx, app)
	return AttachResult{Missing: missing}, err
}
