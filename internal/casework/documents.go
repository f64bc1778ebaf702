package casework

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/documents"
)

// DefaultUploadTTL is how long an upload no application names is kept.
const DefaultUploadTTL = 24 * time.Hour

// Upload is a stored upload, as its uploader may see it.
type Upload struct {
	ID        string
	Kind      domain.DocumentKind
	MediaType domain.MediaType
	SizeBytes int64
	Width     int
	Height    int
	// ExpiresAt is when an unattached upload goes (zero once attached).
	ExpiresAt time.Time
}

// Document is one of a case's documents (without its bytes).
type Document struct {
	ID            string
	ApplicationID string
	Kind          domain.DocumentKind
	MediaType     domain.MediaType
	SizeBytes     int64
	Width, Height int
	UploadedAt    time.Time
}

var errNoDocumentStore = &Error{Kind: Unavailable, Message: "documents are not configured on this server"}

func (s *Service) uploadTTL() time.Duration {
	if s.UploadTTL > 0 {
		return s.UploadTTL
	}
	return DefaultUploadTTL
}

// StoreUpload checks an uploaded file of the given kind, cleans it (images
// re-encoded without metadata) and stores it encrypted. With an
// applicationID (an upload inside a case, the caller having checked the
// applicant's token) it is attached to that case at once; without, it waits
// for an application to name it and expires after UploadTTL. Problems are
// Invalid with field errors at "/kind" or "/file".
func (s *Service) StoreUpload(ctx context.Context, kind domain.DocumentKind, data []byte,
	applicationID string) (Upload, error) {
	return s.storeUpload(ctx, kind, data, applicationID, "")
}

// StoreChamberUpload is StoreUpload for a chamber (POST /v1/uploads with its
// token): the upload is the chamber's, and only its batch rows may name it
// (docs/documents.md, "Chambers").
func (s *Service) StoreChamberUpload(ctx context.Context, chamberID string, kind domain.DocumentKind,
	data []byte) (Upload, error) {
	return s.storeUpload(ctx, kind, data, "", chamberID)
}

func (s *Service) storeUpload(ctx context.Context, kind domain.DocumentKind, data []byte,
	applicationID, chamberID string) (Upload, error) {
	if s.Documents == nil {
		return Upload{}, errNoDocumentStore
	}
	clean, facts, errs := documents.Inspect(kind, data)
	if len(errs) > 0 {
		return Upload{}, invalid(errs)
	}
	if applicationID != "" {
		app, err := s.Store.GetApplication(ctx, applicationID)
		if errors.Is(err, db.ErrNotFound) {
			return Upload{}, notFound("no such application")
		}
		if err != nil {
			return Upload{}, err
		}
		if domain.Status(app.Status).IsClosed() {
			return Upload{}, &Error{Kind: Conflict, Message: "the case is closed and takes no more documents"}
		}
	}
	// The row first, then the blob: a failure between them leaves a row
	// without a blob, which expires unused (its id was never given out),
	// never a blob without a row. The insert waits for a sweep removing an
	// equal file's blob (equal files share one), and Put writes the blob
	// again if that sweep removed it.
	now := s.now()
	u := Upload{ID: domain.UploadID(randomBytes(20)), Kind: kind, MediaType: facts.Type,
		SizeBytes: int64(len(clean)), Width: facts.Width, Height: facts.Height, ExpiresAt: now.Add(s.uploadTTL())}
	err := s.Store.InsertDocument(ctx, db.NewDocument{ID: u.ID, Kind: kind, MediaType: facts.Type,
		SizeBytes: u.SizeBytes, Width: u.Width, Height: u.Height, BlobRef: s.Documents.Ref(clean),
		UploadedAt: now, ExpiresAt: u.ExpiresAt, ChamberID: chamberID})
	if err != nil {
		return Upload{}, err
	}
	if _, err := s.Documents.Put(ctx, clean); err != nil {
		return Upload{}, fmt.Errorf("store document: %w", err)
	}
	// An upload inside a case is attached once its blob is stored; if that
	// fails, the upload expires unattached.
	if applicationID != "" {
		if err := s.Store.AttachDocuments(ctx, applicationID,
			[]db.DocumentLink{{Kind: kind, UploadID: u.ID}}, now); err != nil {
			return Upload{}, err
		}
		u.ExpiresAt = time.Time{}
	}
	return u, nil
}

// AttachUploads attaches uploads to an open case (an applicant answering a
// request for information). Each must be unattached and unexpired and of
// the kind named; otherwise Invalid, pointing at "/documents/<i>/upload_id".
func (s *Service) AttachUploads(ctx context.Context, applicationID string, refs []domain.DocumentRef) error {
	if errs := domain.CheckDocumentRefs(refs); len(errs) > 0 {
		return invalid(errs)
	}
	err := s.Store.AttachDocuments(ctx, applicationID, documentLinks(refs), s.now())
	return uploadError(err)
}

func documentLinks(refs []domain.DocumentRef) []db.DocumentLink {
	if len(refs) == 0 {
		return nil
	}
	out := make([]db.DocumentLink, len(refs))
	for i, r := range refs {
		out[i] = db.DocumentLink{Kind: r.Kind, UploadID: r.UploadID}
	}
	return out
}

// uploadError turns the store's "no such upload" into a field error.
func uploadError(err error) error {
	var unknown *db.UnknownUploadError
	if errors.As(err, &unknown) {
		return invalid(domain.FieldErrors{{
			Pointer: fmt.Sprintf("%s/%d/upload_id", domain.PointerDocuments, unknown.Index),
			Code:    domain.CodeUnknownUpload,
			Detail:  "no such upload of this kind: it may have expired or belong to another application",
		}})
	}
	return err
}

// CaseDocuments lists a case's documents, oldest first. The caller checks
// that whoever asks may see the case.
func (s *Service) CaseDocuments(ctx context.Context, applicationID string) ([]Document, error) {
	rows, err := s.Store.ApplicationDocuments(ctx, applicationID)
	if err != nil {
		return nil, err
	}
	out := make([]Document, len(rows))
	for i, r := range rows {
		out[i] = documentFromRow(r)
	}
	return out, nil
}

// DocumentKinds lists the kinds of a case's documents (for domain.MissingDocuments).
func DocumentKinds(docs []Document) []domain.DocumentKind {
	out := make([]domain.DocumentKind, len(docs))
	for i, d := range docs {
		out[i] = d.Kind
	}
	return out
}

func documentFromRow(r db.Document) Document {
	return Document{ID: r.ID, ApplicationID: r.ApplicationID.String, Kind: domain.DocumentKind(r.Kind),
		MediaType: domain.MediaType(r.MediaType), SizeBytes: r.SizeBytes, Width: r.Width, Height: r.Height,
		UploadedAt: r.UploadedAt()}
}

// OpenDocument returns one of a case's documents and its bytes. A document
// of another case, or one deleted by retention, is NotFound. Serve PDFs as
// attachments or under a sandboxing CSP, never inline from our origin.
func (s *Service) OpenDocument(ctx context.Context, applicationID, documentID string) (Document, []byte, error) {
	if s.Documents == nil {
		return Document{}, nil, errNoDocumentStore
	}
	r, err := s.Store.GetDocument(ctx, documentID)
	if errors.Is(err, db.ErrNotFound) || err == nil && (r.ApplicationID.String != applicationID ||
		!r.ApplicationID.Valid || r.DeletedAtMS.Valid) {
		return Document{}, nil, notFound("no such document")
	}
	if err != nil {
		return Document{}, nil, err
	}
	data, err := s.Documents.Get(ctx, r.BlobRef)
	if err != nil {
		return Document{}, nil, fmt.Errorf("open document: %w", err)
	}
	return documentFromRow(r), data, nil
}

// SweepDocuments deletes what is past keeping: unattached uploads past their
// expiry, and the documents of cases closed longer than DocumentRetention
// ago (zero: closed cases keep their documents). A blob goes with the last
// document that shares it. It reports how many documents it deleted.
func (s *Service) SweepDocuments(ctx context.Context) (int, error) {
	if s.Documents == nil {
		return 0, nil
	}
	now := s.now()
	var closedBefore time.Time
	if s.DocumentRetention > 0 {
		closedBefore = now.Add(-s.DocumentRetention)
	}
	rows, err := s.Store.DocumentsToDelete(ctx, now, closedBefore, 500)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range rows {
		// The store deletes the row only if it is still past keeping (not
		// attached since it was listed), and removes the blob with the last
		// row that shares it, in one transaction.
		deleted, err := s.Store.SweepDocument(ctx, r, now, closedBefore, func(ref string) error {
			return s.Documents.Delete(ctx, ref)
		})
		if err != nil {
			return n, err
		}
		if deleted {
			n++
		}
	}
	return n, nil
}

// RunDocumentSweeper calls SweepDocuments every interval (zero: a minute) until ctx ends.
func (s *Service) RunDocumentSweeper(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.SweepDocuments(ctx); err != nil && ctx.Err() == nil {
			s.Log.Warn("document sweeper", "error", err)
		} else if n > 0 {
			s.Log.Info("document sweeper deleted documents", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// PendingUploads returns, in the order asked, the uploads among ids that an
// application may still name: stored, unattached, unexpired and kept. The
// rest are left out (an expired upload is uploaded again). The portal shows
// them (kind, type, size) before the application is sent.
func (s *Service) PendingUploads(ctx context.Context, ids []string) ([]Upload, error) {
	now := s.now()
	var out []Upload
	for _, id := range ids {
		if !domain.IsUploadID(id) {
			continue
		}
		d, err := s.Store.GetDocument(ctx, id)
		if errors.Is(err, db.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if d.ApplicationID.Valid || d.DeletedAtMS.Valid || !d.ExpiresAtMS.Valid || d.ExpiresAtMS.Int64 <= now.UnixMilli() {
			continue
		}
		out = append(out, Upload{ID: d.ID, Kind: domain.DocumentKind(d.Kind), MediaType: domain.MediaType(d.MediaType),
			SizeBytes: d.SizeBytes, Width: d.Width, Height: d.Height, ExpiresAt: time.UnixMilli(d.ExpiresAtMS.Int64).UTC()})
	}
	return out, nil
}
