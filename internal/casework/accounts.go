package casework

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/credentials"
	"github.com/visad/visad/internal/keys"
)

// Accounts is console sign-in (docs/consoles.md#signing-in): staff and
// chamber accounts with a password and a TOTP second factor, enrolled
// through a one-time link; lockout after failed sign-ins; server-side
// sessions with idle and absolute timeouts. Bearer tokens stay for the API.
type Accounts struct {
	Store *db.Store
	Keys  *keys.Keyring
	Now   func() time.Time
	// SessionIdle and SessionMax end a console session unused for SessionIdle
	// or SessionMax after sign-in; Lockout is how long MaxFailedSignIns
	// failures lock an account (zero: the domain's defaults).
	SessionIdle, SessionMax, Lockout time.Duration
	// PublicURL is the base of enrolment links (VISA_PUBLIC_URL).
	PublicURL string
}

func (a *Accounts) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// NewAccount is an account to create.
type NewAccount struct {
	Name      string
	Login     string // the sign-in name; empty: the account id
	Role      domain.Role
	ChamberID string // chamber accounts only
	ExpiresIn time.Duration
}

// CreatedAccount is a new account with its secrets, each shown once.
type CreatedAccount struct {
	ID, Login  string
	Role       domain.Role
	APIToken   string // the bearer token for the API
	EnrolURL   string // the one-time enrolment link for the console
	EnrolUntil time.Time
}

// CreateAccount creates a staff or chamber account: an API token and a
// one-time enrolment link. by names who did it in the audit trail.
func (a *Accounts) CreateAccount(ctx context.Context, by string, n NewAccount) (CreatedAccount, error) {
	if by != "" {
		ctx = db.WithAuditActor(ctx, by)
	}
	var bad domain.FieldErrors
	n.Name, n.Login = strings.TrimSpace(n.Name), strings.TrimSpace(n.Login)
	if n.Name == "" || len(n.Name) > 100 || !domain.IsFreeText(n.Name) {
		bad = append(bad, domain.FieldError{Pointer: "/name", Code: domain.CodeRequired,
			Detail: "is required: at most 100 characters, with letters and no control characters"})
	}
	if n.Login != "" && !domain.IsLogin(n.Login) {
		bad = append(bad, domain.FieldError{Pointer: "/login", Code: domain.CodeInvalidFormat,
			Detail: "must be 3 to 64 lowercase letters, digits, dots, dashes or underscores"})
	}
	if !n.Role.IsAccount() {
		bad = append(bad, domain.FieldError{Pointer: "/role", Code: domain.CodeOneOf,
			Detail: "must be officer, supervisor, admin or chamber"})
	}
	if n.Role == domain.RoleChamber {
		if _, err := a.Store.GetChamber(ctx, n.ChamberID); err != nil {
			if !errors.Is(err, db.ErrNotFound) {
				return CreatedAccount{}, err
			}
			bad = append(bad, domain.FieldError{Pointer: "/chamber_id", Code: domain.CodeRequired,
				Detail: "must name an existing chamber"})
		}
	} else if n.ChamberID != "" {
		bad = append(bad, domain.FieldError{Pointer: "/chamber_id", Code: domain.CodeOneOf,
			Detail: "only chamber accounts belong to a chamber"})
	}
	if len(bad) > 0 {
		return CreatedAccount{}, invalid(bad)
	}
	token, err := keys.NewStaffToken()
	if err != nil {
		return CreatedAccount{}, err
	}
	now := a.now()
	id := "usr_" + NewApplicationID()[4:]
	if n.Login == "" {
		n.Login = strings.ToLower(id)
	}
	enrol := newSecret("ven_")
	until := now.Add(domain.EnrolmentLinkLifetime)
	u := db.User{ID: id, Name: n.Name, Role: string(n.Role), TokenHash: keys.HashToken(token),
		CreatedAtMS: now.UnixMilli(), Login: sql.NullString{String: n.Login, Valid: true},
		EnrolHash:        sql.NullString{String: keys.HashToken(enrol), Valid: true},
		EnrolExpiresAtMS: sql.NullInt64{Int64: until.UnixMilli(), Valid: true},
		ChamberID:        sql.NullString{String: n.ChamberID, Valid: n.ChamberID != ""}}
	if n.ExpiresIn > 0 {
		u.ExpiresAtMS = sql.NullInt64{Int64: now.Add(n.ExpiresIn).UnixMilli(), Valid: true}
	}
	if err := a.Store.CreateUser(ctx, u); errors.Is(err, db.ErrLoginTaken) {
		return CreatedAccount{}, invalid(domain.FieldErrors{{Pointer: "/login", Code: "taken",
			Detail: "another account has this sign-in name"}})
	} else if err != nil {
		return CreatedAccount{}, err
	}
	return CreatedAccount{ID: id, Login: n.Login, Role: n.Role, APIToken: token, EnrolURL: a.EnrolURL(enrol),
		EnrolUntil: until}, nil
}

// EnrolPath is where enrolment links point, followed by the link's secret.
const EnrolPath = "/staff/enrol/"

// EnrolURL is the enrolment link of a secret.
func (a *Accounts) EnrolURL(secret string) string {
	return strings.TrimRight(a.PublicURL, "/") + EnrolPath + secret
}

func newSecret(prefix string) string {
	return prefix + base64.RawURLEncoding.EncodeToString(randomBytes(32))
}

// StaffIssuer names visad in authenticator apps.
const StaffIssuer = "visad"

// Enrolling is what the enrolment page shows.
type Enrolling struct {
	UserID, Name, Login string
	Role                domain.Role
	Secret              string // base32, for typing
	URI                 string // otpauth://, for the QR code
	NewPassword         bool   // true: choose a password; false: confirm the current one (a second factor reset)
}

var errEnrolLink = &Error{Kind: NotFound, Message: "this enrolment link is not valid: it was used, " +
	"replaced or has expired; ask an administrator for a new one"}

func (a *Accounts) enrolAccount(ctx context.Context, link string) (db.SignInAccount, error) {
	if link == "" || len(link) > 100 {
		return db.SignInAccount{}, errEnrolLink
	}
	acct, err := a.Store.AccountByEnrolHash(ctx, keys.HashToken(link))
	if errors.Is(err, db.ErrNotFound) {
		return db.SignInAccount{}, errEnrolLink
	}
	if err != nil {
		return db.SignInAccount{}, err
	}
	now := a.now()
	if !acct.Active(now) || !acct.EnrolExpiresAtMS.Valid || now.UnixMilli() >= acct.EnrolExpiresAtMS.Int64 {
		return db.SignInAccount{}, errEnrolLink
	}
	return acct, nil
}

// CheckEnrolLink reports (NotFound) whether an enrolment link is no longer valid.
func (a *Accounts) CheckEnrolLink(ctx context.Context, link string) error {
	_, err := a.enrolAccount(ctx, link)
	return err
}

func totpAD(userID string) string { return "totp:" + userID }

// Enrolment returns what the enrolment page of a link shows, drawing the
// account's new TOTP secret the first time.
func (a *Accounts) Enrolment(ctx context.Context, link string) (Enrolling, error) {
	acct, err := a.enrolAccount(ctx, link)
	if err != nil {
		return Enrolling{}, err
	}
	var secret string
	if acct.TOTPPendingSealed.Valid {
		b, err := a.Keys.Open(acct.TOTPPendingSealed.String, totpAD(acct.ID))
		if err != nil {
			return Enrolling{}, err
		}
		secret = string(b)
	} else {
		if secret, err = credentials.NewTOTPSecret(); err != nil {
			return Enrolling{}, err
		}
		sealed, err := a.Keys.Seal([]byte(secret), totpAD(acct.ID))
		if err != nil {
			return Enrolling{}, err
		}
		if err := a.Store.SetPendingTOTP(ctx, acct.ID, sealed); err != nil {
			return Enrolling{}, err
		}
	}
	return Enrolling{UserID: acct.ID, Name: acct.Name, Login: acct.Login.String, Role: domain.Role(acct.Role),
		Secret: secret, URI: credentials.TOTPURI(StaffIssuer, acct.Login.String, secret),
		NewPassword: !acct.PasswordHash.Valid}, nil
}

// EnrolForm is what the enrolment page posts.
type EnrolForm struct {
	Password, Confirm string // a new password, twice; or the current one (second factor reset)
	Code              string // the authenticator's code
}

// CompleteEnrolment sets the password and second factor of a link's account,
// uses the link up and signs the account in.
func (a *Accounts) CompleteEnrolment(ctx context.Context, link string, f EnrolForm) (Session, error) {
	acct, err := a.enrolAccount(ctx, link)
	if err != nil {
		return Session{}, err
	}
	if !acct.TOTPPendingSealed.Valid {
		return Session{}, errEnrolLink // the page was never shown
	}
	ctx = db.WithAuditActor(ctx, domain.ActorName(domain.Role(acct.Role), acct.ID))
	var bad domain.FieldErrors
	var pwHash string
	if !acct.PasswordHash.Valid {
		if errs := domain.CheckPassword("/password", f.Password, acct.Login.String); errs != nil {
			bad = append(bad, errs...)
		} else if f.Confirm != f.Password {
			bad = append(bad, domain.FieldError{Pointer: "/confirm", Code: "mismatch",
				Detail: "must be the same password again"})
		}
	} else if ok, _ := credentials.CheckPassword(acct.PasswordHash.String, f.Password); !ok {
		bad = append(bad, domain.FieldError{Pointer: "/password", Code: "wrong", Detail: "is not your password"})
	}
	b, err := a.Keys.Open(acct.TOTPPendingSealed.String, totpAD(acct.ID))
	if err != nil {
		return Session{}, err
	}
	step, ok := credentials.MatchTOTP(string(b), f.Code, a.now(), acct.TOTPLastStep)
	if !ok {
		bad = append(bad, domain.FieldError{Pointer: "/code", Code: "wrong",
			Detail: "is not the code your authenticator app shows now"})
	}
	if len(bad) > 0 {
		if acct.PasswordHash.Valid {
			// Guessing the current password through a reset link counts like any failed sign-in.
			if _, err := a.Store.RecordSignInFailure(ctx, acct.ID, "enrol", a.now(),
				orDefault(a.Lockout, domain.DefaultStaffLockout)); err != nil {
				return Session{}, err
			}
		}
		return Session{}, invalid(bad)
	}
	if !acct.PasswordHash.Valid {
		if pwHash, err = credentials.HashPassword(f.Password); err != nil {
			return Session{}, err
		}
	}
	done, err := a.Store.CompleteEnrolment(ctx, db.Enrolment{UserID: acct.ID, EnrolHash: keys.HashToken(link),
		PasswordHash: pwHash, TOTPSealed: acct.TOTPPendingSealed.String, TOTPStep: step, At: a.now()})
	if err != nil {
		return Session{}, err
	}
	if !done {
		return Session{}, errEnrolLink
	}
	return a.startSession(ctx, acct, true)
}

// Session is a console session: the cookie's secret and whose it is.
type Session struct {
	Secret   string // the cookie's value; only its hash is stored
	SignedIn bool   // false: the password was right, the second factor is awaited
	Account  Account
	Name     string
	Login    string
}

func (a *Accounts) startSession(ctx context.Context, acct db.SignInAccount, signedIn bool) (Session, error) {
	secret := newSecret("vss_")
	now := a.now()
	if err := a.Store.CreateStaffSession(ctx, db.StaffSession{IDHash: keys.HashToken(secret), UserID: acct.ID,
		SignedIn: signedIn, CreatedAtMS: now.UnixMilli(), LastSeenAtMS: now.UnixMilli()}); err != nil {
		return Session{}, err
	}
	return Session{Secret: secret, SignedIn: signedIn, Name: acct.Name, Login: acct.Login.String,
		Account: Account{ID: acct.ID, Role: domain.Role(acct.Role), ChamberID: acct.ChamberID.String}}, nil
}

// ErrSignIn is every refused sign-in: a wrong sign-in name, password or code,
// a locked or disabled account all read the same, so the answer tells a
// guesser nothing.
var ErrSignIn = &Error{Kind: Unauthenticated, Message: "the sign-in name, password or code is not right"}

// SignIn checks a sign-in name and password. It returns the pending session
// that awaits the second factor.
func (a *Accounts) SignIn(ctx context.Context, login, password string) (Session, error) {
	login = strings.ToLower(strings.TrimSpace(login))
	now := a.now()
	lockFor := orDefault(a.Lockout, domain.DefaultStaffLockout)
	var acct db.SignInAccount
	var err error
	if domain.IsLogin(login) {
		acct, err = a.Store.AccountByLogin(ctx, login)
	} else {
		err = db.ErrNotFound
	}
	if errors.Is(err, db.ErrNotFound) {
		credentials.CheckPassword("", password) // as long as a real check takes
		return Session{}, errors.Join(ErrSignIn,
			a.Store.AuditSignIn(ctx, db.AuditSignInFailed, db.AuditUnknownAccount, "unknown_account", now))
	}
	if err != nil {
		return Session{}, err
	}
	ctx = db.WithAuditActor(ctx, domain.ActorName(domain.Role(acct.Role), acct.ID))
	switch {
	case !acct.Active(now):
		credentials.CheckPassword("", password)
		return Session{}, errors.Join(ErrSignIn, a.Store.AuditSignIn(ctx, db.AuditSignInRefused, acct.ID, "disabled", now))
	case acct.LockedAt(now):
		credentials.CheckPassword("", password)
		return Session{}, errors.Join(ErrSignIn, a.Store.AuditSignIn(ctx, db.AuditSignInRefused, acct.ID, "locked", now))
	}
	ok, stale := credentials.CheckPassword(acct.PasswordHash.String, password)
	if !ok || !acct.Enrolled() {
		reason := "password"
		if ok {
			reason = "not_enrolled"
		}
		_, err := a.Store.RecordSignInFailure(ctx, acct.ID, reason, now, lockFor)
		return Session{}, errors.Join(ErrSignIn, err)
	}
	if stale {
		if h, err := credentials.HashPassword(password); err == nil {
			_ = a.Store.SetPasswordHash(ctx, acct.ID, h) // best effort: the old hash still works
		}
	}
	return a.startSession(ctx, acct, !domain.Role(acct.Role).NeedsSecondFactor())
}

// SecondFactor checks the code of a pending session's account and, if it is
// right (and unused), replaces the pending session with a signed-in one.
func (a *Accounts) SecondFactor(ctx context.Context, pending, code string) (Session, error) {
	now := a.now()
	ss, acct, err := a.lookup(ctx, pending)
	if err != nil {
		return Session{}, err
	}
	if ss.SignedIn || now.After(time.UnixMilli(ss.CreatedAtMS).Add(domain.SecondFactorWindow)) {
		_ = a.Store.DeleteStaffSession(ctx, ss.IDHash)
		return Session{}, ErrSignIn
	}
	ctx = db.WithAuditActor(ctx, domain.ActorName(domain.Role(acct.Role), acct.ID))
	if !acct.Active(now) || acct.LockedAt(now) {
		_ = a.Store.DeleteStaffSession(ctx, ss.IDHash)
		return Session{}, ErrSignIn
	}
	secret, err := a.Keys.Open(acct.TOTPSealed.String, totpAD(acct.ID))
	if err != nil {
		return Session{}, err
	}
	step, ok := credentials.MatchTOTP(string(secret), code, now, acct.TOTPLastStep)
	if ok {
		// One statement decides between two requests racing with the same code.
		if ok, err = a.Store.UseTOTPStep(ctx, acct.ID, step); err != nil {
			return Session{}, err
		}
	}
	if !ok {
		_, err := a.Store.RecordSignInFailure(ctx, acct.ID, "code", now, orDefault(a.Lockout, domain.DefaultStaffLockout))
		return Session{}, errors.Join(ErrSignIn, err)
	}
	if err := a.Store.DeleteStaffSession(ctx, ss.IDHash); err != nil {
		return Session{}, err
	}
	// A new id for the signed-in session: whoever saw the pending one holds nothing.
	return a.startSession(ctx, acct, true)
}

var errNoSession = &Error{Kind: Unauthenticated, Message: "not signed in"}

func (a *Accounts) lookup(ctx context.Context, secret string) (db.StaffSession, db.SignInAccount, error) {
	if !strings.HasPrefix(secret, "vss_") || len(secret) > 100 {
		return db.StaffSession{}, db.SignInAccount{}, errNoSession
	}
	ss, err := a.Store.GetStaffSession(ctx, keys.HashToken(secret))
	if errors.Is(err, db.ErrNotFound) {
		return db.StaffSession{}, db.SignInAccount{}, errNoSession
	}
	if err != nil {
		return db.StaffSession{}, db.SignInAccount{}, err
	}
	acct, err := a.Store.AccountByID(ctx, ss.UserID)
	if err != nil {
		return db.StaffSession{}, db.SignInAccount{}, err
	}
	return ss, acct, nil
}

// Session finds the signed-in session of a cookie's secret and records its
// use; Unauthenticated when there is none, or it has timed out, or the
// account is disabled.
func (a *Accounts) Session(ctx context.Context, secret string) (Session, error) {
	ss, acct, err := a.lookup(ctx, secret)
	if err != nil {
		return Session{}, err
	}
	now := a.now()
	idle := orDefault(a.SessionIdle, domain.DefaultStaffSessionIdle)
	max := orDefault(a.SessionMax, domain.DefaultStaffSessionMax)
	if !ss.SignedIn || !acct.Active(now) ||
		!domain.SessionLive(time.UnixMilli(ss.CreatedAtMS), time.UnixMilli(ss.LastSeenAtMS), now, idle, max) {
		if ss.SignedIn {
			_ = a.Store.DeleteStaffSession(ctx, ss.IDHash)
		}
		return Session{}, errNoSession
	}
	// Writing every request's time would make each page a write; a minute's precision is enough.
	if now.Sub(time.UnixMilli(ss.LastSeenAtMS)) > 15*time.Second {
		if err := a.Store.TouchStaffSession(ctx, ss.IDHash, now); err != nil {
			return Session{}, err
		}
	}
	return Session{Secret: secret, SignedIn: true, Name: acct.Name, Login: acct.Login.String,
		Account: Account{ID: acct.ID, Role: domain.Role(acct.Role), ChamberID: acct.ChamberID.String}}, nil
}

// PendingSession reports whether secret is a session awaiting its second factor.
func (a *Accounts) PendingSession(ctx context.Context, secret string) bool {
	ss, _, err := a.lookup(ctx, secret)
	return err == nil && !ss.SignedIn && a.now().Before(time.UnixMilli(ss.CreatedAtMS).Add(domain.SecondFactorWindow))
}

// SignOut ends the session of a cookie's secret.
func (a *Accounts) SignOut(ctx context.Context, secret string) error {
	return a.Store.DeleteStaffSession(ctx, keys.HashToken(secret))
}

// SignOutEverywhere ends every session of an account. by names who did it
// in the audit trail.
func (a *Accounts) SignOutEverywhere(ctx context.Context, by, userID string) (int64, error) {
	if by != "" {
		ctx = db.WithAuditActor(ctx, by)
	}
	return a.Store.DeleteStaffSessions(ctx, userID, a.now())
}

// FormToken is a form token bound to a console session (see Service.PageToken).
func (a *Accounts) FormToken(sessionSecret string) string {
	nonce := base64.RawURLEncoding.EncodeToString(randomBytes(16))
	return nonce + "." + a.Keys.MAC("staff-form", keys.HashToken(sessionSecret)+"|"+nonce)
}

// VerifyFormToken reports whether token was issued to this console session.
func (a *Accounts) VerifyFormToken(sessionSecret, token string) bool {
	nonce, mac, ok := strings.Cut(token, ".")
	if !ok || sessionSecret == "" || nonce == "" {
		return false
	}
	want := a.Keys.MAC("staff-form", keys.HashToken(sessionSecret)+"|"+nonce)
	return subtle.ConstantTimeCompare([]byte(mac), []byte(want)) == 1
}

// AccountRow is one account in the admin's list.
type AccountRow struct {
	ID, Name, Login string
	Role            domain.Role
	ChamberID       string
	CreatedAt       time.Time
	Active          bool
	Enrolled        bool // a password and a second factor
	EnrolPending    bool // an enrolment link is out
	LockedUntil     time.Time
	Sessions        int
}

// List lists every account, oldest first.
func (a *Accounts) List(ctx context.Context) ([]AccountRow, error) {
	rows, err := a.Store.ListAccounts(ctx)
	if err != nil {
		return nil, err
	}
	now := a.now()
	out := make([]AccountRow, 0, len(rows))
	for _, r := range rows {
		row := AccountRow{ID: r.ID, Name: r.Name, Login: r.Login.String, Role: domain.Role(r.Role),
			ChamberID: r.ChamberID.String, CreatedAt: time.UnixMilli(r.CreatedAtMS).UTC(), Active: r.Active(now),
			Enrolled: r.Enrolled, Sessions: r.Sessions,
			EnrolPending: r.EnrolHash.Valid && r.EnrolExpiresAtMS.Valid && now.UnixMilli() < r.EnrolExpiresAtMS.Int64}
		if r.LockedUntilMS.Valid && now.UnixMilli() < r.LockedUntilMS.Int64 {
			row.LockedUntil = time.UnixMilli(r.LockedUntilMS.Int64).UTC()
		}
		out = append(out, row)
	}
	return out, nil
}

var errSelf = &Error{Kind: Conflict, Message: "administrators cannot disable or reset their own account"}

// Disable revokes an account: its API token and console sessions stop
// working at once. by (an admin's actor name) may not disable itself.
func (a *Accounts) Disable(ctx context.Context, by, byID, id string) error {
	if id == byID {
		return errSelf
	}
	ctx = db.WithAuditActor(ctx, by)
	ok, err := a.Store.RevokeUser(ctx, id, a.now())
	if err != nil {
		return err
	}
	if !ok {
		return notFound("no active account " + id)
	}
	_, err = a.Store.DeleteStaffSessions(ctx, id, a.now())
	return err
}

// ResetSecondFactor removes an account's second factor, signs it out
// everywhere and returns a new one-time enrolment link, on which the person
// confirms their password and sets up the authenticator again.
func (a *Accounts) ResetSecondFactor(ctx context.Context, by, byID, id string) (link string, until time.Time,
	err error) {
	if id == byID {
		return "", time.Time{}, errSelf
	}
	ctx = db.WithAuditActor(ctx, by)
	secret := newSecret("ven_")
	now := a.now()
	until = now.Add(domain.EnrolmentLinkLifetime)
	ok, err := a.Store.ResetSecondFactor(ctx, id, keys.HashToken(secret), until, now)
	if err != nil {
		return "", time.Time{}, err
	}
	if !ok {
		return "", time.Time{}, notFound("no active account " + id)
	}
	return a.EnrolURL(secret), until, nil
}

// Chambers lists the chambers of commerce.
func (a *Accounts) Chambers(ctx context.Context) ([]db.Chamber, error) {
	return a.Store.ListChambers(ctx)
}

// AuditStatus verifies the whole audit chain, as `visad audit verify` does.
func (a *Accounts) AuditStatus(ctx context.Context) (db.AuditReport, error) {
	return a.Store.VerifyAudit(ctx)
}
