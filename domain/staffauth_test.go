package domain

import (
	"strings"
	"testing"
	"time"
)

func TestSecondFactorMandatoryForEveryAccount(t *testing.T) {
	for _, r := range []Role{RoleOfficer, RoleSupervisor, RoleAdmin, RoleChamber} {
		if !r.NeedsSecondFactor() || !r.IsAccount() {
			t.Errorf("%s: an account without a mandatory second factor", r)
		}
	}
	for _, r := range []Role{RoleApplicant, RoleSystem, Role("root")} {
		if r.IsAccount() {
			t.Errorf("%s signs in to a console", r)
		}
	}
	if !RoleAdmin.ManagesAccounts() || RoleSupervisor.ManagesAccounts() || RoleChamber.ManagesAccounts() {
		t.Error("only admins manage accounts")
	}
}

func TestLockout(t *testing.T) {
	for n := 1; n < 10; n++ {
		if LocksAccount(n) {
			t.Errorf("%d failures lock the account", n)
		}
	}
	if !LocksAccount(10) || !LocksAccount(11) {
		t.Error("ten failures do not lock the account")
	}
}

func TestAddressBackoff(t *testing.T) {
	cases := []struct {
		failures int
		want     time.Duration
	}{
		{0, 0}, {20, 0}, {21, time.Second}, {22, 2 * time.Second}, {25, 16 * time.Second},
		{29, 256 * time.Second}, {30, 5 * time.Minute}, {1000, 5 * time.Minute},
	}
	for _, c := range cases {
		if got := AddressBackoff(c.failures); got != c.want {
			t.Errorf("AddressBackoff(%d) = %v, want %v", c.failures, got, c.want)
		}
	}
}

func TestSessionLive(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	idle, abs := 30*time.Minute, 12*time.Hour
	cases := []struct {
		name          string
		lastSeen, now time.Time
		want          bool
	}{
		{"fresh", t0, t0.Add(time.Minute), true},
		{"idle too long", t0, t0.Add(30 * time.Minute), false},
		{"kept busy", t0.Add(11*time.Hour + 50*time.Minute), t0.Add(11*time.Hour + 55*time.Minute), true},
		{"past the absolute limit though busy", t0.Add(12*time.Hour - time.Minute), t0.Add(12 * time.Hour), false},
	}
	for _, c := range cases {
		if got := SessionLive(t0, c.lastSeen, c.now, idle, abs); got != c.want {
			t.Errorf("%s: SessionLive = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	cases := []struct {
		pw, code string
	}{
		{"correct horse battery", ""},
		{"пароль-из-кириллицы", ""},
		{"short", CodeTooShort},
		{"elevenchars", CodeTooShort},
		{strings.Repeat("a", 129), CodeTooLong},
		{strings.Repeat("x", 20), CodeTooWeak},
		{"jane.officer", CodeTooWeak},
		{"tab\tinside password", CodeInvalidCharacters},
	}
	for _, c := range cases {
		errs := CheckPassword("/password", c.pw, "jane.officer")
		got := ""
		if len(errs) > 0 {
			got = errs[0].Code
			if errs[0].Pointer != "/password" || strings.Contains(errs[0].Detail, c.pw) {
				t.Errorf("%q: error %+v", c.pw, errs[0])
			}
		}
		if got != c.code {
			t.Errorf("CheckPassword(%q) = %q, want %q", c.pw, got, c.code)
		}
	}
}

func TestIsLogin(t *testing.T) {
	for _, s := range []string{"jane.officer", "a-b_c", "usr01"} {
		if !IsLogin(s) {
			t.Errorf("%q refused", s)
		}
	}
	for _, s := range []string{"", "ab", "Jane", "jane officer", "jаne", strings.Repeat("a", 65), "a/b"} {
		if IsLogin(s) {
			t.Errorf("%q accepted", s)
		}
	}
}
