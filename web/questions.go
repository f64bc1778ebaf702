package web

import "github.com/visad/visad/domain"

// question is what the "question" template renders: one labelled input
// with its hint and inline error, in the GOV.UK pattern.
type question struct {
	ID, Kind, Label, Hint, Error, ErrorPrefix, Value string
	Autocomplete, Width, OptionalText                string
	Optional                                         bool
	Options                                          []option
	Group, GroupHint                                 string
}

type option struct{ Value, Label, Hint string }

func (pg *page) question(f fieldDef, d *draft) question {
	q := question{ID: f.ID, Kind: f.Kind, Label: pg.T("field." + f.ID + ".label"), Error: pg.Fields[f.ID],
		ErrorPrefix: pg.T("errors.prefix"), Value: pg.Values[f.ID], Autocomplete: f.Autocomplete, Width: f.Width,
		Optional: f.Optional, OptionalText: pg.T("field.optional")}
	if key := "field." + f.ID + ".hint"; pg.Has(key) {
		q.Hint = pg.T(key)
	}
	if key := "group." + f.ID; pg.Has(key) {
		q.Group = pg.T(key)
		if pg.Has(key + ".hint") {
			q.GroupHint = pg.T(key + ".hint")
		}
	}
	if f.Options != nil {
		for _, v := range f.Options(d) {
			o := option{Value: v, Label: pg.T("option." + f.ID + "." + v)}
			if key := "option." + f.ID + "." + v + ".hint"; pg.Has(key) {
				o.Hint = pg.T(key)
			}
			q.Options = append(q.Options, o)
		}
	}
	return q
}

// Questions are the current step's questions.
func (pg *page) Questions() []question {
	d := &draft{Form: domain.Application{Product: domain.Product(pg.Product)}}
	fields, _ := pg.Data.([]fieldDef)
	out := make([]question, 0, len(fields))
	for _, f := range fields {
		out = append(out, pg.question(f, d))
	}
	return out
}

// Text is a free-standing text question (pages outside the form's steps).
func (pg *page) Text(id, width string) question {
	return pg.question(fieldDef{ID: id, Kind: "text", Width: width, Autocomplete: "off"}, nil)
}

// Textarea is a free-standing multi-line question.
func (pg *page) Textarea(id string) question {
	q := pg.question(fieldDef{ID: id, Kind: "textarea"}, nil)
	q.Kind = "textarea"
	return q
}

// OptionalTextarea is a free-standing multi-line question that may be left empty.
func (pg *page) OptionalTextarea(id string) question {
	q := pg.Textarea(id)
	q.Optional = true
	return q
}

// StepNumber and StepCount say where the step is in the form.
func (pg *page) StepNumber() int {
	_, i := stepBySlug(pg.Step.Slug)
	return i + 1
}

// StepCount is the number of steps before check your answers.
func (pg *page) StepCount() int { return len(steps) }

// StepIntro is the step's introduction, if it has one.
func (pg *page) StepIntro() string {
	key := "step." + pg.Step.Slug + ".intro"
	if pg.Product != "" && pg.Has(key+"."+pg.Product) {
		return pg.T(key + "." + pg.Product)
	}
	if pg.Has(key) {
		return pg.T(key)
	}
	return ""
}

// BackLink is the previous step, or the start page.
func (pg *page) BackLink() string {
	if pg.Values["return"] == "check" {
		return "/apply/check"
	}
	_, i := stepBySlug(pg.Step.Slug)
	if i <= 0 {
		return "/"
	}
	return "/apply/" + steps[i-1].Slug
}

type languageLink struct{ Code, Name string }

// OtherLanguages are the switcher's choices, each named in its own language.
func (pg *page) OtherLanguages() []languageLink {
	var out []languageLink
	for _, l := range Languages {
		if l.String() != pg.Lang {
			out = append(out, languageLink{Code: l.String(), Name: newTranslator(l).T("language.name")})
		}
	}
	return out
}

// Heading is the page's title without the error prefix and service name.
func (pg *page) Heading() string { return pg.heading }
