package domain

import (
	"testing"
	"time"
)

func TestQuotaDay(t *testing.T) {
	at := time.Date(2026, 11, 28, 23, 59, 59, 0, time.FixedZone("PKT", 5*3600)) // 18:59:59 UTC
	start, next := QuotaDay(at)
	if !start.Equal(date("2026-11-28")) || !next.Equal(date("2026-11-29")) {
		t.Errorf("QuotaDay = %v, %v", start, next)
	}
}

func TestWithinChamberQuota(t *testing.T) {
	tests := []struct {
		posted, rows, perDay int
		want                 bool
	}{
		{0, 100, 100, true},
		{0, 101, 100, false},
		{60, 40, 100, true},
		{60, 41, 100, false},
		{100, 1, 100, false},
		{150, 1, 100, false}, // the limit was lowered since
		{0, 10_000, DefaultChamberRowsPerDay, true},
	}
	for _, tt := range tests {
		if got := WithinChamberQuota(tt.posted, tt.rows, tt.perDay); got != tt.want {
			t.Errorf("WithinChamberQuota(%d, %d, %d) = %v, want %v", tt.posted, tt.rows, tt.perDay, got, tt.want)
		}
	}
}
