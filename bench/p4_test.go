package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/internal/dbtest"
)

// P4 sizes; VISA_BENCH_P4_ROWS and VISA_BENCH_P4_QUERIES override for quick looks.
var (
	p4Rows    = envInt("VISA_BENCH_P4_ROWS", 100_000)
	p4Queries = envInt("VISA_BENCH_P4_QUERIES", 2_000)
)

// BenchmarkP4 measures the officers' queue (db.Store.ListCases: filters by
// status and product, ordered by SLA due time, keyset-paged, 50 a page) at
// 100,000 applications, on SQLite and — when VISA_TEST_POSTGRES_URL is set —
// on PostgreSQL. It prints "P4 <engine>_queue_p50_ms=…" and "…_p99_ms=…".
func BenchmarkP4(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			runP4(b, "sqlite", dbtest.SQLite(b))
		}
	})
	b.Run("postgres", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			runP4(b, "postgres", dbtest.Postgres(b)) // skipped without VISA_TEST_POSTGRES_URL
		}
	})
}

func runP4(b *testing.B, engine string, store *db.Store) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(4, 4))
	now := time.Now().UTC()

	b.StopTimer()
	t0 := time.Now()
	apps := seedApplications(rng, now, p4Rows)
	if err := store.SeedApplications(ctx, apps); err != nil {
		b.Fatal(err)
	}
	seeded := time.Since(t0)
	if engine == "postgres" {
		// What autovacuum does on its own shortly after a bulk load.
		if err := store.Analyze(ctx); err != nil {
			b.Fatal(err)
		}
	}
	latencies := make([]time.Duration, 0, p4Queries)
	rows := 0
	// Cursors handed out so far, by filter: later sessions resume from them,
	// so the run reaches deep pages as well as first ones.
	type pooled struct {
		cursor *db.CaseCursor
		page   int // the page this cursor leads to
	}
	cursors := map[db.CaseFilter][]pooled{}
	deepest := 0
	b.StartTimer()
	for len(latencies) < p4Queries {
		// One officer's session: a filter, its first page or a page from an
		// earlier cursor, then a few more pages.
		f := db.CaseFilter{Status: pick(rng, statusFilters), Product: pick(rng, productFilters), Limit: 50}
		key, page := f, 1
		if pool := cursors[key]; len(pool) > 0 && rng.IntN(10) < 4 {
			p := pool[rng.IntN(len(pool))]
			f.After, page = p.cursor, p.page
		}
		for n := 1 + rng.IntN(5); n > 0 && len(latencies) < p4Queries; n-- {
			deepest = max(deepest, page)
			start := time.Now()
			items, next, err := store.ListCases(ctx, f)
			latencies = append(latencies, time.Since(start))
			if err != nil {
				b.Fatal(err)
			}
			rows += len(items)
			if next == nil {
				break
			}
			page++
			cursors[key] = append(cursors[key], pooled{next, page})
			f.After = next
		}
	}
	b.StopTimer()

	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	fmt.Printf("P4 %s_applications=%d\n", engine, len(apps))
	fmt.Printf("P4 %s_seed_s=%.1f\n", engine, seeded.Seconds())
	fmt.Printf("P4 %s_queue_queries=%d\n", engine, len(latencies))
	fmt.Printf("P4 %s_queue_rows_per_query=%.1f\n", engine, float64(rows)/float64(len(latencies)))
	fmt.Printf("P4 %s_queue_deepest_page=%d\n", engine, deepest)
	fmt.Printf("P4 %s_queue_p50_ms=%.2f\n", engine, pct(0.50))
	fmt.Printf("P4 %s_queue_p99_ms=%.2f\n", engine, pct(0.99))
	verdict("P4", engine+"_queue_p99_ms", pct(0.99), atMost, 20)
	fmt.Printf("P4 %s_queue_max_ms=%.2f\n", engine, float64(latencies[len(latencies)-1].Microseconds())/1000)
	b.ReportMetric(pct(0.99), "p99-ms")
}

type weighted struct {
	value  string
	weight int
}

// Officers mostly work the review queue; the rest are look-ups.
var (
	statusFilters = []weighted{
		{"awaiting_review", 50}, {"", 15}, {"issued", 10}, {"refused", 5}, {"received", 5},
		{"screening", 5}, {"withdrawn", 5}, {"ineligible", 5},
	}
	productFilters = []weighted{{"", 50}, {"business_2y", 30}, {"business_5y_multi", 20}}
)

func pick(rng *rand.Rand, options []weighted) string {
	total := 0
	for _, o := range options {
		total += o.weight
	}
	n := rng.IntN(total)
	for _, o := range options {
		if n < o.weight {
			return o.value
		}
		n -= o.weight
	}
	return options[len(options)-1].value
}

// seedApplications spreads n cases over the past year: most are decided; the
// last ten days hold the open ones, most of them awaiting review.
func seedApplications(rng *rand.Rand, now time.Time, n int) []db.SeedApplication {
	const idChars = "0123456789abcdefghjkmnpqrstvwxyz"
	apps := make([]db.SeedApplication, n)
	for i := range apps {
		submitted := now.Add(-time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
		product, sla := "business_2y", 24*time.Hour
		if rng.IntN(10) < 3 {
			product, sla = "business_5y_multi", 72*time.Hour
		}
		var status string
		recent := now.Sub(submitted) < 10*24*time.Hour
		switch r := rng.IntN(100); {
		case recent && r < 68:
			status = "awaiting_review"
		case recent && r < 72:
			status = "screening"
		case recent && r < 76:
			status = "validating"
		case recent && r < 80:
			status = "received"
		default:
			status = pick(rng, []weighted{{"issued", 70}, {"refused", 15}, {"withdrawn", 8}, {"ineligible", 7}})
		}
		updated := submitted.Add(time.Duration(rng.Int64N(int64(48 * time.Hour))))
		if updated.After(now) {
			updated = now
		}
		id := make([]byte, 25)
		for j := range id {
			id[j] = idChars[rng.IntN(len(idChars))]
		}
		apps[i] = db.SeedApplication{
			ID: "app_" + string(id), Reference: fmt.Sprintf("PKV-S%010d", i), Product: product, Status: status,
			PassportHash: fmt.Sprintf("seed-passport-%d", i), ScreeningHit: rng.IntN(50) == 0,
			SubmittedAt: submitted, UpdatedAt: updated, SLADueAt: submitted.Add(sla),
		}
	}
	return apps
}
