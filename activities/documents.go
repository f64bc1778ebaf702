package activities

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
)

// missingDocuments is the requirement codes of the application's checklist
// that its documents do not meet; none while documents are not required
// (VISA_DOCUMENTS_REQUIRED=false).
func (a *Activities) missingDocuments(ctx context.Context, app db.Application) ([]string, error) {
	if !a.DocumentsRequired {
		return nil, nil
	}
	docs, err := a.Store.ApplicationDocuments(ctx, app.ID)
	if err != nil {
		return nil, err
	}
	have := make([]domain.DocumentKind, len(docs))
	for i, d := range docs {
		have[i] = domain.DocumentKind(d.Kind)
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
// information to the case, each as the kind it was uploaded as, and says
// what the checklist still lacks. Idempotent: an upload already attached to
// this case stays attached. An upload that cannot be attached (gone,
// expired, another case's — the service checked them, so only a race gets
// here) is skipped: the checklist then still lacks it, and the case asks again.
func (a *Activities) AttachDocuments(ctx context.Context, in AttachInput) (AttachResult, error) {
	app, err := a.Store.GetApplication(ctx, in.ApplicationID)
	if errors.Is(err, db.ErrNotFound) {
		return AttachResult{}, temporal.NewNonRetryableApplicationError("application not found",
			ErrTypeApplicationMissing, nil)
	}
	if err != nil {
		return AttachResult{}, err
	}
	for _, id := range in.Uploads {
		d, err := a.Store.GetDocument(ctx, id)
		switch {
		case errors.Is(err, db.ErrNotFound):
			continue
		case err != nil:
			return AttachResult{}, err
		case d.ApplicationID.Valid || d.DeletedAtMS.Valid:
			continue // attached by an earlier attempt, or not ours to attach
		}
		link := []db.DocumentLink{{Kind: domain.DocumentKind(d.Kind), UploadID: id}}
		var unknown *db.UnknownUploadError
		if err := a.Store.AttachDocuments(ctx, in.ApplicationID, link, time.Now().UTC()); err != nil &&
			!errors.As(err, &unknown) {
			return AttachResult{}, err
		}
	}
	missing, err := a.missingDocuments(ctx, app)
	return AttachResult{Missing: missing}, err
}
