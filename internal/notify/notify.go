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
	// PortalURL is the portal's public base URL, for the link to the case page.
	PortalURL string
	Log       *slog.Logger
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
	messageID := fmt.Sprintf("<%s.%d@visad>", app.ID, n.Seq)
	if n.Kind == string(domain.EventEscalated) {
		if d.SupervisorEmail == "" {
			d.Log.Info("escalation (no VISA_SUPERVISOR_EMAIL set; not e-mailed)", "application_id", app.ID)
			return nil
		}
		// Staff mail: English, plain text.
		m := mail{Lang: "en", Subject: "Escalated: case " + app.Reference + " is at 75% of its decision deadline",
			Text: "Case " + app.Reference + " (" + app.ID + ") has used 75% of its decision deadline " +
				"and is now at the top of the queue.\r\n"}
		m.HTML = "<p>" + m.Text + "</p>"
		return d.sendMail(d.SupervisorEmail, messageID, m)
	}
	lang, err := d.Store.ApplicationLanguage(ctx, app.ID)
	if err != nil {
		return err
	}
	if n.Kind == db.NotificationSignInCode {
		code, err := d.Store.SignInCodeBySeq(ctx, app.ID, n.Seq)
		if err != nil {
			return err
		}
		plain, err := d.Keys.Open(code.CodeSealed, "sign-in:"+app.ID)
		if err != nil {
			return err
		}
		m, err := composeCode(string(plain), app.Reference, lang)
		if err != nil {
			return err
		}
		return d.sendMail(to, messageID, m)
	}
	// The link names the case page only: the applicant's browser holds the capability.
	m, err := compose(n.Kind, app.Reference, lang, strings.TrimRight(d.PortalURL, "/")+"/application")
	if err != nil {
		return err
	}
	return d.sendMail(to, messageID, m)
}

func (d *Dispatcher) sendMail(to, messageID string, m mail) error {
	if d.SMTPURL == "" {
		d.Log.Info("notification (dev mode: not sent; set VISA_SMTP_URL to send)", "message_id", messageID)
		return nil
	}
	msg, err := message(d.From, to, messageID, time.Now(), m)
	if err != nil {
		return err
	}
	return d.send(to, msg)
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
