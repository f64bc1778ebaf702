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
// role and outcome. Elsewhere they are the constants above, so a renamed or
// added word cannot be missed in one layer.
func vocabularyWords() map[string]bool {
	words := map[string]bool{}
	for _, s := range AllStatuses {
		words[string(s)] = true
	}
	for _, r := range []Role{RoleOfficer, RoleSupervisor, RoleAdmin, RoleChamber, RoleApplicant, RoleSystem} {
		words[string(r)] = true
	}
	for _, o := range Outcomes {
		words[string(o)] = true
	}
	return words
}

// vocabularyLiterals lists the string literals in the non-test Go files under
// root (outside this package) that spell a vocabulary word, as file:line: word.
// Struct tags and import paths are not literals in this sense, and a line
// may say why its word is not the vocabulary with a "//vocabulary:ignore" comment.
func vocabularyLiterals(t *testing.T, root string) []string {
	t.Helper()
	words := vocabularyWords()
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
		t.Errorf("%s: use the domain constant (Status*, Role*, Outcome*) instead of the literal", f)
	}
}

// TestVocabularyLiteralsAreFound proves the check above can fail: a file
// that spells a status and a role is caught, its struct tags are not.
func TestVocabularyLiteralsAreFound(t *testing.T) {
	dir := t.TempDir()
	src := "package x\n\ntype T struct {\n\tS string `json:\"issued\"`\n}\n\n" +
		"var status = \"awaiting_review\"\n\nfunc role() string { return \"supervisor\" }\n\nvar other = \"approved\"\n" +
		"var flag = \"chamber\" //vocabulary:ignore: a flag's name\n"
	if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "x_test.go"), []byte("package x\n\nvar inTest = \"issued\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	found := vocabularyLiterals(t, dir)
	if len(found) != 2 || !strings.Contains(found[0], `"awaiting_review"`) || !strings.Contains(found[1], `"supervisor"`) {
		t.Errorf("found %q, want the status and the role literal of x.go only", found)
	}
}
