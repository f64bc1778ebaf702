package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
	"github.com/visad/visad/internal/credentials"
	"github.com/visad/visad/internal/testenv"
)

// Console sign-in for tests: accounts created through the service layer,
// enrolled (password and TOTP) and signed in through the real pages, in a
// browser or over plain HTTP. The other console tests build on these:
//
//	userID := signInStaffInBrowser(t, env, b, domain.RoleOfficer)      // b is now signed in
//	userID := signInChamberInBrowser(t, env, b, chamberID)             // a chamber's person
//	c, acct := signInStaffHTTP(t, env, domain.RoleSupervisor)          // c.do("GET", "/staff/…", nil)
//	c, acct := signInChamberHTTP(t, env, chamberID)
//	form := url.Values{"page_token": {c.token("/staff/…")}}            // console forms need the page's token

// staffPassword is every test account's password.
const staffPassword = "correct horse battery staple"

// staffAccount is an enrolled console account and what signs it in.
type staffAccount struct {
	ID, Login, Name string
	Role            domain.Role
	ChamberID       string
	APIToken        string // the account's bearer token, for the API
	Secret          string // the TOTP secret the enrolment page showed
	mu              sync.Mutex
	lastStep        int64
}

// nextCode is a TOTP code for a time step not used yet (a code is good
// once): the earliest of now's neighbours the server still accepts, or the
// next step's, waited for.
func (a *staffAccount) nextCode(t testing.TB) string {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	for {
		cur := credentials.TOTPStep(time.Now())
		for s := cur; s <= cur+credentials.TOTPSkew; s++ {
			if s > a.lastStep {
				a.lastStep = s
				code, err := credentials.TOTPCode(a.Secret, s)
				if err != nil {
					t.Fatal(err)
				}
				return code
			}
		}
		time.Sleep(time.Second)
	}
}

var staffSeq struct {
	sync.Mutex
	n int
}

// createAccount makes an account through the service layer (as `visad users
// create` does) and returns it with its enrolment link's path.
func createAccount(t testing.TB, env *testenv.Env, role domain.Role, chamberID string) (*staffAccount, string) {
	t.Helper()
	staffSeq.Lock()
	staffSeq.n++
	n := staffSeq.n
	staffSeq.Unlock()
	login := fmt.Sprintf("%s.%d.%d", role, n, time.Now().UnixNano()%1_000_000)
	name := fmt.Sprintf("Test %s %d", role, n)
	created, err := env.Services.Accounts.CreateAccount(context.Background(), "", casework.NewAccount{
		Name: name, Login: login, Role: role, ChamberID: chamberID})
	if err != nil {
		t.Fatalf("create %s account: %v", role, err)
	}
	u, err := url.Parse(created.EnrolURL)
	if err != nil || !strings.HasPrefix(u.Path, casework.EnrolPath) {
		t.Fatalf("enrolment link %q", created.EnrolURL)
	}
	return &staffAccount{ID: created.ID, Login: login, Name: name, Role: role, ChamberID: chamberID,
		APIToken: created.APIToken}, u.Path
}

// signInStaffInBrowser creates a staff account of role, enrols it in the
// browser (which signs the browser in) and returns the account's id.
func signInStaffInBrowser(t *testing.T, env *testenv.Env, b *browser, role domain.Role) string {
	t.Helper()
	return signInAccountInBrowser(t, env, b, role, "").ID
}

// signInChamberInBrowser is signInStaffInBrowser for a person of the chamber.
func signInChamberInBrowser(t *testing.T, env *testenv.Env, b *browser, chamberID string) string {
	t.Helper()
	return signInAccountInBrowser(t, env, b, domain.RoleChamber, chamberID).ID
}

// signInAccountInBrowser creates and enrols an account in the browser and
// returns it (for signing in again: b.signIn(acct)).
func signInAccountInBrowser(t *testing.T, env *testenv.Env, b *browser, role domain.Role,
	chamberID string) *staffAccount {
	t.Helper()
	acct, path := createAccount(t, env, role, chamberID)
	if status := b.open(path); status != http.StatusOK {
		t.Fatalf("enrolment page: %d", status)
	}
	acct.Secret = strings.ReplaceAll(b.text("#totp-secret"), " ", "")
	b.fill("password", staffPassword)
	b.fill("confirm", staffPassword)
	b.fill("code", acct.nextCode(t))
	b.submit("enrol")
	want := "/staff/"
	if role == domain.RoleChamber {
		want = "/chamber/"
	}
	if loc := eval[string](b, `location.pathname`); loc != want {
		t.Fatalf("after enrolment at %s, want %s (page: %.300s)", loc, want, b.text("main"))
	}
	return acct
}

// signIn signs the browser in with the account's password and next code.
func (b *browser) signIn(acct *staffAccount) {
	b.t.Helper()
	b.open("/staff/sign-in")
	b.fill("login", acct.Login)
	b.fill("password", staffPassword)
	b.submit("sign-in")
	b.fill("code", acct.nextCode(b.t))
	b.submit("confirm-code")
}

// staffCookie is the browser's console session cookie; it checks its flags.
func (b *browser) staffCookie() string {
	b.t.Helper()
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.base}})
	if err != nil {
		b.t.Fatal(err)
	}
	for _, c := range res.Cookies {
		if c.Name == "visad_staff" {
			if !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax || c.Path != "/" {
				b.t.Errorf("cookie %s: HttpOnly=%v SameSite=%s Path=%s, want HttpOnly, Lax, /", c.Name, c.HTTPOnly,
					c.SameSite, c.Path)
			}
			return c.Value
		}
	}
	return ""
}

var totpSecretRE = regexp.MustCompile(`id="totp-secret">([A-Z2-7 ]+)<`)

// signInStaffHTTP creates a staff account of role and enrols it over plain
// HTTP; the client holds the signed-in session cookie.
func signInStaffHTTP(t *testing.T, env *testenv.Env, role domain.Role) (*portalClient, *staffAccount) {
	t.Helper()
	return signInAccountHTTP(t, env, role, "")
}

// signInChamberHTTP is signInStaffHTTP for a person of the chamber.
func signInChamberHTTP(t *testing.T, env *testenv.Env, chamberID string) (*portalClient, *staffAccount) {
	t.Helper()
	return signInAccountHTTP(t, env, domain.RoleChamber, chamberID)
}

func signInAccountHTTP(t *testing.T, env *testenv.Env, role domain.Role, chamberID string) (*portalClient,
	*staffAccount) {
	t.Helper()
	acct, path := createAccount(t, env, role, chamberID)
	c := newPortalClient(t, env)
	if res, body := c.do("GET", path, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET enrolment link: %d %s", res.StatusCode, body)
	}
	res, body := c.do("GET", "/staff/enrol", nil)
	m, tok := totpSecretRE.FindStringSubmatch(body), pageTokenRE.FindStringSubmatch(body)
	if res.StatusCode != http.StatusOK || m == nil || tok == nil {
		t.Fatalf("GET /staff/enrol: %d %s", res.StatusCode, body)
	}
	acct.Secret = strings.ReplaceAll(m[1], " ", "")
	res, body = c.do("POST", "/staff/enrol", url.Values{"page_token": {tok[1]}, "password": {staffPassword},
		"confirm": {staffPassword}, "code": {acct.nextCode(t)}})
	if res.StatusCode != http.StatusSeeOther || c.cookies["visad_staff"] == "" {
		t.Fatalf("POST /staff/enrol: %d %s", res.StatusCode, body)
	}
	return c, acct
}

// signIn signs the client in over HTTP; it returns the final response's status
// (303 when signed in) and where it was sent.
func (c *portalClient) signIn(acct *staffAccount, password string) (int, string) {
	c.t.Helper()
	res, _ := c.do("POST", "/staff/sign-in", url.Values{"page_token": {c.token("/staff/sign-in")},
		"login": {acct.Login}, "password": {password}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/staff/sign-in/code" {
		return res.StatusCode, res.Header.Get("Location")
	}
	res, _ = c.do("POST", "/staff/sign-in/code", url.Values{"page_token": {c.token("/staff/sign-in/code")},
		"code": {acct.nextCode(c.t)}})
	return res.StatusCode, res.Header.Get("Location")
}
