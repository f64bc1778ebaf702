// Command gendocs rewrites the generated part of docs/configuration.md from
// the settings table: go generate ./internal/config.
package main

import (
	"fmt"
	"os"

	"github.com/visad/visad/internal/config"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gendocs docs/configuration.md")
		os.Exit(2)
	}
	doc, err := os.ReadFile(os.Args[1])
	if err == nil {
		doc, err = config.UpdateDocs(doc)
	}
	if err == nil {
		err = os.WriteFile(os.Args[1], doc, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}
