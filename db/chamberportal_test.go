package db_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/visad/visad/db"
)

// The roster search keeps a chamber's members whose number starts with the
// prefix, page by page, and never another chamber's.
func TestSearchMembersByPrefix(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		mine, theirs := newChamber(t, s, "search"), newChamber(t, s, "other")
		member := func(number string) db.Member {
			return db.Member{MembershipNumber: number, Surname: "Abenov", GivenNames: "Nurlan", DateOfBirth: "1985-03-14",
				Nationality: "KAZ", PassportHash: "ph-" + number, PassportHint: "N…01", Status: "active",
				ValidUntil: "2030-01-01"}
		}
		var ms []db.Member
		for i := 1; i <= 25; i++ {
			ms = append(ms, member(fmt.Sprintf("KZ-%03d", i)))
		}
		if _, _, err := s.UpsertMembers(ctx, mine, ms, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.UpsertMembers(ctx, theirs, []db.Member{member("KZ-010")}, time.Now()); err != nil {
			t.Fatal(err)
		}
		var got []string
		after := ""
		for pages := 0; pages < 5; pages++ {
			page, next, err := s.SearchMembers(ctx, mine, "KZ-01", after, 4)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range page {
				if m.ChamberID != mine {
					t.Fatalf("another chamber's member %s", m.MembershipNumber)
				}
				got = append(got, m.MembershipNumber)
			}
			if next == "" {
				break
			}
			after = next
		}
		want := "[KZ-010 KZ-011 KZ-012 KZ-013 KZ-014 KZ-015 KZ-016 KZ-017 KZ-018 KZ-019]"
		if fmt.Sprint(got) != want {
			t.Fatalf("search KZ-01: %v, want %s", got, want)
		}
		if page, _, err := s.SearchMembers(ctx, mine, "XX", "", 10); err != nil || len(page) != 0 {
			t.Fatalf("search XX: %v %v", page, err)
		}
		batches, more, err := s.ChamberBatchPage(ctx, mine, 0, "", 10)
		if err != nil || len(batches) != 0 || more {
			t.Fatalf("batches of a chamber without any: %v %v %v", batches, more, err)
		}
	})
}
