package web

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/text/language"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
)

// Supporting documents in the portal: the form's documents step (a file
// input for each kind on the product's checklist) and the case page's answer
// by upload. Every file goes through casework.Service.StoreUpload, the code
// behind POST /v1/uploads: its type decided by its bytes, the size limits,
// pictures re-encoded. The upload ids stay in the sealed draft (or, for an
// answer not sent yet, a sealed cookie), never in a URL or a page.

const (
	documentsSlug = "documents"
	answerCookie  = "visad_answer"
	// docFieldPrefix starts a file input's name and id: "documents-photograph".
	docFieldPrefix = "documents-"
	// maxFormBody bounds how much of a form with files is read. Each file is
	// read to at most domain.MaxUploadBytes and the rest of a larger one
	// skipped, so a file too large is refused on the page, by name, rather
	// than with a bare 413; past this bound reading stops.
	maxFormBody = 64 << 20
	// uploadsPerMinute bounds the files one client address stores through
	// the portal (POST /v1/uploads has the API's rate limit).
	uploadsPerMinute = 30
	// codeTooManyUploads is the portal's own refusal of a file over that bound.
	codeTooManyUploads = "too_many_uploads"
)

// docFieldID is the file input of a kind, or the group of a choice
// ("documents-invitation_letter_or_chamber_recommendation_letter").
func docFieldID(requirement string) string { return docFieldPrefix + requirement }

// docKind reads a file input's name; ok is false for any other field.
func docKind(name string) (domain.DocumentKind, bool) {
	k, ok := strings.CutPrefix(name, docFieldPrefix)
	kind := domain.DocumentKind(k)
	return kind, ok && kind.IsKnown()
}

// heldUploads are the uploads a form holds (in the draft, or for an answer), by kind.
type heldUploads = map[domain.DocumentKind]casework.Upload

// docErrors are a form's document problems by field: a file's refusal under
// its kind's field, a missing requirement under docFieldID(requirement).
type docErrors map[string]domain.FieldError

// mediaName is how the pages name a stored document's type.
func mediaName(m domain.MediaType) string {
	switch m {
	case domain.MediaJPEG:
		return "JPEG"
	case domain.MediaPNG:
		return "PNG"
	case domain.MediaPDF:
		return "PDF"
	}
	return string(m)
}

// Size says how big n bytes are, in KB or MB (the units of the upload rules).
func (t *translator) Size(n int64) string {
	if n < 1000*1000 {
		return t.T("size.kb", "N", strconv.FormatInt(max(1, (n+999)/1000), 10))
	}
	s := strings.TrimSuffix(strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64), ".0")
	if t.lang == language.Russian {
		s = strings.ReplaceAll(s, ".", ",")
	}
	return t.T("size.mb", "N", s)
}

// docMessage translates a document problem at field key (a kind's, or a
// choice's) by its code, most specific key first.
func docMessage(t *translator, fe domain.FieldError, key string) string {
	kinds := domain.RequirementKinds(strings.TrimPrefix(key, docFieldPrefix))
	rule, _ := domain.RuleFor(kinds[0])
	kv := []any{"Label", t.T("field." + key + ".label"), "Max", t.Size(rule.MaxBytes),
		"Width", rule.MinWidth, "Height", rule.MinHeight}
	for _, id := range []string{"error." + fe.Code + "." + key, "error." + fe.Code} {
		if s, ok := t.lookup(id, kv...); ok {
			return s
		}
	}
	return t.T("error.unreadable_file", kv...)
}

// docField is one file input, in the GOV.UK file upload pattern.
type docField struct {
	ID, Label, Marker, Hint, Rule, Error, ErrorPrefix, Accept, Uploaded string
}

// docItem is one line of a checklist: one kind, or a choice of kinds that
// any one of them satisfies (a fieldset, its error on the group).
type docItem struct {
	ID, Legend, Marker, Hint, Error, ErrorPrefix string
	Choice                                       bool
	Fields                                       []docField
}

// docItems lays out file inputs for requirement codes (a kind, or kinds
// joined by "_or_"), showing the uploads held and the problems, which it
// also adds to the page's error summary in the order of the form.
func (pg *page) docItems(requirements []string, marker func(string) string, held heldUploads,
	errs docErrors) []docItem {
	var out []docItem
	for _, req := range requirements {
		kinds := domain.RequirementKinds(req)
		if !slices.ContainsFunc(kinds, domain.DocumentKind.IsKnown) {
			continue
		}
		it := docItem{ID: docFieldID(string(kinds[0])), Choice: len(kinds) > 1, ErrorPrefix: pg.T("errors.prefix"),
			Marker: marker(req)}
		fieldErrors := 0
		for _, k := range kinds {
			id := docFieldID(string(k))
			rule, _ := domain.RuleFor(k)
			f := docField{ID: id, Label: pg.T("field." + id + ".label"), ErrorPrefix: it.ErrorPrefix,
				Rule: pg.ruleText(rule), Accept: accept(rule)}
			if !it.Choice {
				f.Marker = it.Marker
			}
			if key := "field." + id + ".hint"; pg.Has(key) {
				f.Hint = pg.T(key)
			}
			if u, ok := held[k]; ok {
				f.Uploaded = pg.T("document.uploaded", "Type", mediaName(u.MediaType), "Size", pg.Size(u.SizeBytes))
			}
			if fe, ok := errs[id]; ok {
				f.Error = docMessage(pg.translator, fe, id)
				pg.addError(id, f.Error)
				fieldErrors++
			}
			it.Fields = append(it.Fields, f)
		}
		if it.Choice {
			group := docFieldID(req)
			it.Legend, it.Hint = pg.T("field."+group+".label"), pg.T("field."+group+".hint")
			if fe, ok := errs[group]; ok && fieldErrors == 0 {
				it.Error = docMessage(pg.translator, fe, group)
				pg.addError(it.ID, it.Error)
			}
		}
		out = append(out, it)
	}
	return out
}

// addError puts a message in the error summary, linked to the field id.
func (pg *page) addError(id, msg string) {
	pg.Fields[id] = msg
	pg.Errors = append(pg.Errors, fieldError{Href: "#" + id, Message: msg})
}

// ruleText says what a file of the rule must be ("A JPEG, PNG or PDF, at most 5 MB").
func (pg *page) ruleText(rule domain.DocumentRule) string {
	if rule.MinWidth > 0 {
		return pg.T("document.rule.picture", "Width", rule.MinWidth, "Height", rule.MinHeight,
			"Max", pg.Size(rule.MaxBytes))
	}
	return pg.T("document.rule.any", "Max", pg.Size(rule.MaxBytes))
}

// accept lets the browser's file chooser offer the rule's types (the server
// decides by the bytes all the same).
func accept(rule domain.DocumentRule) string {
	types := make([]string, len(rule.Types))
	for i, t := range rule.Types {
		types[i] = string(t)
	}
	return strings.Join(types, ",")
}

// filesForm is what readFilesForm hands on: each field's value, each chosen
// file (at most domain.MaxUploadBytes of it; TooLarge when it was larger).
type filesForm struct {
	Token string
	Value func(name, value string)
	File  func(name string, data []byte, tooLarge bool)
}

// readFilesForm reads a form that may carry files as it streams in: the
// page token must come first, and a form without this session's is refused
// before any file is read. A urlencoded form (one without file inputs) is
// read as usual. ok is false when it has answered.
func (p *Portal) readFilesForm(w http.ResponseWriter, r *http.Request, f *filesForm) (ok bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	var mr *multipart.Reader
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		mr, _ = r.MultipartReader()
	}
	if mr == nil {
		if !p.checkToken(w, r) {
			return false
		}
		f.Token = r.PostFormValue("page_token")
		for name, vs := range r.PostForm {
			f.Value(name, vs[0])
		}
		return true
	}
	first := true
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return true
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return true // what was read stands; the file cut short was refused as too large
		}
		if err != nil {
			http.Error(w, newTranslator(chooseLanguage(r)).T("error.page_token"), http.StatusBadRequest)
			return false
		}
		name := part.FormName()
		if first {
			first = false
			b, _ := io.ReadAll(io.LimitReader(part, 256))
			f.Token = string(b)
			if !p.tokenOK(r, f.Token) {
				p.refuseToken(w, r)
				return false
			}
			continue
		}
		if !strings.HasPrefix(name, docFieldPrefix) {
			b, err := io.ReadAll(io.LimitReader(part, 64<<10))
			if err != nil {
				return true
			}
			f.Value(name, string(b))
			continue
		}
		data, err := io.ReadAll(io.LimitReader(part, domain.MaxUploadBytes+1))
		switch {
		case errors.As(err, &tooBig):
			f.File(name, nil, true)
			return true
		case err != nil:
			return true
		case len(data) == 0 && part.FileName() == "":
			continue // no file chosen for this input
		case len(data) > domain.MaxUploadBytes:
			_, err := io.Copy(io.Discard, part)
			f.File(name, nil, true)
			if err != nil {
				return true
			}
		default:
			f.File(name, data, false)
		}
	}
}

// storeFile stores one file of a form through the service, as POST
// /v1/uploads does, noting a refusal in errs under its field. It returns the
// upload, or ok false (refused, or err for a failure of the service).
func (p *Portal) storeFile(r *http.Request, kind domain.DocumentKind, data []byte, tooLarge bool,
	errs docErrors) (up casework.Upload, ok bool, err error) {
	id := docFieldID(string(kind))
	switch {
	case tooLarge:
		errs[id] = domain.FieldError{Pointer: domain.PointerUploadFile, Code: domain.CodeFileTooLarge}
		return up, false, nil
	case !p.uploads.allow(r):
		errs[id] = domain.FieldError{Pointer: domain.PointerUploadFile, Code: codeTooManyUploads}
		return up, false, nil
	}
	up, err = p.deps.Cases.StoreUpload(r.Context(), kind, data, "")
	var cerr *casework.Error
	if errors.As(err, &cerr) && cerr.Kind == casework.Invalid && len(cerr.Fields) > 0 {
		errs[id] = cerr.Fields[0]
		return up, false, nil
	}
	return up, err == nil, err
}

// held looks up the uploads refs name that are still usable, by kind, and
// returns the refs without the rest (expired ones are uploaded again).
func (p *Portal) held(r *http.Request, refs []domain.DocumentRef) (heldUploads,
	[]domain.DocumentRef, error) {
	ids := make([]string, len(refs))
	for i, ref := range refs {
		ids[i] = ref.UploadID
	}
	ups, err := p.deps.Cases.PendingUploads(r.Context(), ids)
	if err != nil {
		return nil, nil, err
	}
	out := heldUploads{}
	var kept []domain.DocumentRef
	for _, u := range ups {
		if i := slices.IndexFunc(refs, func(ref domain.DocumentRef) bool { return ref.UploadID == u.ID }); i >= 0 &&
			refs[i].Kind == u.Kind {
			out[u.Kind] = u
			kept = append(kept, refs[i])
		}
	}
	return out, kept, nil
}

// putRef replaces the ref of its kind, keeping refs in the order of domain.DocumentKinds.
func putRef(refs []domain.DocumentRef, ref domain.DocumentRef) []domain.DocumentRef {
	refs = slices.DeleteFunc(slices.Clone(refs), func(r domain.DocumentRef) bool { return r.Kind == ref.Kind })
	refs = append(refs, ref)
	slices.SortStableFunc(refs, func(a, b domain.DocumentRef) int {
		return slices.Index(domain.DocumentKinds, a.Kind) - slices.Index(domain.DocumentKinds, b.Kind)
	})
	return refs
}

// checklistKinds are the kinds a product's checklist names.
func checklistKinds(p domain.Product) []domain.DocumentKind {
	var out []domain.DocumentKind
	for _, it := range domain.DocumentChecklist(p) {
		out = append(out, it.AnyOf...)
	}
	return out
}

// onChecklist keeps the refs of kinds the product's checklist names.
func onChecklist(p domain.Product, refs []domain.DocumentRef) []domain.DocumentRef {
	kinds := checklistKinds(p)
	return slices.DeleteFunc(slices.Clone(refs), func(r domain.DocumentRef) bool {
		return !slices.Contains(kinds, r.Kind)
	})
}

// missingErrors notes each required item of the checklist the refs do not
// meet, unless one of its files was refused already.
func missingErrors(p domain.Product, refs []domain.DocumentRef, errs docErrors) {
	for _, m := range domain.MissingDocuments(p, domain.Kinds(refs)) {
		refused := func(k domain.DocumentKind) bool { _, ok := errs[docFieldID(string(k))]; return ok }
		if !slices.ContainsFunc(m.AnyOf, refused) {
			errs[docFieldID(m.Requirement)] = m.FieldError
		}
	}
}

// --- the form's documents step ---

type documentsData struct {
	Items []docItem
}

func (p *Portal) documentsPage(w http.ResponseWriter, r *http.Request, d *draft, held heldUploads,
	errs docErrors, ret string) *page {
	s, _ := stepBySlug(documentsSlug)
	pg := p.newPage(w, r, "step."+documentsSlug+".title")
	pg.Step, pg.Product = s, string(d.Form.Product)
	pg.Values["return"] = ret
	var reqs []string
	required := map[string]bool{}
	for _, it := range domain.DocumentChecklist(d.Form.Product) {
		reqs = append(reqs, it.Requirement)
		required[it.Requirement] = it.Required && p.deps.DocumentsRequired
	}
	marker := func(req string) string {
		if required[req] {
			return pg.T("document.required")
		}
		return pg.T("field.optional")
	}
	pg.Data = documentsData{Items: pg.docItems(reqs, marker, held, errs)}
	return pg
}

func (p *Portal) showDocuments(w http.ResponseWriter, r *http.Request) {
	d := p.loadDraft(r)
	if d.Form.Product == "" {
		http.Redirect(w, r, "/apply/product", http.StatusSeeOther)
		return
	}
	held, _, err := p.held(r, d.Form.Documents)
	if err != nil {
		p.serverError(w, r, "documents", err)
		return
	}
	p.render(w, http.StatusOK, "documents", p.documentsPage(w, r, d, held, nil, r.URL.Query().Get("return")))
}

// saveDocuments stores the files chosen, keeps their upload ids in the
// draft, and goes on to check your answers unless a file was refused or,
// with the checklist enforced, a required document is still missing.
func (p *Portal) saveDocuments(w http.ResponseWriter, r *http.Request) {
	d := p.loadDraft(r)
	errs := docErrors{}
	kinds := checklistKinds(d.Form.Product)
	refs := onChecklist(d.Form.Product, d.Form.Documents)
	var ret string
	var failed error
	form := &filesForm{
		Value: func(name, v string) {
			if name == "return" {
				ret = v
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
	if d.Form.Product == "" {
		http.Redirect(w, r, "/apply/product", http.StatusSeeOther)
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
	d.Form.Documents = refs
	if p.deps.DocumentsRequired {
		missingErrors(d.Form.Product, refs, errs)
	}
	if err := p.saveDraft(w, d); err != nil {
		p.serverError(w, r, "seal draft", err)
		return
	}
	if len(errs) > 0 {
		p.render(w, errs.status(w), "documents", p.documentsPage(w, r, d, held, errs, ret))
		return
	}
	http.Redirect(w, r, "/apply/check", http.StatusSeeOther)
}

// status is the answer to a form with these problems: 429 (and when to try
// again) when files were refused for coming too fast, 422 otherwise.
func (errs docErrors) status(w http.ResponseWriter) int {
	for _, fe := range errs {
		if fe.Code == codeTooManyUploads {
			w.Header().Set("Retry-After", "60")
			return http.StatusTooManyRequests
		}
	}
	return http.StatusUnprocessableEntity
}

// documentAnswers are the documents' rows of check your answers: each kind
// of the checklist, with the type and size of its upload (never a file name).
func documentAnswers(pg *page, p domain.Product, held heldUploads) []answer {
	var out []answer
	for _, k := range checklistKinds(p) {
		id := docFieldID(string(k))
		a := answer{ID: id, Change: "/apply/" + documentsSlug + "?return=check#" + id}
		if u, ok := held[k]; ok {
			a.Value = mediaName(u.MediaType) + ", " + pg.Size(u.SizeBytes)
		}
		out = append(out, a)
	}
	return out
}

// --- answering a request for information by upload ---

// answerRequirements are what the case page offers file inputs for: the
// documents the open request asks for, and any the checklist still lacks.
func answerRequirements(c casework.Case) []string {
	if c.Status != domain.StatusInformationRequested || c.InformationRequest == nil {
		return nil
	}
	var out []string
	for _, req := range append(slices.Clone(c.InformationRequest.Documents), c.MissingDocuments...) {
		if !slices.Contains(out, req) {
			out = append(out, req)
		}
	}
	return out
}

// answerKinds are the kinds of those requirements.
func answerKinds(reqs []string) []domain.DocumentKind {
	var out []domain.DocumentKind
	for _, req := range reqs {
		for _, k := range domain.RequirementKinds(req) {
			if k.IsKnown() && !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

// answerDocuments fills the case page's file inputs (and their errors).
func (p *Portal) answerDocuments(pg *page, v *caseView, c casework.Case, held heldUploads,
	errs docErrors) {
	reqs := answerRequirements(c)
	v.Documents = pg.docItems(reqs, func(string) string { return "" }, held, errs)
	if c.InformationRequest != nil && len(c.InformationRequest.Documents) > 0 &&
		c.InformationRequest.Message == domain.DocumentRequestMessage(c.InformationRequest.Documents) {
		v.SystemRequest = true // the system's own request: said in the applicant's language
	}
}

func (p *Portal) answerRefs(r *http.Request, id string) []domain.DocumentRef {
	c, err := r.Cookie(answerCookie)
	if err != nil {
		return nil
	}
	return p.deps.Cases.OpenAnswerUploads(c.Value, id)
}

// documentErrors adds document problems to check your answers' error
// summary, each linked to its file input on the documents step.
func (pg *page) documentErrors(p domain.Product, errs docErrors) {
	link := func(id string) string { return "/apply/" + documentsSlug + "?return=check#" + id }
	for _, it := range domain.DocumentChecklist(p) {
		for _, k := range it.AnyOf {
			id := docFieldID(string(k))
			if fe, ok := errs[id]; ok {
				pg.Errors = append(pg.Errors, fieldError{Href: link(id), Message: docMessage(pg.translator, fe, id)})
			}
		}
		if fe, ok := errs[docFieldID(it.Requirement)]; ok && len(it.AnyOf) > 1 {
			pg.Errors = append(pg.Errors, fieldError{Href: link(docFieldID(string(it.AnyOf[0]))),
				Message: docMessage(pg.translator, fe, docFieldID(it.Requirement))})
		}
	}
}

// documentAt reads a pointer at an application's documents
// ("/documents/1/upload_id"): the kind of the document it points at.
func documentAt(refs []domain.DocumentRef, ptr string) (domain.DocumentKind, bool) {
	rest, ok := strings.CutPrefix(ptr, domain.PointerDocuments+"/")
	if !ok {
		return "", false
	}
	i, err := strconv.Atoi(strings.SplitN(rest, "/", 2)[0])
	if err != nil || i < 0 || i >= len(refs) {
		return "", false
	}
	return refs[i].Kind, true
}
