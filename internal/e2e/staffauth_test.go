package e2e_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/testenv"
)

// Console sign-in over plain HTTP on the real stack (issue 15, must-show 3).

func auditActions(t *testing.T, env *testenv.Env, subject string) []string {
	t.Helper()
	recs, err := env.Store.ListAudit(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		if r.Subject == subject {
			out = append(out, r.Action+" "+r.Detail)
		}
	}
	return out
}

// Ten wrong passwords lock the account: the right password and code are
// then refused too, until the lock ends; every failure is audited by
// account id and reason, never by the name typed or the password.
func TestStaffTenWrongPasswordsLockTheAccount(t *testing.T) {
	if testing.Short() {
		t.Skip("real stack")
	}
	const lockFor = 4 * time.Second
	env := testenv.Start(t, testenv.Options{StaffLockout: lockFor})
	_, acct := signInStaffHTTP(t, env, domain.RoleOfficer)
	c := newPortalClient(t, env)
	if status, loc := c.signIn(acct, staffPassword); status != http.StatusSeeOther || loc != "/staff/" {
		t.Fatalf("right password before any failure: %d %s", status, loc)
	}
	c = newPortalClient(t, env)
	for i := 1; i <= domain.MaxFailedSignIns; i++ {
		if status, _ := c.signIn(acct, "wrong password number "+string(rune('a'+i))); status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d, want 401", i, status)
		}
	}
	lockedAt := time.Now()
	status, loc := c.signIn(acct, staffPassword)
	if status != http.StatusUnauthorized {
		t.Fatalf("right password after ten wrong ones: %d %s, want 401 (locked)", status, loc)
	}
	audit := strings.Join(auditActions(t, env, acct.ID), "\n")
	for _, want := range []string{db.AuditSignInFailed + " reason=password failures=1",
		db.AuditSignInFailed + " reason=password failures=10", db.AuditUserLocked, db.AuditSignInRefused + " reason=locked"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit of %s lacks %q:\n%s", acct.ID, want, audit)
		}
	}
	for _, secret := range []string{staffPassword, "wrong password", acct.Login} {
		if strings.Contains(audit, secret) {
			t.Errorf("the audit trail holds %q", secret)
		}
	}
	// An unknown name is audited without the name.
	c.do("POST", "/staff/sign-in", url.Values{"page_token": {c.token("/staff/sign-in")},
		"login": {"no.such.person"}, "password": {"whatever it is"}})
	unknown := strings.Join(auditActions(t, env, db.AuditUnknownAccount), "\n")
	if !strings.Contains(unknown, "reason=unknown_account") || strings.Contains(unknown, "no.such") {
		t.Errorf("unknown account audit: %q", unknown)
	}
	time.Sleep(time.Until(lockedAt.Add(lockFor + 200*time.Millisecond)))
	if status, loc := c.signIn(acct, staffPassword); status != http.StatusSeeOther || loc != "/staff/" {
		t.Fatalf("right password once the lock ended: %d %s", status, loc)
	}
}

// A cross-site POST is refused before any handler runs, signed in or not;
// a console form without this session's token is refused too.
func TestConsoleCrossSitePostRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("real stack")
	}
	env := testenv.Start(t, testenv.Options{})
	c, acct := signInStaffHTTP(t, env, domain.RoleAdmin)
	tok := c.token("/staff/account")
	crossSite := []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}
	for _, path := range []string{"/staff/sign-out", "/staff/account/sign-out-everywhere"} {
		res, _ := c.do("POST", path, url.Values{"page_token": {tok}}, crossSite...)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site POST %s: %d, want 403", path, res.StatusCode)
		}
	}
	res, _ := c.do("POST", "/staff/sign-in", url.Values{"page_token": {c.token("/staff/sign-in")},
		"login": {acct.Login}, "password": {staffPassword}}, crossSite...)
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site sign-in: %d, want 403", res.StatusCode)
	}
	// Same site, but a token of another session (or none): refused.
	other, _ := signInStaffHTTP(t, env, domain.RoleOfficer)
	for _, token := range []string{"", other.token("/staff/account")} {
		if res, _ := c.do("POST", "/staff/sign-out", url.Values{"page_token": {token}}); res.StatusCode != 403 {
			t.Errorf("sign-out with token %q: %d, want 403", token, res.StatusCode)
		}
	}
	// None of that signed anybody out.
	if res, _ := c.do("GET", "/staff/account", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("still signed in: %d", res.StatusCode)
	}
	if res, _ := c.do("POST", "/staff/sign-out", url.Values{"page_token": {tok}}); res.StatusCode != 303 {
		t.Fatalf("same-site sign-out with the page's token: %d", res.StatusCode)
	}
}

// An applicant's session, a chamber's and an officer's see 404 on pages
// not theirs; nobody learns more from a staff path than "not found".
func TestConsolePagesAreNotFoundForOtherSessions(t *testing.T) {
	if testing.Short() {
		t.Skip("real stack")
	}
	env := testenv.Start(t, testenv.Options{})
	applicant := newPortalClient(t, env)
	fillPortalForm(applicant, testenv.UniquePassport())
	res, body := applicant.do("POST", "/apply/check", url.Values{"page_token": {applicant.token("/apply/check")}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit: %d %s", res.StatusCode, body)
	}
	if applicant.cookies["visad_case"] == "" {
		t.Fatal("the applicant holds no case cookie")
	}
	chamberID, _ := env.Chamber("Almaty Chamber of Commerce")
	chamber, _ := signInChamberHTTP(t, env, chamberID)
	officer, _ := signInStaffHTTP(t, env, domain.RoleOfficer)
	admin, _ := signInStaffHTTP(t, env, domain.RoleAdmin)
	anonymous := newPortalClient(t, env)
	for _, tc := range []struct {
		who    string
		c      *portalClient
		path   string
		status int
	}{
		{"applicant", applicant, "/staff/", 404}, {"applicant", applicant, "/staff/admin/", 404},
		{"applicant", applicant, "/staff/account", 404}, {"applicant", applicant, "/chamber/", 404},
		{"anonymous", anonymous, "/staff/", 404}, {"anonymous", anonymous, "/chamber/", 404},
		{"chamber", chamber, "/staff/", 404}, {"chamber", chamber, "/staff/admin/", 404},
		{"chamber", chamber, "/chamber/", 200},
		{"officer", officer, "/chamber/", 404}, {"officer", officer, "/staff/admin/", 404},
		{"officer", officer, "/staff/", 200},
		{"admin", admin, "/staff/admin/", 200},
	} {
		res, body := tc.c.do("GET", tc.path, nil)
		if res.StatusCode != tc.status {
			t.Errorf("%s GET %s: %d, want %d", tc.who, tc.path, res.StatusCode, tc.status)
		}
		if tc.status == 404 && !strings.Contains(body, "Page not found") {
			t.Errorf("%s GET %s: not the not-found page: %.200s", tc.who, tc.path, body)
		}
	}
}

// Signing out ends the session on the server: a copy of the cookie taken
// before works no more. Signing out everywhere ends the other sessions too.
// A TOTP code works once.
func TestConsoleSignOutEndsTheSessionEverywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("real stack")
	}
	env := testenv.Start(t, testenv.Options{})
	a, acct := signInStaffHTTP(t, env, domain.RoleSupervisor)
	stolen := a.cookies["visad_staff"]
	thief := newPortalClient(t, env)
	thief.cookies["visad_staff"] = stolen
	if res, _ := thief.do("GET", "/staff/", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("copied cookie before sign-out: %d", res.StatusCode)
	}
	if res, _ := a.do("POST", "/staff/sign-out", url.Values{"page_token": {a.token("/staff/")}}); res.StatusCode != 303 {
		t.Fatalf("sign out: %d", res.StatusCode)
	}
	thief.cookies["visad_staff"] = stolen
	res, _ := thief.do("GET", "/staff/", nil)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/staff/sign-in") {
		t.Fatalf("copied cookie after sign-out: %d %s, want 303 to sign in", res.StatusCode, res.Header.Get("Location"))
	}

	// Two sessions of one account; one signs out everywhere.
	b, c := newPortalClient(t, env), newPortalClient(t, env)
	for _, x := range []*portalClient{b, c} {
		if status, loc := x.signIn(acct, staffPassword); status != 303 || loc != "/staff/" {
			t.Fatalf("sign in: %d %s", status, loc)
		}
	}
	if res, _ := b.do("POST", "/staff/account/sign-out-everywhere",
		url.Values{"page_token": {b.token("/staff/account")}}); res.StatusCode != 303 {
		t.Fatalf("sign out everywhere: %d", res.StatusCode)
	}
	if res, _ := c.do("GET", "/staff/", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the other session after sign out everywhere: %d", res.StatusCode)
	}

	// Replay: a code that signed in once does not sign in again.
	d := newPortalClient(t, env)
	res, _ = d.do("POST", "/staff/sign-in", url.Values{"page_token": {d.token("/staff/sign-in")},
		"login": {acct.Login}, "password": {staffPassword}})
	if res.StatusCode != 303 {
		t.Fatalf("password step: %d", res.StatusCode)
	}
	code := acct.nextCode(t)
	res, _ = d.do("POST", "/staff/sign-in/code", url.Values{"page_token": {d.token("/staff/sign-in/code")},
		"code": {code}})
	if res.StatusCode != 303 {
		t.Fatalf("code step: %d", res.StatusCode)
	}
	e := newPortalClient(t, env)
	e.do("POST", "/staff/sign-in", url.Values{"page_token": {e.token("/staff/sign-in")},
		"login": {acct.Login}, "password": {staffPassword}})
	res, _ = e.do("POST", "/staff/sign-in/code", url.Values{"page_token": {e.token("/staff/sign-in/code")},
		"code": {code}})
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the same code again: %d, want 401", res.StatusCode)
	}
}
