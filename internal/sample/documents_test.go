package sample

import (
	"bytes"
	"testing"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/documents"
)

// Every specimen passes the upload rules of its kind, and together they
// meet every product's checklist.
func TestDocumentsPassTheUploadRules(t *testing.T) {
	var kinds []domain.DocumentKind
	for _, d := range Documents() {
		if _, facts, errs := documents.Inspect(d.Kind, d.Data); len(errs) > 0 {
			t.Errorf("%s (%s): %v", d.Name, d.Kind, errs)
		} else if d.Kind == domain.DocumentPhotograph && (facts.Width < 600 || facts.Height < 600) {
			t.Errorf("photograph %d×%d", facts.Width, facts.Height)
		}
		kinds = append(kinds, d.Kind)
	}
	for _, p := range domain.Products() {
		if missing := domain.MissingDocuments(p.Code, kinds); len(missing) > 0 {
			t.Errorf("%s: the specimens miss %v", p.Code, missing)
		}
	}
	if !bytes.Equal(Documents()[0].Data, Documents()[0].Data) {
		t.Error("the specimens differ from run to run")
	}
}
