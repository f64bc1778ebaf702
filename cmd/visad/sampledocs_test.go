package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/visad/visad/internal/documents"
	"github.com/visad/visad/internal/sample"
)

// `visad sample-documents` writes the specimen files the docs upload, and
// each passes the upload rules of its kind.
func TestSampleDocumentsWritesTheSpecimens(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "docs")
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"sample-documents", "--out", dir}, io.Discard, &stderr); err != nil {
		t.Fatal(err)
	}
	for _, d := range sample.Documents() {
		data, err := os.ReadFile(filepath.Join(dir, d.Name))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, errs := documents.Inspect(d.Kind, data); len(errs) > 0 {
			t.Errorf("%s: %v", d.Name, errs)
		}
		if !strings.Contains(stderr.String(), d.Name+" ("+string(d.Kind)+")") {
			t.Errorf("the confirmation %q does not name %s", stderr.String(), d.Name)
		}
	}
}
