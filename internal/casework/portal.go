package casework

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/visad/visad/domain"
)

// The applicant portal (package web) keeps a form in progress in the
// browser, sealed: the service seals and opens it, so the portal never holds
// a key and personal data never travels in the clear.

// DraftLifetime is how long a sealed draft stays usable.
const DraftLifetime = 24 * time.Hour

type sealedDraft struct {
	Form    domain.Application `json:"f"`
	Choice  string             `json:"c,omitempty"` // the portal's own choices (e.g. host or chamber)
	SavedAt int64              `json:"t"`
}

const draftAAD = "portal-draft"

// SealDraft seals a form in progress and the portal's choice for a cookie.
func (s *Service) SealDraft(form domain.Application, choice string) (string, error) {
	b, err := json.Marshal(sealedDraft{Form: form, Choice: choice, SavedAt: s.now().Unix()})
	if err != nil {
		return "", err
	}
	sealed, err := s.Keys.Seal(b, draftAAD)
	// Cookie values may not hold '+', '/' or '=' unquoted: re-encode URL-safe.
	return strings.NewReplacer("+", "-", "/", "_").Replace(sealed), err
}

// OpenDraft opens what SealDraft sealed, unless it is too old or was altered.
func (s *Service) OpenDraft(sealed string) (domain.Application, string, error) {
	b, err := s.Keys.Open(strings.NewReplacer("-", "+", "_", "/").Replace(sealed), draftAAD)
	if err != nil {
		return domain.Application{}, "", err
	}
	var d sealedDraft
	if err := json.Unmarshal(b, &d); err != nil {
		return domain.Application{}, "", err
	}
	if s.now().Sub(time.Unix(d.SavedAt, 0)) > DraftLifetime {
		return domain.Application{}, "", errors.New("draft expired")
	}
	return d.Form, d.Choice, nil
}

// PageToken is a one-form token bound to a browser session: the portal puts
// it in every form it renders (against cross-site requests) and the submit
// form's token doubles as the Idempotency-Key, so a double click is one
// application.
func (s *Service) PageToken(session string) string {
	nonce := base64.RawURLEncoding.EncodeToString(randomBytes(16))
	return nonce + "." + s.Keys.MAC("page-token", session+"|"+nonce)
}

// VerifyPageToken reports whether token was issued to this session.
func (s *Service) VerifyPageToken(session, token string) bool {
	nonce, mac, ok := strings.Cut(token, ".")
	if !ok || session == "" || nonce == "" {
		return false
	}
	want := s.Keys.MAC("page-token", session+"|"+nonce)
	return subtle.ConstantTimeCompare([]byte(mac), []byte(want)) == 1
}

// NewSession returns a random browser session id (it names no one).
func NewSession() string { return base64.RawURLEncoding.EncodeToString(randomBytes(18)) }

// SubmitInLanguage is Submit for the portal: it also records the language
// the applicant used, so that every e-mail about the case speaks it.
func (s *Service) SubmitInLanguage(
	ctx context.Context,
	form domain.Application,
	idempotencyKey, language string,
) (Submitted, error) {
	sub, err := s.Submit(ctx, form, idempotencyKey)
	if err != nil {
		return sub, err
	}
	if err := s.Store.SetApplicationLanguage(ctx, sub.ID, language); err != nil {
		// The application stands; its e-mails fall back to English.
		s.Log.Warn("applicant language not recorded", "application_id", sub.ID, "error", err)
	}
	return sub, nil
}
