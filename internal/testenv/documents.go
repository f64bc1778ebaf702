package testenv

import (
	"bytes"
	"mime/multipart"
	"net/textproto"

	"github.com/visad/visad/domain"
)

// Upload posts a document as a multipart form to path (/v1/uploads, or
// /v1/applications/{id}/uploads with the applicant's token): the kind, and
// the file under the given name and declared type (which the server must
// ignore). The response is checked against the spec.
func (e *Env) Upload(path, token string, kind domain.DocumentKind, filename, declared string, data []byte) Response {
	e.T.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if err := w.WriteField("kind", string(kind)); err != nil {
		e.T.Fatal(err)
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="`+filename+`"`)
	h.Set("Content-Type", declared)
	part, err := w.CreatePart(h)
	if err != nil {
		e.T.Fatal(err)
	}
	if _, err := part.Write(data); err != nil {
		e.T.Fatal(err)
	}
	if err := w.Close(); err != nil {
		e.T.Fatal(err)
	}
	return e.DoRaw("POST", path, token, body.Bytes(), "Content-Type", w.FormDataContentType())
}

// UploadID uploads a document anonymously and returns its id (failing the test otherwise).
func (e *Env) UploadID(kind domain.DocumentKind, filename, declared string, data []byte) string {
	e.T.Helper()
	r := e.Upload("/v1/uploads", "", kind, filename, declared, data)
	var v struct {
		ID string `json:"id"`
	}
	if r.Status != 201 {
		e.T.Fatalf("upload %s: %d %s", kind, r.Status, r.Body)
	}
	r.JSON(e.T, &v)
	return v.ID
}
