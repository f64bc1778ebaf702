package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/sealpki"
	"github.com/visad/visad/internal/testenv"
	"github.com/visad/visad/internal/vds"
)

// The e-visa end to end on the real stack (Temporal, SQLite, worker, API):
// issue a case, fetch its PDF, read it back with independent tools (poppler,
// libdmtx, openssl), verify its seal online and offline, and revoke it.
func TestEVisaEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("real stack")
	}
	for tool, pkg := range map[string]string{"pdftotext": "poppler-utils", "pdfimages": "poppler-utils",
		"dmtxread": "dmtx-utils", "openssl": "openssl", "curl": "curl", "bash": "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (Debian package %s; .ci/run installs it)", tool, pkg)
		}
	}
	env := testenv.Start(t, testenv.Options{})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer Ayesha")
	supervisor, _ := env.StaffToken(domain.RoleSupervisor, "Supervisor Bilal")
	work := t.TempDir()
	visad := evisaBuild(t, work)

	// Issue a case.
	form := testenv.ValidApplication(domain.ProductBusiness2Y)
	id, token := evisaSubmit(t, env, form)
	env.WaitForStatus(id, token, "awaiting_review")
	approve := map[string]string{"decision": "approve"}
	if r := env.Do("POST", "/v1/cases/"+id+"/decision", officer, approve); r.Status != 200 {
		t.Fatalf("approve: %d %s", r.Status, r.Body)
	}
	view := evisaCase(t, env, id, token)
	seal, err := base64.StdEncoding.DecodeString(view.Seal)
	if err != nil || len(seal) == 0 || len(view.MRZ) != 2 || view.Revoked {
		t.Fatalf("issued case's visa: %+v (%v)", view, err)
	}
	mrzNumber, _ := domain.VisaMRZNumber(view.VisaNumber)
	if !strings.HasPrefix(view.MRZ[1], mrzNumber) || !strings.HasPrefix(view.MRZ[0], "V<PAKABENOV<<NURLAN") {
		t.Fatalf("MRZ %q for visa %s", view.MRZ, view.VisaNumber)
	}
	// Staff see the same seal.
	if staff := evisaCase(t, env, id, officer); staff.Seal != view.Seal {
		t.Fatal("the officer's case view shows another seal")
	}

	// The PDF: for the applicant and staff, not for anyone else.
	pdf := env.Do("GET", "/v1/applications/"+id+"/evisa.pdf", token, nil)
	if pdf.Status != 200 || pdf.Header.Get("Content-Type") != "application/pdf" ||
		!strings.HasPrefix(pdf.Header.Get("Content-Disposition"), "attachment") ||
		pdf.Header.Get("Cache-Control") != "no-store" || !bytes.HasPrefix(pdf.Body, []byte("%PDF-")) {
		t.Fatalf("PDF: %d %v", pdf.Status, pdf.Header)
	}
	staffPDF := env.Do("GET", "/v1/applications/"+id+"/evisa.pdf", officer, nil)
	if staffPDF.Status != 200 || !bytes.Equal(staffPDF.Body, pdf.Body) {
		t.Fatalf("officer's PDF: %d", staffPDF.Status)
	}
	// The staff download is audited (the applicant's is not).
	recs, err := env.Store.ListAudit(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var reads []string
	for _, r := range recs {
		if r.Action == "evisa.read" && r.Subject == id {
			reads = append(reads, r.Actor)
		}
	}
	if len(reads) != 1 || !strings.HasPrefix(reads[0], "officer:usr_") {
		t.Fatalf("e-visa reads audited: %v, want the officer's one", reads)
	}
	if r := env.Do("GET", "/v1/applications/"+id+"/evisa.pdf", "", nil); r.Status != 401 {
		t.Fatalf("PDF without a token: %d", r.Status)
	}
	otherID, otherToken := evisaSubmit(t, env, testenv.ValidApplication(domain.ProductBusiness2Y))
	if r := env.Do("GET", "/v1/applications/"+id+"/evisa.pdf", otherToken, nil); r.Status != 404 {
		t.Fatalf("PDF with another application's token: %d", r.Status)
	}
	if r := env.Do("GET", "/v1/applications/"+otherID+"/evisa.pdf", otherToken, nil); r.Status != 409 {
		t.Fatalf("PDF of a case not issued: %d %s", r.Status, r.Body)
	}
	pdfPath := filepath.Join(work, "evisa.pdf")
	evisaWrite(t, pdfPath, pdf.Body)

	// pdftotext shows the fields and the MRZ.
	text := evisaRun(t, work, "pdftotext", "-layout", "evisa.pdf", "-")
	for _, want := range []string{"ABENOV Nurlan", form.Passport.Number, view.VisaNumber, "14.03.1985", "KAZ",
		"Two-year business visa", view.MRZ[0], view.MRZ[1], "http://127.0.0.1:8080/check"} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext output lacks %q", want)
		}
	}
	// The DataMatrix decodes, with libdmtx, to exactly the API's seal bytes.
	evisaRun(t, work, "pdfimages", "-png", "evisa.pdf", "img")
	if got := evisaRun(t, work, "dmtxread", "--stop-after=1", "img-000.png"); got != string(seal) {
		t.Fatalf("dmtxread decoded\n%x\nthe API's seal is\n%x", got, seal)
	}

	// docs/evisa.md's border officer's check, as written: openssl verifies the seal and the revocation list
	// with the published certificates, and visad seal verify agrees offline.
	out := evisaDocBlocks(t, work, visad, env.HTTP.URL, "../../docs/evisa.md")
	if n := strings.Count(out, "Verified OK"); n != 2 {
		t.Fatalf("openssl said Verified OK %d times, want 2 (seal and revocation list):\n%s", n, out)
	}
	if got := evisaRead(t, filepath.Join(work, "seal.bin")); !bytes.Equal(got, seal) {
		t.Fatal("the docs' seal.bin is not the API's seal")
	}

	// Wrong seals: online and offline, the right answer each time.
	flipped := bytes.Clone(seal)
	flipped[len(flipped)-1] ^= 0x01
	foreign := evisaForeignSeal(t, view.MRZ)
	for _, tc := range []struct {
		name string
		raw  []byte
		code string
	}{
		{"flipped bit", flipped, "bad_signature"},
		{"truncated", seal[:len(seal)-10], "truncated"},
		{"unknown signer", foreign, "unknown_signer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := evisaVerifyOnline(t, env, tc.raw)
			if v.Valid || v.ErrorCode != tc.code {
				t.Errorf("online: valid %v, error_code %q; want %q", v.Valid, v.ErrorCode, tc.code)
			}
			code, exit := evisaVerifyOffline(t, work, visad, tc.raw)
			if exit == 0 || code != tc.code {
				t.Errorf("offline: exit %d, error_code %q; want non-zero and %q", exit, code, tc.code)
			}
		})
	}
	good := evisaVerifyOnline(t, env, seal)
	if !good.Valid || good.Revoked || good.Signer == nil || good.Visa == nil ||
		good.Visa.PassportNumber != form.Passport.Number || good.Visa.VisaNumber != mrzNumber {
		t.Fatalf("the issued seal online: %+v", good)
	}
	// The JSON form answers the same; input that is not a seal request is a problem with a pointer.
	var asJSON evisaVerification
	env.Do("POST", "/v1/seals/verify", "", map[string]string{"seal": view.Seal}).JSON(t, &asJSON)
	if !asJSON.Valid {
		t.Fatalf("JSON verify: %+v", asJSON)
	}
	for _, body := range []string{`{"seal": "not base64!"}`, `{}`, `{"seal": "AA==", "x": 1}`} {
		r := env.DoRaw("POST", "/v1/seals/verify", "", body)
		if r.Status != 422 || !strings.Contains(string(r.Body), `"pointer":"/`) {
			t.Errorf("verify %s: %d %s", body, r.Status, r.Body)
		}
	}
	if r := env.DoRaw("POST", "/v1/seals/verify", "", "seal", "Content-Type", "text/plain"); r.Status != 415 {
		t.Errorf("verify as text/plain: %d", r.Status)
	}

	// The check page answers its plain HTML form, with no script allowed.
	evisaCheckPage(t, env, base64.StdEncoding.EncodeToString(seal), 200, "The seal is genuine", form.Passport.Number)
	evisaCheckPage(t, env, base64.StdEncoding.EncodeToString(flipped), 200, "The seal is not valid",
		"altered or forged")
	evisaCheckPage(t, env, "", 200, "<title>Error:", "There is a problem", "Enter the seal")
	evisaCheckPage(t, env, "not base64!", 200, "<title>Error:", "There is a problem", "as base64")

	// Revocation: supervisors only, a known reason, idempotent, audited.
	revokePath := "/v1/visas/" + view.VisaNumber + "/revoke"
	reason := map[string]string{"reason_code": "fraud_or_misrepresentation"}
	if r := env.Do("POST", revokePath, officer, reason); r.Status != 403 {
		t.Fatalf("officer revokes: %d", r.Status)
	}
	if r := env.DoRaw("POST", revokePath, supervisor, map[string]string{"reason_code": "because"}); r.Status != 422 ||
		!strings.Contains(string(r.Body), `"pointer":"/reason_code"`) {
		t.Fatalf("unknown reason: %d %s", r.Status, r.Body)
	}
	if r := env.Do("POST", "/v1/visas/PK2Y-26-ZZZZZZZZ-Z/revoke", supervisor, reason); r.Status != 404 {
		t.Fatalf("unknown visa: %d", r.Status)
	}
	first := env.Do("POST", revokePath, supervisor, reason)
	again := env.Do("POST", revokePath, supervisor, map[string]string{"reason_code": "holder_request"})
	if first.Status != 200 || again.Status != 200 || !bytes.Equal(first.Body, again.Body) {
		t.Fatalf("revoke twice: %d %s / %d %s", first.Status, first.Body, again.Status, again.Body)
	}
	audits, err := env.Store.ListAudit(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	revokedEntries := 0
	for _, a := range audits {
		if a.Action == "visa.revoked" && a.Subject == id && strings.HasPrefix(a.Actor, "supervisor:") {
			revokedEntries++
		}
	}
	if revokedEntries != 1 {
		t.Fatalf("%d visa.revoked audit entries, want 1", revokedEntries)
	}

	// The revocation shows online, on the case, in the PDF route and offline.
	if v := evisaVerifyOnline(t, env, seal); !v.Valid || !v.Revoked || v.Revocation == nil ||
		v.Revocation.ReasonCode != "fraud_or_misrepresentation" {
		t.Fatalf("revoked seal online: %+v", v)
	}
	if v := evisaCase(t, env, id, token); !v.Revoked || v.Revocation == nil || v.Seal != view.Seal {
		t.Fatalf("revoked case: %+v", v)
	}
	if r := env.Do("GET", "/v1/applications/"+id+"/evisa.pdf", token, nil); r.Status != 409 {
		t.Fatalf("PDF of a revoked visa: %d", r.Status)
	}
	evisaCheckPage(t, env, base64.StdEncoding.EncodeToString(seal), 200, "This visa has been revoked",
		"not valid for travel")
	evisaRun(t, work, "bash", "-c", `curl -si "$0/v1/seals/revocations" > revocations.http`, env.HTTP.URL)
	cmd := exec.Command(visad, "seal", "verify", "--certs", "seal-certificates.pem", "--revocations",
		"revocations.http", "seal.bin")
	cmd.Dir = work
	stdout, err := cmd.Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || !strings.Contains(string(stdout), `"revoked": true`) {
		t.Fatalf("offline check of the revoked visa: %v\n%s", err, stdout)
	}

	// The seal is stored once: a new worker (a restart) leaves the case's seal as it was.
	env.Worker.Stop()
	w, err := env.Services.NewWorker()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	if v := evisaCase(t, env, id, token); v.Seal != view.Seal {
		t.Fatal("the seal changed across a worker restart")
	}
}

type evisaCaseVisa struct {
	VisaNumber string   `json:"visa_number"`
	Seal       string   `json:"seal"`
	MRZ        []string `json:"mrz"`
	Revoked    bool     `json:"revoked"`
	Revocation *struct {
		ReasonCode string `json:"reason_code"`
	} `json:"revocation"`
}

func evisaCase(t *testing.T, env *testenv.Env, id, token string) evisaCaseVisa {
	t.Helper()
	r := env.Do("GET", "/v1/applications/"+id, token, nil)
	var v struct {
		Visa *evisaCaseVisa `json:"visa"`
	}
	r.JSON(t, &v)
	if r.Status != 200 || v.Visa == nil {
		t.Fatalf("case %s: %d %s", id, r.Status, r.Body)
	}
	return *v.Visa
}

func evisaSubmit(t *testing.T, env *testenv.Env, form domain.Application) (id, token string) {
	t.Helper()
	r := env.Do("POST", "/v1/applications", "", form)
	var s struct {
		ID          string `json:"id"`
		AccessToken string `json:"access_token"`
	}
	r.JSON(t, &s)
	if r.Status != http.StatusAccepted {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	return s.ID, s.AccessToken
}

type evisaVerification struct {
	Valid     bool   `json:"valid"`
	ErrorCode string `json:"error_code"`
	Signer    *struct {
		CertRef string `json:"cert_ref"`
	} `json:"signer"`
	Visa *struct {
		VisaNumber     string `json:"visa_number"`
		PassportNumber string `json:"passport_number"`
	} `json:"visa"`
	Revoked    bool `json:"revoked"`
	Revocation *struct {
		ReasonCode string `json:"reason_code"`
	} `json:"revocation"`
}

func evisaVerifyOnline(t *testing.T, env *testenv.Env, raw []byte) evisaVerification {
	t.Helper()
	r := env.Do("POST", "/v1/seals/verify", "", raw, "Content-Type", "application/octet-stream")
	if r.Status != 200 {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	var v evisaVerification
	r.JSON(t, &v)
	return v
}

// verifyOffline runs `visad seal verify` with the published certificates.
func evisaVerifyOffline(t *testing.T, work, visad string, raw []byte) (errorCode string, exitCode int) {
	t.Helper()
	cmd := exec.Command(visad, "seal", "verify", "--certs", "seal-certificates.pem", "-")
	cmd.Dir = work
	cmd.Stdin = bytes.NewReader(raw)
	out, err := cmd.Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		exitCode = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), `"error_code": "`); ok {
			errorCode = strings.TrimSuffix(v, `",`)
		}
	}
	return errorCode, exitCode
}

// foreignSeal is a seal of the same visa signed by another PKI whose signer
// has the same identifier (PKVD) but a certificate visad never published.
func evisaForeignSeal(t *testing.T, mrz []string) []byte {
	t.Helper()
	other, err := sealpki.EnsureDev(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	day := time.Now().UTC().Truncate(24 * time.Hour)
	raw, err := other.SignVisa(day, day, vds.Visa{MRZ: [2]string{mrz[0], mrz[1]}})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func evisaBuild(t *testing.T, work string) string {
	t.Helper()
	bin := filepath.Join(work, "bin", "visad")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/visad")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func evisaRun(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			stderr = exit.Stderr
		}
		t.Fatalf("%s %v: %v\n%s", name, args, err, stderr)
	}
	return string(out)
}

// runDocBlocks runs every ```sh block of a doc, in order, in one bash session
// in dir, with the built visad first on PATH and API set to the stack's URL.
func evisaDocBlocks(t *testing.T, dir, visad, apiURL, doc string) string {
	t.Helper()
	f, err := os.Open(doc)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var script strings.Builder
	script.WriteString("set -eo pipefail\n")
	in := false
	for sc, n := bufio.NewScanner(f), 1; sc.Scan(); n++ {
		switch line := sc.Text(); {
		case !in && strings.TrimSpace(line) == "```sh":
			in = true
			fmt.Fprintf(&script, "printf '\\n--- %s:%d\\n'\n", filepath.Base(doc), n+1)
		case in && strings.TrimSpace(line) == "```":
			in = false
		case in:
			script.WriteString(line + "\n")
		}
	}
	cmd := exec.Command("bash", "-c", script.String())
	cmd.Dir = dir
	var env []string
	for _, kv := range os.Environ() { // none of the developer's VISA_* settings
		if !strings.HasPrefix(kv, "VISA_") && !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "API="+apiURL, "PATH="+filepath.Dir(visad)+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("a command of %s failed (%v):\n%s", doc, err, out)
	}
	return string(out)
}

func evisaWrite(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func evisaRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// evisaCheckPage posts the check page's form and expects the status and each text in the page.
func evisaCheckPage(t *testing.T, env *testenv.Env, seal string, status int, want ...string) {
	t.Helper()
	body := url.Values{"seal": {seal}}.Encode()
	r := env.Do("POST", "/check", "", body, "Content-Type", "application/x-www-form-urlencoded")
	if r.Status != status {
		t.Fatalf("check page with %q: %d %s", seal, r.Status, r.Body)
	}
	csp := r.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("check page CSP %q: want default-src 'none' and no script source", csp)
	}
	page := string(r.Body)
	for _, w := range append(want, `<label for="seal">`) {
		if !strings.Contains(page, w) {
			t.Errorf("check page (%d) lacks %q", r.Status, w)
		}
	}
	if strings.Contains(page, "<script") {
		t.Error("check page has a script")
	}
}
