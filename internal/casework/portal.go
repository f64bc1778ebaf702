package casework

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/keys"
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
	return cookieSafe(sealed, strings.NewReplacer("+", "-", "/", "_")), err
}

// cookieSafe re-encodes a sealed value's base64 tail (after its last '.') URL-safe, since cookie values may not
// hold '+' or '/' unquoted, and leaves its head (format and key id, which may hold '-' or '_') alone.
func cookieSafe(sealed string, r *strings.Replacer) string {
	i := strings.LastIndexByte(sealed, '.')
	return sealed[:i+1] + r.Replace(sealed[i+1:])
}

// OpenDraft opens what SealDraft sealed, unless it is too old or was altered.
func (s *Service) OpenDraft(sealed string) (domain.Application, string, error) {
	b, err := s.Keys.Open(cookieSafe(sealed, strings.NewReplacer("-", "+", "_", "/")), draftAAD)
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

// SignInCodeLifetime is how long an e-mailed one-time code is valid.
const SignInCodeLifetime = 15 * time.Minute

// SendSignInCode finds a case as LookupStatus does (every mismatch the same)
// and e-mails a one-time code to the address on the application, through
// the outbox. It returns the status and the challenge the browser keeps.
func (s *Service) SendSignInCode(
	ctx context.Context,
	reference, passportNumber, dateOfBirth string,
) (StatusSummary, string, error) {
	st, err := s.LookupStatus(ctx, reference, passportNumber, dateOfBirth)
	if err != nil {
		return st, "", err
	}
	app, err := s.Store.GetApplicationByReference(ctx, st.Reference)
	if err != nil {
		return st, "", err
	}
	now := s.now()
	b := randomBytes(8)
	code := fmt.Sprintf("%06d", binary.BigEndian.Uint64(b)%1_000_000)
	challenge := base64.RawURLEncoding.EncodeToString(randomBytes(18))
	sealed, err := s.Keys.Seal([]byte(code), "sign-in:"+app.ID)
	if err != nil {
		return st, "", err
	}
	err = s.Store.CreateSignInCode(ctx, db.SignInCode{ID: challenge, ApplicationID: app.ID,
		Seq:      -now.UnixMicro(), // below every status change's seq, unique per microsecond
		CodeHash: keys.HashToken("sign-in:" + challenge + ":" + code), CodeSealed: sealed,
		CreatedAtMS: now.UnixMilli(), ExpiresAtMS: now.Add(SignInCodeLifetime).UnixMilli()})
	return st, challenge, err
}

// RedeemSignInCode trades a challenge and its e-mailed code for the case's
// capability. A wrong, used, expired or exhausted code is NotFound, alike.
func (s *Service) RedeemSignInCode(ctx context.Context, challenge, code string) (id, accessToken string, err error) {
	wrong := notFound("the code is not valid")
	row, err := s.Store.GetSignInCode(ctx, challenge)
	if errors.Is(err, db.ErrNotFound) {
		return "", "", wrong
	}
	if err != nil {
		return "", "", err
	}
	ok, err := s.Store.TakeSignInAttempt(ctx, challenge, s.now())
	if err != nil || !ok {
		return "", "", cmpErr(err, wrong)
	}
	given := keys.HashToken("sign-in:" + challenge + ":" + strings.TrimSpace(code))
	if subtle.ConstantTimeCompare([]byte(given), []byte(row.CodeHash)) != 1 {
		return "", "", wrong
	}
	if ok, err = s.Store.UseSignInCode(ctx, challenge, s.now()); err != nil || !ok {
		return "", "", cmpErr(err, wrong)
	}
	return row.ApplicationID, s.Keys.AccessToken(row.ApplicationID), nil
}

func cmpErr(err error, otherwise *Error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// SealAnswerUploads seals, for a cookie, the uploads an applicant has
// gathered for an answer to a request for information on the case
// applicationID that is not sent yet (another file of it was refused): the
// portal keeps them between tries without putting an upload id in a URL.
func (s *Service) SealAnswerUploads(applicationID string, refs []domain.DocumentRef) (string, error) {
	b, err := json.Marshal(sealedAnswer{Refs: refs, SavedAt: s.now().Unix()})
	if err != nil {
		return "", err
	}
	sealed, err := s.Keys.Seal(b, answerAAD+applicationID)
	return cookieSafe(sealed, strings.NewReplacer("+", "-", "/", "_")), err
}

// OpenAnswerUploads opens what SealAnswerUploads sealed for this case;
// nothing when it is another case's, altered or older than DraftLifetime.
func (s *Service) OpenAnswerUploads(sealed, applicationID string) []domain.DocumentRef {
	b, err := s.Keys.Open(cookieSafe(sealed, strings.NewReplacer("-", "+", "_", "/")), answerAAD+applicationID)
	if err != nil {
		return nil
	}
	var a sealedAnswer
	if json.Unmarshal(b, &a) != nil || s.now().Sub(time.Unix(a.SavedAt, 0)) > DraftLifetime {
		return nil
	}
	return a.Refs
}

type sealedAnswer struct {
	Refs    []domain.DocumentRef `json:"r"`
	SavedAt int64                `json:"t"`
}

const answerAAD = "portal-answer:"
