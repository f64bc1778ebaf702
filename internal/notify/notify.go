// Package notify sends the e-mails of the notification outbox: every
// applicant-visible change of a case is written to the outbox in the same
// transaction as the change, and the dispatcher delivers it over SMTP with
// retries. A row is leased while it is sent and marked sent after the SMTP
// server accepted it, so a failed attempt is retried and a delivered one is
// not sent again.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/keys"
)

// Dispatcher delivers outbox notifications.
type Dispatcher struct {
	Store           *db.Store
	Keys            *keys.Keyring
	SMTPURL         string // smtp://[user:pass@]host:port; empty: log instead of sending (dev)
	From            string
	SupervisorEmail string
	Log             *slog.Logger
	// Lease is how long a claimed row is reserved for one attempt.
	Lease time.Duration
	// RetryBase is the first retry delay; it doubles per attempt up to an hour.
	RetryBase time.Duration
}

// Run dispatches every interval until ctx ends.
func (d *Dispatcher) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := d.RunOnce(ctx); err != nil && ctx.Err() == nil {
			d.Log.Warn("notification dispatch", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce sends the notifications that are due and returns how many were delivered.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	// A small batch with a long lease: each row is sent well before its lease
	// ends, so another dispatcher never picks it up while this one is sending.
	lease := d.Lease
	if lease <= 0 {
		lease = 5 * time.Minute
	}
	due, err := d.Store.ClaimNotifications(ctx, time.Now(), lease, 10)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, n := range due {
		if err := d.deliver(ctx, n); err != nil {
			next := time.Now().Add(d.backoff(n.Attempts))
			// The error names the SMTP exchange, never the recipient.
			d.Log.Warn("notification not delivered; will retry", "application_id", n.ApplicationID, "kind", n.Kind,
				"attempt", n.Attempts+1, "retry_at", next.Format(time.RFC3339))
			if markErr := d.Store.MarkNotificationFailed(ctx, n, next, scrub(err)); markErr != nil {
				return sent, markErr
			}
			continue
		}
		if err := d.Store.MarkNotificationSent(ctx, n, time.Now()); err != nil {
			return sent, err
		}
		sent++
	}
	return sent, nil
}

func (d *Dispatcher) backoff(attempts int) time.Duration {
	base := d.RetryBase
	if base <= 0 {
		base = 30 * time.Second
	}
	delay := time.Duration(float64(base) * math.Pow(2, float64(attempts)))
	return min(delay, time.Hour)
}

func (d *Dispatcher) deliver(ctx context.Context, n db.Notification) error {
	app, err := d.Store.GetApplication(ctx, n.ApplicationID)
	if err != nil {
		return err
	}
	form, err := d.Keys.OpenForm(app.ID, app.FormSealed)
	if err != nil {
		return err
	}
	to := form.Applicant.Email
	subject, body := compose(n.Kind, app.Reference)
	if n.Kind == string(domain.EventEscalated) {
		to = d.SupervisorEmail
		subject = "Escalated: case " + app.Reference + " is at 75% of its decision deadline"
		body = "Case " + app.Reference + " (" + app.ID + ") has used 75% of its decision deadline " +
			"and is now at the top of the queue.\r\n"
		if to == "" {
			d.Log.Info("escalation (no VISA_SUPERVISOR_EMAIL set; not e-mailed)", "application_id", app.ID)
			return nil
		}
	}
	if d.SMTPURL == "" {
		d.Log.Info("notification (dev mode: not sent; set VISA_SMTP_URL to send)", "application_id", app.ID, "kind", n.Kind)
		return nil
	}
	msg := strings.Join([]string{
		"From: " + d.From,
		"To: " + to,
		"Subject: " + subject,
		// A stable Message-ID lets mail systems recognise a resend of the same event.
		fmt.Sprintf("Message-ID: <%s.%d@visad>", app.ID, n.Seq),
		"MIME-Version: 1.0",
		"Content-Type: text/plain; charset=utf-8",
		"",
		body,
	}, "\r\n")
	return d.send(to, []byte(msg))
}

func (d *Dispatcher) send(to string, msg []byte) error {
	u, err := url.Parse(d.SMTPURL)
	if err != nil || u.Host == "" {
		return errors.New("VISA_SMTP_URL is not an smtp://host:port URL")
	}
	var auth smtp.Auth
	if u.User != nil {
		pass, _ := u.User.Password()
		host, _, _ := net.SplitHostPort(u.Host)
		auth = smtp.PlainAuth("", u.User.Username(), pass, host)
	}
	return smtp.SendMail(u.Host, auth, addressOf(d.From), []string{to}, msg)
}

func addressOf(from string) string {
	if i := strings.LastIndex(from, "<"); i >= 0 {
		return strings.TrimSuffix(from[i+1:], ">")
	}
	return from
}

// scrub keeps an SMTP error's code and first words, which name no recipient.
func scrub(err error) string {
	s := err.Error()
	if i := strings.Index(s, "@"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

func compose(kind, reference string) (subject, body string) {
	texts := map[domain.Status]string{
		domain.StatusReceived: "We have received your business visa application. We will tell you when anything changes.",
		domain.StatusInformationRequested: "The case officer needs more information from you. " +
			"Please sign in with your access token and answer before the deadline shown there.",
		domain.StatusIssued:    "Your business visa has been issued. Its number and validity are shown on your application.",
		domain.StatusRefused:   "Your business visa application has been refused. The reason is shown on your application.",
		domain.StatusLapsed:    "Your application has been closed because the requested information did not arrive in time.",
		domain.StatusWithdrawn: "Your application has been withdrawn, as you asked.",
	}
	text, ok := texts[domain.Status(kind)]
	if !ok {
		text = "Your application has changed: " + kind + "."
	}
	return "Business visa application " + reference + ": " + strings.ReplaceAll(kind, "_", " "),
		"Application " + reference + "\r\n\r\n" + text + "\r\n\r\n-- Government of Pakistan business visa service\r\n"
}
