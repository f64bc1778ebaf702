package e2e_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/testenv"
)

// An admin enrols (password and TOTP from the one-time link), signs out,
// signs in with password and code, and signs out again: a copy of the
// session cookie taken while signed in works no more. Every page is axe-clean
// and in the browser's language. (An admin, because officers and supervisors
// land on the case queue, which is in English only so far; they sign in the
// same way in TestOfficerConsoleInBrowser.)
func TestStaffSignInInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("real stack and browser")
	}
	chromium := browserPath(t)
	env := testenv.Start(t, testenv.Options{})
	for _, lang := range []string{"en", "ru"} {
		t.Run(lang, func(t *testing.T) {
			b := newBrowser(t, chromium, env.HTTP.URL, lang, true)
			acct, path := createAccount(t, env, domain.RoleAdmin, "")
			if status := b.open(path); status != http.StatusOK {
				t.Fatalf("enrolment link: %d", status)
			}
			if loc := eval[string](b, `location.pathname`); loc != "/staff/enrol" {
				t.Fatalf("the link's secret stays in the address bar: %s", loc)
			}
			b.check("staff-enrol")
			if !eval[bool](b, `document.querySelector("img.qr").naturalWidth > 100`) {
				t.Error("the QR code did not load")
			}
			acct.Secret = strings.ReplaceAll(b.text("#totp-secret"), " ", "")
			b.fill("password", "short")
			b.fill("confirm", "short")
			b.fill("code", "000000")
			b.submit("enrol")
			b.check("staff-enrol-errors")
			if n := eval[int](b, `document.querySelectorAll(".error-summary-list li").length`); n != 2 {
				t.Errorf("enrolment errors: %d, want 2 (password, code)", n)
			}
			b.fill("password", staffPassword)
			b.fill("confirm", staffPassword)
			b.fill("code", acct.nextCode(t))
			b.submit("enrol")
			if loc := eval[string](b, `location.pathname`); loc != "/staff/" {
				t.Fatalf("after enrolment: %s (%.300s)", loc, b.text("main"))
			}
			b.check("staff-home")
			if !strings.Contains(b.text(".console-nav"), acct.Name) {
				t.Errorf("the header does not name %s: %q", acct.Name, b.text(".console-nav"))
			}

			b.submit("sign-out")
			if loc := eval[string](b, `location.pathname`); loc != "/staff/sign-in" {
				t.Fatalf("after sign-out: %s", loc)
			}
			b.check("staff-sign-in")
			b.fill("login", acct.Login)
			b.fill("password", "not the password at all")
			b.submit("sign-in")
			b.check("staff-sign-in-wrong")
			b.fill("login", acct.Login)
			b.fill("password", staffPassword)
			b.submit("sign-in")
			if loc := eval[string](b, `location.pathname`); loc != "/staff/sign-in/code" {
				t.Fatalf("after the password: %s", loc)
			}
			b.check("staff-sign-in-code")
			b.fill("code", acct.nextCode(t))
			b.submit("confirm-code")
			if loc := eval[string](b, `location.pathname`); loc != "/staff/" {
				t.Fatalf("after the code: %s", loc)
			}
			b.open("/staff/account")
			b.check("staff-account")

			stolen := b.staffCookie()
			thief := newPortalClient(t, env)
			thief.cookies["visad_staff"] = stolen
			if res, _ := thief.do("GET", "/staff/account", nil); res.StatusCode != http.StatusOK {
				t.Fatalf("the copied cookie before sign-out: %d", res.StatusCode)
			}
			b.submit("sign-out")
			if b.staffCookie() != "" {
				t.Error("the browser kept its session cookie after signing out")
			}
			thief.cookies["visad_staff"] = stolen
			if res, _ := thief.do("GET", "/staff/account", nil); res.StatusCode == http.StatusOK {
				t.Fatal("the copied cookie still works after sign-out")
			}
			b.open("/staff/no-such-page")
			b.check("staff-not-found")
		})
	}
}
