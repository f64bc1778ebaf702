package domain

import (
	"slices"
	"time"
	"unicode"
	"unicode/utf8"
)

// Signing in to the consoles (docs/consoles.md#signing-in): the rules about
// accounts, second factors, lockout and sessions. The web and service layers
// apply them; the numbers a deployment may tune are settings
// (VISA_STAFF_SESSION_IDLE, VISA_STAFF_SESSION_MAX, VISA_STAFF_LOCKOUT).

// AccountRoles are the roles of accounts that sign in to a console: staff,
// and the people of a chamber of commerce.
var AccountRoles = []Role{RoleOfficer, RoleSupervisor, RoleAdmin, RoleChamber}

// IsAccount reports whether r is the role of an account that may sign in to a console.
func (r Role) IsAccount() bool { return slices.Contains(AccountRoles, r) }

// NeedsSecondFactor reports whether an account of role r must prove a second
// factor (TOTP) at every sign-in. The issue makes it mandatory for
// supervisors and admins; visad makes it mandatory for every account, since
// an officer decides visas and a chamber submits them by the thousand.
func (r Role) NeedsSecondFactor() bool { return r.IsAccount() }

// ManagesAccounts reports whether r may create, disable and reset accounts and see the audit status.
func (r Role) ManagesAccounts() bool { return r == RoleAdmin }

// MaxFailedSignIns is how many failed sign-ins in a row (a wrong password or
// a wrong code) lock an account.
const MaxFailedSignIns = 10

// LocksAccount reports whether the failures-th failure in a row locks the account.
func LocksAccount(failures int) bool { return failures >= MaxFailedSignIns }

// Defaults of the settings that tune sign-in.
const (
	DefaultStaffLockout     = 15 * time.Minute
	DefaultStaffSessionIdle = 30 * time.Minute
	DefaultStaffSessionMax  = 12 * time.Hour
	// SecondFactorWindow is how long the second step of a sign-in waits for its code.
	SecondFactorWindow = 5 * time.Minute
	// EnrolmentLinkLifetime is how long a one-time enrolment link works.
	EnrolmentLinkLifetime = 7 * 24 * time.Hour
)

// FreeAddressFailures is how many failed sign-ins one network address may
// make within AddressFailureMemory before it must wait between attempts:
// enough for an office behind one address, too few to guess passwords.
const FreeAddressFailures = 20

// AddressFailureMemory is how long an address's failures count against it.
const AddressFailureMemory = 15 * time.Minute

// AddressBackoff is how long an address that has failed failures times must
// wait after its last failure before it may try again: nothing within the
// free allowance, then 1 s, doubling with each failure, at most 5 minutes.
func AddressBackoff(failures int) time.Duration {
	over := failures - FreeAddressFailures
	if over <= 0 {
		return 0
	}
	if over > 9 {
		return 5 * time.Minute
	}
	return min(time.Second<<(over-1), 5*time.Minute)
}

// SessionLive reports whether a console session created at created and last
// used at lastSeen may still act at now: it must be used within idle of its
// last use and ends absolute after it began, used or not.
func SessionLive(created, lastSeen, now time.Time, idle, absolute time.Duration) bool {
	return now.Before(lastSeen.Add(idle)) && now.Before(created.Add(absolute))
}

// Machine codes of a new password's errors.
const (
	CodeTooShort = "too_short"
	CodeTooWeak  = "too_weak"
)

// Password rules: long rather than complicated (NIST SP 800-63B).
const (
	MinPasswordLength = 12
	MaxPasswordLength = 128
)

// CheckPassword checks a new password: 12 to 128 characters, no control
// characters, not one character repeated, and not the sign-in name.
func CheckPassword(pointer, password, login string) FieldErrors {
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLength {
		return FieldErrors{{Pointer: pointer, Code: CodeTooShort, Detail: "must be at least 12 characters"}}
	}
	if n > MaxPasswordLength || !utf8.ValidString(password) {
		return FieldErrors{{Pointer: pointer, Code: CodeTooLong, Detail: "must be at most 128 characters"}}
	}
	first, _ := utf8.DecodeRuneInString(password)
	same := true
	for _, c := range password {
		if unicode.IsControl(c) {
			return FieldErrors{{Pointer: pointer, Code: CodeInvalidCharacters, Detail: "must not hold control characters"}}
		}
		same = same && c == first
	}
	if same || (login != "" && password == login) {
		return FieldErrors{{Pointer: pointer, Code: CodeTooWeak, Detail: "is too easy to guess"}}
	}
	return nil
}

// IsLogin reports whether s may be a sign-in name: 3 to 64 lowercase letters,
// digits and . _ - (no spaces, nothing a look-alike could imitate).
func IsLogin(s string) bool {
	if len(s) < 3 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
