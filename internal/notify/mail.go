package notify

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"strings"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/visad/visad/domain"
)

// E-mails speak the applicant's language (the one they used in the portal;
// English otherwise), as text and HTML, with the reference, what changed,
// what to do next and a link to the case page — never a token in a link.

//go:embed locales/*.json
var localeFS embed.FS

// Languages are the e-mails' languages, the default first.
var Languages = []language.Tag{language.English, language.Russian}

var bundle = func() *i18n.Bundle {
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	files, _ := fs.Glob(localeFS, "locales/*.json")
	for _, f := range files {
		if _, err := b.LoadMessageFileFS(localeFS, f); err != nil {
			panic(fmt.Sprintf("notify: catalogue %s: %v", f, err))
		}
	}
	return b
}()

// mail is one composed e-mail.
type mail struct {
	Lang, Subject, Text, HTML string
}

var htmlMail = template.Must(template.New("mail").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family:Arial,sans-serif;font-size:16px;line-height:1.4;color:#0b0c0c">
<p style="font-size:14px;color:#505a5f">{{.RefLabel}} <strong>{{.Reference}}</strong></p>
<h1 style="font-size:24px">{{.What}}</h1>
<p>{{.Body}}</p>
<p>{{.Next}}</p>
<p><a href="{{.URL}}" style="color:#1d70b8">{{.LinkText}}</a></p>
<p style="font-size:14px;color:#505a5f">{{.LinkNote}}</p>
<hr><p style="font-size:14px;color:#505a5f">{{.Footer}}<br>{{.Why}}</p>
</body></html>`))

// compose writes the e-mail about a change (kind is the status it reached).
func compose(kind, reference, lang, caseURL string) (mail, error) {
	tag, err := language.Parse(lang)
	if err != nil {
		tag = language.English
	}
	loc := i18n.NewLocalizer(bundle, tag.String(), language.English.String())
	t := func(id string, data map[string]any) string {
		s, err := loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
		if err != nil {
			return ""
		}
		return s
	}
	if t("mail.body."+kind, nil) == "" {
		kind = "changed"
	}
	ref := map[string]any{"Reference": reference}
	v := struct {
		Lang, Subject, RefLabel, Reference, What, Body, Next, URL, LinkText, LinkNote, Footer, Why string
	}{
		Lang: tag.String(), RefLabel: t("mail.reference", nil), Reference: reference,
		What: t("mail.what."+kind, nil), Body: t("mail.body."+kind, nil), Next: t("mail.next."+kind, nil),
		URL: caseURL, LinkText: t("mail.link", nil), LinkNote: t("mail.link_note", nil),
		Footer: t("mail.footer", nil), Why: t("mail.why", nil),
	}
	v.Subject = t("mail.subject", map[string]any{"Reference": reference, "What": t("mail.subject."+kind, ref)})
	text := strings.Join([]string{v.RefLabel + " " + reference, "", v.What, "", v.Body, "", v.Next, "",
		v.LinkText + ": " + caseURL, v.LinkNote, "", "-- ", v.Footer, v.Why, ""}, "\r\n")
	var h bytes.Buffer
	if err := htmlMail.Execute(&h, v); err != nil {
		return mail{}, err
	}
	return mail{Lang: v.Lang, Subject: v.Subject, Text: text, HTML: h.String()}, nil
}

// message renders the full RFC 5322 message: headers mail servers expect,
// then text and HTML as multipart/alternative, quoted-printable.
func message(from, to, messageID string, date time.Time, m mail) ([]byte, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, part := range []struct{ typ, content string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(part.content)); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	head := strings.Join([]string{
		"From: " + from,
		"To: " + to,
		"Subject: " + mime.QEncoding.Encode("utf-8", m.Subject),
		"Date: " + date.Format(time.RFC1123Z),
		// A stable Message-ID lets mail systems recognise a resend of the same event.
		"Message-ID: " + messageID,
		"Content-Language: " + m.Lang,
		"Auto-Submitted: auto-generated",
		"MIME-Version: 1.0",
		"Content-Type: multipart/alternative; boundary=" + mw.Boundary(),
		"", "",
	}, "\r\n")
	return append([]byte(head), body.Bytes()...), nil
}

// notifiedKinds are the statuses the applicant hears about (for the catalogue test).
func notifiedKinds() []string {
	var out []string
	for _, s := range domain.AllStatuses {
		if s.NotifiesApplicant() {
			out = append(out, string(s))
		}
	}
	return append(out, "changed")
}

// composeCode writes the e-mail with a one-time sign-in code. It has no link:
// the code is typed into the page that asked for it.
func composeCode(code, reference, lang string) (mail, error) {
	tag, err := language.Parse(lang)
	if err != nil {
		tag = language.English
	}
	loc := i18n.NewLocalizer(bundle, tag.String(), language.English.String())
	t := func(id string, data map[string]any) string {
		s, _ := loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
		return s
	}
	data := map[string]any{"Reference": reference, "Code": code, "Minutes": 15}
	m := mail{Lang: tag.String(), Subject: t("mail.code.subject", data)}
	body, note := t("mail.code.body", data), t("mail.code.note", data)
	m.Text = strings.Join([]string{body, "", "    " + code, "", note, "", "-- ", t("mail.footer", nil), ""}, "\r\n")
	var h bytes.Buffer
	err = codeMail.Execute(&h, map[string]string{"Lang": m.Lang, "Subject": m.Subject, "Body": body,
		"Code": code, "Note": note, "Footer": t("mail.footer", nil)})
	m.HTML = h.String()
	return m, err
}

var codeMail = template.Must(template.New("code").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family:Arial,sans-serif;font-size:16px;line-height:1.4;color:#0b0c0c">
<p>{{.Body}}</p>
<p style="font-size:32px;font-weight:bold;letter-spacing:.2em">{{.Code}}</p>
<p>{{.Note}}</p>
<hr><p style="font-size:14px;color:#505a5f">{{.Footer}}</p>
</body></html>`))
