package domain

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// vocabularyWords are the words only this package may spell: every status,
// role, outcome, timeline event and product code. Elsewhere they are the
// constants above, so a renamed or added word cannot be missed in one layer.
func vocabularyWords(t *testing.T) map[string]bool {
	t.Helper()
	words := map[string]bool{}
	for _, s := range AllStatuses {
		words[string(s)] = true
	}
	for _, o := range Outcomes {
		words[string(o)] = true
	}
	for _, p := range Products() {
		words[string(p.Code)] = true
	}
	for _, k := range DocumentKinds {
		words[string(k)] = true
	}
	for _, typ := range []string{"Role", "Event"} { // no list of all of them to range over
		for _, w := range constantsOfType(t, typ) {
			words[w] = true
		}
	}
	return words
}

// constantsOfType returns the values of the string constants this package
// declares with the named type, e.g. `RoleAdmin Role = "admin"`.
func constantsOfType(t *testing.T, typeName string) []string {
	t.Helper()
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var values []string
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			spec, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			if typ, ok := spec.Type.(*ast.Ident); !ok || typ.Name != typeName {
				return true
			}
			for _, v := range spec.Values {
				if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil {
						values = append(values, s)
					}
				}
			}
			return true
		})
	}
	if len(values) == 0 {
		t.Fatalf("no constants of type %s found", typeName)
	}
	return values
}

// vocabularyLiterals lists the string literals in the non-test Go files under
// root (outside this package) that spell a vocabulary word, as file:line: word.
// Struct tags and import paths are not literals in this sense, and a line
// may say why its word is not the vocabulary with a "//vocabulary:ignore" comment.
func vocabularyLiterals(t *testing.T, root string) []string {
	t.Helper()
	words := vocabularyWords(t)
	domainDir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			abs, _ := filepath.Abs(path)
			if abs == domainDir || d.Name() == "testdata" || (strings.HasPrefix(d.Name(), ".") && path != root) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution|parser.ParseComments)
		if err != nil {
			return err
		}
		ignoredLines := map[int]bool{}
		for _, group := range file.Comments {
			for _, c := range group.List {
				if strings.HasPrefix(c.Text, "//vocabulary:ignore") {
					ignoredLines[fset.Position(c.Pos()).Line] = true
				}
			}
		}
		skip := map[*ast.BasicLit]bool{}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ImportSpec:
				skip[n.Path] = true
			case *ast.Field:
				if n.Tag != nil {
					skip[n.Tag] = true
				}
			case *ast.BasicLit:
				if n.Kind != token.STRING || skip[n] || ignoredLines[fset.Position(n.Pos()).Line] {
					return true
				}
				if s, err := strconv.Unquote(n.Value); err == nil && words[s] {
					found = append(found, fset.Position(n.Pos()).String()+": "+n.Value)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func TestNoVocabularyLiteralsOutsideDomain(t *testing.T) {
	for _, f := range vocabularyLiterals(t, "..") {
		t.Errorf("%s: use the domain constant (Status*, Role*, Outcome*, Event*, Product*, Document*) "+
			"instead of the literal", f)
	}
}

// TestVocabularyLiteralsAreFound proves the check above can fail: a file
// that spells a status, a role, an event and a product is caught, its
// struct tags are not.
func TestVocabularyLiteralsAreFound(t *testing.T) {
	dir := t.TempDir()
	src := "package x\n\ntype T struct {\n\tS string `json:\"issued\"`\n}\n\n" +
		"var status = \"awaiting_review\"\n\nfunc role() string { return \"supervisor\" }\n\nvar other = \"approved\"\n" +
		"var flag = \"chamber\" //vocabulary:ignore: a flag's name\n" +
		"var event, product = \"sla_breached\", \"business_5y_multi\"\n"
	if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	inTest := []byte("package x\n\nvar inTest = \"issued\"\n")
	if err := os.WriteFile(filepath.Join(dir, "x_test.go"), inTest, 0o600); err != nil {
		t.Fatal(err)
	}
	found := vocabularyLiterals(t, dir)
	want := []string{`"awaiting_review"`, `"supervisor"`, `"sla_breached"`, `"business_5y_multi"`}
	ok := len(found) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = strings.Contains(found[i], want[i])
	}
	if !ok {
		t.Errorf("found %q, want the literals %q of x.go only", found, want)
	}
}

func TestStaffOnlyDetail(t *testing.T) {
	for _, e := range []Event{EventScreeningStarted, EventScreened, EventDisagreement} {
		if !e.StaffOnlyDetail() {
			t.Errorf("%s: the applicant would see its detail", e)
		}
	}
	if EventFirstDecision.StaffOnlyDetail() || EventRefused.StaffOnlyDetail() {
		t.Error("a decision's detail is the applicant's too")
	}
}
