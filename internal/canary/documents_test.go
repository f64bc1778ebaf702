package canary_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/blobstore"
	"github.com/visad/visad/internal/codec"
	"github.com/visad/visad/internal/documents"
	"github.com/visad/visad/internal/documents/doctest"
	"github.com/visad/visad/internal/testenv"
	"github.com/visad/visad/workflows"
)

// TestDocumentCanary is the claim check's proof (issue 16, must show 2): a
// case submitted without documents asks for them, the applicant answers
// with two uploads, the case asks again for the photograph, an officer
// reads the two, the applicant withdraws; then the case's raw
// Temporal history is read — as stored, and decrypted with the payload
// key — and no piece of any document's bytes appears in it, in any
// encoding a payload could carry them in (raw, base64, hex). Only the
// upload ids travel through Temporal.
func TestDocumentCanary(t *testing.T) {
	env := testenv.Start(t, testenv.Options{NoSTP: true, DocumentsRequired: true})
	useDocumentStore(t, env)
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer Qadir")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	seq := time.Now().UnixNano()
	files := map[domain.DocumentKind][]byte{
		// Random pixels: every stretch of its bytes is unique to this run.
		domain.DocumentPassportDataPage: doctest.JPEG(doctest.Noise(900, 640, uint64(seq)), 90),
		domain.DocumentInvitationLetter: doctest.PDF(fmt.Sprintf("Invitation ZQXDOCCANARY%d, Lahore", seq)),
	}

	// Submitted without documents: accepted, and the case asks for them at once.
	r := env.Do("POST", "/v1/applications", "", testenv.ValidApplication(domain.ProductBusiness2Y))
	if r.Status != http.StatusAccepted {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	var app submitted
	r.JSON(t, &app)
	env.WaitForStatus(app.ID, app.AccessToken, domain.StatusInformationRequested)
	var asked struct {
		InformationRequest struct {
			Documents []string `json:"documents"`
		} `json:"information_request"`
		SLA struct {
			Paused bool `json:"paused"`
		} `json:"sla"`
	}
	env.Do("GET", "/v1/applications/"+app.ID, app.AccessToken, nil).JSON(t, &asked)
	if len(asked.InformationRequest.Documents) != 3 || !asked.SLA.Paused {
		t.Fatalf("the case asks for %v (clock paused %v), want the three missing requirements, paused",
			asked.InformationRequest.Documents, asked.SLA.Paused)
	}

	var uploads []string
	for _, kind := range []domain.DocumentKind{domain.DocumentPassportDataPage, domain.DocumentInvitationLetter} {
		uploads = append(uploads, upload(t, env, kind, files[kind]))
	}
	if r := env.Do("POST", "/v1/applications/"+app.ID+"/information", app.AccessToken,
		map[string]any{"uploads": uploads}); r.Status != http.StatusOK {
		t.Fatalf("answer with uploads: %d %s", r.Status, r.Body)
	}
	// The photograph is still missing: the case asks again, for it alone.
	deadline := time.Now().Add(time.Minute)
	for {
		var again struct {
			InformationRequest struct {
				Documents []string `json:"documents"`
			} `json:"information_request"`
		}
		env.Do("GET", "/v1/applications/"+app.ID, app.AccessToken, nil).JSON(t, &again)
		if slices.Equal(again.InformationRequest.Documents, []string{string(domain.DocumentPhotograph)}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the answer the case asks for %v, want the photograph alone",
				again.InformationRequest.Documents)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// What the officer is served is what the store holds (images re-encoded): those bytes are canaries too.
	var list struct {
		Items []struct {
			ID   string              `json:"id"`
			Kind domain.DocumentKind `json:"kind"`
		} `json:"items"`
	}
	env.Do("GET", "/v1/applications/"+app.ID+"/documents", officer, nil).JSON(t, &list)
	if len(list.Items) != 2 {
		t.Fatalf("the officer lists %d documents, want 2", len(list.Items))
	}
	r = env.Do("GET", "/v1/applications/"+app.ID+"/documents", app.AccessToken, nil)
	if r.Status != http.StatusForbidden {
		t.Errorf("the applicant lists the documents as staff do: %d, want 403", r.Status)
	}
	contents := [][]byte{}
	for _, f := range files {
		contents = append(contents, f)
	}
	for _, d := range list.Items {
		r := env.Do("GET", "/v1/applications/"+app.ID+"/documents/"+d.ID, officer, nil)
		if r.Status != http.StatusOK || len(r.Body) < 100 {
			t.Fatalf("document %s: %d (%d bytes)", d.Kind, r.Status, len(r.Body))
		}
		if csp := r.Header.Get("Content-Security-Policy"); csp != "sandbox; default-src 'none'" ||
			r.Header.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("document %s served with CSP %q, nosniff %q, disposition %q", d.Kind, csp,
				r.Header.Get("X-Content-Type-Options"), r.Header.Get("Content-Disposition"))
		}
		contents = append(contents, r.Body)
	}
	if r := env.Do("POST", "/v1/applications/"+app.ID+"/withdraw", app.AccessToken, nil); r.Status != http.StatusOK {
		t.Fatalf("withdraw: %d %s", r.Status, r.Body)
	}
	env.WaitForStatus(app.ID, app.AccessToken, domain.StatusWithdrawn)

	// The history, as Temporal stores it and as the codec decrypts it.
	cfg := env.Services.Config
	quiet := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	raw, err := client.Dial(client.Options{HostPort: cfg.TemporalAddress, Namespace: cfg.Namespace, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var seen corpus
	var decoded strings.Builder
	hist := &historypb.History{}
	wid := workflows.WorkflowID(app.ID)
	it := raw.GetWorkflowHistory(ctx, wid, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		hist.Events = append(hist.Events, ev)
		seen.add(fmt.Sprintf("event %d %s", ev.GetEventId(), ev.GetEventType()), ev)
	}
	decodeAll(t, &decoded, mustCodec(t, testenv.PayloadKeys), hist)
	seen.addText("decoded payloads", decoded.String())

	// Positive control: the answer's upload ids did reach Temporal, in the decoded update.
	for _, id := range uploads {
		if !strings.Contains(decoded.String(), id) {
			t.Errorf("positive control: upload id %s is not in the decoded history; the scan read the wrong thing", id)
		}
	}
	needles := documentNeedles(contents)
	// The scan finds a document that is there: its base64, as a []byte field would carry it.
	var control corpus
	control.addText("control", `{"Data":"`+base64.StdEncoding.EncodeToString(contents[0])+`"}`)
	if found := findAny(control, needles); len(found) == 0 {
		t.Fatal("the needle scan does not find a document's base64 in a payload: the scan is broken")
	}
	for _, where := range findAny(seen, needles) {
		t.Errorf("document bytes in the Temporal history: %s", where)
	}
	t.Logf("%d history events, %d payloads; %d needles from %d documents: none found", len(hist.Events),
		seen.payloads, len(needles), len(contents))
}

// documentNeedles cuts pieces out of each document at several places, in
// every encoding a payload could carry them in: as they are, base64 (from a
// 3-byte boundary, so they appear inside the base64 of the whole) and hex.
func documentNeedles(contents [][]byte) []string {
	const piece = 24
	var out []string
	for _, c := range contents {
		for _, at := range []int{len(c) / 4, len(c) / 2, 3 * len(c) / 4, len(c) - 2*piece} {
			at -= at % 3
			if at < 0 || at+piece > len(c) {
				continue
			}
			p := c[at : at+piece]
			out = append(out, strings.ToLower(string(p)), strings.ToLower(base64.StdEncoding.EncodeToString(p)),
				base64.RawURLEncoding.EncodeToString(p), hex.EncodeToString(p))
		}
	}
	return slices.Compact(out)
}

// findAny reports where in c any needle appears. The corpus is lower-cased,
// so needles are compared lower-cased too.
func findAny(c corpus, needles []string) []string {
	var out []string
	for _, n := range needles {
		for _, where := range c.find(n) {
			out = append(out, where)
		}
	}
	return out
}

// upload posts a document anonymously (POST /v1/uploads, multipart "kind"
// and "file") and returns its id.
func upload(t *testing.T, env *testenv.Env, kind domain.DocumentKind, data []byte) string {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if err := w.WriteField("kind", string(kind)); err != nil {
		t.Fatal(err)
	}
	part, err := w.CreateFormFile("file", string(kind)+".bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := part.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := env.DoRaw("POST", "/v1/uploads", "", body.Bytes(), "Content-Type", w.FormDataContentType())
	var v struct {
		ID string `json:"id"`
	}
	if r.Status != http.StatusCreated {
		t.Fatalf("upload %s: %d %s", kind, r.Status, r.Body)
	}
	r.JSON(t, &v)
	return v.ID
}

// useDocumentStore gives the stack's API a filesystem document store under
// the test's directory, encrypted with the stack's payload keys, unless the
// stack already has one.
func useDocumentStore(t *testing.T, env *testenv.Env) {
	t.Helper()
	if env.Services.Cases.Documents != nil {
		return
	}
	blobs, err := blobstore.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	payloadKeys, err := codec.ParseKeys(testenv.PayloadKeys)
	if err != nil {
		t.Fatal(err)
	}
	vault, err := documents.NewVault(blobs, payloadKeys, env.Services.Cases.Keys.DocumentAddress)
	if err != nil {
		t.Fatal(err)
	}
	env.Services.Cases.Documents = vault
}
