package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/visad/visad/domain"
)

// Document is one row of the documents table: an upload, attached to an
// application or not yet. The bytes are in the blob store under BlobRef.
type Document struct {
	ID            string         `db:"id"`
	Kind          string         `db:"kind"`
	MediaType     string         `db:"media_type"`
	SizeBytes     int64          `db:"size_bytes"`
	Width         int            `db:"width"`
	Height        int            `db:"height"`
	BlobRef       string         `db:"blob_ref"`
	ApplicationID sql.NullString `db:"application_id"`
	UploadedAtMS  int64          `db:"uploaded_at"`
	ExpiresAtMS   sql.NullInt64  `db:"expires_at"`
	AttachedAtMS  sql.NullInt64  `db:"attached_at"`
	DeletedAtMS   sql.NullInt64  `db:"deleted_at"`
	// ChamberID is the chamber that made the upload with its token (only its
	// batch rows may name it); NULL for anonymous uploads and uploads inside a case.
	ChamberID sql.NullString `db:"chamber_id"`
}

// UploadedAt is when the file was uploaded.
func (d Document) UploadedAt() time.Time { return fromMS(d.UploadedAtMS) }

const documentColumns = `id, kind, media_type, size_bytes, width, height, blob_ref, application_id,
	uploaded_at, expires_at, attached_at, deleted_at, chamber_id`

// UploadState is what a batch row of chamberID may learn of the upload as
// of at (domain.CheckBatchUpload): another chamber's upload is not found.
func (d Document) UploadState(chamberID string, at time.Time) domain.UploadState {
	if d.ChamberID.Valid && d.ChamberID.String != chamberID {
		return domain.UploadState{}
	}
	return domain.UploadState{Found: true, Kind: domain.DocumentKind(d.Kind), AttachedTo: d.ApplicationID.String,
		Gone: d.DeletedAtMS.Valid || !d.ApplicationID.Valid && d.ExpiresAtMS.Int64 <= at.UnixMilli()}
}

// NewDocument is an upload to record. With ApplicationID it is attached at
// once (an upload inside a case); without, it expires at ExpiresAt.
type NewDocument struct {
	ID            string
	Kind          domain.DocumentKind
	MediaType     domain.MediaType
	SizeBytes     int64
	Width, Height int
	BlobRef       string
	ApplicationID string
	UploadedAt    time.Time
	ExpiresAt     time.Time
	// ChamberID: the chamber that made the upload with its token ("" for none).
	ChamberID string
}

// InsertDocument records an upload. Its transaction first locks the rows
// that share its blob (lockBlob), so it waits for a sweep removing that blob;
// the caller writes the blob again after the insert if it is missing.
func (s *Store) InsertDocument(ctx context.Context, d NewDocument) error {
	var expires, attached any
	if d.ApplicationID == "" {
		expires = ms(d.ExpiresAt)
	} else {
		attached = ms(d.UploadedAt)
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.lockBlob(ctx, tx, d.BlobRef); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO documents
			(id, kind, media_type, size_bytes, width, height, blob_ref, application_id, uploaded_at, expires_at,
			 attached_at, chamber_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			d.ID, string(d.Kind), string(d.MediaType), d.SizeBytes, d.Width, d.Height, d.BlobRef,
			nullable(d.ApplicationID), ms(d.UploadedAt), expires, attached, nullable(d.ChamberID))
		return err
	})
}

// lockBlob locks every row that shares a blob, until the transaction ends,
// so that inserting a row for the blob and removing the blob with its last
// row never interleave. Document rows are never deleted (only marked), so
// a blob that may be being removed always has a row to lock. On SQLite
// every transaction takes the write lock at its start, which serialises
// them already.
func (s *Store) lockBlob(ctx context.Context, tx *sqlx.Tx, ref string) error {
	if s.dialect != Postgres {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id FROM documents WHERE blob_ref = $1 ORDER BY id FOR UPDATE`, ref)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}

// DocumentLink attaches one upload to a new application as a kind.
type DocumentLink struct {
	Kind     domain.DocumentKind
	UploadID string
}

// UnknownUploadError says which of an application's documents named no
// usable upload: none with that id and kind, expired, or attached elsewhere.
type UnknownUploadError struct{ Index int }

func (e *UnknownUploadError) Error() string {
	return fmt.Sprintf("document %d names no usable upload", e.Index)
}

// attachDocuments attaches uploads to an application inside its creating
// transaction: each must exist with the kind, be unattached and unexpired,
// and not be a chamber's (those serve only its batch rows).
func attachDocuments(ctx context.Context, tx *sqlx.Tx, applicationID string, links []DocumentLink, at time.Time) error {
	for i, l := range links {
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE documents
			SET application_id = ?, attached_at = ?, expires_at = NULL
			WHERE id = ? AND kind = ? AND application_id IS NULL AND deleted_at IS NULL AND expires_at > ?
			AND chamber_id IS NULL`),
			applicationID, ms(at), l.UploadID, string(l.Kind), ms(at))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return &UnknownUploadError{Index: i}
		}
	}
	return nil
}

// AttachDocuments attaches uploads to an existing application (the
// applicant answering a request for information with uploads).
func (s *Store) AttachDocuments(ctx context.Context, applicationID string, links []DocumentLink, at time.Time) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error { return attachDocuments(ctx, tx, applicationID, links, at) })
}

// ApplicationDocuments lists an application's documents that are kept, oldest first.
func (s *Store) ApplicationDocuments(ctx context.Context, applicationID string) ([]Document, error) {
	var out []Document
	err := s.db.SelectContext(ctx, &out, s.db.Rebind(`SELECT `+documentColumns+` FROM documents
		WHERE application_id = ? AND deleted_at IS NULL ORDER BY uploaded_at, id`), applicationID)
	return out, err
}

// GetDocument loads one document row (deleted or not).
func (s *Store) GetDocument(ctx context.Context, id string) (Document, error) {
	var d Document
	err := s.db.GetContext(ctx, &d, s.db.Rebind(`SELECT `+documentColumns+` FROM documents WHERE id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return Document{}, ErrNotFound
	}
	return d, err
}

// DocumentsToDelete lists documents past keeping: unattached uploads that
// expired before now, and documents of cases closed (last updated) before
// closedBefore (zero: keep closed cases' documents).
func (s *Store) DocumentsToDelete(ctx context.Context, now, closedBefore time.Time, limit int) ([]Document, error) {
	var out []Document
	err := s.db.SelectContext(ctx, &out, s.db.Rebind(`SELECT `+documentColumns+` FROM documents
		WHERE deleted_at IS NULL AND application_id IS NULL AND expires_at <= ?
		ORDER BY expires_at LIMIT ?`), ms(now), limit)
	if err != nil || closedBefore.IsZero() {
		return out, err
	}
	var closed []Document
	err = s.db.SelectContext(ctx, &closed, s.db.Rebind(`SELECT `+prefixed("d.", documentColumns)+`
		FROM documents d JOIN applications a ON a.id = d.application_id
		WHERE d.deleted_at IS NULL AND a.status IN (`+closedList()+`) AND a.updated_at < ?
		ORDER BY a.updated_at LIMIT ?`), ms(closedBefore), limit)
	return append(out, closed...), err
}

// SweepDocument deletes one document DocumentsToDelete listed, if it still
// is past keeping: an upload still unattached and expired at now, or a
// document still of a case closed (last changed) before closedBefore. A
// document attached, or a case reopened, since the listing is spared
// (deleted false). In the same transaction, with the rows sharing the blob
// locked (lockBlob), remove is called with the blob's reference when no
// kept document shares it any more; an error from remove rolls the
// deletion back, and the next sweep tries again. An upload of the same file
// meanwhile waits for the transaction, then finds the blob gone and writes
// it again.
func (s *Store) SweepDocument(ctx context.Context, d Document, now, closedBefore time.Time,
	remove func(ref string) error) (deleted bool, err error) {
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		deleted = false
		if err := s.lockBlob(ctx, tx, d.BlobRef); err != nil {
			return err
		}
		var res sql.Result
		var err error
		if !d.ApplicationID.Valid {
			res, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE documents SET deleted_at = ?
				WHERE id = ? AND deleted_at IS NULL AND application_id IS NULL AND expires_at <= ?`),
				ms(now), d.ID, ms(now))
		} else {
			if closedBefore.IsZero() {
				return nil
			}
			res, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE documents SET deleted_at = ?
				WHERE id = ? AND deleted_at IS NULL AND application_id = ? AND EXISTS (SELECT 1 FROM applications a
					WHERE a.id = documents.application_id AND a.status IN (`+closedList()+`) AND a.updated_at < ?)`),
				ms(now), d.ID, d.ApplicationID.String, ms(closedBefore))
		}
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return err
		}
		deleted = true
		var kept int
		if err := tx.GetContext(ctx, &kept, tx.Rebind(`SELECT COUNT(*) FROM documents
			WHERE blob_ref = ? AND deleted_at IS NULL`), d.BlobRef); err != nil {
			return err
		}
		if kept == 0 {
			return remove(d.BlobRef)
		}
		return nil
	})
	if err != nil {
		deleted = false
	}
	return deleted, err
}

// prefixed qualifies a column list ("a, b") with a table alias ("d.a, d.b").
func prefixed(alias, columns string) string {
	var out []string
	for _, c := range strings.Split(columns, ",") {
		out = append(out, alias+strings.TrimSpace(c))
	}
	return strings.Join(out, ", ")
}

// DocumentsByID loads the documents rows of the given ids that exist
// (deleted or not), in no particular order.
func (s *Store) DocumentsByID(ctx context.Context, ids []string) ([]Document, error) {
	return documentsByID(ctx, s.db, ids)
}

// maxInList bounds the ids of one IN (…) query (SQLite allows 32,766 parameters).
const maxInList = 500

// rebindQueryer is a database or a transaction.
type rebindQueryer interface {
	sqlx.QueryerContext
	Rebind(query string) string
}

func documentsByID(ctx context.Context, q rebindQueryer, ids []string) ([]Document, error) {
	var out []Document
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), maxInList)]
		ids = ids[len(chunk):]
		query, args, err := sqlx.In(`SELECT `+documentColumns+` FROM documents WHERE id IN (?)`, chunk)
		if err != nil {
			return nil, err
		}
		var rows []Document
		if err := sqlx.SelectContext(ctx, q, &rows, q.Rebind(query), args...); err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// KeepUploads keeps the unattached uploads of the given ids at least until
// until: a batch that names them was accepted, and its rows are recorded
// later (docs/documents.md, "Chambers").
func (s *Store) KeepUploads(ctx context.Context, ids []string, until time.Time) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error { return keepUploads(ctx, tx, ids, until) })
}

func keepUploads(ctx context.Context, tx *sqlx.Tx, ids []string, until time.Time) error {
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), maxInList)]
		ids = ids[len(chunk):]
		query, args, err := sqlx.In(`UPDATE documents SET expires_at = ?
			WHERE id IN (?) AND application_id IS NULL AND deleted_at IS NULL AND expires_at < ?`,
			ms(until), chunk, ms(until))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(query), args...); err != nil {
			return err
		}
	}
	return nil
}

// checkBatchUploads judges a batch row's documents (domain.CheckableRefs:
// entry i at index i, blank entries skipped) against the store as of at.
// applicationID is the row's application ("" for a row that has none).
func checkBatchUploads(ctx context.Context, tx *sqlx.Tx, chamberID, applicationID string, refs []domain.DocumentRef,
	at time.Time) (domain.FieldErrors, error) {
	var ids []string
	for _, r := range refs {
		if r.UploadID != "" {
			ids = append(ids, r.UploadID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := documentsByID(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]Document, len(rows))
	for _, d := range rows {
		byID[d.ID] = d
	}
	var errs domain.FieldErrors
	for i, r := range refs {
		if r.UploadID == "" {
			continue
		}
		st := domain.UploadState{}
		if d, found := byID[r.UploadID]; found {
			st = d.UploadState(chamberID, at)
		}
		if e := domain.CheckBatchUpload(i, r, st, applicationID); e != nil {
			errs = append(errs, *e)
		}
	}
	return errs, nil
}

// ErrUploadTaken: an upload a batch row named was attached elsewhere, or
// deleted, between the row's check and its attachment; the transaction is
// rolled back and, tried again, the check reports it.
var ErrUploadTaken = errors.New("an upload was taken while its batch row was recorded")

// attachBatchUploads attaches a checked row's uploads to its application.
// An upload already attached to that application (the row replayed, or
// posted again) is left as it is.
func attachBatchUploads(ctx context.Context, tx *sqlx.Tx, applicationID string, refs []domain.DocumentRef,
	at time.Time) error {
	for _, r := range refs {
		if r.UploadID == "" {
			continue
		}
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE documents
			SET application_id = ?, attached_at = ?, expires_at = NULL
			WHERE id = ? AND application_id IS NULL AND deleted_at IS NULL`),
			applicationID, ms(at), r.UploadID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			continue
		}
		var owner sql.NullString
		if err := tx.GetContext(ctx, &owner, tx.Rebind(`SELECT application_id FROM documents WHERE id = ?`),
			r.UploadID); err != nil {
			return err
		}
		if owner.String != applicationID {
			return ErrUploadTaken
		}
	}
	return nil
}
