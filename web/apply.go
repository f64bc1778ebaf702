package web

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
)

// The form in short steps. Each step is checked with domain.Validate, the
// same rules the API applies, keeping only the errors of the step's own
// fields; messages are translated by the domain's stable codes.

// fieldDef is one question.
type fieldDef struct {
	ID           string // the JSON pointer with '-' for '/', e.g. "passport-expiry_date"
	Kind         string // text, date, email, tel, radio, textarea
	Autocomplete string
	Width        string // a width class for short answers
	Optional     bool
	Options      func(d *draft) []string
	get          func(d *draft) string
	set          func(d *draft, v string)
}

type step struct {
	Slug   string
	Fields []fieldDef
	owns   []string // pointer prefixes whose errors this step shows
}

// draft is the form in progress, sealed in a cookie between steps.
type draft struct {
	Form     domain.Application
	Evidence string // for the two-year visa: "host" or "chamber"
}

const (
	evidenceHost    = "host"
	evidenceChamber = "recommendation"
	draftCookie     = "visad_draft"
	caseCookie      = "visad_case"
)

func text(id, kind, autocomplete, width string, ptr func(d *draft) *string) fieldDef {
	return fieldDef{ID: id, Kind: kind, Autocomplete: autocomplete, Width: width,
		get: func(d *draft) string { return *ptr(d) }, set: func(d *draft, v string) { *ptr(d) = v }}
}

func hostField(id, autocomplete string, optional bool, ptr func(h *domain.Host) *string) fieldDef {
	return fieldDef{ID: id, Kind: "text", Autocomplete: autocomplete, Optional: optional,
		get: func(d *draft) string {
			if d.Form.Visit.Host == nil {
				return ""
			}
			return *ptr(d.Form.Visit.Host)
		},
		set: func(d *draft, v string) {
			if d.Form.Visit.Host == nil {
				d.Form.Visit.Host = &domain.Host{}
			}
			*ptr(d.Form.Visit.Host) = v
		}}
}

func chamberField(id string, ptr func(c *domain.Chamber) *string) fieldDef {
	return fieldDef{ID: id, Kind: "text", Width: "w-20",
		get: func(d *draft) string {
			if d.Form.Chamber == nil {
				return ""
			}
			return *ptr(d.Form.Chamber)
		},
		set: func(d *draft, v string) {
			if d.Form.Chamber == nil {
				d.Form.Chamber = &domain.Chamber{}
			}
			*ptr(d.Form.Chamber) = v
		}}
}

func fixed(values ...string) func(*draft) []string { return func(*draft) []string { return values } }

var steps = []*step{
	{Slug: "product", owns: []string{"/product"}, Fields: []fieldDef{
		{ID: "product", Kind: "radio", Options: func(*draft) []string {
			var out []string
			for _, p := range domain.Products() {
				out = append(out, string(p.Code))
			}
			return out
		}, get: func(d *draft) string { return string(d.Form.Product) },
			set: func(d *draft, v string) { d.Form.Product = domain.Product(v) }},
	}},
	{Slug: "about-you", owns: []string{"/applicant/"}, Fields: []fieldDef{
		text("applicant-given_names", "text", "given-name", "",
			func(d *draft) *string { return &d.Form.Applicant.GivenNames }),
		text("applicant-surname", "text", "family-name", "", func(d *draft) *string { return &d.Form.Applicant.Surname }),
		{ID: "applicant-sex", Kind: "radio", Options: fixed("F", "M", "X"),
			get: func(d *draft) string { return d.Form.Applicant.Sex },
			set: func(d *draft, v string) { d.Form.Applicant.Sex = v }},
		text("applicant-date_of_birth", "date", "bday", "w-10",
			func(d *draft) *string { return &d.Form.Applicant.DateOfBirth }),
		text("applicant-place_of_birth", "text", "", "", func(d *draft) *string { return &d.Form.Applicant.PlaceOfBirth }),
		text("applicant-nationality", "text", "", "w-5", func(d *draft) *string { return &d.Form.Applicant.Nationality }),
		text("applicant-email", "email", "email", "", func(d *draft) *string { return &d.Form.Applicant.Email }),
		text("applicant-phone", "tel", "tel", "w-20", func(d *draft) *string { return &d.Form.Applicant.Phone }),
	}},
	{Slug: "passport", owns: []string{"/passport/"}, Fields: []fieldDef{
		text("passport-number", "text", "off", "w-20", func(d *draft) *string { return &d.Form.Passport.Number }),
		text("passport-issuing_country", "text", "", "w-5",
			func(d *draft) *string { return &d.Form.Passport.IssuingCountry }),
		text("passport-issue_date", "date", "off", "w-10", func(d *draft) *string { return &d.Form.Passport.IssueDate }),
		text("passport-expiry_date", "date", "off", "w-10", func(d *draft) *string { return &d.Form.Passport.ExpiryDate }),
		{ID: "passport-mrz", Kind: "textarea", Optional: true,
			get: func(d *draft) string { return strings.Join(d.Form.Passport.MRZ, "\n") },
			set: func(d *draft, v string) {
				d.Form.Passport.MRZ = nil
				for _, line := range strings.Split(v, "\n") {
					if line = strings.TrimSpace(line); line != "" {
						d.Form.Passport.MRZ = append(d.Form.Passport.MRZ, line)
					}
				}
			}},
	}},
	{Slug: "your-work", owns: []string{"/employment/"}, Fields: []fieldDef{
		text("employment-company", "text", "organization", "", func(d *draft) *string { return &d.Form.Employment.Company }),
		text("employment-position", "text", "organization-title", "",
			func(d *draft) *string { return &d.Form.Employment.Position }),
	}},
	{Slug: "your-visit", owns: []string{"/visit/purpose", "/visit/intended_arrival"}, Fields: []fieldDef{
		{ID: "visit-purpose", Kind: "radio", Options: func(*draft) []string { return domain.VisitPurposes },
			get: func(d *draft) string { return d.Form.Visit.Purpose },
			set: func(d *draft, v string) { d.Form.Visit.Purpose = v }},
		text("visit-intended_arrival", "date", "off", "w-10",
			func(d *draft) *string { return &d.Form.Visit.IntendedArrival }),
	}},
	{Slug: "host-or-chamber", owns: []string{"/visit/host", "/chamber"}, Fields: []fieldDef{
		{ID: "evidence", Kind: "radio", Options: fixed(evidenceHost, evidenceChamber),
			get: func(d *draft) string { return d.Evidence }, set: func(d *draft, v string) { d.Evidence = v }},
		hostField("visit-host-company", "off", false, func(h *domain.Host) *string { return &h.Company }),
		hostField("visit-host-city", "off", false, func(h *domain.Host) *string { return &h.City }),
		hostField("visit-host-address", "off", true, func(h *domain.Host) *string { return &h.Address }),
		hostField("visit-host-phone", "off", true, func(h *domain.Host) *string { return &h.Phone }),
		chamberField("chamber-chamber_id", func(c *domain.Chamber) *string { return &c.ChamberID }),
		chamberField("chamber-membership_number", func(c *domain.Chamber) *string { return &c.MembershipNumber }),
	}},
	// The documents step has file inputs, not questions (documents.go).
	{Slug: documentsSlug, owns: []string{domain.PointerDocuments}},
}

func stepBySlug(slug string) (*step, int) {
	for i, s := range steps {
		if s.Slug == slug {
			return s, i
		}
	}
	return nil, -1
}

// fieldsFor are the step's questions for this draft: the five-year visa
// needs a chamber recommendation, so it is not offered a host.
func (s *step) fieldsFor(d *draft) []fieldDef {
	if s.Slug != "host-or-chamber" || d.Form.Product != domain.ProductBusiness5YMulti {
		return s.Fields
	}
	var out []fieldDef
	for _, f := range s.Fields {
		if strings.HasPrefix(f.ID, "chamber-") {
			out = append(out, f)
		}
	}
	return out
}

func (s *step) ownsPointer(ptr string) bool {
	return slices.ContainsFunc(s.owns, func(prefix string) bool { return strings.HasPrefix(ptr, prefix) })
}

// fieldID maps a pointer onto the question that answers it.
func fieldID(ptr string) string {
	switch {
	case strings.HasPrefix(ptr, "/passport/mrz"):
		return "passport-mrz"
	case ptr == "/visit/host" || ptr == "/chamber":
		return "evidence"
	}
	return strings.ReplaceAll(strings.TrimPrefix(ptr, "/"), "/", "-")
}

func stepOf(ptr string) *step {
	for _, s := range steps {
		if s.ownsPointer(ptr) {
			return s
		}
	}
	return steps[0]
}

var firstNumber = regexp.MustCompile(`[0-9]+`)

// message translates a domain error by its code, most specific key first.
func message(t *translator, fe domain.FieldError, id string) string {
	label := t.T("field." + id + ".label")
	kv := []any{"Label", label, "Max", firstNumber.FindString(fe.Detail)}
	for _, key := range []string{"error." + fe.Code + "." + id, "error." + fe.Code} {
		if s, ok := t.lookup(key, kv...); ok {
			return s
		}
	}
	return t.T("error.invalid_format", kv...)
}

func (p *Portal) routeApply(mux *http.ServeMux) {
	mux.HandleFunc("GET /apply/"+documentsSlug, p.showDocuments)
	mux.HandleFunc("POST /apply/"+documentsSlug, p.saveDocuments)
	mux.HandleFunc("GET /apply/{step}", p.showStep)
	mux.HandleFunc("POST /apply/{step}", p.saveStep)
	mux.HandleFunc("GET /apply/check", p.showCheck)
	mux.HandleFunc("POST /apply/check", p.submit)
	mux.HandleFunc("GET /apply/done", p.done)
}

func (p *Portal) loadDraft(r *http.Request) *draft {
	d := &draft{}
	if c, err := r.Cookie(draftCookie); err == nil {
		if form, choice, err := p.deps.Cases.OpenDraft(c.Value); err == nil {
			d.Form, d.Evidence = form, choice
		}
	}
	return d
}

func (p *Portal) saveDraft(w http.ResponseWriter, d *draft) error {
	sealed, err := p.deps.Cases.SealDraft(d.Form, d.Evidence)
	if err != nil {
		return err
	}
	p.setCookie(w, draftCookie, sealed, int(casework.DraftLifetime.Seconds()))
	return nil
}

// stepPage fills a page with a step's questions, answers and errors.
func (p *Portal) stepPage(w http.ResponseWriter, r *http.Request, s *step, d *draft, errs domain.FieldErrors) *page {
	pg := p.newPage(w, r, "step."+s.Slug+".title")
	pg.Step, pg.Product = s, string(d.Form.Product)
	pg.Values["return"] = r.FormValue("return")
	fields := s.fieldsFor(d)
	for _, f := range fields {
		pg.Values[f.ID] = f.get(d)
	}
	for _, fe := range errs {
		id := fieldID(fe.Pointer)
		if !slices.ContainsFunc(fields, func(f fieldDef) bool { return f.ID == id }) {
			id = fields[0].ID
		}
		msg := message(pg.translator, fe, id)
		if _, seen := pg.Fields[id]; seen {
			continue // one message per question, the first (errors are sorted)
		}
		pg.Fields[id] = msg
		pg.Errors = append(pg.Errors, fieldError{Href: "#" + id, Message: msg})
	}
	pg.Data = fields
	return pg
}

func (p *Portal) showStep(w http.ResponseWriter, r *http.Request) {
	s, _ := stepBySlug(r.PathValue("step"))
	if s == nil {
		p.notFound(w, r)
		return
	}
	d := p.loadDraft(r)
	if s.Slug != "product" && d.Form.Product == "" {
		http.Redirect(w, r, "/apply/product", http.StatusSeeOther)
		return
	}
	p.render(w, http.StatusOK, "step", p.stepPage(w, r, s, d, nil))
}

func (p *Portal) saveStep(w http.ResponseWriter, r *http.Request) {
	s, i := stepBySlug(r.PathValue("step"))
	if s == nil {
		p.notFound(w, r)
		return
	}
	if !p.checkToken(w, r) {
		return
	}
	d := p.loadDraft(r)
	for _, f := range s.fieldsFor(d) {
		f.set(d, r.PostFormValue(f.ID))
	}
	// Another visa has another checklist: documents it does not name are dropped.
	d.Form.Documents = onChecklist(d.Form.Product, d.Form.Documents)
	if s.Slug == "host-or-chamber" {
		if d.Form.Product == domain.ProductBusiness5YMulti {
			d.Evidence = evidenceChamber
		}
		switch d.Evidence {
		case evidenceHost:
			d.Form.Chamber = nil
		case evidenceChamber:
			d.Form.Visit.Host = nil
		default:
			d.Form.Chamber, d.Form.Visit.Host = nil, nil
		}
	}
	var errs domain.FieldErrors
	for _, fe := range domain.Validate(domain.Normalize(d.Form), p.deps.Cases.Policy()) {
		if s.ownsPointer(fe.Pointer) {
			errs = append(errs, fe)
		}
	}
	if s.Slug == "host-or-chamber" && d.Evidence == "" && d.Form.Product != domain.ProductBusiness5YMulti {
		errs = append(domain.FieldErrors{{Pointer: "/visit/host", Code: domain.CodeEvidenceRequired}}, errs...)
	}
	if err := p.saveDraft(w, d); err != nil {
		p.serverError(w, r, "seal draft", err)
		return
	}
	if len(errs) > 0 {
		p.render(w, http.StatusUnprocessableEntity, "step", p.stepPage(w, r, s, d, errs))
		return
	}
	next := "/apply/check"
	if i+1 < len(steps) && r.PostFormValue("return") != "check" {
		next = "/apply/" + steps[i+1].Slug
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// answer is one row of check your answers.
type answer struct {
	ID, Value, Change string
}

type checkData struct {
	Sections []checkSection
}

type checkSection struct {
	Slug    string
	Answers []answer
}

func (p *Portal) checkPage(w http.ResponseWriter, r *http.Request, d *draft,
	held heldUploads) *page {
	pg := p.newPage(w, r, "check.title")
	var data checkData
	for _, s := range steps {
		sec := checkSection{Slug: s.Slug}
		if s.Slug == documentsSlug {
			sec.Answers = documentAnswers(pg, d.Form.Product, held)
		}
		for _, f := range s.fieldsFor(d) {
			v := f.get(d)
			switch {
			case s.Slug == "host-or-chamber" && d.Evidence == evidenceHost && strings.HasPrefix(f.ID, "chamber-"),
				s.Slug == "host-or-chamber" && d.Evidence == evidenceChamber && strings.HasPrefix(f.ID, "visit-host-"):
				continue
			case f.Kind == "radio" && v != "":
				v = pg.T("option." + f.ID + "." + v)
			case f.Kind == "date":
				v = pg.DateString(v)
			}
			sec.Answers = append(sec.Answers, answer{ID: f.ID, Value: v,
				Change: "/apply/" + s.Slug + "?return=check#" + f.ID})
		}
		data.Sections = append(data.Sections, sec)
	}
	pg.Data = data
	return pg
}

func (p *Portal) showCheck(w http.ResponseWriter, r *http.Request) {
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
	p.render(w, http.StatusOK, "check", p.checkPage(w, r, d, held))
}

// submit sends the application. The page token is the Idempotency-Key: the
// same form posted twice (a double click, a browser retry) is one application.
func (p *Portal) submit(w http.ResponseWriter, r *http.Request) {
	if !p.checkToken(w, r) {
		return
	}
	d := p.loadDraft(r)
	if d.Form.Product == "" {
		http.Redirect(w, r, "/apply/product", http.StatusSeeOther)
		return
	}
	// With the checklist enforced, the portal does not send the form without
	// the required documents. (Whether each upload is still there is the
	// service's to say: a double click's second post finds them attached to
	// the application the first one sent, and is answered with it.)
	held, _, err := p.held(r, d.Form.Documents)
	if err != nil {
		p.serverError(w, r, "documents", err)
		return
	}
	errs := docErrors{}
	if p.deps.DocumentsRequired {
		missingErrors(d.Form.Product, d.Form.Documents, errs)
	}
	if len(errs) > 0 {
		pg := p.checkPage(w, r, d, held)
		pg.documentErrors(d.Form.Product, errs)
		p.render(w, http.StatusUnprocessableEntity, "check", pg)
		return
	}
	sub, err := p.deps.Cases.SubmitInLanguage(r.Context(), d.Form, r.PostFormValue("page_token"),
		chooseLanguage(r).String())
	var cerr *casework.Error
	if errors.As(err, &cerr) && cerr.Kind != casework.Unavailable {
		pg := p.checkPage(w, r, d, held)
		switch cerr.Kind {
		case casework.Invalid:
			seen := map[string]bool{}
			for _, fe := range cerr.Fields {
				if kind, ok := documentAt(d.Form.Documents, fe.Pointer); ok {
					pg.documentErrors(d.Form.Product, docErrors{docFieldID(string(kind)): fe})
					continue
				}
				id := fieldID(fe.Pointer)
				if !seen[id] {
					seen[id] = true
					pg.Errors = append(pg.Errors, fieldError{Href: "/apply/" + stepOf(fe.Pointer).Slug + "?return=check#" + id,
						Message: message(pg.translator, fe, id)})
				}
			}
		default:
			pg.Errors = []fieldError{{Href: "/apply/check", Message: pg.T("error.submit_refused")}}
		}
		p.render(w, http.StatusUnprocessableEntity, "check", pg)
		return
	}
	if err != nil {
		p.serverError(w, r, "submit", err)
		return
	}
	p.setCookie(w, caseCookie, sub.ID+"."+sub.AccessToken, 0)
	p.setCookie(w, draftCookie, "", -1)
	http.Redirect(w, r, "/apply/done", http.StatusSeeOther)
}

func (p *Portal) done(w http.ResponseWriter, r *http.Request) {
	c, ok := p.signedInCase(w, r)
	if !ok {
		return
	}
	pg := p.newPage(w, r, "done.title")
	pg.Data = p.caseView(pg, c)
	p.render(w, http.StatusOK, "done", pg)
}

func (p *Portal) notFound(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "notfound.title")
	p.render(w, http.StatusNotFound, "problem", pg)
}

// productView describes a product on the start page.
type productView struct {
	Code                   string
	ValidityYears, MaxStay int
	DecisionHours          int
}

func (p *Portal) products() []productView {
	var out []productView
	for _, spec := range domain.Products() {
		out = append(out, productView{Code: string(spec.Code), ValidityYears: spec.ValidityYears,
			MaxStay: spec.MaxStayDays, DecisionHours: int(domain.DecisionSLA(spec.Code, p.deps.Cases.SLA).Hours())})
	}
	return out
}
