package config

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The generated part of docs/configuration.md lies between these lines.
const (
	docsBegin = "<!-- BEGIN generated from internal/config by `go generate ./internal/config`; do not edit -->"
	docsEnd   = "<!-- END generated -->"
)

// DocsTable renders the settings table and which command reads which
// setting, as Markdown.
func DocsTable() string {
	var b strings.Builder
	b.WriteString("| Variable | Flag | Default | Value | Meaning |\n|---|---|---|---|---|\n")
	for _, s := range Settings {
		flagName := "*(none)*"
		if s.Flag != "" {
			flagName = "`--" + s.Flag + "`"
		}
		def := "*(none)*"
		switch {
		case s.DocDefault != "":
			def = "*(" + s.DocDefault + ")*"
		case s.Default != "":
			def = "`" + s.Default + "`"
		}
		meaning := capitalize(s.Help) + "."
		if s.Doc != "" {
			meaning += " " + s.Doc
		}
		if s.Secret {
			meaning += " **Secret**: never shown in an error."
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n",
			s.Env, flagName, cell(def), cell(plain(s.field.expect())), cell(meaning))
	}
	b.WriteString("\n| Command | Reads |\n|---|---|\n")
	for _, c := range Commands {
		settings, err := settingsOf(c.Name, c.Settings)
		if err != nil {
			panic(err) // a bad row; TestCommandsUseKnownSettings catches it
		}
		reads := "*(no settings: only its own flags)*"
		if len(settings) > 0 {
			var envs []string
			for _, s := range settings {
				envs = append(envs, "`"+s.Env+"`")
			}
			reads = strings.Join(envs, ", ")
		}
		fmt.Fprintf(&b, "| `visad %s` | %s |\n", c.Name, reads)
	}
	return b.String()
}

// UpdateDocs returns doc with its generated part replaced by DocsTable.
func UpdateDocs(doc []byte) ([]byte, error) {
	begin := bytes.Index(doc, []byte(docsBegin))
	end := bytes.Index(doc, []byte(docsEnd))
	if begin < 0 || end < begin {
		return nil, errors.New("no generated part: want the lines " + docsBegin + " and " + docsEnd)
	}
	var out bytes.Buffer
	out.Write(doc[:begin+len(docsBegin)])
	out.WriteString("\n\n" + DocsTable() + "\n")
	out.Write(doc[end:])
	return out.Bytes(), nil
}

// plain escapes what Markdown would take for HTML in text outside code.
func plain(s string) string { return strings.ReplaceAll(s, "<", `\<`) }

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
