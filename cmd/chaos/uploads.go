package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/documents/doctest"
)

// Every single applicant uploads its documents (POST /v1/uploads) before it
// submits, and names them in the application. Some uploads are abandoned on
// purpose (never named), some applicants answer the case's request for
// documents instead (POST /v1/applications/{id}/information), and a
// submission whose uploads expired while it was retried uploads them again:
// a client's view of every upload is recorded here, for the checks.

// Uses of an upload, as the client meant it.
const (
	useNamed     = "named"     // named in the application it submitted
	useAnswer    = "answer"    // sent with an answer to a request for documents
	useAbandoned = "abandoned" // never named: it must expire and be swept
)

// sentUpload is one upload a client made and was answered 201.
type sentUpload struct {
	id        string
	kind      domain.DocumentKind
	sum       [32]byte // SHA-256 of the bytes sent: a PDF is stored as sent
	pdf       bool
	w, h      int // an image's pixels: a re-encoded image keeps them
	expiresAt time.Time
	use       string
	app       string // the application it was named in or sent for ("" when abandoned)
	answered  bool   // an answer naming it was accepted (200)
}

// applicantFiles are one applicant's documents: distinct bytes per applicant.
type applicantFiles struct {
	passport, photo, letter, extra []byte
}

// marked draws a w×h gradient with the applicant's number in a row of
// blocks along the top, so every applicant's picture differs, also after
// the server re-encodes it.
func marked(w, h, n int, tint uint8) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), tint, 255})
		}
	}
	const block = 16
	for bit := 0; bit < 20; bit++ {
		c := color.RGBA{0, 0, 0, 255}
		if n>>bit&1 == 1 {
			c = color.RGBA{255, 255, 255, 255}
		}
		for y := 0; y < block; y++ {
			for x := bit * block; x < (bit+1)*block && x < w; x++ {
				img.Set(x, y, c)
			}
		}
	}
	return img
}

func filesFor(i int, passport string) applicantFiles {
	var p, ph bytes.Buffer
	_ = png.Encode(&p, marked(480, 320, i, 90))
	_ = jpeg.Encode(&ph, marked(600, 720, i, 200), &jpeg.Options{Quality: 80})
	return applicantFiles{
		passport: p.Bytes(),
		photo:    ph.Bytes(),
		letter: doctest.PDF(fmt.Sprintf("Lahore Textiles Ltd invites applicant %d (passport %s) to the "+
			"business forum in Lahore.", i, passport)),
		extra: doctest.PDF(fmt.Sprintf("Company registration of Steppe Grain LLP, copy %d", i)),
	}
}

// multipartUpload is the body of POST /v1/uploads.
func multipartUpload(kind domain.DocumentKind, name string, data []byte) ([]byte, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	_ = w.WriteField("kind", string(kind))
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
	hdr.Set("Content-Type", "application/octet-stream")
	part, _ := w.CreatePart(hdr)
	_, _ = part.Write(data)
	_ = w.Close()
	return b.Bytes(), w.FormDataContentType()
}

// upload sends one file; the server answers 201 with its id. A retry after a
// lost answer makes a second upload of the same bytes that the client never
// hears of: it shares the first one's blob and expires unused.
func (h *harness) upload(ctx context.Context, kind domain.DocumentKind, name string, data []byte,
	use, app string) (string, error) {
	body, ct := multipartUpload(kind, name, data)
	res := h.api.do(ctx, request{method: http.MethodPost, path: "/v1/uploads", contentType: ct, body: body,
		startAt: -1, what: "upload"})
	if res.err != nil {
		return "", res.err
	}
	if res.status != http.StatusCreated {
		return "", fmt.Errorf("upload %s: HTTP %d %s", kind, res.status, truncate(string(res.body), 200))
	}
	var v struct {
		ID        string    `json:"id"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal(res.body, &v); err != nil || v.ID == "" {
		return "", fmt.Errorf("upload %s: 201 without an id", kind)
	}
	u := sentUpload{id: v.ID, kind: kind, sum: sha256.Sum256(data), expiresAt: v.ExpiresAt, use: use, app: app}
	if strings.HasSuffix(name, ".pdf") {
		u.pdf = true
	} else if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil {
		u.w, u.h = cfg.Width, cfg.Height
	}
	h.mu.Lock()
	h.uploads = append(h.uploads, u)
	h.mu.Unlock()
	return v.ID, nil
}

// setUse records what became of uploads: named in an accepted application,
// abandoned, or sent with an accepted answer.
func (h *harness) setUse(ids []string, use, app string, answered bool) {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range h.uploads {
		if want[h.uploads[i].id] {
			h.uploads[i].use, h.uploads[i].app = use, app
			h.uploads[i].answered = h.uploads[i].answered || answered
		}
	}
}

// uploadedDocs uploads what applicant i names in its application (without
// the letter when it will answer the request for documents instead), plus,
// for some, a file it abandons: a company registration it never names, or
// (sharing the named letter's blob) the same letter uploaded twice.
func (h *harness) uploadedDocs(ctx context.Context, i int, f applicantFiles, withLetter bool) (
	[]domain.DocumentRef, error) {
	var refs []domain.DocumentRef
	for _, d := range []struct {
		kind domain.DocumentKind
		name string
		data []byte
		skip bool
	}{
		{domain.DocumentPassportDataPage, "passport.png", f.passport, false},
		{domain.DocumentPhotograph, "photo.jpg", f.photo, false},
		{domain.DocumentInvitationLetter, "invitation.pdf", f.letter, !withLetter},
	} {
		if d.skip {
			continue
		}
		id, err := h.upload(ctx, d.kind, d.name, d.data, useNamed, "")
		if err != nil {
			return nil, err
		}
		refs = append(refs, domain.DocumentRef{Kind: d.kind, UploadID: id})
	}
	switch {
	case i%5 == 1: // a document it meant to add and did not
		if _, err := h.upload(ctx, domain.DocumentCompanyRegistration, "registration.pdf", f.extra, useAbandoned,
			""); err != nil {
			return nil, err
		}
	case i%5 == 2 && withLetter: // the letter twice: one blob, one row named, one abandoned
		if _, err := h.upload(ctx, domain.DocumentInvitationLetter, "invitation-again.pdf", f.letter, useAbandoned,
			""); err != nil {
			return nil, err
		}
	}
	return refs, nil
}

// expiredUploads reports whether a 422 names uploads that are gone: they
// expired while the submission was being retried through an outage.
func expiredUploads(status int, body []byte) bool {
	if status != http.StatusUnprocessableEntity {
		return false
	}
	var p struct {
		Errors []struct {
			Pointer string `json:"pointer"`
			Code    string `json:"code"`
		} `json:"errors"`
	}
	_ = json.Unmarshal(body, &p)
	for _, e := range p.Errors {
		if e.Code == domain.CodeUnknownUpload {
			return true
		}
	}
	return false
}

// answering is an application whose applicant answers the request for
// documents: it submitted without its letter.
type answering struct {
	id, token string
	i         int
	letter    []byte
	answers   int  // accepted answers so far
	done      bool // the case closed: nothing more to answer
}

// answerLoop plays the applicants who submitted without their letter: each
// polls its case with its access token and, while the case asks for
// documents, uploads the letter and answers with the upload's id. A case that
// asks again (an answer's upload expired before the worker attached it) is
// answered again.
func (h *harness) answerLoop(ctx context.Context) {
	for ctx.Err() == nil {
		h.mu.Lock()
		var pending []*answering
		for _, a := range h.answering {
			if !a.done {
				pending = append(pending, a)
			}
		}
		h.mu.Unlock()
		var wg sync.WaitGroup
		sem := make(chan struct{}, 4)
		for _, a := range pending {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				h.answerOnce(ctx, a)
			}()
		}
		wg.Wait()
		sleepCtx(ctx, 2*time.Second)
	}
}

func (h *harness) answerOnce(ctx context.Context, a *answering) {
	var c struct {
		Status             string `json:"status"`
		InformationRequest *struct {
			Documents []string `json:"documents"`
		} `json:"information_request"`
	}
	if err := h.api.getJSON(ctx, "/v1/applications/"+a.id, a.token, &c); err != nil {
		return
	}
	if domain.Status(c.Status).IsClosed() {
		h.mu.Lock()
		a.done = true
		h.mu.Unlock()
		return
	}
	if c.Status != string(domain.StatusInformationRequested) || c.InformationRequest == nil ||
		len(c.InformationRequest.Documents) == 0 {
		return
	}
	id, err := h.upload(ctx, domain.DocumentInvitationLetter, "invitation.pdf", a.letter, useAnswer, a.id)
	if err != nil {
		return
	}
	body, _ := json.Marshal(map[string]any{"uploads": []string{id}})
	res := h.api.do(ctx, request{method: http.MethodPost, path: "/v1/applications/" + a.id + "/information",
		contentType: "application/json", token: a.token, body: body, startAt: -1, maxAttempts: 10,
		idemKey: fmt.Sprintf("chaos-answer-%s-%d", a.id, a.answers), what: "answer"})
	a.answers++ // the next answer is another request
	switch {
	case res.err == nil && res.status == http.StatusOK:
		h.setUse([]string{id}, useAnswer, a.id, true)
	case res.err != nil:
		// No answer after the retries: it may or may not have been taken. The
		// upload stays an answer of unknown outcome (attached or swept).
	default:
		// Refused (a 409 while the case moves on, a 422 for an upload that
		// expired meanwhile): the upload is abandoned; the next poll answers
		// again if the case still asks.
		h.setUse([]string{id}, useAbandoned, "", false)
	}
}

// uploadsSeen is every upload a client was answered 201 for.
func (h *harness) uploadsSeen() []sentUpload {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := append([]sentUpload(nil), h.uploads...)
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// sweptBy is when every upload abandoned so far is due to have been swept:
// its expiry, one sweep interval, and a little slack for a sweep in progress.
func (h *harness) sweptBy() time.Time {
	var last time.Time
	for _, u := range h.uploadsSeen() {
		if u.use != useNamed && u.expiresAt.After(last) {
			last = u.expiresAt
		}
	}
	return last.Add(h.o.sweepEvery + sweepSlack)
}

// logUploads prints what the clients uploaded, by use.
func (h *harness) logUploads() {
	by := map[string]int{}
	all := h.uploadsSeen()
	for _, u := range all {
		switch {
		case u.use == useAnswer && !u.answered:
			by["answers of unknown outcome"]++
		case u.use == useNamed && u.app == "":
			by["named by unacknowledged submissions"]++
		default:
			by[u.use]++
		}
	}
	var parts []string
	for k, n := range by {
		parts = append(parts, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(parts)
	logf("uploads answered 201: %d (%s); submissions that uploaded again after theirs expired: %d",
		len(all), strings.Join(parts, ", "), h.reuploads.Load())
}
