package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
)

// Your application: the browser that applied holds the case's capability in
// an HttpOnly, SameSite=Strict cookie; no token ever appears in a URL.

func (p *Portal) routeCase(mux *http.ServeMux) {
	mux.HandleFunc("GET /application", p.showCase)
	mux.HandleFunc("POST /application/answer", p.answer)
	mux.HandleFunc("GET /application/withdraw", p.confirmWithdraw)
	mux.HandleFunc("POST /application/withdraw", p.withdraw)
	mux.HandleFunc("GET /application/e-visa.pdf", p.downloadEVisa)
	mux.HandleFunc("GET /find", p.showFind)
	mux.HandleFunc("POST /find", p.find)
	mux.HandleFunc("POST /find/code", p.redeemCode)
}

// caseID reads and checks the capability cookie.
func (p *Portal) caseID(r *http.Request) (string, bool) {
	c, err := r.Cookie(caseCookie)
	if err != nil {
		return "", false
	}
	id, token, ok := strings.Cut(c.Value, ".")
	// An unknown, forged or expired capability (the case closed long ago) signs nobody in.
	return id, ok && domain.IsApplicationID(id) && p.deps.Cases.VerifyAccessToken(r.Context(), id, token) == nil
}

// signedInCase loads the cookie's case, or sends the browser to "find my application".
func (p *Portal) signedInCase(w http.ResponseWriter, r *http.Request) (casework.Case, bool) {
	id, ok := p.caseID(r)
	if !ok {
		http.Redirect(w, r, "/find", http.StatusSeeOther)
		return casework.Case{}, false
	}
	c, err := p.deps.Cases.Get(r.Context(), id)
	if errors.Is(err, casework.ErrNotFound) {
		http.Redirect(w, r, "/find", http.StatusSeeOther)
		return casework.Case{}, false
	}
	if err != nil {
		p.serverError(w, r, "load case", err)
		return casework.Case{}, false
	}
	return c, true
}

type caseView struct {
	Reference   string
	Product     string
	Status      string
	SubmittedAt string
	Closed      bool
	DueAt       string // the decision deadline in words
	DueISO      string // for the live clock
	Remaining   string
	Paused      bool
	Timeline    []timelineView
	Request     *casework.InformationRequest
	RequestDue  string
	// Documents are file inputs for the documents the open request asks for
	// (or the checklist lacks); SystemRequest marks the system's own request.
	Documents     []docItem
	SystemRequest bool
	MayWithdraw   bool
	Visa          *domain.Visa
	VisaFrom      string
	VisaUntil     string
	Download      bool
	Refusal       string
}

type timelineView struct {
	At, What string
}

func (p *Portal) caseView(pg *page, c casework.Case) caseView {
	v := caseView{Reference: c.Reference, Product: string(c.Product), Status: string(c.Status),
		SubmittedAt: pg.DateTime(c.SubmittedAt), Closed: c.Status.IsClosed(),
		MayWithdraw: domain.MayWithdraw(c.Status) == nil}
	if c.SLA != nil && !v.Closed {
		v.Paused = c.SLA.Paused
		v.Remaining = pg.Duration(c.SLA.Remaining(pg.now))
		if !c.SLA.Paused {
			v.DueAt, v.DueISO = pg.DateTime(c.SLA.DueAt), c.SLA.DueAt.UTC().Format(time.RFC3339)
		}
	}
	for _, e := range c.Timeline {
		key := "event." + string(e.Event)
		if !pg.Has(key) {
			continue // staff-only events (claims, screening) say nothing to the applicant
		}
		if e.Actor == domain.SystemActor.Name() && pg.Has(key+".system") {
			key += ".system" // the system's own request for documents
		}
		v.Timeline = append(v.Timeline, timelineView{At: pg.DateTime(e.At), What: pg.T(key)})
	}
	if c.Status == domain.StatusInformationRequested && c.InformationRequest != nil {
		v.Request = c.InformationRequest
		v.RequestDue = pg.DateTime(c.InformationRequest.DueAt)
	}
	if c.Visa != nil {
		v.Visa = c.Visa
		v.VisaFrom, v.VisaUntil = pg.DateString(c.Visa.ValidFrom), pg.DateString(c.Visa.ValidUntil)
		v.Download = c.EVisa != nil && c.EVisa.Seal != nil && c.EVisa.Revocation == nil
	}
	if c.Decision != nil && c.Status == domain.StatusRefused {
		v.Refusal = pg.T("reason." + string(c.Decision.ReasonCode))
	}
	return v
}

func (p *Portal) showCase(w http.ResponseWriter, r *http.Request) {
	c, ok := p.signedInCase(w, r)
	if !ok {
		return
	}
	pg := p.newPage(w, r, "case.title")
	if r.URL.Query().Get("done") != "" {
		pg.Notice = pg.T("case.done." + r.URL.Query().Get("done"))
		if !pg.Has("case.done." + r.URL.Query().Get("done")) {
			pg.Notice = ""
		}
	}
	held, _, err := p.held(r, p.answerRefs(r, c.ID))
	if err != nil {
		p.serverError(w, r, "documents", err)
		return
	}
	v := p.caseView(pg, c)
	p.answerDocuments(pg, &v, c, held, nil)
	pg.Data = v
	p.render(w, http.StatusOK, "case", pg)
}

// answer relays the applicant's reply to a request for information: a
// message, and files for the documents it asks for. Each file is stored as
// it arrives (as POST /v1/uploads does); the answer carries their upload
// ids. When a file is refused, nothing is sent: the ones taken are kept
// (a sealed cookie) for the next try.
func (p *Portal) answer(w http.ResponseWriter, r *http.Request) {
	c, ok := p.signedInCase(w, r)
	if !ok {
		return
	}
	kinds := answerKinds(answerRequirements(c))
	refs := p.answerRefs(r, c.ID)
	errs := docErrors{}
	var msg string
	var failed error
	form := &filesForm{
		Value: func(name, v string) {
			if name == "message" {
				msg = v
			}
		},
		File: func(name string, data []byte, tooLarge bool) {
			kind, ok := docKind(name)
			if !ok || !slices.Contains(kinds, kind) || failed != nil {
				return
			}
			up, stored, err := p.storeFile(r, kind, data, tooLarge, errs)
			if stored {
				refs = putRef(refs, domain.DocumentRef{Kind: kind, UploadID: up.ID})
			}
			failed = err
		},
	}
	if !p.readFilesForm(w, r, form) {
		return
	}
	if failed != nil {
		p.serverError(w, r, "store document", failed)
		return
	}
	held, refs, err := p.held(r, refs)
	if err != nil {
		p.serverError(w, r, "documents", err)
		return
	}
	ids := make([]string, len(refs))
	for i, ref := range refs {
		ids[i] = ref.UploadID
	}
	var asked []string
	if c.InformationRequest != nil {
		asked = c.InformationRequest.Documents
	}
	for _, fe := range domain.CheckDocumentAnswer(msg, ids) {
		if fe.Pointer == "/message" && !(len(asked) > 0 && fe.Code == domain.CodeRequired) {
			errs["message"] = fe // a request for documents is answered by them; words are optional
		}
	}
	if unmet := domain.UnmetRequirements(asked, domain.Kinds(refs)); len(asked) > 0 && len(unmet) == len(asked) {
		for _, req := range unmet {
			if _, refused := errs[docFieldID(req)]; !refused {
				errs[docFieldID(req)] = domain.FieldError{Pointer: "/uploads", Code: domain.CodeDocumentRequired}
			}
		}
	}
	if len(errs) == 0 {
		_, err = p.deps.Cases.ProvideInformation(r.Context(), c.ID, msg, ids, form.Token)
		switch kind := casework.KindOf(err); {
		case err == nil:
			p.setCookie(w, answerCookie, "", -1)
			http.Redirect(w, r, "/application?done=answered", http.StatusSeeOther)
			return
		case kind == casework.Invalid && answerErrors(err, refs, asked, errs):
		case kind == casework.Invalid || kind == casework.Conflict:
			errs["message"] = domain.FieldError{Pointer: "/message", Code: "not_now"}
		default:
			p.serverError(w, r, "answer", err)
			return
		}
	}
	if sealed, err := p.deps.Cases.SealAnswerUploads(c.ID, refs); err == nil && len(refs) > 0 {
		p.setCookie(w, answerCookie, sealed, int(casework.DraftLifetime.Seconds()))
	}
	pg := p.newPage(w, r, "case.title")
	v := p.caseView(pg, c)
	p.answerDocuments(pg, &v, c, held, errs)
	if fe, ok := errs["message"]; ok {
		pg.addError("message", message(pg.translator, fe, "message"))
	}
	pg.Values["message"] = msg
	pg.Data = v
	p.render(w, errs.status(w), "case", pg)
}

// answerErrors places the service's refusal of an answer's uploads on the
// file inputs (an upload gone meanwhile, none of the kinds asked for); it
// reports false for any other refusal.
func answerErrors(err error, refs []domain.DocumentRef, asked []string, errs docErrors) bool {
	var cerr *casework.Error
	if !errors.As(err, &cerr) || len(cerr.Fields) == 0 {
		return false
	}
	for _, fe := range cerr.Fields {
		i, isIndex := 0, false
		if rest, ok := strings.CutPrefix(fe.Pointer, "/uploads/"); ok {
			if n, err := strconv.Atoi(rest); err == nil && n >= 0 && n < len(refs) {
				i, isIndex = n, true
			}
		}
		switch {
		case isIndex:
			errs[docFieldID(string(refs[i].Kind))] = domain.FieldError{Code: domain.CodeUnknownUpload}
		case fe.Pointer == "/uploads" && len(asked) > 0:
			for _, req := range asked {
				errs[docFieldID(req)] = domain.FieldError{Code: domain.CodeDocumentRequired}
			}
		default:
			return false
		}
	}
	return true
}

func (p *Portal) confirmWithdraw(w http.ResponseWriter, r *http.Request) {
	c, ok := p.signedInCase(w, r)
	if !ok {
		return
	}
	pg := p.newPage(w, r, "withdraw.title")
	pg.Data = p.caseView(pg, c)
	p.render(w, http.StatusOK, "withdraw", pg)
}

func (p *Portal) withdraw(w http.ResponseWriter, r *http.Request) {
	if !p.checkToken(w, r) {
		return
	}
	id, ok := p.caseID(r)
	if !ok {
		http.Redirect(w, r, "/find", http.StatusSeeOther)
		return
	}
	_, err := p.deps.Cases.Withdraw(r.Context(), id, r.PostFormValue("page_token"))
	switch casework.KindOf(err) {
	case 0:
		if err != nil {
			p.serverError(w, r, "withdraw", err)
			return
		}
	case casework.Conflict, casework.Forbidden:
		http.Redirect(w, r, "/application?done=not_withdrawn", http.StatusSeeOther)
		return
	default:
		p.serverError(w, r, "withdraw", err)
		return
	}
	http.Redirect(w, r, "/application?done=withdrawn", http.StatusSeeOther)
}

func (p *Portal) downloadEVisa(w http.ResponseWriter, r *http.Request) {
	id, ok := p.caseID(r)
	if !ok {
		http.Redirect(w, r, "/find", http.StatusSeeOther)
		return
	}
	pdf, err := p.deps.EVisas.PDF(r.Context(), id, "")
	if err != nil {
		if casework.KindOf(err) != 0 {
			http.Redirect(w, r, "/application", http.StatusSeeOther)
			return
		}
		p.serverError(w, r, "e-visa", err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	// The file name holds no personal data.
	w.Header().Set("Content-Disposition", `attachment; filename="e-visa.pdf"`)
	_, _ = w.Write(pdf)
}

// find: from another device, the reference, passport number and birth date
// show the status. Every mismatch reads the same, and guesses are rate limited.
func (p *Portal) showFind(w http.ResponseWriter, r *http.Request) {
	p.render(w, http.StatusOK, "find", p.newPage(w, r, "find.title"))
}

func (p *Portal) find(w http.ResponseWriter, r *http.Request) {
	if !p.checkToken(w, r) {
		return
	}
	pg := p.newPage(w, r, "find.title")
	ids := []string{"reference", "passport_number", "date_of_birth"}
	for _, id := range ids {
		pg.Values[id] = strings.TrimSpace(r.PostFormValue(id))
	}
	for _, id := range ids {
		if pg.Values[id] == "" {
			m := message(pg.translator, domain.FieldError{Code: domain.CodeRequired}, id)
			pg.Fields[id] = m
			pg.Errors = append(pg.Errors, fieldError{Href: "#" + id, Message: m})
		}
	}
	if len(pg.Errors) > 0 {
		p.render(w, http.StatusUnprocessableEntity, "find", pg)
		return
	}
	if !p.lookups.allow(r) {
		w.Header().Set("Retry-After", "60")
		pg.Errors = []fieldError{{Href: "#reference", Message: pg.T("find.too_many")}}
		p.render(w, http.StatusTooManyRequests, "find", pg)
		return
	}
	st, challenge, err := p.deps.Cases.SendSignInCode(r.Context(), pg.Values["reference"],
		pg.Values["passport_number"], pg.Values["date_of_birth"])
	if errors.Is(err, casework.ErrNotFound) || casework.KindOf(err) == casework.NotFound {
		pg.Errors = []fieldError{{Href: "#reference", Message: pg.T("find.no_match")}}
		p.render(w, http.StatusUnprocessableEntity, "find", pg)
		return
	}
	if err != nil {
		p.serverError(w, r, "find", err)
		return
	}
	// The browser keeps the challenge; the code went to the application's e-mail address.
	p.setCookie(w, signInCookie, challenge, int(casework.SignInCodeLifetime.Seconds()))
	pg.Values = map[string]string{} // the found page does not echo the passport details
	pg.Title = pg.T("found.title")
	pg.Data = struct{ Reference, Status, UpdatedAt string }{st.Reference, string(st.Status), pg.DateTime(st.UpdatedAt)}
	p.render(w, http.StatusOK, "found", pg)
}

const signInCookie = "visad_sign_in"

// redeemCode trades the e-mailed one-time code for the case's capability
// cookie: from then on this browser may act on the case.
func (p *Portal) redeemCode(w http.ResponseWriter, r *http.Request) {
	if !p.checkToken(w, r) {
		return
	}
	pg := p.newPage(w, r, "code.title")
	challenge, err := r.Cookie(signInCookie)
	code := strings.TrimSpace(r.PostFormValue("code"))
	if err != nil || code == "" || !p.lookups.allow(r) {
		p.codeError(w, pg, code)
		return
	}
	id, token, err := p.deps.Cases.RedeemSignInCode(r.Context(), challenge.Value, code)
	if casework.KindOf(err) == casework.NotFound {
		p.codeError(w, pg, code)
		return
	}
	if err != nil {
		p.serverError(w, r, "sign in with code", err)
		return
	}
	p.setCookie(w, signInCookie, "", -1)
	p.setCookie(w, caseCookie, id+"."+token, 0)
	http.Redirect(w, r, "/application", http.StatusSeeOther)
}

func (p *Portal) codeError(w http.ResponseWriter, pg *page, code string) {
	m := pg.T("code.wrong")
	pg.Errors = []fieldError{{Href: "#code", Message: m}}
	pg.Fields["code"], pg.Values["code"] = m, code
	p.render(w, http.StatusUnprocessableEntity, "code", pg)
}
