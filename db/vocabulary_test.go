package db_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/visad/visad/domain"
)

// TestMigrationClosedStatusesMatchDomain: a migration cannot take the closed
// statuses from domain, so the index that allowed one open application per
// passport and product (until 00015; its Down restores it) spells them; it
// must spell exactly domain.ClosedStatuses.
func TestMigrationClosedStatusesMatchDomain(t *testing.T) {
	sql, err := os.ReadFile("migrations/00001_core.sql")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`status NOT IN \(([^)]*)\)`).FindSubmatch(sql)
	if m == nil {
		t.Fatal("no closed-status list in the open-application index")
	}
	var inIndex []string
	for _, s := range strings.Split(string(m[1]), ",") {
		inIndex = append(inIndex, strings.Trim(strings.TrimSpace(s), "'"))
	}
	var want []string
	for _, s := range domain.ClosedStatuses {
		want = append(want, string(s))
	}
	slices.Sort(inIndex)
	slices.Sort(want)
	if !slices.Equal(inIndex, want) {
		t.Errorf("index closes %v, domain closes %v", inIndex, want)
	}
}
